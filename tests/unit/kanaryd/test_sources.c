// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Manifest files on disk: which are read, and the last good version of each. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "kdt.h"
#include "source/manifest_files.h"

static char dir[64];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/kdt-sources.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void put(const char *name, const char *text)
{
	char path[256], tmp[260];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	f = fopen(tmp, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	ck_assert_int_eq(rename(tmp, path), 0);
}

static const char svc_a[] = "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n"
			    "spec: {clusterIP: 10.96.0.1, selector: {app: a}, ports: [{port: 80}]}\n";
static const char svc_b[] = "apiVersion: v1\nkind: Service\nmetadata: {name: b}\n"
			    "spec: {clusterIP: 10.96.0.2, selector: {app: b}, ports: [{port: 80}]}\n";
static const char broken[] = "apiVersion: v1\nkind: Service\nmetadata: {name: a\n";

static size_t services(struct kd_files *s)
{
	size_t n, total = 0;
	struct kd_objects **sets = kd_source_good_sets(&s->source, &n);

	for (size_t i = 0; i < n; i++)
		total += sets[i]->nsvc;
	free(sets);
	return total;
}

START_TEST(directory_reads_manifest_files_only)
{
	struct kd_files s;
	struct kd_diags d = { 0 };
	char sub[128];

	put("a.yaml", svc_a);
	put("b.json", "{\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {\"name\": \"b\"},"
		      " \"spec\": {\"clusterIP\": \"10.96.0.2\", \"selector\": {\"app\": \"b\"}, \"ports\": [{\"port\": 80}]}}\n");
	put(".a.yaml.swp", broken);
	put("notes.txt", broken);
	put("kustomization.yml", "resources:\n- a.yaml\n");
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	put("sub/c.yaml", svc_b);
	kd_files_init(&s, dir);
	ck_assert(kd_files_scan(&s, false, &d));
	ck_assert_uint_eq(s.store.n, 3);
	ck_assert_uint_eq(services(&s), 2);
	ck_assert_uint_eq(kd_diag_count(&d, KD_ERROR), 0);
	/* Nothing changed: nothing to do. */
	ck_assert(!kd_files_scan(&s, false, &d));
	kd_files_free(&s);
	kd_diags_free(&d);
}
END_TEST

START_TEST(bad_version_keeps_the_last_good_one)
{
	struct kd_files s;
	struct kd_diags d = { 0 };

	put("a.yaml", svc_a);
	kd_files_init(&s, dir);
	ck_assert(kd_files_scan(&s, false, &d));
	ck_assert_uint_eq(services(&s), 1);

	put("a.yaml", broken);
	ck_assert(!kd_files_scan(&s, false, &d));
	ck_assert_uint_eq(services(&s), 1);	/* still the good version */
	ck_assert_ptr_nonnull(s.store.v[0].error);
	ck_assert_ptr_nonnull(strstr(s.store.v[0].error, "a.yaml:"));
	KDT_ASSERT_DIAG(&d, KD_ERROR, "a.yaml", "last good version stays applied");
	ck_assert_uint_eq(kd_store_unknown(&s.store), 0);

	put("a.yaml", svc_b);
	ck_assert(kd_files_scan(&s, false, &d));
	ck_assert_ptr_null(s.store.v[0].error);
	ck_assert_str_eq(s.store.v[0].good->svc[0]->m.name, "b");
	kd_files_free(&s);
	kd_diags_free(&d);
}
END_TEST

/* Written in place, not renamed: same inode. */
static void put_in_place(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/*
 * kanaryd skips reading a file whose inode, size and change time are those
 * it read: rewritten in place at once, same size, it is still seen.  (The
 * rule that trusts only files settled for a second guards filesystems
 * with coarse change times; this kernel's multigrain timestamps give the
 * second write another change time anyway, so it is not tested here.)
 */
START_TEST(same_size_rewrite_in_place_is_seen)
{
	struct kd_files s;
	struct kd_diags d = { 0 };

	ck_assert_uint_eq(strlen(svc_a), strlen(svc_b));
	put_in_place("a.yaml", svc_a);
	kd_files_init(&s, dir);
	ck_assert(kd_files_scan(&s, false, &d));
	ck_assert_str_eq(s.store.v[0].good->svc[0]->m.name, "a");
	put_in_place("a.yaml", svc_b);
	ck_assert(kd_files_scan(&s, false, &d));
	ck_assert_str_eq(s.store.v[0].good->svc[0]->m.name, "b");
	ck_assert(!kd_files_scan(&s, false, &d));
	/* Settled (read more than a second after its last change): its identity is trusted... */
	usleep(1100 * 1000);
	ck_assert(kd_files_scan(&s, true, &d));
	ck_assert(s.store.v[0].has_stat);
	/* ... and a rewrite of the same size is told by its change time. */
	put_in_place("a.yaml", svc_a);
	ck_assert(kd_files_scan(&s, false, &d));
	ck_assert_str_eq(s.store.v[0].good->svc[0]->m.name, "a");
	kd_files_free(&s);
	kd_diags_free(&d);
}
END_TEST

/* A file past the decoder's limits is bad like any other: the good version stays. */
START_TEST(bombs_keep_the_last_good_version)
{
	struct kd_files s;
	struct kd_diags d = { 0 };
	size_t len;
	char *bomb = kdt_read(kdt_fixture("bombs/billion-laughs.yaml"), &len), *big;
	char path[128];
	FILE *f;

	put("a.yaml", svc_a);
	kd_files_init(&s, dir);
	ck_assert(kd_files_scan(&s, false, &d));
	put("a.yaml", bomb);
	ck_assert(!kd_files_scan(&s, false, &d));
	ck_assert_uint_eq(services(&s), 1);
	ck_assert_ptr_nonnull(strstr(s.store.v[0].error, "a.yaml:11:10: the file has more than"));
	KDT_ASSERT_DIAG(&d, KD_ERROR, "a.yaml", "last good version stays applied");

	/* 64 MiB of one comment line: read up to the limit only, and reported on line 1. */
	big = malloc(64u << 20);
	ck_assert_ptr_nonnull(big);
	memset(big, 'x', 64u << 20);
	big[0] = '#';
	snprintf(path, sizeof(path), "%s/a.yaml", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(big, 1, 64u << 20, f), 64u << 20);
	fclose(f);
	ck_assert(!kd_files_scan(&s, false, &d));
	ck_assert_uint_eq(services(&s), 1);
	ck_assert_msg(strstr(s.store.v[0].error, "a.yaml:1: the file goes past 4 MiB here"), "%s",
		      s.store.v[0].error);
	free(big);
	free(bomb);
	kd_files_free(&s);
	kd_diags_free(&d);
}
END_TEST

START_TEST(bad_from_the_start_is_unknown)
{
	struct kd_files s;
	struct kd_diags d = { 0 };

	put("a.yaml", broken);
	put("b.yaml", svc_b);
	kd_files_init(&s, dir);
	kd_files_scan(&s, false, &d);
	ck_assert_uint_eq(kd_store_unknown(&s.store), 1);
	KDT_ASSERT_DIAG(&d, KD_ERROR, "no good version");
	put("a.yaml", svc_a);
	kd_files_scan(&s, false, &d);
	ck_assert_uint_eq(kd_store_unknown(&s.store), 0);
	ck_assert_uint_eq(services(&s), 2);
	kd_files_free(&s);
	kd_diags_free(&d);
}
END_TEST

START_TEST(removed_file_takes_its_objects_away)
{
	struct kd_files s;
	struct kd_diags d = { 0 };
	char path[256];

	put("a.yaml", svc_a);
	put("b.yaml", svc_b);
	kd_files_init(&s, dir);
	kd_files_scan(&s, false, &d);
	ck_assert_uint_eq(services(&s), 2);
	snprintf(path, sizeof(path), "%s/b.yaml", dir);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert(kd_files_scan(&s, false, &d));
	ck_assert_uint_eq(services(&s), 1);
	ck_assert_uint_eq(s.store.n, 1);
	kd_files_free(&s);
	kd_diags_free(&d);
}
END_TEST

START_TEST(missing_path_keeps_everything)
{
	struct kd_files s;
	struct kd_diags d = { 0 };
	char path[256], moved[256];

	snprintf(path, sizeof(path), "%s/m", dir);
	snprintf(moved, sizeof(moved), "%s/m.away", dir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	put("m/a.yaml", svc_a);
	kd_files_init(&s, path);
	kd_files_scan(&s, false, &d);
	ck_assert_int_eq(rename(path, moved), 0);
	ck_assert(!kd_files_scan(&s, false, &d));
	ck_assert_ptr_nonnull(s.root_error);
	ck_assert_uint_eq(services(&s), 1);
	KDT_ASSERT_DIAG(&d, KD_ERROR, "--manifests", "everything loaded stays applied");
	ck_assert_int_eq(rename(moved, path), 0);
	kd_files_scan(&s, false, &d);
	ck_assert_ptr_null(s.root_error);
	kd_files_free(&s);
	kd_diags_free(&d);
}
END_TEST

START_TEST(single_file_path)
{
	struct kd_files s;
	struct kd_diags d = { 0 };
	char path[256];

	put("only.yaml", svc_a);
	put("other.yaml", svc_b);
	snprintf(path, sizeof(path), "%s/only.yaml", dir);
	kd_files_init(&s, path);
	ck_assert(kd_files_scan(&s, false, &d));
	ck_assert_uint_eq(s.store.n, 1);
	ck_assert_uint_eq(services(&s), 1);
	kd_files_free(&s);
	kd_diags_free(&d);
}
END_TEST

Suite *sources_suite(void)
{
	Suite *s = suite_create("sources");
	TCase *tc = tcase_create("files");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, directory_reads_manifest_files_only);
	tcase_add_test(tc, bad_version_keeps_the_last_good_one);
	tcase_add_test(tc, same_size_rewrite_in_place_is_seen);
	tcase_add_test(tc, bombs_keep_the_last_good_version);
	tcase_add_test(tc, bad_from_the_start_is_unknown);
	tcase_add_test(tc, removed_file_takes_its_objects_away);
	tcase_add_test(tc, missing_path_keeps_everything);
	tcase_add_test(tc, single_file_path);
	suite_add_tcase(s, tc);
	return s;
}
