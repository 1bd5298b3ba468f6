// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The status file's pace: at most one write a second, the last one held, never lost. */
#include "kdt.h"
#include "report/status_pace.h"

START_TEST(first_write_is_at_once_then_one_a_second)
{
	struct kd_pace p = { 0 };

	ck_assert(kd_pace_ask(&p, 5000));
	ck_assert_int_eq(kd_pace_due(&p), 0);
	/* A burst within the second: held, due when the second is over. */
	ck_assert(!kd_pace_ask(&p, 5001));
	ck_assert(!kd_pace_ask(&p, 5900));
	ck_assert_int_eq(kd_pace_due(&p), 5000 + KD_STATUS_PACE_MS);
	/* The loop writes it then: the held write is done, nothing is due. */
	ck_assert(kd_pace_ask(&p, 6000));
	ck_assert_int_eq(kd_pace_due(&p), 0);
	/* A quiet second later, the next is at once again. */
	ck_assert(kd_pace_ask(&p, 7500));
}
END_TEST

START_TEST(a_burst_of_events_is_one_write_plus_the_last)
{
	struct kd_pace p = { 0 };
	int writes = 0;
	long long now;

	/* 100 events 5 ms apart, and the loop's wake-ups at each due time. */
	for (now = 10000; now < 10500; now += 5) {
		if (kd_pace_due(&p) && now >= kd_pace_due(&p))
			writes += kd_pace_ask(&p, now);
		writes += kd_pace_ask(&p, now);
	}
	ck_assert_int_eq(writes, 1);
	ck_assert_int_eq(kd_pace_due(&p), 11000);	/* the last state is still to be written */
	ck_assert(kd_pace_ask(&p, kd_pace_due(&p)));
	ck_assert_int_eq(kd_pace_due(&p), 0);
}
END_TEST

Suite *status_pace_suite(void)
{
	Suite *s = suite_create("status_pace");
	TCase *t = tcase_create("pace");

	tcase_add_test(t, first_write_is_at_once_then_one_a_second);
	tcase_add_test(t, a_burst_of_events_is_one_write_plus_the_last);
	suite_add_tcase(s, t);
	return s;
}
