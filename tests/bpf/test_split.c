// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Split accuracy: 100,000 distinct client flows, one SYN each, counted by
 * the backend the output packet was sent to.  Each subset's share must be
 * its weight's within 1 point (about 8 binomial standard deviations at
 * 20 %), and the backends of a subset must share it evenly within 2 points.
 */
#include <math.h>
#include <string.h>
#include "fixture.h"
#include "suites.h"

#define FLOWS	100000

struct split {
	int n;
	__u32 w[KANARY_MAX_SUBSETS];	/* x1000 */
	int nb[KANARY_MAX_SUBSETS];
};

static void run_split(const struct split *sp)
{
	static unsigned count[KANARY_MAX_SUBSETS][KANARY_MAX_BACKENDS];
	unsigned i, sub_total;
	double wsum = 0, share, want;
	int s, j;

	memset(count, 0, sizeof(count));
	kt_service_create(KT_SVC, KT_VIP, KT_VPORT, sp->n, sp->w, sp->nb);
	for (i = 0; i < FLOWS; i++) {
		struct kt_flow f = kt_flow_nth(i);
		struct kt_be be = kt_send(&f, TF_SYN);

		ck_assert_msg(be.subset < sp->n && be.index < sp->nb[be.subset],
			      "flow %u went to unconfigured backend %d/%d", i, be.subset, be.index);
		count[be.subset][be.index]++;
	}
	for (s = 0; s < sp->n; s++)
		wsum += sp->w[s];
	for (s = 0; s < sp->n; s++) {
		for (sub_total = 0, j = 0; j < sp->nb[s]; j++)
			sub_total += count[s][j];
		share = 100.0 * sub_total / FLOWS;
		want = 100.0 * sp->w[s] / wsum;
		ck_assert_msg(fabs(share - want) <= 1.0, "subset %d got %.2f%% of flows, weight says %.2f%%",
			      s, share, want);
		if (sp->w[s] == 0)
			ck_assert_msg(sub_total == 0, "subset %d of weight 0 got %u flows", s, sub_total);
		else
			ck_assert_msg(sub_total > 0, "subset %d of weight %.3f got no flow", s, sp->w[s] / 1000.0);
		for (j = 0; j < sp->nb[s] && sp->nb[s] > 1; j++) {
			share = 100.0 * count[s][j] / sub_total;
			want = 100.0 / sp->nb[s];
			ck_assert_msg(fabs(share - want) <= 2.0,
				      "backend %d of subset %d got %.2f%% of its %u flows, want %.2f%%",
				      j, s, share, sub_total, want);
		}
	}
}

/* Subsets given two backends each get at least 20,000 flows, so evenness is testable. */
START_TEST(split_80_20)
{
	const struct split sp = { 2, { 80000, 20000 }, { 2, 2 } };

	run_split(&sp);
}
END_TEST

START_TEST(split_99_5_0_5)
{
	const struct split sp = { 2, { 99500, 500 }, { 2, 1 } };

	run_split(&sp);
}
END_TEST

START_TEST(split_0_100)
{
	const struct split sp = { 2, { 0, 100000 }, { 1, 2 } };

	run_split(&sp);
}
END_TEST

START_TEST(split_50_30_20)
{
	const struct split sp = { 3, { 50000, 30000, 20000 }, { 2, 2, 2 } };

	run_split(&sp);
}
END_TEST

Suite *split_suite(void)
{
	Suite *s = suite_create("split");
	TCase *tc = kt_tcase("split", 120);

	tcase_add_test(tc, split_80_20);
	tcase_add_test(tc, split_99_5_0_5);
	tcase_add_test(tc, split_0_100);
	tcase_add_test(tc, split_50_30_20);
	suite_add_tcase(s, tc);
	return s;
}
