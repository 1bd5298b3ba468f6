// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The node layer: shapes, scalars, documents, and syntax errors' lines. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "kdt.h"
#include <glob.h>
#include "decode/yamlnode.h"
#include "decode/yamlnode_json.h"

static struct kd_yaml parse_ok(const char *text)
{
	struct kanary_err e = { "" };
	struct kd_yaml y;

	ck_assert_msg(kd_yaml_parse(&y, text, strlen(text), &e, NULL) == 0, "parse failed: %s",
		      e.msg);
	return y;
}

START_TEST(multi_document_and_empty_documents)
{
	struct kd_yaml y = parse_ok("---\n---\na: 1\n---\nb: 2\n...\n---\n");

	/* The empty documents are there, as null roots the decoder skips. */
	ck_assert_uint_ge(y.ndocs, 3);
	size_t maps = 0;
	for (size_t i = 0; i < y.ndocs; i++)
		maps += kd_is_map(kd_yaml_root(&y, i));
	ck_assert_uint_eq(maps, 2);
	kd_yaml_free(&y);
}
END_TEST

START_TEST(get_and_absent)
{
	struct kd_yaml y = parse_ok("spec:\n  ports:\n  - port: 80\n  - port: 81\n");
	struct kd_node root = kd_yaml_root(&y, 0), ports = kd_get(kd_get(root, "spec"), "ports");
	long long v;

	ck_assert(kd_is_seq(ports));
	ck_assert_uint_eq(kd_len(ports), 2);
	ck_assert_int_eq(kd_int(kd_get(kd_at(ports, 1), "port"), &v), 0);
	ck_assert_int_eq(v, 81);
	ck_assert_int_eq(kd_line(kd_at(ports, 1)), 4);
	/* Absent keys, out-of-range items and the wrong shape are all "absent". */
	ck_assert(!kd_present(kd_get(root, "status")));
	ck_assert(!kd_present(kd_at(ports, 2)));
	ck_assert(!kd_present(kd_get(ports, "port")));
	ck_assert(!kd_present(kd_at(root, 0)));
	ck_assert(kd_is_null(kd_get(root, "nothing")));
	ck_assert_int_eq(kd_line(kd_get(root, "nothing")), 0);
	ck_assert_uint_eq(kd_len(kd_get(root, "nothing")), 0);
	kd_yaml_free(&y);
}
END_TEST

START_TEST(scalars_quoted_and_plain)
{
	struct kd_yaml y = parse_ok("a: 80\nb: \"80\"\nc: '80'\nd: -3\ne: 8x\nf: 99999999999999999999\n"
				    "g: ~\nh: null\ni:\nj: \"null\"\nk: true\nl: \"true\"\nm: off\n");
	struct kd_node r = kd_yaml_root(&y, 0);
	long long v;
	bool b;

	ck_assert_int_eq(kd_int(kd_get(r, "a"), &v), 0);
	ck_assert_int_eq(v, 80);
	ck_assert_int_ne(kd_int(kd_get(r, "b"), &v), 0);	/* quoted: text */
	ck_assert_int_ne(kd_int(kd_get(r, "c"), &v), 0);
	ck_assert(kd_is_quoted(kd_get(r, "b")));
	ck_assert_str_eq(kd_str(kd_get(r, "b")), "80");
	ck_assert_int_eq(kd_int(kd_get(r, "d"), &v), 0);
	ck_assert_int_eq(v, -3);
	ck_assert_int_ne(kd_int(kd_get(r, "e"), &v), 0);
	ck_assert_int_ne(kd_int(kd_get(r, "f"), &v), 0);	/* overflow */
	ck_assert(kd_is_null(kd_get(r, "g")));
	ck_assert(kd_is_null(kd_get(r, "h")));
	ck_assert(kd_is_null(kd_get(r, "i")));
	ck_assert(!kd_is_null(kd_get(r, "j")));		/* the text "null" */
	ck_assert_ptr_null(kd_str(kd_get(r, "h")));
	ck_assert_int_eq(kd_bool(kd_get(r, "k"), &b), 0);
	ck_assert(b);
	ck_assert_int_ne(kd_bool(kd_get(r, "l"), &b), 0);
	ck_assert_int_eq(kd_bool(kd_get(r, "m"), &b), 0);
	ck_assert(!b);
	ck_assert_str_eq(kd_kind_name(kd_get(r, "a")), "a scalar");
	ck_assert_str_eq(kd_kind_name(r), "a mapping");
	kd_yaml_free(&y);
}
END_TEST

START_TEST(json_is_read_too)
{
	struct kd_yaml y = parse_ok("{\n    \"kind\": \"List\",\n    \"items\": [\n        {\"a\": 1},\n"
				    "        {\"b\": \"x\\/y\"}\n    ]\n}\n");
	struct kd_node items = kd_get(kd_yaml_root(&y, 0), "items");

	ck_assert_str_eq(kd_str(kd_get(kd_yaml_root(&y, 0), "kind")), "List");
	ck_assert_uint_eq(kd_len(items), 2);
	ck_assert_int_eq(kd_line(kd_at(items, 1)), 5);
	ck_assert_str_eq(kd_str(kd_get(kd_at(items, 1), "b")), "x/y");
	kd_yaml_free(&y);
}
END_TEST

START_TEST(text_with_nul_is_not_text)
{
	const char text[] = "a: \"x\\0y\"\n";
	struct kd_yaml y = parse_ok(text);

	ck_assert_ptr_null(kd_str(kd_get(kd_yaml_root(&y, 0), "a")));
	kd_yaml_free(&y);
}
END_TEST

START_TEST(syntax_error_has_its_line_and_keeps_nothing)
{
	const char *text = "a: 1\n---\nb: [1, 2\nc: 3\n";
	struct kanary_err e = { "" };
	struct kd_yaml y;
	int line = 0;

	ck_assert_int_eq(kd_yaml_parse(&y, text, strlen(text), &e, &line), -EINVAL);
	ck_assert_int_ge(line, 3);
	ck_assert_uint_eq(y.ndocs, 0);	/* the good first document is not kept either */
	ck_assert_ptr_null(y.docs);
	ck_assert_msg(strstr(e.msg, "flow sequence") != NULL, "message: %s", e.msg);
}
END_TEST

/* The same shape, lines, styles and text in both trees. */
static void assert_same_nodes(struct kd_node a, struct kd_node b, const char *where)
{
	ck_assert_msg(a.n->type == b.n->type, "%s: node type", where);
	ck_assert_msg(kd_line(a) == kd_line(b), "%s: line %d, printed and parsed %d", where,
		      kd_line(a), kd_line(b));
	ck_assert_msg(kd_is_quoted(a) == kd_is_quoted(b), "%s: quoted", where);
	ck_assert_uint_eq(kd_len(a), kd_len(b));
	if (kd_is_scalar(a)) {
		ck_assert_uint_eq(a.n->data.scalar.length, b.n->data.scalar.length);
		ck_assert_msg(memcmp(a.n->data.scalar.value, b.n->data.scalar.value,
				     a.n->data.scalar.length) == 0, "%s: text", where);
	}
	for (size_t i = 0; i < kd_len(a); i++) {
		if (kd_is_map(a)) {
			assert_same_nodes(kd_key_at(a, i), kd_key_at(b, i), where);
			assert_same_nodes(kd_val_at(a, i), kd_val_at(b, i), where);
		} else {
			assert_same_nodes(kd_at(a, i), kd_at(b, i), where);
		}
	}
}

static void assert_built_as_parsed(json_t *obj, const char *where)
{
	char *text = json_dumps(obj, JSON_INDENT(2));
	struct kanary_err e = { "" };
	struct kd_yaml built, parsed;

	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(kd_yaml_from_json(&built, obj, &e), 0);
	ck_assert_msg(kd_yaml_parse(&parsed, text, strlen(text), &e, NULL) == 0, "%s", e.msg);
	ck_assert_uint_eq(built.ndocs, 1);
	assert_same_nodes(kd_yaml_root(&built, 0), kd_yaml_root(&parsed, 0), where);
	kd_yaml_free(&built);
	kd_yaml_free(&parsed);
	free(text);
}

/* What the API source decodes: as if printed as indented JSON and parsed again. */
START_TEST(built_from_json_as_printed_and_parsed)
{
	json_error_t je;
	glob_t g;
	json_t *o = json_loads("{\"a\": {}, \"b\": [], \"c\": [[1, 2.5, -0.125], {\"d\": null}],"
			       " \"e\": true, \"f\": false, \"g\": \"80\", \"h\": 80, \"i\": 1e300,"
			       " \"j\": \"x\\u0000y\", \"k\": \"\", \"\": {\"l\": [{}]}}",
			       JSON_ALLOW_NUL, &je);

	ck_assert_msg(o, "%s", je.text);
	assert_built_as_parsed(o, "crafted");
	json_decref(o);
	ck_assert_int_eq(glob("tests/lib/kube/fixtures/*.json", 0, NULL, &g), 0);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		o = json_load_file(g.gl_pathv[i], 0, &je);
		ck_assert_msg(o, "%s: %s", g.gl_pathv[i], je.text);
		assert_built_as_parsed(o, g.gl_pathv[i]);
		json_decref(o);
	}
	globfree(&g);
}
END_TEST

Suite *yamlnode_suite(void)
{
	Suite *s = suite_create("yamlnode");
	TCase *tc = tcase_create("nodes");

	tcase_add_test(tc, multi_document_and_empty_documents);
	tcase_add_test(tc, get_and_absent);
	tcase_add_test(tc, scalars_quoted_and_plain);
	tcase_add_test(tc, json_is_read_too);
	tcase_add_test(tc, text_with_nul_is_not_text);
	tcase_add_test(tc, syntax_error_has_its_line_and_keeps_nothing);
	tcase_add_test(tc, built_from_json_as_printed_and_parsed);
	suite_add_tcase(s, tc);
	return s;
}
