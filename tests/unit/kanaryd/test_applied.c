// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The record of applied hashes survives a restart, and a bad one is survivable. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include "kdt.h"
#include "apply/applied.h"

START_TEST(save_and_load_round_trip)
{
	char path[] = "/tmp/kdt-applied.XXXXXX";
	struct kanary_err e = { "" };
	struct kd_applied a = { 0 }, b;
	__u64 h;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	close(fd);
	kd_applied_set(&a, "shop/greeting", 0xfedcba9876543210ull);
	kd_applied_set(&a, "shop/cart/80", 1);
	kd_applied_set(&a, "shop/gone", 2);
	kd_applied_del(&a, "shop/gone");
	ck_assert(a.dirty);
	ck_assert_int_eq(kd_applied_save(&a, path, &e), 0);
	ck_assert(!a.dirty);
	ck_assert_int_eq(kd_applied_load(&b, path, &e), 0);
	ck_assert(kd_applied_get(&b, "shop/greeting", &h));
	ck_assert_uint_eq(h, 0xfedcba9876543210ull);
	ck_assert(kd_applied_get(&b, "shop/cart/80", &h));
	ck_assert_uint_eq(h, 1);
	ck_assert(!kd_applied_get(&b, "shop/gone", &h));
	ck_assert_uint_eq(b.n, 2);
	kd_applied_free(&a);
	kd_applied_free(&b);
	unlink(path);
}
END_TEST

START_TEST(missing_is_empty_and_corrupt_is_reported)
{
	char path[] = "/tmp/kdt-applied.XXXXXX";
	struct kanary_err e = { "" };
	struct kd_applied a;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "{\"services\": {\"x/y\": ", 21), 21);
	close(fd);
	ck_assert_int_ne(kd_applied_load(&a, path, &e), 0);
	ck_assert_ptr_nonnull(strstr(e.msg, path));
	ck_assert_uint_eq(a.n, 0);
	kd_applied_free(&a);
	unlink(path);
	ck_assert_int_eq(kd_applied_load(&a, path, &e), 0);
	ck_assert_uint_eq(a.n, 0);
	kd_applied_free(&a);
}
END_TEST

/* The file as jansson printed it before kd_applied_save printed it itself. */
static char *jansson_record(const struct kd_applied *a)
{
	json_t *root = json_object(), *svcs = json_object();
	char hex[32], *text;

	for (size_t i = 0; i < a->n; i++) {
		snprintf(hex, sizeof(hex), "%016" PRIx64, (uint64_t)a->v[i].hash);
		json_object_set_new(svcs, a->v[i].name, json_string(hex));
	}
	json_object_set_new(root, "version", json_integer(1));
	json_object_set_new(root, "services", svcs);
	text = json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS);
	json_decref(root);
	return text;
}

static char *saved_text(struct kd_applied *a)
{
	char path[] = "/tmp/kdt-applied.XXXXXX", *text;
	struct kanary_err e = { "" };
	int fd = mkstemp(path);
	FILE *f;
	long len;

	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(kd_applied_save(a, path, &e), 0);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)len + 1);
	ck_assert_uint_eq(fread(text, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	unlink(path);
	return text;
}

START_TEST(saved_file_is_what_jansson_printed)
{
	static const char *const names[] = {
		"shop/cart", "shop/quote\"d", "shop/back\\slash", "shop/tab\tand\x01",
		"shop/caf\xc3\xa9", "shop/not-utf8-\xff", "a/first", "z/last",
	};
	struct kd_applied a = { 0 };
	char *want, *got;

	for (int round = 0; round < 2; round++) {	/* empty, then with names */
		want = jansson_record(&a);
		got = saved_text(&a);
		ck_assert_str_eq(got, want);
		free(want);
		free(got);
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			kd_applied_set(&a, names[i], 0x0123456789abcdefull + i);
	}
	kd_applied_free(&a);
}
END_TEST

/* Service names in a scrambled order: "ns/svc-<k>", k < n. */
static void scrambled_name(char *out, size_t len, size_t i, size_t n)
{
	snprintf(out, len, "ns/svc-%zu", (i * 7919) % n);
}

START_TEST(names_set_and_deleted_in_any_order_stay_findable)
{
	enum { N = 300 };
	struct kd_applied a = { 0 };
	char name[32];
	__u64 h;

	for (size_t i = 0; i < N; i++) {
		scrambled_name(name, sizeof(name), i, N);
		kd_applied_set(&a, name, i);
	}
	for (size_t i = 0; i < N; i += 3) {
		scrambled_name(name, sizeof(name), i, N);
		kd_applied_del(&a, name);
	}
	for (size_t i = 1; i < N; i += 3) {
		scrambled_name(name, sizeof(name), i, N);
		kd_applied_set(&a, name, i + 1000);	/* a new hash for one that is there */
	}
	ck_assert_uint_eq(a.n, N - (N + 2) / 3);
	for (size_t i = 0; i < N; i++) {
		scrambled_name(name, sizeof(name), i, N);
		if (i % 3 == 0) {
			ck_assert_msg(!kd_applied_get(&a, name, &h), "%s was deleted", name);
			continue;
		}
		ck_assert_msg(kd_applied_get(&a, name, &h), "%s is missing", name);
		ck_assert_uint_eq(h, i % 3 == 1 ? i + 1000 : i);
	}
	ck_assert(!kd_applied_get(&a, "ns/svc-", &h));
	ck_assert(!kd_applied_get(&a, "ns/svc-3000", &h));
	kd_applied_free(&a);
}
END_TEST

Suite *applied_suite(void)
{
	Suite *s = suite_create("applied");
	TCase *tc = tcase_create("record");

	tcase_add_test(tc, save_and_load_round_trip);
	tcase_add_test(tc, missing_is_empty_and_corrupt_is_reported);
	tcase_add_test(tc, saved_file_is_what_jansson_printed);
	tcase_add_test(tc, names_set_and_deleted_in_any_order_stay_findable);
	suite_add_tcase(s, tc);
	return s;
}
