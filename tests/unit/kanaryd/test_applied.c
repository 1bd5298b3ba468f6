// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The record of applied hashes survives a restart, and a bad one is survivable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
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
	tcase_add_test(tc, names_set_and_deleted_in_any_order_stay_findable);
	suite_add_tcase(s, tc);
	return s;
}
