// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The status file's "files" array, kept as text between writes
 * (status_files.c): the same text kd_files_json gives, made again exactly
 * when what it shows changed, and only then.
 */
#include <stdlib.h>
#include <string.h>
#include "kdt.h"
#include "report/status_files.h"

static struct kd_objects *objects(size_t nsvc, size_t npod)
{
	struct kd_objects *o = calloc(1, sizeof(*o));

	ck_assert_ptr_nonnull(o);
	o->nsvc = nsvc;
	o->npod = npod;
	return o;
}

static void record(struct kd_files *fs, const char *name, struct kd_objects *objs)
{
	struct kd_diags problems = { 0 }, said = { 0 };

	kd_store_record(kd_store_item(&fs->store, name), objs, &problems, false, &said);
	kd_diags_free(&problems);
	kd_diags_free(&said);
}

/* The cache's text is a fresh one's, and made n times in all. */
static void assert_text(struct kd_status_files *c, const struct kd_files *fs, size_t made)
{
	json_t *a = kd_files_json(fs);
	char *want = json_dumps(a, JSON_COMPACT);
	const char *got = kd_status_files_text(c, fs);

	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, want);
	ck_assert_uint_eq(c->made, made);
	free(want);
	json_decref(a);
}

START_TEST(files_text_made_again_exactly_when_it_changes)
{
	struct kd_status_files c = { 0 };
	struct kd_diags said = { 0 };
	struct kd_files fs;
	const char *kept;

	kd_files_init(&fs, "/nowhere");
	assert_text(&c, &fs, 1);			/* no file yet */
	record(&fs, "a.yaml", objects(1, 0));
	record(&fs, "b.yaml", objects(0, 100));
	assert_text(&c, &fs, 2);
	kept = c.text;
	assert_text(&c, &fs, 2);			/* nothing changed: kept */
	ck_assert_ptr_eq(c.text, kept);
	record(&fs, "b.yaml", objects(0, 100));		/* a new version, the same counts */
	assert_text(&c, &fs, 2);
	record(&fs, "b.yaml", objects(0, 99));		/* a pod fewer */
	assert_text(&c, &fs, 3);
	kd_store_record_unreadable(kd_store_item(&fs.store, "a.yaml"), "a.yaml: cannot read", &said);
	assert_text(&c, &fs, 4);			/* bad: its last good version in use */
	kd_store_item(&fs.store, "c.yaml");		/* a new file, no version yet */
	assert_text(&c, &fs, 5);
	ck_assert(kd_store_remove(&fs.store, "a.yaml"));
	assert_text(&c, &fs, 6);
	kd_diags_free(&said);
	kd_status_files_free(&c);
	kd_files_free(&fs);
}
END_TEST

Suite *status_files_suite(void)
{
	Suite *s = suite_create("status_files");
	TCase *tc = tcase_create("cache");

	tcase_add_test(tc, files_text_made_again_exactly_when_it_changes);
	suite_add_tcase(s, tc);
	return s;
}
