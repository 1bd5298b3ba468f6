// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The decoder's input limits (decode/yaml_limits.h): each just under is
 * read, each just over is an error naming the line; duplicate keys; the
 * bombs of fixtures/bombs (also the manifest fuzzer's seeds).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kdt.h"
#include "decode/yaml_limits.h"
#include "decode/yamlnode_json.h"

/* A text built with printf-like pieces. */
struct text {
	char *s;
	size_t len;
	FILE *f;
};

static void text_open(struct text *t)
{
	t->f = open_memstream(&t->s, &t->len);
	ck_assert_ptr_nonnull(t->f);
}

static void add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct text *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(t->f, fmt, ap);
	va_end(ap);
}

static const char *text_close(struct text *t)
{
	fclose(t->f);
	return t->s;
}

/* kd_yaml_parse's result on text; *line and msg say where and what. */
static int parse(const char *text, size_t len, int *line, char *msg, size_t msg_size)
{
	struct kanary_err e = { "" };
	struct kd_yaml y;
	int ret = kd_yaml_parse(&y, text, len, &e, line);

	if (!ret)
		kd_yaml_free(&y);
	snprintf(msg, msg_size, "%s", e.msg);
	return ret;
}

#define ASSERT_PARSES(text, len)						\
	do {									\
		char m_[256];							\
		int l_;								\
		ck_assert_msg(parse((text), (len), &l_, m_, sizeof(m_)) == 0,	\
			      "rejected: %s", m_);				\
	} while (0)

#define ASSERT_REJECTED(text, len, err, want_line, needle)			\
	do {									\
		char m_[256];							\
		int l_, r_ = parse((text), (len), &l_, m_, sizeof(m_));		\
		ck_assert_msg(r_ == -(err), "got %d (%s), want -%s", r_, m_, #err); \
		ck_assert_int_eq(l_, (want_line));				\
		ck_assert_msg(strstr(m_, (needle)), "'%s' does not say '%s'", m_, (needle)); \
	} while (0)

/* depth collections nested in one another, one per line: the last opens at line depth. */
static const char *nested(struct text *t, int depth)
{
	text_open(t);
	for (int i = 0; i < depth - 1; i++)
		add(t, "%*sk%d:\n", i, "", i);
	add(t, "%*sk: v\n", depth - 1, "");
	return text_close(t);
}

START_TEST(depth_64_read_65_rejected)
{
	struct text a, b;

	nested(&a, KD_YAML_MAX_DEPTH);
	ASSERT_PARSES(a.s, a.len);
	nested(&b, KD_YAML_MAX_DEPTH + 1);
	ASSERT_REJECTED(b.s, b.len, E2BIG, KD_YAML_MAX_DEPTH + 1, "nested more than 64 deep");
	free(a.s);
	free(b.s);
}
END_TEST

/* n aliases of one scalar, one per line: alias k is on line 2 + k. */
static const char *aliases(struct text *t, int n)
{
	text_open(t);
	add(t, "a: &a x\nl:\n");
	for (int i = 0; i < n; i++)
		add(t, "- *a\n");
	return text_close(t);
}

START_TEST(aliases_1000_read_1001_rejected)
{
	struct text a, b;

	aliases(&a, KD_YAML_MAX_ALIASES);
	ASSERT_PARSES(a.s, a.len);
	aliases(&b, KD_YAML_MAX_ALIASES + 1);
	ASSERT_REJECTED(b.s, b.len, E2BIG, 2 + KD_YAML_MAX_ALIASES + 1, "more than 1000 aliases");
	free(a.s);
	free(b.s);
	/* The count is per document: the next one starts again. */
	aliases(&a, KD_YAML_MAX_ALIASES);
	text_open(&b);
	add(&b, "%s---\n%s", a.s, a.s);
	text_close(&b);
	ASSERT_PARSES(b.s, b.len);
	free(a.s);
	free(b.s);
}
END_TEST

/*
 * An anchored list of 999 scalars (1000 nodes), pad scalars, then 998
 * aliases of the list, one per line: 1006 + pad + 998,000 nodes in all,
 * the last alias on line 1001.
 */
static const char *expanding(struct text *t, int pad)
{
	text_open(t);
	add(t, "a: &a [x");
	for (int i = 1; i < 999; i++)
		add(t, ",x");
	add(t, "]\np: [y");
	for (int i = 1; i < pad; i++)
		add(t, ",y");
	add(t, "]\nl:\n");
	for (int i = 0; i < 998; i++)
		add(t, "- *a\n");
	return text_close(t);
}

START_TEST(node_budget_counts_aliases_expanded)
{
	struct text a, b;
	int pad = KD_YAML_MAX_NODES - 1006 - 998000;

	expanding(&a, pad);
	ASSERT_PARSES(a.s, a.len);
	expanding(&b, pad + 1);
	ASSERT_REJECTED(b.s, b.len, E2BIG, 1001, "more than 1000000 nodes");
	free(a.s);
	free(b.s);
}
END_TEST

START_TEST(billion_laughs_rejected_at_once)
{
	size_t len;
	char *text = kdt_read(kdt_fixture("bombs/billion-laughs.yaml"), &len);

	ASSERT_REJECTED(text, len, E2BIG, 11, "more than 1000000 nodes");
	free(text);
	text = kdt_read(kdt_fixture("bombs/pod-ports.yaml"), &len);
	ASSERT_REJECTED(text, len, E2BIG, 10, "more than 1000000 nodes");
	free(text);
}
END_TEST

/* n documents of two lines: document k starts on line 2k - 1. */
static const char *documents(struct text *t, int n)
{
	text_open(t);
	for (int i = 0; i < n; i++)
		add(t, "---\na: %d\n", i);
	return text_close(t);
}

START_TEST(documents_10000_read_10001_rejected)
{
	struct text a, b;

	documents(&a, KD_YAML_MAX_OBJECTS);
	ASSERT_PARSES(a.s, a.len);
	documents(&b, KD_YAML_MAX_OBJECTS + 1);
	ASSERT_REJECTED(b.s, b.len, E2BIG, 2 * (KD_YAML_MAX_OBJECTS + 1) - 1,
			"more than 10000 documents");
	free(a.s);
	free(b.s);
}
END_TEST

/* A List of n ConfigMaps (read, and skipped), one per line: item k on line 3 + k. */
static const char *list(struct text *t, int n)
{
	text_open(t);
	add(t, "apiVersion: v1\nkind: List\nitems:\n");
	for (int i = 0; i < n; i++)
		add(t, "- {apiVersion: v1, kind: ConfigMap, metadata: {name: c%d}}\n", i);
	return text_close(t);
}

START_TEST(objects_count_list_items)
{
	struct kdt_world w = { 0 };
	struct text a, b;
	char where[64];

	/* The List is one object, each item one more. */
	ck_assert_int_eq(kdt_load_text(&w, "list.yaml", list(&a, KD_YAML_MAX_OBJECTS - 1)), 0);
	ck_assert_uint_eq(kd_diag_count(&w.diags, KD_ERROR), 0);
	kdt_free(&w);
	memset(&w, 0, sizeof(w));
	ck_assert_int_eq(kdt_load_text(&w, "list.yaml", list(&b, KD_YAML_MAX_OBJECTS)), -EINVAL);
	snprintf(where, sizeof(where), "list.yaml:%d:", 3 + KD_YAML_MAX_OBJECTS);
	KDT_ASSERT_DIAG(&w.diags, KD_ERROR, where, "more than 10000 objects in one file");
	kdt_free(&w);
	free(a.s);
	free(b.s);
}
END_TEST

START_TEST(file_size_4_mib_read_one_byte_more_rejected)
{
	size_t max = KD_YAML_MAX_BYTES, line = 0;
	char *text = malloc(max + 1);

	ck_assert_ptr_nonnull(text);
	/* Comment lines of 64 bytes, then "a: 1": exactly the limit. */
	memset(text, 'x', max + 1);
	for (size_t i = 0; i + 64 <= max - 5; i += 64) {
		text[i] = '#';
		text[i + 63] = '\n';
		line++;
	}
	memcpy(text + max - 5, "a: 1\n", 5);
	ASSERT_PARSES(text, max);
	/* One byte more: the error names the line the limit falls in. */
	text[max] = '\n';
	ASSERT_REJECTED(text, max + 1, E2BIG, (int)line + 2, "goes past 4 MiB");
	free(text);
}
END_TEST

START_TEST(duplicate_key_rejected_at_the_second)
{
	struct kdt_world w = { 0 };
	struct text t;

	ASSERT_REJECTED("a: 1\nb: 2\na: 3\n", strlen("a: 1\nb: 2\na: 3\n"), EINVAL, 3,
			"mapping key \"a\" already defined at line 1");
	/* Quoted or plain, the same text is the same key. */
	ASSERT_REJECTED("{a: 1, \"a\": 2}", strlen("{a: 1, \"a\": 2}"), EINVAL, 1, "mapping key \"a\" already defined");
	/* The first repeat in the file's order, in a large mapping too. */
	text_open(&t);
	for (int i = 0; i < 5000; i++)
		add(&t, "k%d: %d\n", i, i);
	add(&t, "k4999: again\nk3: again\n");
	text_close(&t);
	ASSERT_REJECTED(t.s, t.len, EINVAL, 5001, "mapping key \"k4999\" already defined at line 5000");
	free(t.s);
	/* Just under: keys that differ only in case, and equal keys in two mappings. */
	ASSERT_PARSES("a: 1\nA: 2\nm: {a: 1}\nn: {a: 1}\n", strlen("a: 1\nA: 2\nm: {a: 1}\nn: {a: 1}\n"));

	ck_assert_int_eq(kdt_load(&w, "bombs/duplicate-keys.yaml"), -EINVAL);
	KDT_ASSERT_DIAG(&w.diags, KD_ERROR, "duplicate-keys.yaml:12:3: mapping key \"clusterIP\" "
			"already defined at line 8", "the whole file is ignored");
	ck_assert_uint_eq(w.sets[0].nsvc, 0);
	kdt_free(&w);
}
END_TEST

START_TEST(aliases_that_cannot_resolve)
{
	struct kdt_world w = { 0 };

	ASSERT_REJECTED("a: *x\n", strlen("a: *x\n"), EINVAL, 1, "alias *x: no such anchor");
	ASSERT_REJECTED("a: &x 1\nb: &x 2\n", strlen("a: &x 1\nb: &x 2\n"), EINVAL, 2, "anchor &x defined again (first at line 1)");
	ck_assert_int_eq(kdt_load(&w, "bombs/cycle.yaml"), -EINVAL);
	KDT_ASSERT_DIAG(&w.diags, KD_ERROR, "cycle.yaml:5:", "alias *s is inside the node it names");
	kdt_free(&w);
	/* Just under: an alias of a finished node, in a nested place, is read. */
	ASSERT_PARSES("a: &x {b: [1]}\nc: [*x, {d: *x}]\n", strlen("a: &x {b: [1]}\nc: [*x, {d: *x}]\n"));
}
END_TEST

START_TEST(deep_bombs_rejected_with_their_line)
{
	struct kdt_world w = { 0 };

	ck_assert_int_eq(kdt_load(&w, "bombs/deep.yaml"), -EINVAL);
	KDT_ASSERT_DIAG(&w.diags, KD_ERROR, "deep.yaml:5:73: nested more than 64 deep",
			"over kanaryd's limit");
	kdt_free(&w);
	memset(&w, 0, sizeof(w));
	ck_assert_int_eq(kdt_load(&w, "bombs/deep-flow.yaml"), -EINVAL);
	KDT_ASSERT_DIAG(&w.diags, KD_ERROR, "deep-flow.yaml:2:", "nested more than 64 deep");
	kdt_free(&w);
}
END_TEST

/* depth arrays nested in one another. */
static json_t *json_nested(int depth)
{
	json_t *v = json_integer(1);

	for (int i = 0; i < depth; i++) {
		json_t *a = json_array();

		json_array_append_new(a, v);
		v = a;
	}
	return v;
}

START_TEST(api_objects_have_the_depth_limit)
{
	struct kanary_err e = { "" };
	json_t *ok = json_nested(KD_YAML_MAX_DEPTH), *deep = json_nested(KD_YAML_MAX_DEPTH + 1);
	struct kd_yaml y;

	ck_assert_int_eq(kd_yaml_from_json(&y, ok, &e), 0);
	kd_yaml_free(&y);
	ck_assert_int_eq(kd_yaml_from_json(&y, deep, &e), -E2BIG);
	/* Indented JSON puts array k (0-based) on line k + 1. */
	ck_assert_msg(strstr(e.msg, "line 65: nested more than 64 deep"), "%s", e.msg);
	json_decref(ok);
	json_decref(deep);
}
END_TEST

START_TEST(diagnostics_capped_per_file)
{
	struct kdt_world w = { 0 };
	struct text t;

	text_open(&t);
	add(&t, "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
		"  - name: c\n    ports:\n");
	for (int i = 0; i < 1000; i++)
		add(&t, "    - not-a-port\n");
	text_close(&t);
	ck_assert_int_eq(kdt_load_text(&w, "pod.yaml", t.s), -EINVAL);
	ck_assert_uint_eq(kd_diag_count(&w.diags, KD_ERROR), KD_YAML_MAX_DIAGS + 1);
	KDT_ASSERT_DIAG(&w.diags, KD_ERROR, "pod.yaml:8: Pod default/p: spec.containers[0].ports[0]");
	KDT_ASSERT_DIAG(&w.diags, KD_ERROR, "pod.yaml: 900 more warnings and errors not shown");
	kdt_free(&w);
	free(t.s);
}
END_TEST

Suite *yaml_limits_suite(void)
{
	Suite *s = suite_create("yaml_limits");
	TCase *tc = tcase_create("limits");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, depth_64_read_65_rejected);
	tcase_add_test(tc, aliases_1000_read_1001_rejected);
	tcase_add_test(tc, node_budget_counts_aliases_expanded);
	tcase_add_test(tc, billion_laughs_rejected_at_once);
	tcase_add_test(tc, documents_10000_read_10001_rejected);
	tcase_add_test(tc, objects_count_list_items);
	tcase_add_test(tc, file_size_4_mib_read_one_byte_more_rejected);
	tcase_add_test(tc, duplicate_key_rejected_at_the_second);
	tcase_add_test(tc, aliases_that_cannot_resolve);
	tcase_add_test(tc, deep_bombs_rejected_with_their_line);
	tcase_add_test(tc, api_objects_have_the_depth_limit);
	tcase_add_test(tc, diagnostics_capped_per_file);
	suite_add_tcase(s, tc);
	return s;
}
