// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Blind teardown (RFC 5961) on both paths: a pod that spoofs its
 * neighbour's address and port, but cannot see its traffic, guesses
 * sequence numbers.  A RST counts only at the exact sequence; one in the
 * window but elsewhere leaves the state (it goes on to the pod, whose stack
 * sends the challenge ACK), one outside it is dropped.  A SYN with a new
 * ISN changes nothing, nor does a SYN to the pod's own address; a reverse
 * entry lost is made again from the forward one.  The reproductions of the
 * security review (docs/conntrack.md) are here as tests that pass.
 */
#include <string.h>
#include <unistd.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include "handoff_conn.h"
#include "suites.h"

#define HALF_SPACE	0x80000000u	/* as far from any sequence as one can be */

/* ---- the plain path ---- */

static const int nb_plain[] = { 2, 0 };
static const __u32 w_plain[] = { 100000, 0 };

static __u64 counter_delta(const __u64 before[KANARY_CNT__MAX], enum kanary_counter c)
{
	__u64 now[KANARY_CNT__MAX];

	kt_counters(now);
	return now[c] - before[c];
}

/* An entry in either table: established, or its handshake's. */
static bool ct_lookup(const struct kanary_ct_key *k, struct kanary_ct_entry *e)
{
	return bpf_map_lookup_elem(kt.maps.ct, k, e) == 0 ||
	       bpf_map_lookup_elem(kt.maps.ct_new, k, e) == 0;
}

/* The forward entry of f, which must be there. */
static struct kanary_ct_entry fwd_entry(const struct kt_flow *f)
{
	struct kanary_ct_key k = kt_ct_fwd_key(f);
	struct kanary_ct_entry e;

	ck_assert_msg(ct_lookup(&k, &e), "no forward entry");
	return e;
}

static bool rev_tracked(const struct kt_flow *f, const struct kt_be *be)
{
	struct kanary_ct_key k = kt_ct_rev_key(f, be);
	struct kanary_ct_entry e;

	return ct_lookup(&k, &e);
}

/*
 * A plain connection past its handshake: the client sent 100 bytes and the
 * backend 50, so the client is at KT_CLIENT_ISN + 101, the backend at
 * KT_BACKEND_ISN + 51.
 */
#define P_CLI_NXT	(KT_CLIENT_ISN + 1 + 100)
#define P_SRV_NXT	(KT_BACKEND_ISN + 1 + 50)
static struct kt_be plain_established(const struct kt_flow *f)
{
	struct pkt in, out;
	struct kt_be be;

	kt_service_create(KT_SVC, KT_VIP, KT_VPORT, 1, w_plain, nb_plain);
	be = kt_send(f, TF_SYN);
	kt_pkt_rev(&in, f, &be, TF_SYN | TF_ACK, NULL, 0);
	kt_run(kt.prog_out, &in, &out);
	kt_pkt_fwd_seq(&in, f, TF_ACK | TF_PSH, KT_CLIENT_ISN + 1, NULL, 100);
	kt_run(kt.prog_in, &in, &out);
	kt_pkt_rev_seq(&in, f, &be, TF_ACK | TF_PSH, KT_BACKEND_ISN + 1, NULL, 50);
	kt_run(kt.prog_out, &in, &out);
	ck_assert_uint_eq(fwd_entry(f).flags & KANARY_CT_F_CLOSING, 0);
	return be;
}

/* A client RST at seq: the verdict, and whether the connection was closed. */
static __u32 client_rst(const struct kt_flow *f, __u32 seq, bool *closed)
{
	struct pkt in, out;
	__u32 v;

	kt_pkt_fwd_seq(&in, f, TF_RST, seq, NULL, 0);
	v = kt_run_verdict(kt.prog_in, &in, &out);
	if (v == TC_ACT_OK)
		kt_expect_dnat(&in, &out);
	*closed = fwd_entry(f).flags & KANARY_CT_F_CLOSING;
	return v;
}

START_TEST(plain_client_rst_counts_only_at_its_sequence)
{
	static const __s32 in_window[] = { 1, -1, 1000, -1000, 65535 };
	const struct kt_flow f = kt_flow_nth(1);
	__u64 before[KANARY_CNT__MAX];
	bool closed;
	unsigned i;

	plain_established(&f);
	kt_counters(before);
	ck_verdict(client_rst(&f, P_CLI_NXT + HALF_SPACE, &closed), TC_ACT_SHOT,
		   "RST at seq + 2^31");
	ck_assert_msg(!closed, "a RST 2^31 away closed the connection");
	for (i = 0; i < sizeof(in_window) / sizeof(in_window[0]); i++) {
		/* On to the pod, which answers with a challenge ACK; the state stays. */
		ck_verdict(client_rst(&f, P_CLI_NXT + in_window[i], &closed), TC_ACT_OK,
			   "RST in the window");
		ck_assert_msg(!closed, "a RST at seq %+d closed the connection", in_window[i]);
	}
	ck_assert_uint_eq(counter_delta(before, KANARY_CNT_RST_OUTSIDE), 1);
	ck_assert_uint_eq(counter_delta(before, KANARY_CNT_RST_INEXACT), 5);
	ck_verdict(client_rst(&f, P_CLI_NXT, &closed), TC_ACT_OK, "RST at the exact sequence");
	ck_assert_msg(closed, "the RST at the exact sequence did not close the connection");
}
END_TEST

/* A backend RST at seq (as spoofed with the pod's address): the verdict. */
static __u32 backend_rst(const struct kt_flow *f, const struct kt_be *be, __u32 seq)
{
	struct pkt in, out;
	__u32 v;

	kt_pkt_rev_seq(&in, f, be, TF_RST, seq, NULL, 0);
	v = kt_run_verdict(kt.prog_out, &in, &out);
	if (v == TC_ACT_OK)
		kt_expect_snat(&in, &out, KT_VIP, KT_VPORT);
	return v;
}

START_TEST(plain_backend_rst_counts_only_at_its_sequence)
{
	const struct kt_flow f = kt_flow_nth(2);
	struct kt_be be = plain_established(&f);

	ck_verdict(backend_rst(&f, &be, P_SRV_NXT - HALF_SPACE), TC_ACT_SHOT, "RST at seq - 2^31");
	ck_verdict(backend_rst(&f, &be, P_SRV_NXT + 7), TC_ACT_OK, "RST in the window");
	ck_assert_msg(!(fwd_entry(&f).flags & KANARY_CT_F_CLOSING),
		      "a backend RST at a wrong sequence closed the connection");
	ck_verdict(backend_rst(&f, &be, P_SRV_NXT), TC_ACT_OK, "RST at the exact sequence");
	ck_assert_msg(fwd_entry(&f).flags & KANARY_CT_F_CLOSING,
		      "the backend's RST at the exact sequence did not close the connection");
}
END_TEST

/* Before the backend has sent anything, only a RST that acks the SYN is a refusal. */
START_TEST(plain_refusal_must_ack_the_syn)
{
	const struct kt_flow f = kt_flow_nth(3);
	struct tcp4_spec s;
	struct pkt in, out;
	struct kt_be be;

	kt_service_create(KT_SVC, KT_VIP, KT_VPORT, 1, w_plain, nb_plain);
	be = kt_send(&f, TF_SYN);
	kt_pkt_rev(&in, &f, &be, TF_RST | TF_ACK, NULL, 0);
	s = (struct tcp4_spec){ .saddr = kt_be_addr(be.subset, be.index), .daddr = f.client,
				.sport = kt_be_port(be.subset), .dport = f.cport,
				.flags = TF_RST | TF_ACK, .seq = 0, .ack = KT_CLIENT_ISN + 2 };
	pkt_tcp4(&in, &s);
	ck_verdict(kt_run_verdict(kt.prog_out, &in, &out), TC_ACT_SHOT, "RST acking nothing sent");
	ck_assert_uint_eq(fwd_entry(&f).flags & KANARY_CT_F_CLOSING, 0);
	s.ack = KT_CLIENT_ISN + 1;
	pkt_tcp4(&in, &s);
	kt_run(kt.prog_out, &in, &out);
	ck_assert_msg(fwd_entry(&f).flags & KANARY_CT_F_CLOSING, "the refusal did not close it");
}
END_TEST

START_TEST(plain_syn_with_new_isn_changes_nothing)
{
	static const __u32 w_moved[] = { 0, 100000 };
	static const int nb_two[] = { 1, 1 };
	const struct kt_flow f = kt_flow_nth(4);
	struct kanary_ct_entry was, now;
	__u64 before[KANARY_CNT__MAX];
	struct pkt in, out;
	struct kt_be be, again;

	kt_service_create(KT_SVC, KT_VIP, KT_VPORT, 2, w_plain, nb_two);
	be = kt_send(&f, TF_SYN);
	/* A retransmission of the connection's own SYN is no new ISN. */
	kt_counters(before);
	kt_send(&f, TF_SYN);
	ck_assert_uint_eq(counter_delta(before, KANARY_CNT_SYN_ON_LIVE), 0);
	kt_pkt_fwd_seq(&in, &f, TF_ACK | TF_PSH, KT_CLIENT_ISN + 1, NULL, 100);
	kt_run(kt.prog_in, &in, &out);
	/* Were the SYN taken as a new connection, it would now go to subset 1. */
	kt_service_set_weights(KT_SVC, 2, w_moved);
	was = fwd_entry(&f);
	kt_counters(before);
	kt_pkt_fwd_seq(&in, &f, TF_SYN, KT_CLIENT_ISN + 12345, NULL, 0);
	kt_run(kt.prog_in, &in, &out);
	again = kt_expect_dnat(&in, &out);
	ck_assert_msg(again.subset == be.subset && again.index == be.index,
		      "the SYN with a new ISN went to another backend");
	now = fwd_entry(&f);
	ck_assert_msg(!memcmp(&was, &now, sizeof(was)), "the SYN with a new ISN changed the entry");
	ck_assert_uint_eq(counter_delta(before, KANARY_CNT_SYN_ON_LIVE), 1);
}
END_TEST

/* A SYN to the pod's own address on a live connection's tuple leaves its reverse entry. */
START_TEST(plain_direct_syn_keeps_live_reverse_entry)
{
	const struct kt_flow f = kt_flow_nth(5);
	struct kt_be be = plain_established(&f);
	struct pkt in, out;

	pkt_tcp4(&in, &(struct tcp4_spec){
		.saddr = f.client, .daddr = kt_be_addr(be.subset, be.index),
		.sport = f.cport, .dport = kt_be_port(be.subset), .flags = TF_SYN,
		.seq = 777 });
	kt_run(kt.prog_in, &in, &out);
	kt_expect_untouched(&in, &out);
	ck_assert_msg(rev_tracked(&f, &be), "a direct SYN deleted a live connection's reverse entry");
	kt_pkt_rev_seq(&in, &f, &be, TF_ACK | TF_PSH, P_SRV_NXT, NULL, 10);
	kt_run(kt.prog_out, &in, &out);
	kt_expect_snat(&in, &out, KT_VIP, KT_VPORT);
}
END_TEST

/* A reverse entry lost (as LRU eviction would) is made again by the client's next data. */
START_TEST(plain_lost_reverse_entry_rebuilt)
{
	const struct kt_flow f = kt_flow_nth(6);
	struct kt_be be = plain_established(&f);
	struct kanary_ct_key rk = kt_ct_rev_key(&f, &be);
	__u64 before[KANARY_CNT__MAX];
	struct pkt in, out;
	bool closed;

	ck_assert(bpf_map_delete_elem(kt.maps.ct, &rk) == 0);
	kt_counters(before);
	kt_pkt_fwd_seq(&in, &f, TF_ACK | TF_PSH, P_CLI_NXT, NULL, 20);
	kt_run(kt.prog_in, &in, &out);
	kt_expect_dnat(&in, &out);
	ck_assert_msg(rev_tracked(&f, &be), "the reverse entry was not rebuilt");
	ck_assert_uint_eq(counter_delta(before, KANARY_CNT_CT_REV_REBUILT), 1);
	kt_pkt_rev_seq(&in, &f, &be, TF_ACK | TF_PSH, P_SRV_NXT, NULL, 10);
	kt_run(kt.prog_out, &in, &out);
	kt_expect_snat(&in, &out, KT_VIP, KT_VPORT);
	/* The rebuilt entry knows the backend's sequence from the client's ack. */
	kt_pkt_rev_seq(&in, &f, &be, TF_RST, KT_BACKEND_ISN + HALF_SPACE, NULL, 0);
	ck_verdict(kt_run_verdict(kt.prog_out, &in, &out), TC_ACT_SHOT, "RST 2^31 away");
	ck_verdict(client_rst(&f, P_CLI_NXT + 20, &closed), TC_ACT_OK, "the client's exact RST");
	ck_assert(closed);
}
END_TEST

/*
 * A new connection whose tuple the pod still holds in TIME_WAIT (the client
 * port was used before, via another service to the same pod): the pod
 * answers the SYN with that connection's ACK, and the client, in SYN-SENT,
 * resets it at its ack, far from the new connection's sequence.  The RST
 * must reach the pod, or the pod answers every SYN sent again the same way
 * and the client never connects; and the ACK must not be taken for the new
 * connection's sequence, which its SYN-ACK gives.
 */
#define TW_SRV_NXT	(KT_BACKEND_ISN + HALF_SPACE)
#define TW_CLI_NXT	(KT_CLIENT_ISN + HALF_SPACE)
START_TEST(plain_timewait_ack_reset_by_the_client_reaches_the_pod)
{
	const struct kt_flow f = kt_flow_nth(7);
	struct pkt in, out;
	struct kt_be be, again;
	bool closed;

	kt_service_create(KT_SVC, KT_VIP, KT_VPORT, 1, w_plain, nb_plain);
	be = kt_send(&f, TF_SYN);
	pkt_tcp4(&in, &(struct tcp4_spec){
		.saddr = kt_be_addr(be.subset, be.index), .daddr = f.client,
		.sport = kt_be_port(be.subset), .dport = f.cport, .flags = TF_ACK,
		.seq = TW_SRV_NXT, .ack = TW_CLI_NXT });
	ck_verdict(kt_run_verdict(kt.prog_out, &in, &out), TC_ACT_OK, "the TIME_WAIT's ACK");
	kt_expect_snat(&in, &out, KT_VIP, KT_VPORT);
	ck_verdict(client_rst(&f, TW_CLI_NXT, &closed), TC_ACT_OK, "the client's RST of that ACK");
	ck_assert_msg(!closed, "the RST in SYN-SENT closed the connection");
	again = kt_send(&f, TF_SYN);
	ck_assert_msg(again.subset == be.subset && again.index == be.index,
		      "the SYN sent again went to another backend");
	/* Established, the backend's sequence is its SYN-ACK's, not the stale ACK's. */
	kt_pkt_rev(&in, &f, &be, TF_SYN | TF_ACK, NULL, 0);
	kt_run(kt.prog_out, &in, &out);
	ck_verdict(backend_rst(&f, &be, TW_SRV_NXT), TC_ACT_SHOT, "RST at the stale ACK's sequence");
	ck_verdict(client_rst(&f, TW_CLI_NXT, &closed), TC_ACT_SHOT, "client RST 2^31 away, established");
	ck_verdict(backend_rst(&f, &be, KT_BACKEND_ISN + 1), TC_ACT_OK, "RST at the SYN-ACK's sequence");
	ck_assert_msg(fwd_entry(&f).flags & KANARY_CT_F_CLOSING,
		      "the backend's exact RST did not close the connection");
}
END_TEST

/* ---- the rule path ---- */

static const int nb_rule[] = { 2, 1 };
static const __u32 w_rule[] = { 100000, 0 };
#define RULE_SUBSET	1
static const char req_dark[] = "GET /x HTTP/1.1\r\nHost: web\r\nX-My-Header: dark\r\n\r\n";

static void rules_service(void)
{
	hc_service(2, w_rule, nb_rule);
	kt_rule_add(KT_SVC, "header", "x-my-header=dark", RULE_SUBSET);
}

/* After hc_establish: the client is at cli_nxt, the backend (as the client sees it) at our_isn + 1. */
static __u32 cli_nxt(const struct hc_conn *c)
{
	return c->cisn + 1 + c->req_len;
}

/*
 * The client's next byte still reaches its backend, translated, and the
 * backend's answer (one byte) the client.
 */
static void expect_connection_works(const struct hc_conn *c, const char *after)
{
	struct tcp4_spec s, want;
	struct pkt out;

	ck_assert_msg(hc_ho_tracked(c), "%s: the handoff state is gone", after);
	s = hc_from_client(c, TF_ACK | TF_PSH, cli_nxt(c), c->our_isn + 1, "x", 1);
	ck_verdict(hc_ingress(&s, &out), TC_ACT_OK, after);
	want = hc_to_backend(c, s);
	want.ack = c->bisn + 1;
	hc_expect_frame(&out, &want, false, after);
	ck_assert_msg(hc_replies_tracked(c), "%s: the reverse entry is gone", after);
	s = hc_from_backend(c, TF_ACK | TF_PSH, c->bisn + 1, cli_nxt(c) + 1, "y", 1);
	ck_verdict(hc_egress(&s, &out), TC_ACT_OK, after);
	want = hc_from_vip(c, s);
	want.seq = c->our_isn + 1;
	hc_expect_frame(&out, &want, true, after);
}

START_TEST(rule_client_rst_counts_only_at_its_sequence)
{
	struct hc_conn c = hc_conn_http(1, req_dark);
	struct tcp4_spec s, want;
	struct pkt out;

	rules_service();
	hc_establish(&c, RULE_SUBSET);
	s = hc_from_client(&c, TF_RST, cli_nxt(&c) + HALF_SPACE, 0, NULL, 0);
	ck_verdict(hc_ingress(&s, &out), TC_ACT_SHOT, "RST at seq + 2^31");
	s = hc_from_client(&c, TF_RST, cli_nxt(&c) + 100, 0, NULL, 0);
	ck_verdict(hc_ingress(&s, &out), TC_ACT_OK, "RST in the window, to the backend");
	want = hc_to_backend(&c, s);
	hc_expect_frame(&out, &want, false, "RST in the window, to the backend");
	expect_connection_works(&c, "after the spoofed RSTs");
	s = hc_from_client(&c, TF_RST, cli_nxt(&c) + 1, 0, NULL, 0);
	ck_verdict(hc_ingress(&s, &out), TC_ACT_OK, "the client's exact RST");
	hc_expect_forgotten(&c);
}
END_TEST

START_TEST(rule_backend_rst_counts_only_at_its_sequence)
{
	struct hc_conn c = hc_conn_http(1, req_dark);
	struct tcp4_spec s;
	struct pkt out;

	rules_service();
	hc_establish(&c, RULE_SUBSET);
	s = hc_from_backend(&c, TF_RST, c.bisn + 1 + HALF_SPACE, 0, NULL, 0);
	ck_verdict(hc_egress(&s, &out), TC_ACT_SHOT, "backend RST at seq + 2^31");
	s = hc_from_backend(&c, TF_RST, c.bisn + 1 + 3000, 0, NULL, 0);
	ck_verdict(hc_egress(&s, &out), TC_ACT_OK, "backend RST in the window, to the client");
	expect_connection_works(&c, "after the spoofed backend RSTs");
	s = hc_from_backend(&c, TF_RST, c.bisn + 2, 0, NULL, 0);
	ck_verdict(hc_egress(&s, &out), TC_ACT_OK, "the backend's exact RST");
	hc_expect_forgotten(&c);
}
END_TEST

START_TEST(rule_syn_with_new_isn_changes_nothing)
{
	struct hc_conn c = hc_conn_http(1, req_dark);
	struct tcp4_spec s, want;
	struct pkt out;

	rules_service();
	hc_establish(&c, RULE_SUBSET);
	s = hc_from_client(&c, TF_SYN, c.cisn + 0x01000000, 0, NULL, 0);
	/* To the backend, whose stack answers with a challenge ACK. */
	ck_verdict(hc_ingress(&s, &out), TC_ACT_OK, "SYN with a new ISN");
	want = hc_to_backend(&c, s);
	hc_expect_frame(&out, &want, false, "SYN with a new ISN, to the backend");
	expect_connection_works(&c, "after the spoofed SYN");
}
END_TEST

/* Before a leg is established kanary is the client's peer: it sends the challenge ACK. */
START_TEST(rule_syn_before_data_gets_challenge_ack)
{
	struct hc_conn c = hc_conn_http(1, req_dark);
	struct tcp4_spec s, want;
	struct pkt out;

	rules_service();
	hc_handshake(&c);
	s = hc_from_client(&c, TF_SYN, c.cisn + 0x01000000, 0, NULL, 0);
	ck_verdict(hc_ingress(&s, &out), TC_ACT_REDIRECT, "SYN with a new ISN");
	want = hc_from_vip(&c, hc_from_backend(&c, TF_ACK, c.our_isn + 1, c.cisn + 1, NULL, 0));
	want.window = LINUX_MSS;
	hc_expect_frame(&out, &want, true, "the challenge ACK");
	ck_assert_msg(hc_ho_tracked(&c), "the SYN with a new ISN replaced the state");
	/* The connection goes on from its first data. */
	hc_first_data(&c, RULE_SUBSET, &out);
	hc_backend_synack(&c, &out);
	expect_connection_works(&c, "after the spoofed SYN");
}
END_TEST

/*
 * A pod spoofing SYNs on its neighbour's handshake gets kanary to send the
 * neighbour one challenge ACK per KANARY_HO_CHALLENGE_MS, not one per SYN.
 */
START_TEST(rule_challenge_acks_are_rate_limited)
{
	struct hc_conn c = hc_conn_http(1, req_dark);
	__u64 before[KANARY_CNT__MAX];
	struct tcp4_spec s;
	struct pkt out;

	rules_service();
	hc_handshake(&c);
	kt_counters(before);
	s = hc_from_client(&c, TF_SYN, c.cisn + 0x01000000, 0, NULL, 0);
	ck_verdict(hc_ingress(&s, &out), TC_ACT_REDIRECT, "first SYN with a new ISN");
	for (int i = 1; i <= 5; i++) {
		s = hc_from_client(&c, TF_SYN, c.cisn + 0x01000000 + i, 0, NULL, 0);
		ck_verdict(hc_ingress(&s, &out), TC_ACT_SHOT, "SYN with a new ISN right after");
	}
	ck_assert_uint_eq(counter_delta(before, KANARY_CNT_CHALLENGE_LIMITED), 5);
	ck_assert_uint_eq(counter_delta(before, KANARY_CNT_SYN_ON_LIVE), 6);
	usleep((KANARY_HO_CHALLENGE_MS + 100) * 1000);
	s = hc_from_client(&c, TF_SYN, c.cisn + 0x02000000, 0, NULL, 0);
	ck_verdict(hc_ingress(&s, &out), TC_ACT_REDIRECT, "SYN with a new ISN, the limit's time later");
	/* The connection goes on from its first data. */
	hc_first_data(&c, RULE_SUBSET, &out);
	hc_backend_synack(&c, &out);
	expect_connection_works(&c, "after the spoofed SYNs");
}
END_TEST

/* The security review's: a RST 2^31 away, then the victim's next segment. */
START_TEST(rule_blind_rst_then_victim_segment)
{
	struct hc_conn c = hc_conn_http(1, req_dark);
	struct tcp4_spec s;
	struct pkt out;

	rules_service();
	hc_establish(&c, RULE_SUBSET);
	s = hc_from_client(&c, TF_RST, c.cisn + HALF_SPACE, 0, NULL, 0);
	ck_verdict(hc_ingress(&s, &out), TC_ACT_SHOT, "blind RST");
	s = hc_from_backend(&c, TF_RST, c.bisn + HALF_SPACE, 0, NULL, 0);
	ck_verdict(hc_egress(&s, &out), TC_ACT_SHOT, "blind backend RST");
	expect_connection_works(&c, "after the blind RSTs");
}
END_TEST

START_TEST(rule_lost_reverse_entry_rebuilt)
{
	struct hc_conn c = hc_conn_http(1, req_dark);
	struct kanary_ct_key rk;
	__u64 before[KANARY_CNT__MAX];

	rules_service();
	hc_establish(&c, RULE_SUBSET);
	rk = kt_ct_rev_key(&c.f, &c.be);
	ck_assert(bpf_map_delete_elem(kt.maps.ct, &rk) == 0);
	kt_counters(before);
	/* The client's data makes it again, so the backend's answer is translated. */
	expect_connection_works(&c, "after the reverse entry was lost");
	ck_assert_uint_eq(counter_delta(before, KANARY_CNT_CT_REV_REBUILT), 1);
}
END_TEST

Suite *spoof_suite(void)
{
	Suite *s = suite_create("spoof");
	TCase *tc = kt_tcase("spoof", 60);

	tcase_add_test(tc, plain_client_rst_counts_only_at_its_sequence);
	tcase_add_test(tc, plain_backend_rst_counts_only_at_its_sequence);
	tcase_add_test(tc, plain_refusal_must_ack_the_syn);
	tcase_add_test(tc, plain_syn_with_new_isn_changes_nothing);
	tcase_add_test(tc, plain_direct_syn_keeps_live_reverse_entry);
	tcase_add_test(tc, plain_lost_reverse_entry_rebuilt);
	tcase_add_test(tc, plain_timewait_ack_reset_by_the_client_reaches_the_pod);
	tcase_add_test(tc, rule_client_rst_counts_only_at_its_sequence);
	tcase_add_test(tc, rule_backend_rst_counts_only_at_its_sequence);
	tcase_add_test(tc, rule_syn_with_new_isn_changes_nothing);
	tcase_add_test(tc, rule_syn_before_data_gets_challenge_ack);
	tcase_add_test(tc, rule_challenge_acks_are_rate_limited);
	tcase_add_test(tc, rule_blind_rst_then_victim_segment);
	tcase_add_test(tc, rule_lost_reverse_entry_rebuilt);
	suite_add_tcase(s, tc);
	return s;
}
