// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * kanaryctl route del moves the later rules' mirror shares up with them, in
 * three map writes: the moving rules' shares off (kanary_mirror_rules_hold),
 * the rules, the shares moved (kanary_mirror_rule_removed).  Between the
 * writes a request may read the rules' new order: it must find no share
 * there rather than another rule's.  Checked on the pinned map after each
 * step, on a kanary of the fixture's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "fixture.h"

#define SHADOW	1	/* the mirror subset, s1 */

static struct kanary_service *web(void)
{
	static const __u32 weights[] = { 1000, 0 };
	static const int backends[] = { 1, 1 };
	struct kanary_service *s = calloc(1, sizeof(*s));
	struct kanary_err e = { 0 };

	ck_assert_ptr_nonnull(s);
	kt_service_create(KT_SVC, KT_VIP, KT_VPORT, 2, weights, backends);
	ck_assert_msg(kanary_service_get(&kt.maps, KT_SVC, s, &e) == 0, "get: %s", e.msg);
	return s;
}

static struct kanary_mirror_cfg in_map(const struct kanary_service *s)
{
	struct kanary_mirror_cfg cfg;
	struct kanary_err e = { 0 };

	ck_assert_msg(kanary_mirror_get(&kt.maps, s->id, &cfg, &e) == 0, "mirror get: %s", e.msg);
	return cfg;
}

/* The split mirrors 100 %; rules 1, 2 and 3 (indexes 0..2) 10, 20 and 30 %. */
static struct kanary_mirror_cfg three_rules(const struct kanary_service *s)
{
	struct kanary_mirror_cfg cfg = { 0 };
	struct kanary_err e = { 0 };

	cfg.ppm[SHADOW] = KANARY_MIRROR_PPM_MAX;
	for (int r = 0; r < 3; r++)
		cfg.rule_ppm[r][SHADOW] = 100000 * (r + 1);
	ck_assert_msg(kanary_mirror_write(&kt.maps, s, &cfg, &e) == 0, "write: %s", e.msg);
	return cfg;
}

START_TEST(rule_deleted_its_followers_shares_off_then_moved_up)
{
	struct kanary_service *s = web();
	struct kanary_mirror_cfg before = three_rules(s), saved, now;
	struct kanary_err e = { 0 };

	/* Rule 2 (index 1) goes: rules 2 and 3 are held, rule 1 and the split keep theirs. */
	ck_assert_msg(kanary_mirror_rules_hold(&kt.maps, s, 1, &saved, &e) == 0, "hold: %s", e.msg);
	ck_assert_mem_eq(&saved, &before, sizeof(saved));
	now = in_map(s);
	ck_assert_uint_eq(now.ppm[SHADOW], KANARY_MIRROR_PPM_MAX);
	ck_assert_uint_eq(now.rule_ppm[0][SHADOW], 100000);
	ck_assert_uint_eq(now.rule_ppm[1][SHADOW], 0);
	ck_assert_uint_eq(now.rule_ppm[2][SHADOW], 0);
	/* The rules written, the shares follow: rule 3's 30 % is rule 2's now. */
	ck_assert_msg(kanary_mirror_rule_removed(&kt.maps, s, 1, &saved, &e) == 0, "removed: %s", e.msg);
	now = in_map(s);
	ck_assert_uint_eq(now.ppm[SHADOW], KANARY_MIRROR_PPM_MAX);
	ck_assert_uint_eq(now.rule_ppm[0][SHADOW], 100000);
	ck_assert_uint_eq(now.rule_ppm[1][SHADOW], 300000);
	ck_assert_uint_eq(now.rule_ppm[2][SHADOW], 0);
	free(s);
}
END_TEST

/* Only rules mirror, all of them held: the entry goes (no mirror at all), then comes back moved. */
START_TEST(held_shares_that_were_all_leave_no_entry_meanwhile)
{
	struct kanary_service *s = web();
	struct kanary_mirror_cfg cfg = { 0 }, saved, now;
	struct kanary_err e = { 0 };

	cfg.rule_ppm[0][SHADOW] = 5000;
	cfg.rule_ppm[1][SHADOW] = 7000;
	ck_assert_msg(kanary_mirror_write(&kt.maps, s, &cfg, &e) == 0, "write: %s", e.msg);
	ck_assert_msg(kanary_mirror_rules_hold(&kt.maps, s, 0, &saved, &e) == 0, "hold: %s", e.msg);
	ck_assert_int_ne(bpf_map_lookup_elem(kt.maps.mirror, &s->id, &now), 0);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_msg(kanary_mirror_rule_removed(&kt.maps, s, 0, &saved, &e) == 0, "removed: %s", e.msg);
	now = in_map(s);
	ck_assert_uint_eq(now.rule_ppm[0][SHADOW], 7000);
	ck_assert_uint_eq(now.rule_ppm[1][SHADOW], 0);
	free(s);
}
END_TEST

/* Deleting the last rule with a share of its own, nothing after it: the hold writes nothing. */
START_TEST(hold_with_nothing_after_keeps_the_entry)
{
	struct kanary_service *s = web();
	struct kanary_mirror_cfg before = three_rules(s), saved, now;
	struct kanary_err e = { 0 };

	ck_assert_msg(kanary_mirror_rules_hold(&kt.maps, s, 3, &saved, &e) == 0, "hold: %s", e.msg);
	now = in_map(s);
	ck_assert_mem_eq(&now, &before, sizeof(now));
	free(s);
}
END_TEST

Suite *mirror_rules_suite(void)
{
	Suite *s = suite_create("mirror_rules");
	TCase *t = kt_tcase("route_del", 60);

	tcase_add_test(t, rule_deleted_its_followers_shares_off_then_moved_up);
	tcase_add_test(t, held_shares_that_were_all_leave_no_entry_meanwhile);
	tcase_add_test(t, hold_with_nothing_after_keeps_the_entry);
	suite_add_tcase(s, t);
	return s;
}
