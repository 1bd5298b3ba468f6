// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Hairpin on the rule path (bpf/lib/handoff*.h, lib/hairpin.h): a pod
 * whose rule-path connection is steered to itself.  Every segment made
 * towards it as the client's (the leg's SYN, the ACK with the stash, the
 * forwarded data, the SYN after a TIME-WAIT's ACK) leaves from the hairpin
 * address; its own packets to that address, which come to ingress, get
 * what egress gives a backend's; a keep-alive connection switches between
 * itself and another pod, each leg with its own source.  Under
 * BPF_PROG_TEST_RUN a redirect is only its verdict: the e2e test
 * (tests/e2e/handoff/hairpin.bats) shows where it lands.
 */
#include <string.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include "handoff_conn.h"
#include "suites.h"

/* s0 is the pod itself and takes every request by weight; the rule sends dark ones to s1. */
static const int nb_1_1[] = { 1, 1 };
static const __u32 w_s0[] = { 100000, 0 };

static const char req_plain[] = "GET /a HTTP/1.1\r\nHost: web\r\n\r\n";
static const char req_dark[] = "GET /b HTTP/1.1\r\nHost: web\r\nx-my-header: dark\r\n\r\n";
static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

/* A connection of s0's pod to the service: where each side's stream is, on the current leg. */
struct hk {
	struct hc_conn c;
	__u32 cnxt;	/* the client's next seq */
	__u32 snxt;	/* the next seq the client expects from the service */
	__u32 bnxt;	/* the current backend's next seq, in its own space */
};

static struct hk hk_new(const char *req)
{
	struct hk k = { .c = hc_conn_http(0, req) };

	hc_service(2, w_s0, nb_1_1);
	kt_rule_add(KT_SVC, "header", "x-my-header=dark", 1);
	k.c.f.client = kt_be_addr(0, 0);
	return k;
}

static int hk_hairpin(const struct hk *k)
{
	return kt_be_addr(k->c.be.subset, k->c.be.index) == k->c.f.client;
}

/* s as the current backend must receive it: from the hairpin address when that is the client. */
static struct tcp4_spec hk_to_backend(const struct hk *k, struct tcp4_spec s)
{
	s = hc_to_backend(&k->c, s);
	if (hk_hairpin(k))
		s.saddr = KANARY_HAIRPIN_V4;
	return s;
}

/* A segment of the current backend: to the hairpin address when it is the client (ingress). */
static __u32 hk_backend_sends(const struct hk *k, const struct tcp4_spec *s, struct pkt *out)
{
	struct tcp4_spec b = *s;

	if (!hk_hairpin(k))
		return hc_egress(&b, out);
	b.daddr = KANARY_HAIRPIN_V4;
	return hc_ingress(&b, out);
}

/* The SYN a leg's first request (at seq, its ISN seq - 1) must become, sent by the client. */
static void hk_expect_syn(const struct hk *k, const struct pkt *out, __u32 seq, const char *what)
{
	struct tcp4_spec want = hk_to_backend(k, hc_from_client(&k->c, TF_SYN, seq - 1, 0, NULL, 0));
	__u8 opts[40];

	want.tcp_opts = hc_mss_opts(opts, k->c.mss, 4);
	want.tcp_opts_len = 4;
	hc_expect_frame(out, &want, false, what);
	ck_assert_uint_eq(out->len, ETH_LEN + 44);
}

/*
 * The backend's SYN-ACK (ISN bisn) to the leg whose request req starts at
 * cnxt: it must come back as the client's ACK carrying the request.  A
 * hairpin leg's is turned around at ingress, so its MACs are those of a
 * frame to the pod.
 */
static void hk_synack(struct hk *k, const char *req, __u32 bisn)
{
	size_t len = strlen(req);
	struct tcp4_spec s, want;
	__u8 opts[40], nops[40];
	struct pkt out;

	k->c.bisn = bisn;
	s = hc_from_backend(&k->c, TF_SYN | TF_ACK, bisn, k->cnxt, NULL, 0);
	s.tcp_opts = hc_mss_opts(opts, LINUX_MSS, 4);
	s.tcp_opts_len = 4;
	ck_verdict(hk_backend_sends(k, &s, &out), TC_ACT_REDIRECT, "backend SYN-ACK");
	want = hk_to_backend(k, hc_from_client(&k->c, TF_ACK | TF_PSH, k->cnxt, bisn + 1, req, len));
	want.tcp_opts = hc_mss_opts(nops, 0, 0);
	want.tcp_opts_len = 4;
	hc_expect_frame(&out, &want, false, "the ACK with the stash");
	k->cnxt += len;
	k->bnxt = bisn + 1;
}

/* Handshake and first data (req, to subset), not yet answered. */
static void hk_first_data(struct hk *k, int subset)
{
	struct tcp4_spec s;
	struct pkt out;

	hc_handshake(&k->c);
	s = hc_first_data_seg(&k->c);
	ck_verdict(hc_ingress(&s, &out), TC_ACT_OK, "client's first data");
	k->c.be = hc_backend_of(&out, subset);
	k->cnxt = k->c.cisn + 1;
	k->snxt = k->c.our_isn + 1;
	hk_expect_syn(k, &out, k->cnxt, "the first leg's SYN");
}

static void hk_open(struct hk *k, int subset)
{
	hk_first_data(k, subset);
	hk_synack(k, k->c.req, 0x9b000000 + (__u32)subset);
}

/* The backend sends data (flags besides ACK), acking all the client sent: from the VIP to the client. */
static void hk_respond(struct hk *k, __u8 flags, const char *data)
{
	size_t len = data ? strlen(data) : 0;
	struct tcp4_spec s = hc_from_backend(&k->c, TF_ACK | flags, k->bnxt, k->cnxt, data, len);
	struct tcp4_spec want = hc_from_vip(&k->c, s);
	struct pkt out;

	ck_verdict(hk_backend_sends(k, &s, &out), TC_ACT_OK, "backend segment");
	want.seq = k->snxt;
	hc_expect_frame(&out, &want, !hk_hairpin(k), "backend segment to the client");
	k->bnxt += len + !!(flags & TF_FIN);
	k->snxt += len + !!(flags & TF_FIN);
}

/* The client sends on the current leg (flags besides ACK), acking all it got. */
static void hk_client_sends(struct hk *k, __u8 flags, const char *data, const char *what)
{
	size_t len = data ? strlen(data) : 0;
	struct tcp4_spec s = hc_from_client(&k->c, TF_ACK | flags, k->cnxt, k->snxt, data, len);
	struct tcp4_spec want = hk_to_backend(k, s);
	struct pkt out;

	ck_verdict(hc_ingress(&s, &out), TC_ACT_OK, what);
	want.ack = k->bnxt;
	hc_expect_frame(&out, &want, false, what);
	k->cnxt += len + !!(flags & TF_FIN);
}

/* A request that moves to a backend of subset: the new leg's SYN, its SYN-ACK, the stash. */
static void hk_switch(struct hk *k, const char *req, int subset, __u32 bisn)
{
	struct tcp4_spec s = hc_from_client(&k->c, TF_ACK | TF_PSH, k->cnxt, k->snxt, req,
					    strlen(req));
	struct kanary_ct_key old_rev = kt_ct_rev_key(&k->c.f, &k->c.be);
	struct kanary_ct_entry ce;
	struct pkt out;

	ck_verdict(hc_ingress(&s, &out), TC_ACT_OK, "request that moves");
	k->c.be = hc_backend_of(&out, subset);
	hk_expect_syn(k, &out, k->cnxt, "the new leg's SYN");
	ck_assert_msg(bpf_map_lookup_elem(kt.maps.ct, &old_rev, &ce) != 0,
		      "the old leg's reverse entry is still there");
	hk_synack(k, req, bisn);
}

static struct kanary_ct_entry hk_reverse(const struct hk *k)
{
	struct kanary_ct_key rk = kt_ct_rev_key(&k->c.f, &k->c.be);
	struct kanary_ct_entry e;

	ck_assert_msg(bpf_map_lookup_elem(kt.maps.ct, &rk, &e) == 0, "no reverse entry for the leg");
	return e;
}

START_TEST(ho_leg_to_itself_leaves_from_the_hairpin_address)
{
	struct hk k = hk_new(req_plain);

	hk_first_data(&k, 0);
	ck_assert_msg(hk_hairpin(&k), "the leg did not go to the pod itself");
	ck_assert_msg(hk_reverse(&k).flags & KANARY_CT_F_HANDOFF, "reverse entry not the handoff's");
	ck_assert_msg(hk_reverse(&k).flags & KANARY_CT_F_HAIRPIN, "reverse entry not flagged hairpin");
}
END_TEST

/* SYN-ACK, response, the next request on the leg, and both FINs: the connection ends. */
START_TEST(ho_leg_to_itself_both_ways_to_the_end)
{
	struct hk k = hk_new(req_plain);

	hk_open(&k, 0);
	hk_respond(&k, TF_PSH, resp);
	hk_client_sends(&k, 0, NULL, "client ACK");
	hk_client_sends(&k, TF_PSH, req_plain, "a request that stays on the leg");
	hk_respond(&k, TF_PSH, resp);
	hk_client_sends(&k, TF_FIN, NULL, "client FIN");
	hk_respond(&k, TF_FIN, NULL);
	ck_assert_msg(hc_ho_tracked(&k.c), "forgotten before the last ACK");
	hk_client_sends(&k, 0, NULL, "the last ACK");
	hc_expect_forgotten(&k.c);
	hc_expect_subset_stats(0, 1, 0);
}
END_TEST

/* One keep-alive connection: itself, another pod by the rule, itself again. */
START_TEST(ho_keepalive_switches_between_itself_and_another)
{
	struct hk k = hk_new(req_plain);

	hk_open(&k, 0);
	hk_respond(&k, TF_PSH, resp);
	hk_client_sends(&k, 0, NULL, "client ACK");
	hk_switch(&k, req_dark, 1, 0x51000000);
	ck_assert_msg(!hk_hairpin(&k) && !(hk_reverse(&k).flags & KANARY_CT_F_HAIRPIN),
		      "the leg to the other pod is taken for a hairpin");
	hk_respond(&k, TF_PSH, resp);
	hk_client_sends(&k, 0, NULL, "client ACK to the other pod");
	hk_switch(&k, req_plain, 0, 0x52000000);
	ck_assert_msg(hk_reverse(&k).flags & KANARY_CT_F_HAIRPIN, "leg back not flagged hairpin");
	hk_respond(&k, TF_PSH, resp);
	hk_client_sends(&k, 0, NULL, "client ACK to itself again");
}
END_TEST

/* The pod refuses its own leg (RST to the hairpin address): the client is reset from the VIP. */
START_TEST(ho_leg_to_itself_refused_resets_the_client)
{
	struct hk k = hk_new(req_plain);
	struct tcp4_spec s;
	struct pkt out;
	__u8 flags;

	hk_first_data(&k, 0);
	s = hc_from_backend(&k.c, TF_RST | TF_ACK, 0, k.c.cisn + 1, NULL, 0);
	ck_verdict(hk_backend_sends(&k, &s, &out), TC_ACT_OK, "the pod's refusal");
	flags = pkt_tcp_flags(&out);
	ck_assert_msg(pkt_ip4_saddr(&out) == k.c.f.vip && pkt_l4_sport(&out) == k.c.f.vport &&
		      pkt_ip4_daddr(&out) == k.c.f.client && pkt_l4_dport(&out) == k.c.f.cport,
		      "the RST is not from the VIP to the pod");
	ck_assert_msg((flags & TF_RST) && !(flags & TF_SYN), "flags %#x, want RST", flags);
	ck_assert_uint_eq(pkt_tcp_seq(&out), k.c.our_isn + 1);
	ck_assert_msg(pkt_ip4_csum_ok(&out) && pkt_tcp4_csum_ok(&out), "checksums wrong");
	hc_expect_forgotten(&k.c);
}
END_TEST

/* The pod answers its own leg's SYN with a TIME-WAIT's ACK: the SYN comes again, from the hairpin address. */
START_TEST(ho_leg_to_itself_timewait_ack_brings_the_syn_again)
{
	struct hk k = hk_new(req_plain);
	struct tcp4_spec s;
	struct pkt out;

	hk_first_data(&k, 0);
	s = hc_from_backend(&k.c, TF_ACK, 0x7700, 0x1234, NULL, 0);
	ck_verdict(hk_backend_sends(&k, &s, &out), TC_ACT_REDIRECT, "the pod's TIME-WAIT ACK");
	ck_assert_msg(pkt_ip4_saddr(&out) == KANARY_HAIRPIN_V4 && pkt_ip4_daddr(&out) == k.c.f.client &&
		      pkt_l4_sport(&out) == k.c.f.cport && pkt_l4_dport(&out) == kt_be_port(0),
		      "the SYN is not from the hairpin address to the pod");
	ck_assert_uint_eq(pkt_tcp_flags(&out), TF_SYN);
	ck_assert_uint_eq(pkt_tcp_seq(&out), k.c.cisn);
	ck_assert_msg(pkt_ip4_csum_ok(&out) && pkt_tcp4_csum_ok(&out), "checksums wrong");
}
END_TEST

/* What ingress sends on goes out the same veth, through egress: untouched there. */
START_TEST(ho_egress_leaves_hairpin_packets_alone)
{
	struct hk k = hk_new(req_plain);
	struct tcp4_spec s;
	struct pkt mid, out;

	hc_handshake(&k.c);
	s = hc_first_data_seg(&k.c);
	ck_verdict(hc_ingress(&s, &mid), TC_ACT_OK, "client's first data");
	ck_verdict(kt_run_verdict(kt.prog_out, &mid, &out), TC_ACT_OK, "the SYN at egress");
	kt_expect_untouched(&mid, &out);
	k.c.be = hc_backend_of(&mid, 0);
	k.cnxt = k.c.cisn + 1;
	k.snxt = k.c.our_isn + 1;
	hk_synack(&k, req_plain, 0x9b000000);
	s = hc_from_backend(&k.c, TF_ACK | TF_PSH, k.bnxt, k.cnxt, resp, strlen(resp));
	s.daddr = KANARY_HAIRPIN_V4;
	ck_verdict(hc_ingress(&s, &mid), TC_ACT_OK, "the pod's response");
	ck_verdict(kt_run_verdict(kt.prog_out, &mid, &out), TC_ACT_OK, "the response at egress");
	kt_expect_untouched(&mid, &out);
}
END_TEST

/* Server-first detection binds the silent pod to itself: its SYN, and the ACK with no data, from the hairpin address. */
START_TEST(ho_silent_pod_bound_to_itself_leaves_from_the_hairpin_address)
{
	static const char banner[] = "220 ready\r\n";
	struct hk k = hk_new(req_plain);
	__u32 mark = KANARY_MARK_DETECT;
	struct tcp4_spec s, want;
	__u8 opts[40], nops[40];
	struct pkt out;

	hc_handshake(&k.c);
	s = hc_from_client(&k.c, TF_ACK, k.c.cisn + 1, k.c.our_isn + 1, NULL, 0);
	ck_verdict(hc_ingress_mark(&s, &mark, &out), TC_ACT_OK, "the marked ACK of the silent pod");
	k.c.be = hc_backend_of(&out, 0);
	k.cnxt = k.c.cisn + 1;
	k.snxt = k.c.our_isn + 1;
	hk_expect_syn(&k, &out, k.cnxt, "the silent leg's SYN");

	k.c.bisn = 0x9b000000;
	s = hc_from_backend(&k.c, TF_SYN | TF_ACK, k.c.bisn, k.cnxt, NULL, 0);
	s.tcp_opts = hc_mss_opts(opts, LINUX_MSS, 4);
	s.tcp_opts_len = 4;
	ck_verdict(hk_backend_sends(&k, &s, &out), TC_ACT_REDIRECT, "the pod's SYN-ACK");
	want = hk_to_backend(&k, hc_from_client(&k.c, TF_ACK, k.cnxt, k.c.bisn + 1, NULL, 0));
	want.tcp_opts = hc_mss_opts(nops, 0, 0);
	want.tcp_opts_len = 4;
	hc_expect_frame(&out, &want, false, "the ACK with no data");
	k.bnxt = k.c.bisn + 1;
	hk_respond(&k, TF_PSH, banner);
	hk_client_sends(&k, TF_PSH, req_plain, "the pod's answer to its own banner");
}
END_TEST

void ho_hairpin_tests(TCase *tc)
{
	tcase_add_test(tc, ho_leg_to_itself_leaves_from_the_hairpin_address);
	tcase_add_test(tc, ho_leg_to_itself_both_ways_to_the_end);
	tcase_add_test(tc, ho_keepalive_switches_between_itself_and_another);
	tcase_add_test(tc, ho_leg_to_itself_refused_resets_the_client);
	tcase_add_test(tc, ho_leg_to_itself_timewait_ack_brings_the_syn_again);
	tcase_add_test(tc, ho_egress_leaves_hairpin_packets_alone);
	tcase_add_test(tc, ho_silent_pod_bound_to_itself_leaves_from_the_hairpin_address);
}
