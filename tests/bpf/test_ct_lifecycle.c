// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A plain-path connection's entries have a lifecycle (bpf/lib/ct_expiry.h):
 * they go a linger after the close (both FINs, or a RST at the exact
 * sequence), or after the SYN timeout when the backend never answered a SYN
 * sent again, so that short connections do not fill the LRU and evict an
 * idle established one.  The sweeper runs in the kernel in real time:
 * kanary is reloaded with short timeouts, and the tests wait for the
 * expiries with a generous bound.  Part of the conntrack suite.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "fixture.h"
#include "prog_run.h"
#include "suites.h"
#include "kanary/ct_expiry.h"

static const __u32 w_100[] = { 100000 };
static const int nb_4[] = { 4 };

/* How long the tests wait for an expiry at most: far beyond any timeout they set. */
#define WAIT_MAX_MS	10000

static void reload_with_timeouts(__u32 ct_size, __u32 linger_ms, __u32 syn_timeout_ms)
{
	struct kanary_load_opts lo = {
		.ct_size = ct_size, .ct_linger_ms = linger_ms, .ct_syn_timeout_ms = syn_timeout_ms,
	};

	kt_reload(&lo);
	kt_service_create(KT_SVC, KT_VIP, KT_VPORT, 1, w_100, nb_4);
}

/* In either table: established, or still in its handshake. */
static bool ct_has(const struct kanary_ct_key *k)
{
	struct kanary_ct_entry e;

	return bpf_map_lookup_elem(kt.maps.ct, k, &e) == 0 ||
	       bpf_map_lookup_elem(kt.maps.ct_new, k, &e) == 0;
}

static bool flow_tracked(const struct kt_flow *f, const struct kt_be *be)
{
	struct kanary_ct_key fwd = kt_ct_fwd_key(f), rev = kt_ct_rev_key(f, be);

	return ct_has(&fwd) || ct_has(&rev);
}

static bool flow_fully_tracked(const struct kt_flow *f, const struct kt_be *be)
{
	struct kanary_ct_key fwd = kt_ct_fwd_key(f), rev = kt_ct_rev_key(f, be);

	return ct_has(&fwd) && ct_has(&rev);
}

/* Waits until neither entry of the flow is left; false after WAIT_MAX_MS. */
static bool wait_untracked(const struct kt_flow *f, const struct kt_be *be)
{
	for (int ms = 0; ms < WAIT_MAX_MS; ms += 10) {
		if (!flow_tracked(f, be))
			return true;
		usleep(10000);
	}
	return false;
}

/* Whether a queue holds an expiry (a lookup on a queue peeks at its head). */
static bool queue_busy(int fd)
{
	struct kanary_ct_expiry x;

	return bpf_map_lookup_elem(fd, NULL, &x) == 0;
}

/* Waits until the sweeper has popped every queued expiry. */
static void wait_queues_empty(void)
{
	for (int ms = 0; ms < WAIT_MAX_MS; ms += 10) {
		if (!queue_busy(kt.maps.ct_endq) && !queue_busy(kt.maps.ct_synq))
			return;
		usleep(10000);
	}
	ck_abort_msg("expiries still queued after %d ms", WAIT_MAX_MS);
}

static struct kanary_ct_sweeper sweeper(void)
{
	struct kanary_ct_sweeper sw = {};
	__u32 zero = 0;

	ck_assert_int_eq(bpf_map_lookup_elem(kt.maps.ct_sweeper, &zero, &sw), 0);
	return sw;
}

/* The client closes first, the backend answers with its FIN, the client acks it. */
static void close_both_ways(const struct kt_flow *f, const struct kt_be *be)
{
	kt_send_fwd_seq(f, TF_FIN | TF_ACK, KT_CLIENT_ISN + 1);
	kt_send_rev_seq(f, be, TF_FIN | TF_ACK, KT_BACKEND_ISN + 1);
	kt_send_fwd_seq(f, TF_ACK, KT_CLIENT_ISN + 2);
}

/* Waits until counter c has grown by want since before, then asserts it is exactly want. */
static void ck_counted(const __u64 before[], enum kanary_counter c, __u64 want)
{
	__u64 now[KANARY_CNT__MAX];

	for (int ms = 0; ms < WAIT_MAX_MS; ms += 10) {
		kt_counters(now);
		if (now[c] - before[c] >= want)
			break;
		usleep(10000);
	}
	ck_assert_uint_eq(now[c] - before[c], want);
}

/*
 * Closed four ways (both FINs, client's first or backend's first; the
 * client's exact RST; the backend's): within the linger a retransmitted
 * FIN is still translated both ways; after it, both entries of each are
 * gone, each counted once.
 */
START_TEST(ended_connection_entries_go_after_linger)
{
	const struct kt_flow fin = kt_flow_nth(1), crst = kt_flow_nth(2), brst = kt_flow_nth(3),
			     srv = kt_flow_nth(4);
	__u64 before[KANARY_CNT__MAX];
	struct kt_be b_fin, b_crst, b_brst, b_srv;

	/* Linger 1 s: the retransmissions below come microseconds after the close. */
	reload_with_timeouts(0, 1000, 0);
	kt_counters(before);
	b_fin = kt_establish(&fin);
	b_crst = kt_establish(&crst);
	b_brst = kt_establish(&brst);
	b_srv = kt_establish(&srv);

	close_both_ways(&fin, &b_fin);
	/* The server closes first (an HTTP Connection: close), the client answers. */
	kt_send_rev_seq(&srv, &b_srv, TF_FIN | TF_ACK, KT_BACKEND_ISN + 1);
	kt_send_fwd_seq(&srv, TF_FIN | TF_ACK, KT_CLIENT_ISN + 1);
	kt_send_rev_seq(&srv, &b_srv, TF_ACK, KT_BACKEND_ISN + 2);
	kt_send_fwd_seq(&crst, TF_RST, KT_CLIENT_ISN + 1);
	kt_send_rev_seq(&brst, &b_brst, TF_RST, KT_BACKEND_ISN + 1);

	ck_assert_msg(flow_fully_tracked(&fin, &b_fin), "entries gone at the close, before the linger");
	ck_assert_int_eq(kt_send_fwd_seq(&fin, TF_FIN | TF_ACK, KT_CLIENT_ISN + 1).index, b_fin.index);
	kt_send_rev_seq(&fin, &b_fin, TF_FIN | TF_ACK, KT_BACKEND_ISN + 1);

	ck_assert_msg(wait_untracked(&fin, &b_fin), "FIN-closed connection still tracked");
	ck_assert_msg(wait_untracked(&crst, &b_crst), "client-reset connection still tracked");
	ck_assert_msg(wait_untracked(&brst, &b_brst), "backend-reset connection still tracked");
	ck_assert_msg(wait_untracked(&srv, &b_srv), "server-closed connection still tracked");
	wait_queues_empty();
	ck_counted(before, KANARY_CNT_CT_ENDED, 4);
	ck_counted(before, KANARY_CNT_CT_EXPIRY_FULL, 0);
}
END_TEST

/*
 * Only the client's FIN: the backend may still send (a half-close), so
 * the entries stay past the linger.  A SYN sent again that the backend
 * never answers goes after the SYN timeout; an answered one stays.
 */
START_TEST(half_open_goes_half_closed_stays)
{
	const struct kt_flow half_closed = kt_flow_nth(1), half_open = kt_flow_nth(2),
			     answered = kt_flow_nth(3);
	__u64 before[KANARY_CNT__MAX];
	struct kt_be b_hc, b_ho, b_ans;

	reload_with_timeouts(0, 200, 500);
	kt_counters(before);
	b_hc = kt_establish(&half_closed);
	kt_send_fwd_seq(&half_closed, TF_FIN | TF_ACK, KT_CLIENT_ISN + 1);
	b_ho = kt_send(&half_open, TF_SYN);
	kt_send(&half_open, TF_SYN);
	b_ans = kt_send(&answered, TF_SYN);
	kt_send(&answered, TF_SYN);
	kt_send_rev_seq(&answered, &b_ans, TF_SYN | TF_ACK, KT_BACKEND_ISN);

	ck_assert_msg(wait_untracked(&half_open, &b_ho), "unanswered SYN still tracked");
	wait_queues_empty();
	ck_counted(before, KANARY_CNT_CT_HALF_OPEN, 1);
	ck_assert_msg(flow_fully_tracked(&half_closed, &b_hc), "half-closed connection lost");
	ck_assert_msg(flow_fully_tracked(&answered, &b_ans), "answered connection lost");
	/* The half-closed one's backend still sends; its client acks. */
	kt_send_rev_seq(&half_closed, &b_hc, TF_ACK, KT_BACKEND_ISN + 1);
	ck_assert_int_eq(kt_send_fwd_seq(&half_closed, TF_ACK, KT_CLIENT_ISN + 2).index, b_hc.index);
}
END_TEST

/*
 * A client port reused within the linger (a new SYN on the closed tuple),
 * and the new connection half-closed (the client's FIN: flagged closing,
 * not ended): the old close's expiry must spare its entries.
 */
START_TEST(tuple_reused_within_linger_is_kept)
{
	const struct kt_flow f = kt_flow_nth(5);
	__u64 before[KANARY_CNT__MAX], after[KANARY_CNT__MAX];
	struct kt_be be;

	reload_with_timeouts(0, 200, 0);
	be = kt_establish(&f);
	kt_send_fwd_seq(&f, TF_RST, KT_CLIENT_ISN + 1);
	ck_assert_msg(queue_busy(kt.maps.ct_endq), "the close queued no expiry");
	kt_counters(before);
	ck_assert_int_eq(kt_establish(&f).index, be.index);
	kt_counters(after);
	ck_assert_uint_eq(after[KANARY_CNT_CT_REUSED] - before[KANARY_CNT_CT_REUSED], 1);
	kt_send_fwd_seq(&f, TF_FIN | TF_ACK, KT_CLIENT_ISN + 1);
	wait_queues_empty();
	ck_assert_msg(flow_fully_tracked(&f, &be), "the new connection's entries went with the old close's expiry");
	kt_counters(after);
	ck_assert_uint_eq(after[KANARY_CNT_CT_ENDED], 0);
	kt_send_rev_seq(&f, &be, TF_ACK, KT_BACKEND_ISN + 1);
}
END_TEST

/*
 * A ct table of 1,024 entries (512 connections), an idle established
 * connection, then 2,048 short connections that open and close, in rounds
 * of 128 whose expiries (1 ms linger) have all been swept: with entries
 * flagged but kept (before lifecycles) the LRU evicted the idle one's;
 * now each closed one goes and the idle one keeps both entries, untouched.
 */
START_TEST(established_entry_survives_short_connections)
{
	const struct kt_flow idle = kt_flow_nth(0);
	const unsigned n = 2048;
	__u64 before[KANARY_CNT__MAX], after[KANARY_CNT__MAX];
	struct kt_be b_idle;

	reload_with_timeouts(1024, 1, 0);
	kt_counters(before);
	b_idle = kt_establish(&idle);
	for (unsigned i = 1; i <= n; i++) {
		struct kt_flow f = kt_flow_nth(i);
		struct kt_be be = kt_establish(&f);

		close_both_ways(&f, &be);
		/* The sweeper runs in a softirq, which a busy machine defers: let it catch up. */
		if (i % 128 == 0)
			wait_queues_empty();
	}
	wait_queues_empty();
	kt_counters(after);
	ck_assert_msg(flow_fully_tracked(&idle, &b_idle),
		      "the idle connection's entries were evicted by %u short ones (ended %llu, full %llu)",
		      n, (unsigned long long)(after[KANARY_CNT_CT_ENDED] - before[KANARY_CNT_CT_ENDED]),
		      (unsigned long long)(after[KANARY_CNT_CT_EXPIRY_FULL] -
					   before[KANARY_CNT_CT_EXPIRY_FULL]));
	ck_assert_uint_eq(after[KANARY_CNT_CT_ENDED] - before[KANARY_CNT_CT_ENDED], n);
	ck_assert_uint_eq(after[KANARY_CNT_CT_EXPIRY_FULL] - before[KANARY_CNT_CT_EXPIRY_FULL], 0);
	ck_assert_uint_eq(after[KANARY_CNT_CT_SWEEPER_FAIL] - before[KANARY_CNT_CT_SWEEPER_FAIL], 0);
	kt_counters(before);
	kt_send_rev_seq(&idle, &b_idle, TF_ACK, KT_BACKEND_ISN + 1);
	ck_assert_int_eq(kt_send_fwd_seq(&idle, TF_ACK, KT_CLIENT_ISN + 1).index, b_idle.index);
	kt_counters(after);
	ck_assert_uint_eq(after[KANARY_CNT_CT_REDERIVED] - before[KANARY_CNT_CT_REDERIVED], 0);
}
END_TEST

/*
 * More closes than the end queue holds (ct-size 1,024: 512), all within
 * one linger: each that finds it full has the oldest expire at once, so
 * none is left to the LRU.  Also prints the sweeper's longest tick, with
 * hundreds of expiries due at once (docs/conntrack.md's figure).
 */
START_TEST(full_queue_expires_its_oldest)
{
	const unsigned cap = kanary_ct_endq_size(1024), n = cap + 88;
	const struct kt_flow last = kt_flow_nth(n);
	__u64 before[KANARY_CNT__MAX], after[KANARY_CNT__MAX];
	struct kanary_ct_sweeper sw;
	struct kt_be b_last = {};
	__u64 ended, early;

	/* A linger far longer than the loop, so that nothing is popped by the sweeper before the queue is full. */
	reload_with_timeouts(1024, 3000, 0);
	kt_counters(before);
	for (unsigned i = 1; i <= n; i++) {
		struct kt_flow f = kt_flow_nth(i);

		b_last = kt_establish(&f);
		kt_send_fwd_seq(&f, TF_RST, KT_CLIENT_ISN + 1);
	}
	kt_counters(after);
	ck_assert_msg(flow_fully_tracked(&last, &b_last), "the newest close did not get its linger");
	ck_assert_uint_eq(after[KANARY_CNT_CT_EXPIRY_FULL] - before[KANARY_CNT_CT_EXPIRY_FULL], 0);
	/*
	 * The LRU takes most of the oldest first (the table holds 512
	 * connections, and evicts before it is full): reused_port_fills_no_queue
	 * shows an early expiry on a table with room.
	 */
	early = after[KANARY_CNT_CT_EXPIRED_EARLY] - before[KANARY_CNT_CT_EXPIRED_EARLY];
	ck_assert_msg(early <= n - cap, "%llu expired early of %u past the queue",
		      (unsigned long long)early, n - cap);
	wait_queues_empty();
	kt_counters(after);
	ended = after[KANARY_CNT_CT_ENDED] - before[KANARY_CNT_CT_ENDED];
	ck_assert_msg(ended > 0 && ended <= n, "ended %llu of %u closed", (unsigned long long)ended, n);
	sw = sweeper();
	printf("# sweeper: %llu ticks, longest %llu ns (%llu expiries due together)\n",
	       (unsigned long long)sw.ticks, (unsigned long long)sw.max_tick_ns,
	       (unsigned long long)(ended - early));
}
END_TEST

/*
 * Closes on two CPUs at once, the end queue full: a close pops the oldest
 * expiry to make room, and the other CPU's push can take that room before
 * its own push.  With one try, a CI run (wrk's 13,031 closes a second,
 * the queue full for most of it) left 908 of 351,840 closes to the LRU.
 * The queue is filled with stale expiries due far ahead (no sweep pops
 * them); each round lines up one close on each CPU.
 */
#define CLOSE_RACE_ROUNDS	4000

START_TEST(closes_racing_on_a_full_queue_all_queued)
{
	static struct kt_race r;
	const unsigned cap = kanary_ct_endq_size(32768);
	__u64 before[KANARY_CNT__MAX], after[KANARY_CNT__MAX];
	struct kanary_ct_expiry stale = { .due_ns = ~0ull >> 1 };
	const struct kt_flow nowhere = kt_flow_nth(900000);
	unsigned ours = 0, left = 0;
	struct kanary_ct_expiry x;
	struct pkt rst;

	reload_with_timeouts(32768, 3000, 0);
	for (unsigned i = 1; i <= 2 * CLOSE_RACE_ROUNDS; i++) {
		struct kt_flow f = kt_flow_nth(i);

		kt_establish(&f);
	}
	stale.fwd = kt_ct_fwd_key(&nowhere);
	for (unsigned i = 0; i < cap; i++)
		ck_assert_int_eq(bpf_map_update_elem(kt.maps.ct_endq, NULL, &stale, BPF_ANY), 0);
	kt_race_start(&r, kt.prog_in, CLOSE_RACE_ROUNDS);
	kt_counters(before);
	for (unsigned n = 1; n <= CLOSE_RACE_ROUNDS; n++) {
		struct kt_flow mine = kt_flow_nth(2 * n - 1), theirs = kt_flow_nth(2 * n);

		kt_pkt_fwd_seq(&rst, &mine, TF_RST, KT_CLIENT_ISN + 1, NULL, 0);
		kt_pkt_fwd_seq(&r.pkt, &theirs, TF_RST, KT_CLIENT_ISN + 1, NULL, 0);
		kt_race_round(&r, n, &rst);
	}
	kt_race_join(&r);
	kt_counters(after);
	printf("# close race: %llu closes not queued, %llu expired early, in %u rounds\n",
	       (unsigned long long)(after[KANARY_CNT_CT_EXPIRY_FULL] - before[KANARY_CNT_CT_EXPIRY_FULL]),
	       (unsigned long long)(after[KANARY_CNT_CT_EXPIRED_EARLY] - before[KANARY_CNT_CT_EXPIRED_EARLY]),
	       CLOSE_RACE_ROUNDS);
	ck_assert_uint_eq(after[KANARY_CNT_CT_EXPIRY_FULL] - before[KANARY_CNT_CT_EXPIRY_FULL], 0);
	/* Only stale expiries made room; each close is in the queue, once. */
	ck_assert_uint_eq(after[KANARY_CNT_CT_EXPIRED_EARLY] - before[KANARY_CNT_CT_EXPIRED_EARLY], 0);
	while (bpf_map_lookup_and_delete_elem(kt.maps.ct_endq, NULL, &x) == 0) {
		left++;
		ours += x.due_ns != stale.due_ns;
	}
	ck_assert_uint_eq(left, cap);
	ck_assert_uint_eq(ours, 2 * CLOSE_RACE_ROUNDS);
}
END_TEST

/*
 * A client that reuses its port within the linger (wrk's Connection:
 * close load through one address) queues an expiry per close, though its
 * tuple has one pair of entries: the CI machine filled the end queue so,
 * and 260 closes were left to the LRU.  Now the stale expiries make room
 * for nothing, and the one live connection at the queue's head (an
 * earlier close) is the only one to go early.
 */
START_TEST(reused_port_fills_no_queue)
{
	const unsigned cap = kanary_ct_endq_size(1024);
	const struct kt_flow oldest = kt_flow_nth(1), reused = kt_flow_nth(2);
	__u64 before[KANARY_CNT__MAX], after[KANARY_CNT__MAX];
	struct kt_be b_oldest, b_reused = {};

	reload_with_timeouts(1024, 3000, 0);
	kt_counters(before);
	b_oldest = kt_establish(&oldest);
	kt_send_fwd_seq(&oldest, TF_RST, KT_CLIENT_ISN + 1);
	for (unsigned i = 0; i < cap + 16; i++) {
		b_reused = kt_establish(&reused);
		kt_send_fwd_seq(&reused, TF_RST, KT_CLIENT_ISN + 1);
	}
	kt_counters(after);
	ck_assert_uint_eq(after[KANARY_CNT_CT_EXPIRY_FULL] - before[KANARY_CNT_CT_EXPIRY_FULL], 0);
	ck_assert_uint_eq(after[KANARY_CNT_CT_EXPIRED_EARLY] - before[KANARY_CNT_CT_EXPIRED_EARLY], 1);
	ck_assert_msg(!flow_tracked(&oldest, &b_oldest), "the queue's oldest close kept its entries");
	ck_assert_msg(flow_fully_tracked(&reused, &b_reused), "the reused tuple's last close lost its linger");
	ck_assert_msg(wait_untracked(&reused, &b_reused), "the reused tuple's last close was not swept");
	wait_queues_empty();
	ck_counted(before, KANARY_CNT_CT_ENDED, 2);
}
END_TEST

/*
 * kanary loaded again over its pins (an upgrade): the sweeper set up by
 * the old programs keeps sweeping, and the first close after the load
 * moves it to the new ones (its load id changes), which expire theirs.
 */
START_TEST(load_again_moves_the_sweeper)
{
	struct kanary_load_opts lo = { .ct_linger_ms = 300 };
	const struct kt_flow old = kt_flow_nth(1), fresh = kt_flow_nth(2);
	__u64 before[KANARY_CNT__MAX];
	struct kt_be b_old, b_fresh;
	__u64 first_id;

	reload_with_timeouts(0, lo.ct_linger_ms, 0);
	kt_counters(before);
	b_old = kt_establish(&old);
	kt_send_fwd_seq(&old, TF_RST, KT_CLIENT_ISN + 1);
	first_id = sweeper().load_id;
	ck_assert_msg(first_id != 0, "the close set no sweeper up");
	kt_load_again(&lo);
	ck_assert_uint_eq(sweeper().load_id, first_id);
	ck_assert_msg(wait_untracked(&old, &b_old), "the old load's close was not swept");
	b_fresh = kt_establish(&fresh);
	kt_send_fwd_seq(&fresh, TF_RST, KT_CLIENT_ISN + 1);
	ck_assert_msg(sweeper().load_id != first_id, "the new load's close left the sweeper to the old programs");
	ck_assert_msg(wait_untracked(&fresh, &b_fresh), "the new load's close was not swept");
	ck_counted(before, KANARY_CNT_CT_ENDED, 2);
}
END_TEST

/*
 * The timeouts live in a map, not in the programs: a load that names none
 * (kanaryd's, at every start) keeps the ones an operator set, and the
 * datapath uses them.  The close below is swept far sooner than the 10 s
 * default that a load resetting them would bring back.
 */
START_TEST(timeouts_kept_by_a_load_that_names_none)
{
	struct kanary_load_opts none = { 0 };
	const struct kt_flow f = kt_flow_nth(1);
	struct kanary_ct_settings cs = {};
	struct kanary_ct_lifecycle lc;
	struct kanary_err e;
	struct kt_be b;
	__u32 zero = 0;
	int ms;

	reload_with_timeouts(0, 200, 45000);
	kt_load_again(&none);
	ck_assert_int_eq(bpf_map_lookup_elem(kt.maps.ct_settings, &zero, &cs), 0);
	ck_assert_uint_eq(cs.linger_ms, 200);
	ck_assert_uint_eq(cs.syn_timeout_ms, 45000);
	ck_assert_int_eq(kanary_ct_lifecycle_read(&kt.maps, &lc, &e), 0);
	ck_assert_uint_eq(lc.linger_ms, 200);
	b = kt_establish(&f);
	kt_send_fwd_seq(&f, TF_RST, KT_CLIENT_ISN + 1);
	for (ms = 0; ms < 3000 && flow_tracked(&f, &b); ms += 10)
		usleep(10000);
	ck_assert_msg(!flow_tracked(&f, &b), "not swept within 3 s of a close: the 200 ms linger was lost");
	ck_assert_int_eq(kanary_ct_lifecycle_read(&kt.maps, &lc, &e), 0);
	ck_assert_msg(lc.sweeps > 0, "the sweeper's ticks are not read back");
}
END_TEST

void ct_lifecycle_tests(TCase *tc)
{
	tcase_add_test(tc, ended_connection_entries_go_after_linger);
	tcase_add_test(tc, half_open_goes_half_closed_stays);
	tcase_add_test(tc, tuple_reused_within_linger_is_kept);
	tcase_add_test(tc, established_entry_survives_short_connections);
	tcase_add_test(tc, full_queue_expires_its_oldest);
	tcase_add_test(tc, reused_port_fills_no_queue);
	tcase_add_test(tc, closes_racing_on_a_full_queue_all_queued);
	tcase_add_test(tc, load_again_moves_the_sweeper);
	tcase_add_test(tc, timeouts_kept_by_a_load_that_names_none);
}
