// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Server-first detection on the rule path (bpf/lib/handoff_detect.h) on
 * crafted segments: a handshake's ACK is queued for kanaryd; the same ACK
 * sent back marked is reflected by egress to ingress, where a client still
 * silent is bound by the weights with no request: the ACK becomes the SYN
 * to the backend, the backend's SYN-ACK an ACK with no data, and then the
 * server speaks first and the client answers, both translated.  A marked
 * ACK does nothing to a client that has sent data, sends the SYN again for
 * a silent binding the backend has not answered, and gives up after as
 * many tries as a client's data would.  An unmarked ACK never binds.
 */
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include "handoff_conn.h"
#include "suites.h"

static const int n_be[] = { 2, 1 };
static const __u32 w_100_0[] = { 100000, 0 };
static const char req[] = "GET /x HTTP/1.1\r\nHost: web\r\nX-My-Header: dark\r\n\r\n";
static const char greeting[] = "220 mail ready\r\n";
static const char answer[] = "EHLO client\r\n";

/* A rule service (dark to s1, else all to s0): the rule path. */
static void rule_service(void)
{
	hc_service(2, w_100_0, n_be);
	kt_rule_add(KT_SVC, "header", "x-my-header=dark", 1);
}

/* The handshake's ACK, as kanaryd sends it back: marked; the mark as the program left it in *mark. */
static __u32 marked_ack(const struct hc_conn *c, __u32 *mark, struct pkt *out)
{
	struct tcp4_spec s = hc_from_client(c, TF_ACK, c->cisn + 1, c->our_isn + 1, NULL, 0);

	*mark = KANARY_MARK_DETECT;
	return hc_ingress_mark(&s, mark, out);
}

static __u64 counter(int which)
{
	__u64 cnt[KANARY_CNT__MAX];

	kt_counters(cnt);
	return cnt[which];
}

/* Empties the detection queue; returns how many it held, the first in *first. */
static int drain_queue(struct kanary_ho_detect *first)
{
	struct kanary_ho_detect d;
	int n = 0;

	while (!bpf_map_lookup_and_delete_elem(kt.maps.ho_detect, NULL, &d))
		if (n++ == 0 && first)
			*first = d;
	return n;
}

START_TEST(a_silent_handshake_is_queued_once)
{
	struct hc_conn c = hc_conn_http(1, req);
	struct kanary_ct_key k = kt_ct_fwd_key(&c.f);
	struct kanary_ho_detect d;
	struct tcp4_spec s;
	struct pkt out;

	rule_service();
	drain_queue(NULL);
	hc_handshake(&c);
	/* The same ACK again (a duplicate) is not queued twice. */
	s = hc_from_client(&c, TF_ACK, c.cisn + 1, c.our_isn + 1, NULL, 0);
	ck_verdict(hc_ingress(&s, &out), TC_ACT_SHOT, "the ACK again");
	ck_assert_int_eq(drain_queue(&d), 1);
	ck_assert_msg(!memcmp(&d.key, &k, sizeof(k)), "queued under another key");
	ck_assert_uint_eq(d.seq, c.cisn + 1);
	ck_assert_uint_eq(d.ack_seq, c.our_isn + 1);
	ck_assert_uint_eq(d.window, c.window);
	ck_assert_msg(d.acked_ns && d.ifindex, "no time or interface queued");
}
END_TEST

START_TEST(egress_reflects_a_marked_frame_to_ingress)
{
	struct hc_conn c = hc_conn_http(1, req);
	struct tcp4_spec s = hc_from_client(&c, TF_ACK, c.cisn + 1, 7, NULL, 0);
	__u32 mark = KANARY_MARK_DETECT;
	struct pkt in, out;

	rule_service();
	pkt_tcp4(&in, &s);
	ck_verdict(kt_run_verdict_mark(kt.prog_out, &in, &mark, &out), TC_ACT_REDIRECT,
		   "a marked frame at egress");
	ck_assert_msg(out.len == in.len && !memcmp(out.data, in.data, in.len), "the frame was changed");
}
END_TEST

START_TEST(a_silent_client_is_bound_by_the_weights_and_greeted)
{
	struct hc_conn c = hc_conn_http(1, req);
	struct tcp4_spec s, want;
	__u64 before = counter(KANARY_CNT_HO_SERVER_FIRST);
	__u8 nops[40];
	__u32 mark;
	struct pkt out;

	rule_service();
	hc_handshake(&c);
	ck_verdict(marked_ack(&c, &mark, &out), TC_ACT_OK, "the marked ACK of a silent client");
	ck_assert_uint_eq(mark, 0);
	c.be = hc_backend_of(&out, 0);
	hc_expect_syn_to_backend(&c, &out);
	ck_assert_uint_eq(counter(KANARY_CNT_HO_SERVER_FIRST) - before, 1);

	/* The backend's SYN-ACK: an ACK with no data, as the client's. */
	s = hc_from_backend(&c, TF_SYN | TF_ACK, c.bisn, c.cisn + 1, NULL, 0);
	s.tcp_opts = hc_mss_opts(nops, LINUX_MSS, 4);
	s.tcp_opts_len = 4;
	ck_verdict(hc_egress(&s, &out), TC_ACT_REDIRECT, "the backend's SYN-ACK");
	want = hc_to_backend(&c, hc_from_client(&c, TF_ACK, c.cisn + 1, c.bisn + 1, NULL, 0));
	want.tcp_opts = hc_mss_opts(nops, 0, 0);
	want.tcp_opts_len = 4;
	hc_expect_frame(&out, &want, false, "the ACK that completes the backend's handshake");

	/* The server speaks first ... */
	s = hc_from_backend(&c, TF_ACK | TF_PSH, c.bisn + 1, c.cisn + 1, greeting, strlen(greeting));
	ck_verdict(hc_egress(&s, &out), TC_ACT_OK, "the greeting");
	want = hc_from_vip(&c, s);
	want.seq = c.our_isn + 1;
	hc_expect_frame(&out, &want, true, "the greeting to the client");
	/* ... and the client answers, on the same backend. */
	s = hc_from_client(&c, TF_ACK | TF_PSH, c.cisn + 1, c.our_isn + 1 + strlen(greeting), answer,
			   strlen(answer));
	ck_verdict(hc_ingress(&s, &out), TC_ACT_OK, "the client's answer");
	want = hc_to_backend(&c, s);
	want.ack = c.bisn + 1 + strlen(greeting);
	hc_expect_frame(&out, &want, false, "the client's answer to the backend");
}
END_TEST

START_TEST(a_client_that_sent_data_is_left_alone)
{
	struct hc_conn c = hc_conn_http(1, req);
	__u64 before = counter(KANARY_CNT_HO_SERVER_FIRST);
	__u32 mark;
	struct pkt out;

	rule_service();
	hc_establish(&c, 1);
	ck_verdict(marked_ack(&c, &mark, &out), TC_ACT_SHOT, "a marked ACK of a bound connection");
	ck_assert_uint_eq(counter(KANARY_CNT_HO_SERVER_FIRST), before);
	ck_assert_msg(hc_ho_tracked(&c), "the connection lost its state");
}
END_TEST

/* A silent binding's SYN unanswered: each mark sends it again, then the client is reset. */
START_TEST(an_unanswered_silent_syn_is_sent_again_then_given_up)
{
	struct kanary_ho_stats want = { .backend_silent = 1 };
	struct hc_conn c = hc_conn_http(1, req);
	__u32 mark;
	struct pkt out;

	rule_service();
	hc_handshake(&c);
	ck_verdict(marked_ack(&c, &mark, &out), TC_ACT_OK, "the marked ACK");
	c.be = hc_backend_of(&out, 0);
	for (int i = 1; i < KANARY_HO_SYN_TRIES; i++) {
		ck_verdict(marked_ack(&c, &mark, &out), TC_ACT_OK, "the mark again");
		hc_expect_syn_to_backend(&c, &out);
	}
	ck_verdict(marked_ack(&c, &mark, &out), TC_ACT_REDIRECT, "the mark after the last try");
	hc_expect_rst_to_client(&c, &out, c.our_isn + 1, "the client reset");
	hc_expect_forgotten(&c);
	hc_expect_ho_stats(&want);
}
END_TEST

START_TEST(an_unmarked_ack_never_binds)
{
	struct hc_conn c = hc_conn_http(1, req);
	struct tcp4_spec s;
	struct pkt out;

	rule_service();
	hc_handshake(&c);
	for (int i = 0; i < 3; i++) {
		s = hc_from_client(&c, TF_ACK, c.cisn + 1, c.our_isn + 1, NULL, 0);
		ck_verdict(hc_ingress(&s, &out), TC_ACT_SHOT, "the client's own ACK");
	}
	ck_assert_msg(hc_in_handshakes(&c), "the handshake left its table unmarked");
}
END_TEST

/* Over the per-source bound a mark binds nothing; the client's data would meet the bound. */
START_TEST(a_mark_over_the_bound_binds_nothing)
{
	struct kanary_load_opts lo = { .ho_per_source = 1 };
	struct hc_conn a = hc_conn_http(0, req), b = hc_conn_http(1000, req);
	__u32 mark;
	struct pkt out;

	kt_reload(&lo);
	rule_service();
	hc_establish(&a, 1);
	hc_handshake(&b);
	ck_verdict(marked_ack(&b, &mark, &out), TC_ACT_SHOT, "a mark over the bound");
	ck_assert_msg(hc_in_handshakes(&b), "the handshake was moved");
}
END_TEST

void ho_detect_tests(TCase *tc)
{
	tcase_add_test(tc, a_silent_handshake_is_queued_once);
	tcase_add_test(tc, egress_reflects_a_marked_frame_to_ingress);
	tcase_add_test(tc, a_silent_client_is_bound_by_the_weights_and_greeted);
	tcase_add_test(tc, a_client_that_sent_data_is_left_alone);
	tcase_add_test(tc, an_unanswered_silent_syn_is_sent_again_then_given_up);
	tcase_add_test(tc, an_unmarked_ack_never_binds);
	tcase_add_test(tc, a_mark_over_the_bound_binds_nothing);
}
