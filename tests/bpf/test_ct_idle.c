// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The idle sweep of the plain path (user/lib/ct_idle.c): the datapath keeps
 * each forward entry's clock byte (kanary_ct_entry.seen, set from the
 * sweeper's tick), and the sweep deletes both entries of a connection
 * whose client has been silent for the timeout.  The clock is moved by
 * writing the byte back in time, as hours of silence would leave it.  A
 * connection swept finds its backend again with its next packet.  Part of
 * the conntrack suite.
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "fixture.h"
#include "suites.h"
#include "kanary/ct_expiry.h"

static const __u32 w_100[] = { 100000 };
static const int nb_4[] = { 4 };

static void service(void)
{
	kt_service_create(KT_SVC, KT_VIP, KT_VPORT, 1, w_100, nb_4);
}

static __u8 now_seen(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return kanary_ct_seen_of((__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec);
}

/* The flow's forward entry, its clock byte set to `ago` steps back (0: never seen). */
static void set_seen_ago(const struct kt_flow *f, int ago)
{
	struct kanary_ct_key k = kt_ct_fwd_key(f);
	struct kanary_ct_entry v;

	ck_assert_int_eq(bpf_map_lookup_elem(kt.maps.ct, &k, &v), 0);
	v.seen = ago < 0 ? 0 : (__u8)((now_seen() - 1 - ago + 255) % 255 + 1);
	ck_assert_int_eq(bpf_map_update_elem(kt.maps.ct, &k, &v, BPF_EXIST), 0);
}

static __u8 seen_of(const struct kt_flow *f)
{
	struct kanary_ct_key k = kt_ct_fwd_key(f);
	struct kanary_ct_entry v;

	ck_assert_int_eq(bpf_map_lookup_elem(kt.maps.ct, &k, &v), 0);
	return v.seen;
}

static bool tracked(const struct kanary_ct_key *k)
{
	struct kanary_ct_entry v;

	return bpf_map_lookup_elem(kt.maps.ct, k, &v) == 0;
}

START_TEST(idle_connections_go_both_entries_and_come_back)
{
	const struct kt_flow quiet = kt_flow_nth(1), busy = kt_flow_nth(2), unseen = kt_flow_nth(3);
	__u64 before[KANARY_CNT__MAX], after[KANARY_CNT__MAX];
	__u32 timeout_s = 3600, steps = (timeout_s * 1000000000ull >> KANARY_CT_SEEN_SHIFT) + 2;
	struct kanary_ct_key qf = kt_ct_fwd_key(&quiet), bf = kt_ct_fwd_key(&busy);
	struct kanary_ct_key uf = kt_ct_fwd_key(&unseen), qr, br;
	struct kanary_err e = { "" };
	struct kanary_ct_idle r;
	struct kt_be qb, bb;

	service();
	qb = kt_establish(&quiet);
	bb = kt_establish(&busy);
	kt_establish(&unseen);
	qr = kt_ct_rev_key(&quiet, &qb);
	br = kt_ct_rev_key(&busy, &bb);
	set_seen_ago(&quiet, (int)steps);
	set_seen_ago(&busy, (int)steps - 4);
	set_seen_ago(&unseen, -1);
	ck_assert_int_eq(kanary_ct_idle_sweep(&kt.maps, timeout_s, &r, &e), 0);
	ck_assert_uint_eq(r.swept, 1);
	ck_assert_msg(!tracked(&qf) && !tracked(&qr), "the idle connection kept an entry");
	ck_assert_msg(tracked(&bf) && tracked(&br), "the connection seen within the timeout lost an entry");
	ck_assert_msg(tracked(&uf), "an entry never seen (an old pin's) was swept");
	/* The client comes back: its backend is found again, the same pod. */
	kt_counters(before);
	ck_assert_int_eq(kt_send_fwd_seq(&quiet, TF_ACK, KT_CLIENT_ISN + 1).index, qb.index);
	kt_counters(after);
	ck_assert_uint_eq(after[KANARY_CNT_CT_REDERIVED] - before[KANARY_CNT_CT_REDERIVED], 1);
}
END_TEST

/* The sweeper's tick sets the clock; a client packet then brings its entry's byte up to date. */
START_TEST(a_client_packet_sets_its_entry_clock)
{
	const struct kt_flow f = kt_flow_nth(4), closer = kt_flow_nth(5);
	__u8 now;

	service();
	kt_establish(&f);
	/* A close sets the sweeper up; its first tick sets the clock (250 ms). */
	kt_establish(&closer);
	kt_send_fwd_seq(&closer, TF_RST, KT_CLIENT_ISN + 1);
	usleep(600 * 1000);
	set_seen_ago(&f, 10);
	kt_send_fwd_seq(&f, TF_ACK, KT_CLIENT_ISN + 1);
	now = now_seen();
	/* A step may turn between the packet and the reading. */
	ck_assert_msg(seen_of(&f) == now || seen_of(&f) % 255 + 1 == now,
		      "the entry's clock is %u, now is %u", seen_of(&f), now);
}
END_TEST

void ct_idle_tests(TCase *tc)
{
	tcase_add_test(tc, idle_connections_go_both_entries_and_come_back);
	tcase_add_test(tc, a_client_packet_sets_its_entry_clock);
}
