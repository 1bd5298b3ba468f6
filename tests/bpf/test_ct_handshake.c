// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A plain-path connection waits for its handshake in kanary_ctnew_v1 and
 * moves to kanary_ct_v3 when the client acks the backend's SYN-ACK
 * (bpf/lib/ct_handshake.h): a flood of SYNs, answered or not, evicts only
 * other handshakes.  Part of the conntrack suite.
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sched.h>
#include <stdio.h>
#include "fixture.h"
#include "prog_run.h"
#include "suites.h"

static const __u32 w_100[] = { 100000 };
static const int nb_4[] = { 4 };

/* ct-size 1,024: kanary_ct_v3 holds 512 connections, the handshakes' table 128. */
#define SMALL_CT	1024
#define FLOOD		2048

static void small_tables(void)
{
	struct kanary_load_opts lo = { .ct_size = SMALL_CT };

	kt_reload(&lo);
	kt_service_create(KT_SVC, KT_VIP, KT_VPORT, 1, w_100, nb_4);
}

static bool has(int fd, const struct kanary_ct_key *k, struct kanary_ct_entry *e)
{
	struct kanary_ct_entry ignored;

	return bpf_map_lookup_elem(fd, k, e ? e : &ignored) == 0;
}

static unsigned entries(int fd)
{
	struct kanary_ct_key k, next;
	unsigned n = 0;

	if (bpf_map_get_next_key(fd, NULL, &next))
		return 0;
	do {
		k = next;
		n++;
	} while (!bpf_map_get_next_key(fd, &k, &next));
	return n;
}

/* The idle connection f (backend be) has both entries established, and its packets go both ways unchanged. */
static void ck_idle_intact(const struct kt_flow *f, const struct kt_be *be, const char *after)
{
	struct kanary_ct_key fwd = kt_ct_fwd_key(f), rev = kt_ct_rev_key(f, be);
	__u64 before[KANARY_CNT__MAX], now[KANARY_CNT__MAX];

	ck_assert_msg(has(kt.maps.ct, &fwd, NULL), "idle connection's forward entry evicted by %s", after);
	ck_assert_msg(has(kt.maps.ct, &rev, NULL), "idle connection's reverse entry evicted by %s", after);
	kt_counters(before);
	kt_send_rev_seq(f, be, TF_ACK, KT_BACKEND_ISN + 1);
	ck_assert_int_eq(kt_send_fwd_seq(f, TF_ACK | TF_PSH, KT_CLIENT_ISN + 1).index, be->index);
	kt_counters(now);
	ck_assert_uint_eq(now[KANARY_CNT_CT_REDERIVED] - before[KANARY_CNT_CT_REDERIVED], 0);
	ck_assert_uint_eq(now[KANARY_CNT_CT_REV_REBUILT] - before[KANARY_CNT_CT_REV_REBUILT], 0);
}

/*
 * An idle established connection, then 2,048 SYNs (four times what the
 * conntrack table holds) that the backends answer and the clients never
 * ack (hping3 --flood -S, or spoofed sources): the idle connection keeps
 * both entries and its reply is still translated.  In one table it lost them.
 */
START_TEST(answered_syn_flood_evicts_no_established)
{
	const struct kt_flow idle = kt_flow_nth(0);
	struct kt_be b_idle;

	small_tables();
	b_idle = kt_establish(&idle);
	for (unsigned i = 1; i <= FLOOD; i++) {
		struct kt_flow f = kt_flow_nth(i);
		struct kt_be be = kt_send(&f, TF_SYN);

		kt_send_rev_seq(&f, &be, TF_SYN | TF_ACK, KT_BACKEND_ISN);
	}
	ck_idle_intact(&idle, &b_idle, "an answered SYN flood");
	ck_assert_uint_eq(entries(kt.maps.ct), 2);
}
END_TEST

/* The same with SYNs never answered (spoofed sources whose SYN-ACKs go nowhere). */
START_TEST(unanswered_syn_flood_evicts_no_established)
{
	const struct kt_flow idle = kt_flow_nth(0);
	__u64 before[KANARY_CNT__MAX], after[KANARY_CNT__MAX];
	struct kt_be b_idle;

	small_tables();
	b_idle = kt_establish(&idle);
	kt_counters(before);
	for (unsigned i = 1; i <= FLOOD; i++) {
		struct kt_flow f = kt_flow_nth(i);

		kt_send(&f, TF_SYN);
	}
	kt_counters(after);
	ck_assert_uint_eq(after[KANARY_CNT_CT_NEW] - before[KANARY_CNT_CT_NEW], FLOOD);
	ck_assert_uint_eq(after[KANARY_CNT_CT_ESTABLISHED] - before[KANARY_CNT_CT_ESTABLISHED], 0);
	ck_assert_uint_le(entries(kt.maps.ct_new), kanary_ct_new_size(SMALL_CT));
	ck_idle_intact(&idle, &b_idle, "an unanswered SYN flood");
}
END_TEST

/*
 * SYN and SYN-ACK stay in the handshakes' table; the client's ACK moves
 * both entries to kanary_ct_v3, once (counted once; a second ACK finds it
 * there), without the flag.
 */
START_TEST(completed_handshake_moves_to_established)
{
	const struct kt_flow f = kt_flow_nth(3);
	__u64 before[KANARY_CNT__MAX], after[KANARY_CNT__MAX];
	struct kanary_ct_key fwd = kt_ct_fwd_key(&f), rev;
	struct kanary_ct_entry e;
	struct kt_be be;

	small_tables();
	kt_counters(before);
	be = kt_send(&f, TF_SYN);
	rev = kt_ct_rev_key(&f, &be);
	kt_send_rev_seq(&f, &be, TF_SYN | TF_ACK, KT_BACKEND_ISN);
	ck_assert_msg(has(kt.maps.ct_new, &fwd, &e) && (e.flags & KANARY_CT_F_NEW), "SYN not in the handshakes' table");
	ck_assert_msg(has(kt.maps.ct_new, &rev, &e) && e.nxt_known, "SYN-ACK not seen in the handshakes' table");
	ck_assert_msg(!has(kt.maps.ct, &fwd, NULL) && !has(kt.maps.ct, &rev, NULL),
		      "a handshake in the established table");
	ck_assert_int_eq(kt_send_fwd_seq(&f, TF_ACK, KT_CLIENT_ISN + 1).index, be.index);
	ck_assert_msg(has(kt.maps.ct, &fwd, &e) && !(e.flags & KANARY_CT_F_NEW), "forward entry not moved");
	ck_assert_msg(has(kt.maps.ct, &rev, &e) && !(e.flags & KANARY_CT_F_NEW), "reverse entry not moved");
	ck_assert_msg(!has(kt.maps.ct_new, &fwd, NULL) && !has(kt.maps.ct_new, &rev, NULL),
		      "moved entries left in the handshakes' table");
	kt_send_fwd_seq(&f, TF_ACK | TF_PSH, KT_CLIENT_ISN + 1);
	kt_send_rev_seq(&f, &be, TF_ACK, KT_BACKEND_ISN + 1);
	kt_counters(after);
	ck_assert_uint_eq(after[KANARY_CNT_CT_ESTABLISHED] - before[KANARY_CNT_CT_ESTABLISHED], 1);
}
END_TEST

/*
 * Two CPUs completing the same handshake: the first has moved the reverse
 * entry when the second, which also missed kanary_ct_v3, moves it too:
 * BPF_NOEXIST keeps the first's copy, and the forward one moves once.
 */
START_TEST(racing_move_inserts_once)
{
	const struct kt_flow f = kt_flow_nth(4);
	__u64 before[KANARY_CNT__MAX], after[KANARY_CNT__MAX];
	struct kanary_ct_key fwd = kt_ct_fwd_key(&f), rev;
	struct kanary_ct_entry e, won;
	struct kt_be be;

	small_tables();
	be = kt_send(&f, TF_SYN);
	rev = kt_ct_rev_key(&f, &be);
	kt_send_rev_seq(&f, &be, TF_SYN | TF_ACK, KT_BACKEND_ISN);
	/* The first CPU's reverse entry, as it left kanary_ct_v3, with a mark to tell it from a second copy. */
	ck_assert(has(kt.maps.ct_new, &rev, &won));
	won.flags &= ~KANARY_CT_F_NEW;
	won.expiry_stamp = 0x5a5a;
	ck_assert_int_eq(bpf_map_update_elem(kt.maps.ct, &rev, &won, BPF_NOEXIST), 0);
	kt_counters(before);
	ck_assert_int_eq(kt_send_fwd_seq(&f, TF_ACK, KT_CLIENT_ISN + 1).index, be.index);
	kt_counters(after);
	ck_assert_uint_eq(after[KANARY_CNT_CT_ESTABLISHED] - before[KANARY_CNT_CT_ESTABLISHED], 1);
	ck_assert_msg(has(kt.maps.ct, &rev, &e) && e.expiry_stamp == 0x5a5a,
		      "the second move overwrote the first's reverse entry");
	ck_assert_msg(has(kt.maps.ct, &fwd, &e) && !(e.flags & KANARY_CT_F_NEW), "forward entry not moved");
	ck_assert_msg(!has(kt.maps.ct_new, &fwd, NULL) && !has(kt.maps.ct_new, &rev, NULL),
		      "moved entries left in the handshakes' table");
	kt_send_rev_seq(&f, &be, TF_ACK, KT_BACKEND_ISN + 1);
}
END_TEST

/*
 * The client's ACK and its first data on two CPUs at once, on many
 * handshakes: the data's lookup misses kanary_ct_v3 just before the ACK's
 * move writes it, then the handshakes' table just after the move deleted
 * it.  Without a second look in kanary_ct_v3 the data was taken for an
 * evicted connection and its backend chosen again, by the weights of that
 * moment: under weight flips, another pod, and the connection hung
 * (weight_flip.bats' wrk timeouts).  Every round lines both up; the race
 * is a window of a few instructions, so it takes many rounds to be hit.
 */
#define RACE_ROUNDS	20000

START_TEST(data_racing_the_move_is_not_rederived)
{
	static struct kt_race r;
	static const char req[] = "GET / HTTP/1.1\r\n\r\n";
	__u64 before[KANARY_CNT__MAX], after[KANARY_CNT__MAX];
	struct pkt ack;

	kt_reload(NULL);
	kt_service_create(KT_SVC, KT_VIP, KT_VPORT, 1, w_100, nb_4);
	kt_race_start(&r, kt.prog_in, RACE_ROUNDS);
	kt_counters(before);
	for (unsigned n = 1; n <= RACE_ROUNDS; n++) {
		struct kt_flow f = kt_flow_nth(n);
		struct kt_be be = kt_send(&f, TF_SYN);

		kt_send_rev_seq(&f, &be, TF_SYN | TF_ACK, KT_BACKEND_ISN);
		kt_pkt_fwd_seq(&ack, &f, TF_ACK, KT_CLIENT_ISN + 1, NULL, 0);
		kt_pkt_fwd_seq(&r.pkt, &f, TF_ACK | TF_PSH, KT_CLIENT_ISN + 1, req, sizeof(req) - 1);
		kt_race_round(&r, n, &ack);
	}
	kt_race_join(&r);
	kt_counters(after);
	printf("# move race: %llu established, %llu re-derived in %u rounds\n",
	       (unsigned long long)(after[KANARY_CNT_CT_ESTABLISHED] - before[KANARY_CNT_CT_ESTABLISHED]),
	       (unsigned long long)(after[KANARY_CNT_CT_REDERIVED] - before[KANARY_CNT_CT_REDERIVED]),
	       RACE_ROUNDS);
	ck_assert_uint_eq(after[KANARY_CNT_CT_REDERIVED] - before[KANARY_CNT_CT_REDERIVED], 0);
	ck_assert_uint_eq(after[KANARY_CNT_CT_ESTABLISHED] - before[KANARY_CNT_CT_ESTABLISHED], RACE_ROUNDS);
}
END_TEST

/*
 * The same client port to the same pod through another VIP, once the
 * first connection ended (the pod's TIME_WAIT lets it connect): the new
 * handshake's reverse key is the ended one's, still lingering in
 * kanary_ct_v3, and the replies must get the new VIP, not the old one's.
 */
START_TEST(reused_port_via_another_vip_gets_its_vip)
{
	const struct kt_flow first = kt_flow_nth(5);
	struct kt_flow again = first;
	struct kt_be b_first, b_again;
	struct pkt in, out;

	small_tables();
	/* One pod behind both VIPs. */
	kt_service_set_backends(KT_SVC, 0, 1, (const int[]){ 0 });
	kt_service_create("web2", KT_VIP + 1, KT_VPORT, 1, w_100, (const int[]){ 1 });
	b_first = kt_establish(&first);
	kt_send_fwd_seq(&first, TF_RST, KT_CLIENT_ISN + 1);
	again.vip = KT_VIP + 1;
	b_again = kt_send(&again, TF_SYN);
	ck_assert_msg(b_again.subset == b_first.subset && b_again.index == b_first.index,
		      "both VIPs must lead to one pod for the reverse keys to meet");
	kt_pkt_rev_seq(&in, &again, &b_again, TF_SYN | TF_ACK, KT_BACKEND_ISN, NULL, 0);
	kt_run(kt.prog_out, &in, &out);
	kt_expect_snat(&in, &out, KT_VIP + 1, KT_VPORT);
	ck_assert_int_eq(kt_send_fwd_seq(&again, TF_ACK, KT_CLIENT_ISN + 1).index, b_again.index);
	kt_pkt_rev_seq(&in, &again, &b_again, TF_ACK, KT_BACKEND_ISN + 1, NULL, 0);
	kt_run(kt.prog_out, &in, &out);
	kt_expect_snat(&in, &out, KT_VIP + 1, KT_VPORT);
}
END_TEST

void ct_handshake_tests(TCase *tc)
{
	tcase_add_test(tc, answered_syn_flood_evicts_no_established);
	tcase_add_test(tc, unanswered_syn_flood_evicts_no_established);
	tcase_add_test(tc, completed_handshake_moves_to_established);
	tcase_add_test(tc, racing_move_inserts_once);
	tcase_add_test(tc, data_racing_the_move_is_not_rederived);
	tcase_add_test(tc, reused_port_via_another_vip_gets_its_vip);
}
