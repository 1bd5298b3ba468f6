// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The relay's comparison (user/mirror/pair.c) on hand-made events: the
 * live and mirror answers paired in either order, per mirror subset, by
 * the request's connection and first sequence number; agreement by class;
 * a disagreement's method, path (query cut) and statuses; mirrors never
 * sent not waited for; the table's bound and the expiry, counted unpaired
 * only for requests sent.  Counting is replaced by recorders.
 */
#include <stdlib.h>
#include <string.h>
#include <check.h>
#include <arpa/inet.h>
#include "relay.h"

#define SVC	9

static struct { int n, agree, differ, latencies; int subset[16]; uint32_t live_us, mirror_us; }
	cmp;
static int unpaired[KANARY_MAX_SUBSETS];
static struct { int n; char method[16], path[128]; int live, mirror, subset; } diff;

void stats_compare(uint32_t svc_id, int subset, bool agree, int mirror_status, uint32_t live_us,
		   uint32_t mirror_us)
{
	ck_assert_uint_eq(svc_id, SVC);
	ck_assert_int_lt(cmp.n, 16);
	cmp.subset[cmp.n++] = subset;
	if (agree)
		cmp.agree++;
	else
		cmp.differ++;
	cmp.live_us = live_us;
	cmp.mirror_us = mirror_us;
	cmp.latencies += mirror_status != 0;
}

void stats_unpaired(uint32_t svc_id, uint8_t subsets)
{
	ck_assert_uint_eq(svc_id, SVC);
	for (int i = 0; i < KANARY_MAX_SUBSETS; i++)
		unpaired[i] += !!(subsets & (1u << i));
}

void diff_count(uint32_t svc_id, int subset, const char *method, const char *path, int live,
		int mirror)
{
	ck_assert_uint_eq(svc_id, SVC);
	diff.n++;
	strcpy(diff.method, method);
	strcpy(diff.path, path);
	diff.live = live;
	diff.mirror = mirror;
	diff.subset = subset;
}

static void setup(void)
{
	memset(&cmp, 0, sizeof(cmp));
	memset(unpaired, 0, sizeof(unpaired));
	memset(&diff, 0, sizeof(diff));
	ck_assert_int_eq(pair_init(4, 1000), 0);
}

static struct kanary_mirror_event ev_of(__u16 port, __u32 seq, uint8_t subsets, uint8_t flags)
{
	struct kanary_mirror_event ev = { .client_port = htons(port), .flags = flags,
					  .subsets = subsets, .svc_id = SVC, .seq = seq };

	ev.client.w[2] = htonl(0xffff);
	ev.client.w[3] = htonl(0x0a000001);
	return ev;
}

static void start(__u16 port, __u32 seq, uint8_t subsets, uint64_t now)
{
	struct kanary_mirror_event ev = ev_of(port, seq, subsets, KANARY_MIRROR_EV_START);

	pair_start(&ev, now);
}

/* The connection's request handed on; its key. */
static struct pair_key request(__u16 port, const char *req)
{
	struct kanary_mirror_event ev = ev_of(port, 0, 0, 0);
	struct pair_key k;

	ck_assert(pair_request(SVC, &ev.client, ev.client_port, (const uint8_t *)req, strlen(req),
			       &k));
	return k;
}

static void live(__u16 port, __u32 seq, uint32_t status, uint32_t us)
{
	struct {
		struct kanary_mirror_event ev;
		struct kanary_mirror_live live;
	} e = { ev_of(port, seq, 0, KANARY_MIRROR_EV_LIVE), { status, us } };

	pair_live(&e, sizeof(e));
}

static const char get[] = "GET /a/b?q=1 HTTP/1.1\r\nHost: web\r\n\r\n";

START_TEST(live_then_mirror_agree)
{
	struct pair_key k;

	start(1000, 77, 0x02, 0);
	k = request(1000, get);
	ck_assert_uint_eq(k.seq, 77);
	live(1000, 77, 200, 1500);
	ck_assert_int_eq(cmp.n, 0);
	pair_mirror(&k, 1, 204, 3000);
	ck_assert_int_eq(cmp.n, 1);
	ck_assert_int_eq(cmp.agree, 1);
	ck_assert_int_eq(cmp.subset[0], 1);
	ck_assert_uint_eq(cmp.live_us, 1500);
	ck_assert_uint_eq(cmp.mirror_us, 3000);
	ck_assert_int_eq(diff.n, 0);
	ck_assert_uint_eq(pair_stats().open, 0);	/* done: freed */
	pair_mirror(&k, 1, 500, 1);			/* late and again: nothing */
	ck_assert_int_eq(cmp.n, 1);
}
END_TEST

START_TEST(mirror_then_live_differ_with_method_and_path)
{
	struct pair_key k;

	start(1001, 5, 0x01, 0);
	k = request(1001, get);
	pair_mirror(&k, 0, 500, 900);
	ck_assert_int_eq(cmp.n, 0);
	live(1001, 5, 200, 100);
	ck_assert_int_eq(cmp.differ, 1);
	ck_assert_int_eq(diff.n, 1);
	ck_assert_str_eq(diff.method, "GET");
	ck_assert_str_eq(diff.path, "/a/b");
	ck_assert_int_eq(diff.live, 200);
	ck_assert_int_eq(diff.mirror, 500);
	ck_assert_int_eq(diff.subset, 0);
	ck_assert_uint_eq(pair_stats().open, 0);
}
END_TEST

START_TEST(each_mirror_subset_compared)
{
	struct pair_key k;

	start(1002, 1, 0x06, 0);
	k = request(1002, "POST /p HTTP/1.1\r\n\r\n");
	pair_mirror(&k, 1, 201, 10);
	live(1002, 1, 201, 10);
	ck_assert_int_eq(cmp.n, 1);
	ck_assert_uint_eq(pair_stats().open, 1);	/* subset 2 still to answer */
	pair_mirror(&k, 2, 0, 0);			/* an error: a disagreement, no latency */
	ck_assert_int_eq(cmp.n, 2);
	ck_assert_int_eq(cmp.agree, 1);
	ck_assert_int_eq(cmp.differ, 1);
	ck_assert_int_eq(cmp.latencies, 1);
	ck_assert_int_eq(diff.mirror, 0);
	ck_assert_str_eq(diff.method, "POST");
	ck_assert_uint_eq(pair_stats().open, 0);
}
END_TEST

START_TEST(mirror_never_sent_not_waited_for)
{
	struct pair_key k;

	start(1003, 1, 0x03, 0);
	k = request(1003, get);
	pair_mirror(&k, 0, -1, 0);	/* no backend: counted as dropped elsewhere */
	live(1003, 1, 200, 10);
	pair_mirror(&k, 1, 200, 10);
	ck_assert_int_eq(cmp.n, 1);
	ck_assert_uint_eq(pair_stats().open, 0);
	pair_expire(5000);
	ck_assert_int_eq(unpaired[0] + unpaired[1], 0);
}
END_TEST

START_TEST(expired_sent_unpaired_unsent_silent)
{
	struct pair_key k;

	start(1004, 1, 0x02, 0);
	k = request(1004, get);
	pair_mirror(&k, 1, 200, 10);	/* the live answer never comes */
	start(1005, 1, 0x02, 500);	/* never handed on: reassembly dropped it */
	pair_expire(1000);
	ck_assert_uint_eq(pair_stats().open, 2);	/* not older than 1000 ms yet */
	pair_expire(1001);
	ck_assert_uint_eq(pair_stats().open, 1);
	ck_assert_int_eq(unpaired[1], 1);
	pair_expire(1501);
	ck_assert_uint_eq(pair_stats().open, 0);
	ck_assert_int_eq(unpaired[1], 1);
	ck_assert_uint_eq(pair_stats().expired, 1);
	live(1004, 1, 200, 10);		/* too late */
	ck_assert_int_eq(cmp.n, 0);
}
END_TEST

START_TEST(bounded_and_counted)
{
	for (__u16 p = 0; p < 4; p++)
		start(2000 + p, 1, 0x01, 0);
	ck_assert_uint_eq(pair_stats().open, 4);
	start(2010, 1, 0x05, 0);
	ck_assert_uint_eq(pair_stats().open, 4);
	ck_assert_uint_eq(pair_stats().full, 1);
	ck_assert_int_eq(unpaired[0], 1);
	ck_assert_int_eq(unpaired[2], 1);
}
END_TEST

START_TEST(start_again_and_next_request)
{
	struct kanary_mirror_event ev = ev_of(1006, 0, 0, 0);
	struct pair_key k;

	start(1006, 100, 0x01, 0);
	start(1006, 100, 0x01, 0);	/* its copy retransmitted */
	ck_assert_uint_eq(pair_stats().open, 1);
	start(1006, 300, 0x01, 0);	/* the first never whole: replaced */
	ck_assert_uint_eq(pair_stats().open, 1);
	k = request(1006, get);
	ck_assert_uint_eq(k.seq, 300);
	/* No request left to hand on for the connection. */
	ck_assert(!pair_request(SVC, &ev.client, ev.client_port, (const uint8_t *)get,
				strlen(get), &k));
	/* A sent request stays while the next one starts (keep-alive). */
	start(1006, 400, 0x01, 0);
	ck_assert_uint_eq(pair_stats().open, 2);
	live(1006, 300, 404, 10);
	pair_mirror(&k, 0, 404, 10);
	ck_assert_int_eq(cmp.agree, 1);
	ck_assert_uint_eq(pair_stats().open, 1);
}
END_TEST

START_TEST(live_events_not_trusted_or_early)
{
	struct {
		struct kanary_mirror_event ev;
		struct kanary_mirror_live live;
	} e = { ev_of(1007, 1, 0, KANARY_MIRROR_EV_LIVE), { 200, 10 } };
	struct pair_key k;

	start(1007, 1, 0x01, 0);
	pair_live(&e, sizeof(e) - 1);	/* short */
	e.live.status = 999;
	pair_live(&e, sizeof(e));	/* no status */
	live(1007, 2, 200, 10);		/* another request */
	ck_assert_uint_eq(pair_stats().live, 0);
	/* An answer before the request is whole (an early 413): kept until it is. */
	live(1007, 1, 413, 10);
	ck_assert_uint_eq(pair_stats().live, 1);
	k = request(1007, get);
	pair_mirror(&k, 0, 413, 10);
	ck_assert_int_eq(cmp.agree, 1);
}
END_TEST

Suite *pair_suite(void)
{
	Suite *s = suite_create("mirror_pair");
	TCase *tc = tcase_create("mirror_pair");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, live_then_mirror_agree);
	tcase_add_test(tc, mirror_then_live_differ_with_method_and_path);
	tcase_add_test(tc, each_mirror_subset_compared);
	tcase_add_test(tc, mirror_never_sent_not_waited_for);
	tcase_add_test(tc, expired_sent_unpaired_unsent_silent);
	tcase_add_test(tc, bounded_and_counted);
	tcase_add_test(tc, start_again_and_next_request);
	tcase_add_test(tc, live_events_not_trusted_or_early);
	suite_add_tcase(s, tc);
	return s;
}
