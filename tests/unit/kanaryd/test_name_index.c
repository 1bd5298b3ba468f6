// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Lookups by name: binary search in sorted arrays, and indexes of unsorted ones. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kdt.h"
#include "base/sorted_names.h"

struct item {
	int tag;
	char name[24];
};

static int cmp_item(const void *a, const void *b)
{
	return strcmp(((const struct item *)a)->name, ((const struct item *)b)->name);
}

/* n items "k0".."k<n-1>" (so "k10" sorts before "k2"), in a scrambled order, tag = number. */
static struct item *items(size_t n)
{
	struct item *v = calloc(n ? n : 1, sizeof(*v));

	ck_assert_ptr_nonnull(v);
	for (size_t i = 0; i < n; i++) {
		size_t k = (i * 7919) % n;	/* 7919 is prime: a permutation unless n is its multiple */

		v[i].tag = (int)k;
		snprintf(v[i].name, sizeof(v[i].name), "k%zu", k);
	}
	return v;
}

START_TEST(sorted_arrays_find_every_name_and_miss_the_others)
{
	size_t n = (size_t)_i;
	struct item *v = items(n);
	char name[24];

	qsort(v, n, sizeof(*v), cmp_item);
	for (size_t k = 0; k < n; k++) {
		const struct item *it;

		snprintf(name, sizeof(name), "k%zu", k);
		it = KD_SORTED_FIND(v, n, name, name);
		ck_assert_msg(it != NULL, "%s not found among %zu", name, n);
		ck_assert_int_eq(it->tag, (int)k);
	}
	/* Below the first, between two, above the last. */
	ck_assert_ptr_null(KD_SORTED_FIND(v, n, name, "a"));
	ck_assert_ptr_null(KD_SORTED_FIND(v, n, name, "k1x"));
	ck_assert_ptr_null(KD_SORTED_FIND(v, n, name, "z"));
	ck_assert_uint_eq(kd_sorted_lower_bound(v, n, sizeof(*v), offsetof(struct item, name), "a"), 0);
	ck_assert_uint_eq(kd_sorted_lower_bound(v, n, sizeof(*v), offsetof(struct item, name), "z"), n);
	for (size_t i = 0; i < n; i++)
		ck_assert_uint_eq(kd_sorted_lower_bound(v, n, sizeof(*v), offsetof(struct item, name),
							v[i].name), i);
	free(v);
}
END_TEST

START_TEST(an_index_keeps_the_array_order_and_finds_by_name)
{
	size_t n = (size_t)_i;
	struct item *v = items(n);
	struct kd_name_index x = { 0 };
	char name[24];

	KD_NAME_INDEX_OF(&x, v, n, name);
	ck_assert_uint_eq(x.n, n);
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(kd_name_index_find(&x, v[i].name), (ssize_t)i);
		snprintf(name, sizeof(name), "%sx", v[i].name);
		ck_assert_int_eq(kd_name_index_find(&x, name), -1);
	}
	ck_assert_int_eq(kd_name_index_find(&x, ""), -1);
	kd_name_index_free(&x);
	ck_assert_uint_eq(x.n, 0);
	ck_assert_int_eq(kd_name_index_find(&x, "k0"), -1);	/* empty again, still usable */
	free(v);
}
END_TEST

START_TEST(several_positions_per_name_come_in_position_order)
{
	/* Hosts of objects 0..4, as VirtualServices list them (object 3 names h twice). */
	static const struct {
		const char *name;
		size_t at;
	} adds[] = { { "h", 4 }, { "g", 0 }, { "h", 1 }, { "h", 3 }, { "i", 2 }, { "h", 3 } };
	static const size_t want[] = { 1, 3, 3, 4 };
	struct kd_name_index x = { 0 };
	size_t end, first;

	for (size_t i = 0; i < sizeof(adds) / sizeof(adds[0]); i++)
		kd_name_index_add(&x, adds[i].name, adds[i].at);
	kd_name_index_sort(&x);
	first = kd_name_index_range(&x, "h", &end);
	ck_assert_uint_eq(end - first, sizeof(want) / sizeof(want[0]));
	for (size_t k = first; k < end; k++) {
		ck_assert_str_eq(x.v[k].name, "h");
		ck_assert_uint_eq(x.v[k].at, want[k - first]);
	}
	ck_assert_int_eq(kd_name_index_find(&x, "h"), 1);
	ck_assert_int_eq(kd_name_index_find(&x, "i"), 2);
	first = kd_name_index_range(&x, "gg", &end);
	ck_assert_uint_eq(first, end);
	kd_name_index_free(&x);
}
END_TEST

Suite *name_index_suite(void)
{
	Suite *s = suite_create("name_index");
	TCase *tc = tcase_create("lookups");

	/* Sizes 0 to 40: every shape of the binary search's last steps. */
	tcase_add_loop_test(tc, sorted_arrays_find_every_name_and_miss_the_others, 0, 41);
	tcase_add_loop_test(tc, an_index_keeps_the_array_order_and_finds_by_name, 0, 41);
	tcase_add_test(tc, several_positions_per_name_come_in_position_order);
	suite_add_tcase(s, tc);
	return s;
}
