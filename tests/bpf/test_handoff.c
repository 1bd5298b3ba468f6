// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The dark-release handoff (bpf/lib/handoff.h) on crafted segments: the
 * SYN-ACK the datapath answers with, the first data turned into the SYN to
 * the chosen backend, the backend's SYN-ACK turned into the ACK carrying
 * the stash, the translation once established, the end of a connection,
 * and every way it fails.  Each expected frame is built by pkt.c and
 * compared byte for byte but for the checksums, which pkt.c verifies on
 * its own.  Under BPF_PROG_TEST_RUN a redirect is not performed: the
 * verdict and the frame left behind are what is checked.  test_run skbs
 * are CHECKSUM_NONE, so the CHECKSUM_PARTIAL path is left to tests/e2e.
 */
#include <string.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include "handoff_conn.h"
#include "suites.h"

#define TF_ECE	0x40
#define TF_CWR	0x80

/* s0 takes every connection by weight; only the rule sends any to s1. */
static const int n_be[] = { 2, 1 };
static const __u32 w_100_0[] = { 100000, 0 };
#define RULE_SUBSET	1
#define WEIGHT_SUBSET	0

/* No length a multiple of 4, so that no path gets away with whole 32-bit words. */
static const char req_dark[] = "GET /x HTTP/1.1\r\nHost: web\r\nX-My-Header: dark\r\n\r\n";
static const char req_plain[] = "GET /x HTTP/1.1\r\nHost: web\r\n\r\n";
static const char req_darker[] = "GET /x HTTP/1.1\r\nHost: web\r\nx-my-header: darker\r\n\r\n";
/* The head goes on past the first data: an exact header match cannot hold. */
static const char req_cut[] = "GET /x HTTP/1.1\r\nHost: web\r\nX-My-Header: dark\r\n";

static void rules_service(void)
{
	hc_service(2, w_100_0, n_be);
	kt_rule_add(KT_SVC, "header", "x-my-header=dark", RULE_SUBSET);
}

/* ---- the SYN ---- */

START_TEST(syn_answered_with_synack)
{
	struct hc_conn c = hc_conn_http(1, req_dark);
	struct pkt out;

	rules_service();
	hc_syn(&c, &out);
	ck_assert_msg(hc_in_handshakes(&c), "no %s entry after the SYN", KANARY_MAP_HANDSHAKE);
}
END_TEST

/* Handshake and first data of c, checking our window and MSS and the backend's MSS. */
static void mss_case(struct hc_conn c)
{
	struct pkt out;

	hc_handshake(&c);
	hc_first_data(&c, RULE_SUBSET, &out);
}

/* Our window and MSS follow the client's MSS up to the stash; the backend gets it whole. */
START_TEST(client_mss_sets_window_and_reaches_backend)
{
	static const __u16 mss[] = { 536, 1460, KANARY_HTTP_STASH, KANARY_HTTP_STASH + 1, 65495 };
	static const __u8 mss_after_others[12] = { 1, 1, 4, 2, 2, 4, 0x05, 0x78, 1, 3, 3, 7 };
	__u8 opts[sizeof(hc_linux_syn_opts)];
	struct hc_conn c;
	unsigned i;

	rules_service();
	for (i = 0; i < sizeof(mss) / sizeof(mss[0]); i++) {
		c = hc_conn_http(10 + i, req_dark);
		memcpy(opts, hc_linux_syn_opts, sizeof(opts));
		opts[2] = mss[i] >> 8;
		opts[3] = mss[i] & 0xff;
		c.syn_opts = opts;
		c.mss = mss[i];
		mss_case(c);
	}
	c = hc_conn_http(20, req_dark);
	c.syn_opts = mss_after_others;
	c.syn_opts_len = sizeof(mss_after_others);
	c.mss = 1400;
	mss_case(c);
	c = hc_conn_http(21, req_dark);
	c.syn_opts = NULL;
	c.syn_opts_len = 0;
	c.mss = DEFAULT_MSS;
	mss_case(c);
}
END_TEST

START_TEST(synack_declines_ecn)
{
	struct hc_conn c = hc_conn_http(1, req_dark);
	struct tcp4_spec s = hc_client_syn(&c);
	struct pkt out;

	rules_service();
	s.flags |= TF_ECE | TF_CWR;
	ck_verdict(hc_ingress(&s, &out), TC_ACT_REDIRECT, "client SYN asking for ECN");
	c.our_isn = pkt_tcp_seq(&out);
	hc_expect_synack(&c, &s, &out);
}
END_TEST

/* A SYN carrying data (TFO): the data is not acked, the client sends it again. */
START_TEST(syn_data_left_out_of_synack)
{
	static const char early[] = "GET /x HTTP/1.1\r\n";
	struct hc_conn c = hc_conn_http(1, req_dark);
	struct tcp4_spec s = hc_client_syn(&c);
	struct pkt out;

	rules_service();
	s.payload = early;
	s.payload_len = strlen(early);
	ck_verdict(hc_ingress(&s, &out), TC_ACT_REDIRECT, "client SYN with data");
	c.our_isn = pkt_tcp_seq(&out);
	s.payload_len = 0;
	hc_expect_synack(&c, &s, &out);
}
END_TEST

START_TEST(syn_retransmission_gets_same_synack)
{
	struct hc_conn c = hc_conn_http(1, req_dark);
	struct pkt first, again;

	rules_service();
	hc_syn(&c, &first);
	hc_syn(&c, &again);
	ck_assert_msg(pkt_diff(&first, &again, NULL, 0) < 0,
		      "the SYN-ACK to a retransmitted SYN differs at byte %ld",
		      pkt_diff(&first, &again, NULL, 0));
}
END_TEST

/*
 * A client that reuses the tuple while its old state lingers: a SYN with a
 * new ISN gets a challenge ACK (RFC 5961), the client's RST to it (at the
 * ack, the old connection's sequence) ends the old state, and the SYN sent
 * again opens the new connection.
 */
START_TEST(syn_with_new_isn_after_challenge_is_new_connection)
{
	struct hc_conn c = hc_conn_http(1, req_dark);
	struct tcp4_spec s;
	struct pkt out;
	__u32 old_isn, old_cisn;

	rules_service();
	hc_syn(&c, &out);
	old_isn = c.our_isn;
	old_cisn = c.cisn;
	c.cisn += 0x01000000;
	s = hc_client_syn(&c);
	ck_verdict(hc_ingress(&s, &out), TC_ACT_REDIRECT, "SYN with a new ISN");
	ck_assert_uint_eq(pkt_tcp_flags(&out), TF_ACK);
	ck_assert_uint_eq(pkt_tcp_ack(&out), old_cisn + 1);
	s = hc_from_client(&c, TF_RST, pkt_tcp_ack(&out), 0, NULL, 0);
	ck_verdict(hc_ingress(&s, &out), TC_ACT_SHOT, "the client's RST to the challenge ACK");
	ck_assert_msg(!hc_ho_tracked(&c), "the RST at the challenge's ack did not end the old state");
	hc_syn(&c, &out);
	ck_assert_msg(c.our_isn != old_isn, "the new connection got the old ISN %#x", old_isn);
	/* The new connection goes all the way. */
	hc_first_data(&c, RULE_SUBSET, &out);
	hc_backend_synack(&c, &out);
}
END_TEST

START_TEST(service_without_rules_dnats_syn)
{
	static const __u32 vip = KT_VIP + 1;
	struct hc_conn c = hc_conn_http(1, req_dark);
	struct tcp4_spec s;
	struct pkt in, out;

	rules_service();
	kt_service_create("plain", vip, KT_VPORT, 2, w_100_0, n_be);
	c.f.vip = vip;
	s = hc_client_syn(&c);
	pkt_tcp4(&in, &s);
	kt_run(kt.prog_in, &in, &out);
	kt_expect_dnat(&in, &out);
	ck_assert_msg(!hc_ho_tracked(&c), "a service without rules took the handoff");
}
END_TEST

START_TEST(ack_of_synack_dropped)
{
	struct hc_conn c = hc_conn_http(1, req_dark);

	rules_service();
	hc_handshake(&c);
	ck_assert_msg(hc_ho_tracked(&c), "the ACK of our SYN-ACK dropped the connection's state");
}
END_TEST

/* ---- the first data ---- */

START_TEST(first_data_matching_rule_goes_to_rule_subset)
{
	struct hc_conn c = hc_conn_http(1, req_dark);
	struct kanary_stash st;
	struct pkt out;

	rules_service();
	hc_handshake(&c);
	hc_first_data(&c, RULE_SUBSET, &out);
	ck_assert_msg(hc_stash_get(&c, &st), "%s holds no first data", KANARY_MAP_STASH);
	ck_assert_uint_eq(st.len, c.req_len);
	ck_assert_msg(!memcmp(st.data, c.req, c.req_len), "the stash is not the first data");
	ck_assert_msg(hc_replies_tracked(&c), "no reverse conntrack entry for the backend's replies");
	hc_expect_subset_stats(RULE_SUBSET, 1, 1);
	hc_expect_subset_stats(WEIGHT_SUBSET, 0, 0);
}
END_TEST

START_TEST(first_data_without_header_goes_by_weights)
{
	struct hc_conn c = hc_conn_http(1, req_plain);
	struct kanary_ho_stats none = { 0 };
	struct pkt out;

	rules_service();
	hc_handshake(&c);
	hc_first_data(&c, WEIGHT_SUBSET, &out);
	hc_expect_subset_stats(WEIGHT_SUBSET, 1, 0);
	hc_expect_subset_stats(RULE_SUBSET, 0, 0);
	hc_expect_ho_stats(&none);
}
END_TEST

START_TEST(first_data_with_other_value_goes_by_weights)
{
	struct hc_conn c = hc_conn_http(1, req_darker);
	struct kanary_ho_stats none = { 0 };
	struct pkt out;

	rules_service();
	hc_handshake(&c);
	hc_first_data(&c, WEIGHT_SUBSET, &out);
	hc_expect_subset_stats(WEIGHT_SUBSET, 1, 0);
	hc_expect_subset_stats(RULE_SUBSET, 0, 0);
	hc_expect_ho_stats(&none);
}
END_TEST

/* Options on the first data (a client that sends timestamps anyway) leave with it. */
START_TEST(first_data_options_left_out_of_syn)
{
	static const __u8 ts_opts[12] = { 1, 1, 8, 10, 0, 1, 0xe2, 0x41, 0, 2, 0x33, 0x44 };
	struct hc_conn c = hc_conn_http(1, req_dark);
	struct tcp4_spec s;
	struct pkt out;

	rules_service();
	hc_handshake(&c);
	s = hc_first_data_seg(&c);
	s.tcp_opts = ts_opts;
	s.tcp_opts_len = sizeof(ts_opts);
	ck_verdict(hc_ingress(&s, &out), TC_ACT_OK, "client's first data with options");
	c.be = hc_backend_of(&out, RULE_SUBSET);
	hc_expect_syn_to_backend(&c, &out);
}
END_TEST

START_TEST(rule_to_empty_subset_goes_by_weights)
{
	static const int be_1_0[] = { 1, 0 };
	struct hc_conn c = hc_conn_http(1, req_dark);
	struct pkt out;

	hc_service(2, w_100_0, be_1_0);
	kt_rule_add(KT_SVC, "header", "x-my-header=dark", RULE_SUBSET);
	hc_handshake(&c);
	hc_first_data(&c, WEIGHT_SUBSET, &out);
	hc_expect_subset_stats(WEIGHT_SUBSET, 1, 0);
}
END_TEST

START_TEST(cut_head_goes_by_weights_and_counts)
{
	struct hc_conn c = hc_conn_http(1, req_cut);
	struct kanary_ho_stats want = { .beyond_first_flight = 1,
					.pinned[KANARY_HO_PIN_HEAD_SPLIT] = 1 };
	struct pkt out;

	rules_service();
	hc_handshake(&c);
	hc_first_data(&c, WEIGHT_SUBSET, &out);
	hc_expect_ho_stats(&want);
	hc_expect_subset_stats(WEIGHT_SUBSET, 1, 0);
}
END_TEST

/* ---- the backend's SYN-ACK ---- */

START_TEST(backend_synack_becomes_ack_with_stash)
{
	struct hc_conn c = hc_conn_http(1, req_dark);
	struct kanary_stash st;

	rules_service();
	hc_establish(&c, RULE_SUBSET);
	ck_assert_msg(hc_ho_tracked(&c) && hc_replies_tracked(&c), "the connection's state is gone");
	ck_assert_msg(hc_stash_get(&c, &st), "the stash went before the backend acked it");
}
END_TEST

START_TEST(backend_synack_retransmission_resends_stash)
{
	struct hc_conn c = hc_conn_http(1, req_dark);
	struct pkt first, again;

	rules_service();
	hc_establish(&c, RULE_SUBSET);
	hc_backend_synack(&c, &first);
	hc_backend_synack(&c, &again);
	ck_assert_msg(pkt_diff(&first, &again, NULL, 0) < 0,
		      "the stash resent differs at byte %ld", pkt_diff(&first, &again, NULL, 0));
}
END_TEST

/*
 * Payload sizes around every alignment and slice of the checksum code;
 * longest first, so bytes a longer payload left in scratch space show.
 */
START_TEST(odd_payload_lengths_keep_checksums_valid)
{
	static const size_t lens[] = { 1460, 1023, 257, 256, 255, 5, 4, 3, 2, 1 };
	static __u8 data[1460];
	unsigned i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (__u8)(0xff - i * 13);
	rules_service();
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct hc_conn c = hc_conn_new(100 + i, data, lens[i]);

		hc_establish(&c, WEIGHT_SUBSET);
	}
	/* Not HTTP at all is not a head cut short; each connection pins as not HTTP. */
	hc_expect_ho_stats(&(struct kanary_ho_stats){ .pinned[KANARY_HO_PIN_NOT_HTTP] = 10 });
}
END_TEST

START_TEST(stash_lost_forgets_connection)
{
	struct hc_conn c = hc_conn_http(1, req_dark);
	struct kanary_ho_stats want = { .stash_lost = 1 };
	struct kanary_ct_key k = kt_ct_fwd_key(&c.f);
	struct tcp4_spec s;
	struct pkt out;

	rules_service();
	hc_handshake(&c);
	hc_first_data(&c, RULE_SUBSET, &out);
	ck_assert_int_eq(bpf_map_delete_elem(kt.maps.stash, &k), 0);	/* as LRU eviction would */
	s = hc_from_backend(&c, TF_SYN | TF_ACK, c.bisn, c.cisn + 1, NULL, 0);
	ck_verdict(hc_egress(&s, &out), TC_ACT_SHOT, "backend SYN-ACK with the stash gone");
	hc_expect_ho_stats(&want);
	hc_expect_forgotten(&c);
}
END_TEST

/* ---- established ---- */

/* Sequence numbers that wrap within the connection. */
static struct hc_conn wrapping_conn(void)
{
	struct hc_conn c = hc_conn_http(1, req_dark);

	c.cisn = 0xffffffe0;
	c.bisn = 0xfffffff0;
	return c;
}

START_TEST(client_segments_dnat_and_ack_in_backend_space)
{
	static const char body[] = "more from the client";
	struct hc_conn c = wrapping_conn();
	__u32 seq, n = 300;
	struct tcp4_spec s, want;
	struct pkt out;

	rules_service();
	hc_establish(&c, RULE_SUBSET);
	seq = c.cisn + 1 + c.req_len;
	s = hc_from_client(&c, TF_ACK | TF_PSH, seq, c.our_isn + 1 + n, body, sizeof(body));
	ck_verdict(hc_ingress(&s, &out), TC_ACT_OK, "client data");
	want = hc_to_backend(&c, s);
	want.ack = c.bisn + 1 + n;
	hc_expect_frame(&out, &want, false, "client data to the backend");
}
END_TEST

START_TEST(backend_segments_snat_and_seq_in_our_space)
{
	static const char body[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	struct hc_conn c = wrapping_conn();
	__u32 k = 40;
	struct tcp4_spec s, want;
	struct pkt out;

	rules_service();
	hc_establish(&c, RULE_SUBSET);
	s = hc_from_backend(&c, TF_ACK | TF_PSH, c.bisn + 1 + k, c.cisn + 1 + c.req_len, body,
			 sizeof(body));
	ck_verdict(hc_egress(&s, &out), TC_ACT_OK, "backend data");
	want = hc_from_vip(&c, s);
	want.seq = c.our_isn + 1 + k;
	hc_expect_frame(&out, &want, true, "backend data to the client");
}
END_TEST

START_TEST(stash_dropped_once_backend_acks_it)
{
	struct hc_conn c = wrapping_conn();
	struct kanary_stash st;
	struct tcp4_spec s;
	struct pkt out;

	rules_service();
	hc_establish(&c, RULE_SUBSET);
	s = hc_from_backend(&c, TF_ACK, c.bisn + 1, c.cisn + c.req_len, NULL, 0);
	ck_verdict(hc_egress(&s, &out), TC_ACT_OK, "backend ACK of all but a byte");
	ck_assert_msg(hc_stash_get(&c, &st), "the stash went before the backend acked all of it");
	s = hc_from_backend(&c, TF_ACK, c.bisn + 1, c.cisn + 1 + c.req_len, NULL, 0);
	ck_verdict(hc_egress(&s, &out), TC_ACT_OK, "backend ACK of the first data");
	ck_assert_msg(!hc_stash_get(&c, &st), "the stash outlived the backend's ack of it");
	ck_assert_msg(hc_ho_tracked(&c), "the connection's state went with the stash");
}
END_TEST

/* ---- the end ---- */

START_TEST(fins_both_ways_then_last_ack_forget)
{
	struct hc_conn c = hc_conn_http(1, req_dark);
	__u32 cseq, bseq;
	struct tcp4_spec s, want;
	struct pkt out;

	rules_service();
	hc_establish(&c, RULE_SUBSET);
	cseq = c.cisn + 1 + c.req_len;
	bseq = c.bisn + 1;

	s = hc_from_client(&c, TF_FIN | TF_ACK, cseq, c.our_isn + 1, NULL, 0);
	ck_verdict(hc_ingress(&s, &out), TC_ACT_OK, "client FIN");
	ck_assert_msg(hc_ho_tracked(&c), "forgotten after the client's FIN alone");

	s = hc_from_backend(&c, TF_FIN | TF_ACK, bseq, cseq + 1, NULL, 0);
	ck_verdict(hc_egress(&s, &out), TC_ACT_OK, "backend FIN");
	ck_assert_msg(hc_ho_tracked(&c), "forgotten before the client acked the backend's FIN");

	s = hc_from_client(&c, TF_ACK, cseq + 1, c.our_isn + 2, NULL, 0);
	ck_verdict(hc_ingress(&s, &out), TC_ACT_OK, "client's last ACK");
	want = hc_to_backend(&c, s);
	want.ack = bseq + 1;
	hc_expect_frame(&out, &want, false, "client's last ACK to the backend");
	hc_expect_forgotten(&c);
}
END_TEST

START_TEST(backend_closing_first_forgets_after_its_fin_acked)
{
	struct hc_conn c = hc_conn_http(1, req_dark);
	__u32 cseq, bseq;
	struct tcp4_spec s, want;
	struct pkt out;

	rules_service();
	hc_establish(&c, RULE_SUBSET);
	cseq = c.cisn + 1 + c.req_len;
	bseq = c.bisn + 1;

	s = hc_from_backend(&c, TF_FIN | TF_ACK, bseq, cseq, NULL, 0);
	ck_verdict(hc_egress(&s, &out), TC_ACT_OK, "backend FIN");
	s = hc_from_client(&c, TF_FIN | TF_ACK, cseq, c.our_isn + 2, NULL, 0);
	ck_verdict(hc_ingress(&s, &out), TC_ACT_OK, "client FIN, acking the backend's");
	ck_assert_msg(hc_ho_tracked(&c), "forgotten before the backend acked the client's FIN");

	s = hc_from_backend(&c, TF_ACK, bseq + 1, cseq + 1, NULL, 0);
	ck_verdict(hc_egress(&s, &out), TC_ACT_OK, "backend's last ACK");
	want = hc_from_vip(&c, s);
	want.seq = c.our_isn + 2;
	hc_expect_frame(&out, &want, true, "backend's last ACK to the client");
	hc_expect_forgotten(&c);
}
END_TEST

START_TEST(fin_before_data_resets_client)
{
	struct hc_conn c = hc_conn_http(1, req_dark);
	struct tcp4_spec s;
	struct pkt out;

	rules_service();
	hc_handshake(&c);
	s = hc_from_client(&c, TF_FIN | TF_ACK, c.cisn + 1, c.our_isn + 1, NULL, 0);
	ck_verdict(hc_ingress(&s, &out), TC_ACT_REDIRECT, "client FIN before any data");
	hc_expect_rst_to_client(&c, &out, c.our_isn + 1, "RST for the FIN");
	ck_assert_msg(!hc_ho_tracked(&c), "%s still holds the connection", KANARY_MAP_HANDOFF);
}
END_TEST

START_TEST(client_rst_forgets_established)
{
	struct hc_conn c = hc_conn_http(1, req_dark);
	struct tcp4_spec s, want;
	struct pkt out;

	rules_service();
	hc_establish(&c, RULE_SUBSET);
	s = hc_from_client(&c, TF_RST | TF_ACK, c.cisn + 1 + c.req_len, c.our_isn + 1, NULL, 0);
	ck_verdict(hc_ingress(&s, &out), TC_ACT_OK, "client RST");
	want = hc_to_backend(&c, s);
	want.ack = c.bisn + 1;
	hc_expect_frame(&out, &want, false, "client RST to the backend");
	hc_expect_forgotten(&c);
}
END_TEST

START_TEST(client_rst_before_data_forgets)
{
	struct hc_conn c = hc_conn_http(1, req_dark);
	struct tcp4_spec s;
	struct pkt out;

	rules_service();
	hc_handshake(&c);
	s = hc_from_client(&c, TF_RST, c.cisn + 1, 0, NULL, 0);
	ck_verdict(hc_ingress(&s, &out), TC_ACT_SHOT, "client RST");
	ck_assert_msg(!hc_ho_tracked(&c), "%s still holds the connection", KANARY_MAP_HANDOFF);
}
END_TEST

START_TEST(backend_rst_forgets_established)
{
	struct hc_conn c = hc_conn_http(1, req_dark);
	struct tcp4_spec s, want;
	struct pkt out;

	rules_service();
	hc_establish(&c, RULE_SUBSET);
	s = hc_from_backend(&c, TF_RST | TF_ACK, c.bisn + 1, c.cisn + 1 + c.req_len, NULL, 0);
	ck_verdict(hc_egress(&s, &out), TC_ACT_OK, "backend RST");
	want = hc_from_vip(&c, s);
	want.seq = c.our_isn + 1;
	hc_expect_frame(&out, &want, true, "backend RST to the client");
	hc_expect_forgotten(&c);
}
END_TEST

/* ---- failures ---- */

START_TEST(backend_refusal_resets_client)
{
	struct hc_conn c = hc_conn_http(1, req_dark);
	struct kanary_ho_stats want = { .backend_refused = 1 };
	struct tcp4_spec s;
	struct pkt out;

	rules_service();
	hc_handshake(&c);
	hc_first_data(&c, RULE_SUBSET, &out);
	s = hc_from_backend(&c, TF_RST | TF_ACK, 0, c.cisn + 1, NULL, 0);
	ck_verdict(hc_egress(&s, &out), TC_ACT_OK, "backend RST to our SYN");
	hc_expect_rst_to_client(&c, &out, c.our_isn + 1, "RST for the refusal");
	hc_expect_ho_stats(&want);
	hc_expect_forgotten(&c);
}
END_TEST

START_TEST(silent_backend_retried_then_client_reset)
{
	struct hc_conn c = hc_conn_http(1, req_dark);
	struct kanary_ho_stats want = { .backend_silent = 1 }, none = { 0 };
	struct tcp4_spec s;
	struct pkt syn_out, out;
	int i;

	rules_service();
	hc_handshake(&c);
	hc_first_data(&c, RULE_SUBSET, &syn_out);
	s = hc_first_data_seg(&c);
	for (i = 1; i < KANARY_HO_SYN_TRIES; i++) {
		ck_verdict(hc_ingress(&s, &out), TC_ACT_OK, "retransmitted first data");
		ck_assert_msg(pkt_diff(&syn_out, &out, NULL, 0) < 0,
			      "SYN %d to the backend differs from the first at byte %ld", i + 1,
			      pkt_diff(&syn_out, &out, NULL, 0));
		hc_expect_ho_stats(&none);
	}
	ck_verdict(hc_ingress(&s, &out), TC_ACT_REDIRECT, "first data once the tries are spent");
	hc_expect_rst_to_client(&c, &out, c.our_isn + 1, "RST for the silent backend");
	hc_expect_ho_stats(&want);
	hc_expect_forgotten(&c);
}
END_TEST

START_TEST(no_backend_resets_client)
{
	static const int be_0_0[] = { 0, 0 };
	struct hc_conn c = hc_conn_http(1, req_dark);
	struct kanary_ho_stats want = { .no_backend = 1 };
	struct tcp4_spec s;
	struct pkt out;

	hc_service(2, w_100_0, be_0_0);
	kt_rule_add(KT_SVC, "header", "x-my-header=dark", RULE_SUBSET);
	hc_handshake(&c);
	s = hc_first_data_seg(&c);
	ck_verdict(hc_ingress(&s, &out), TC_ACT_REDIRECT, "first data with no backend to take it");
	hc_expect_rst_to_client(&c, &out, c.our_isn + 1, "RST for no backend");
	hc_expect_ho_stats(&want);
	ck_assert_msg(!hc_ho_tracked(&c), "%s still holds the connection", KANARY_MAP_HANDOFF);
}
END_TEST

START_TEST(orphan_segment_resets_client_at_its_ack)
{
	struct hc_conn c = hc_conn_http(1, req_dark);
	struct kanary_ho_stats want = { .state_lost = 1 };
	const __u32 ack = 0x5eed1234;
	struct tcp4_spec s;
	struct pkt out;

	rules_service();
	s = hc_from_client(&c, TF_ACK | TF_PSH, c.cisn + 1, ack, c.req, c.req_len);
	ck_verdict(hc_ingress(&s, &out), TC_ACT_REDIRECT, "mid-flow data with no state");
	hc_expect_rst_to_client(&c, &out, ack, "RST for the lost connection");
	hc_expect_ho_stats(&want);
}
END_TEST

/*
 * A pod's flood of idle handshakes (SYN, our SYN-ACK, its ACK, then
 * nothing) fills only the handshakes' table: a bound connection keeps its
 * state and goes on, and a new client still binds.  At a conntrack size of
 * 16,384 the bound table holds 4,096 and the handshakes' 1,024: when both
 * lived in one table, 5,000 handshakes evicted the bound connection.
 */
START_TEST(idle_handshakes_evict_no_bound_connection)
{
	struct kanary_load_opts lo = { .ct_size = 16384 };
	struct kanary_ho_stats none = { 0 };
	struct hc_conn c, h, n;
	struct tcp4_spec s, want;
	struct pkt out;

	kt_reload(&lo);
	rules_service();
	c = hc_conn_http(0, req_dark);
	hc_establish(&c, RULE_SUBSET);
	for (unsigned i = 1; i <= 5000; i++) {
		h = hc_conn_http(i, req_dark);
		hc_handshake(&h);
	}
	ck_assert_msg(hc_ho_tracked(&c), "the bound connection lost its state");
	s = hc_from_client(&c, TF_ACK, c.cisn + 1 + c.req_len, c.our_isn + 1, NULL, 0);
	ck_verdict(hc_ingress(&s, &out), TC_ACT_OK, "the bound connection's ACK");
	want = hc_to_backend(&c, s);
	want.ack = c.bisn + 1;
	hc_expect_frame(&out, &want, false, "the bound connection's ACK to its backend");
	n = hc_conn_http(6000, req_plain);
	hc_establish(&n, WEIGHT_SUBSET);
	hc_expect_ho_stats(&none);
	ck_assert_msg(hc_in_handshakes(&h) && !hc_in_handshakes(&c),
		      "handshakes and bound connections are not in their own tables");
}
END_TEST

/*
 * SYN cookies (handoff_cookie.h): a handshake whose entry is gone (here a
 * pod's 5,000 idle handshakes evict it from a table of 1,024) binds with
 * its first data, its state made again from the cookie in its ack, with the
 * cookie's MSS: the client's, rounded down to one of eight sizes.  Before
 * cookies it met no state and was reset (state_lost).
 */
START_TEST(handshake_evicted_by_a_flood_binds_by_its_cookie)
{
	struct kanary_load_opts lo = { .ct_size = 16384 };
	static const __u8 mss_1448[4] = { 2, 4, 1448 >> 8, 1448 & 0xff };
	struct kanary_ho_stats none = { 0 };
	__u64 before[KANARY_CNT__MAX], after[KANARY_CNT__MAX];
	struct hc_conn c, h, d;
	struct pkt out;

	kt_reload(&lo);
	rules_service();
	kt_counters(before);
	c = hc_conn_http(0, req_dark);
	hc_handshake(&c);
	/* An MSS between two of the cookie's: the backend gets the smaller. */
	d = hc_conn_http(1, req_plain);
	d.syn_opts = mss_1448;
	d.syn_opts_len = sizeof(mss_1448);
	d.mss = 1448;
	hc_handshake(&d);
	for (unsigned i = 2; i <= 5000; i++) {
		h = hc_conn_http(i, req_dark);
		hc_handshake(&h);
	}
	ck_assert_msg(!hc_ho_tracked(&c) && !hc_ho_tracked(&d),
		      "the flood did not evict the handshakes under test: nothing to prove");
	hc_first_data(&c, RULE_SUBSET, &out);
	d.mss = 1440;
	hc_first_data(&d, WEIGHT_SUBSET, &out);
	hc_backend_synack(&c, &out);
	ck_assert_msg(hc_ho_tracked(&c) && !hc_in_handshakes(&c), "the cookie's state is not bound");
	hc_expect_ho_stats(&none);
	kt_counters(after);
	ck_assert_uint_eq(after[KANARY_CNT_HO_COOKIE] - before[KANARY_CNT_HO_COOKIE], 2);
}
END_TEST

/*
 * Only a client's first data proves a cookie: a later segment of an evicted
 * connection (its seq past the ISN + 1), or an ack off in the hash's bits,
 * makes no state and is reset at its ack as before.  (The MSS's bits are
 * not checked, as in Linux: any of them gives one of the eight sizes.)
 */
START_TEST(only_first_data_with_our_cookie_makes_state)
{
	struct kanary_ho_stats want = { .state_lost = 3 };
	__u64 before[KANARY_CNT__MAX], after[KANARY_CNT__MAX];
	struct hc_conn c = hc_conn_http(1, req_dark);
	const __u32 acks[3] = { 0, 8, 1u << 31 };	/* added to our ISN + 1 */
	struct kanary_ct_key k;
	struct tcp4_spec s;
	struct pkt out;

	rules_service();
	kt_counters(before);
	hc_handshake(&c);
	k = kt_ct_fwd_key(&c.f);
	ck_assert_int_eq(bpf_map_delete_elem(kt.maps.handshake, &k), 0);
	for (int i = 0; i < 3; i++) {
		__u32 seq = c.cisn + 1 + (i ? 0 : 100);

		s = hc_from_client(&c, TF_ACK | TF_PSH, seq, c.our_isn + 1 + acks[i], c.req, c.req_len);
		ck_verdict(hc_ingress(&s, &out), TC_ACT_REDIRECT, "data that no cookie proves");
		hc_expect_rst_to_client(&c, &out, c.our_isn + 1 + acks[i], "RST for the lost connection");
		ck_assert_msg(!hc_ho_tracked(&c), "state made from a segment no cookie proves (%d)", i);
	}
	hc_expect_ho_stats(&want);
	kt_counters(after);
	ck_assert_uint_eq(after[KANARY_CNT_HO_COOKIE], before[KANARY_CNT_HO_COOKIE]);
}
END_TEST

Suite *handoff_suite(void)
{
	Suite *s = suite_create("handoff");
	TCase *tc = kt_tcase("handoff", 60);

	tcase_add_test(tc, syn_answered_with_synack);
	tcase_add_test(tc, client_mss_sets_window_and_reaches_backend);
	tcase_add_test(tc, synack_declines_ecn);
	tcase_add_test(tc, syn_data_left_out_of_synack);
	tcase_add_test(tc, syn_retransmission_gets_same_synack);
	tcase_add_test(tc, syn_with_new_isn_after_challenge_is_new_connection);
	tcase_add_test(tc, service_without_rules_dnats_syn);
	tcase_add_test(tc, ack_of_synack_dropped);
	tcase_add_test(tc, first_data_matching_rule_goes_to_rule_subset);
	tcase_add_test(tc, first_data_without_header_goes_by_weights);
	tcase_add_test(tc, first_data_with_other_value_goes_by_weights);
	tcase_add_test(tc, first_data_options_left_out_of_syn);
	tcase_add_test(tc, rule_to_empty_subset_goes_by_weights);
	tcase_add_test(tc, cut_head_goes_by_weights_and_counts);
	tcase_add_test(tc, backend_synack_becomes_ack_with_stash);
	tcase_add_test(tc, backend_synack_retransmission_resends_stash);
	tcase_add_test(tc, odd_payload_lengths_keep_checksums_valid);
	tcase_add_test(tc, stash_lost_forgets_connection);
	tcase_add_test(tc, client_segments_dnat_and_ack_in_backend_space);
	tcase_add_test(tc, backend_segments_snat_and_seq_in_our_space);
	tcase_add_test(tc, stash_dropped_once_backend_acks_it);
	tcase_add_test(tc, fins_both_ways_then_last_ack_forget);
	tcase_add_test(tc, backend_closing_first_forgets_after_its_fin_acked);
	tcase_add_test(tc, fin_before_data_resets_client);
	tcase_add_test(tc, client_rst_forgets_established);
	tcase_add_test(tc, client_rst_before_data_forgets);
	tcase_add_test(tc, backend_rst_forgets_established);
	tcase_add_test(tc, backend_refusal_resets_client);
	tcase_add_test(tc, silent_backend_retried_then_client_reset);
	tcase_add_test(tc, no_backend_resets_client);
	tcase_add_test(tc, orphan_segment_resets_client_at_its_ack);
	tcase_add_test(tc, idle_handshakes_evict_no_bound_connection);
	tcase_add_test(tc, handshake_evicted_by_a_flood_binds_by_its_cookie);
	tcase_add_test(tc, only_first_data_with_our_cookie_makes_state);
	ho_source_tests(tc);
	ho_detect_tests(tc);
	suite_add_tcase(s, tc);
	return s;
}
