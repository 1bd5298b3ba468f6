// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Per-request routing on keep-alive connections (bpf/lib/request.h) on
 * crafted segments: the stash a leg opens with, a request moved to
 * another backend (the new leg's SYN, its SYN-ACK turned into the stash,
 * the backend's sequence rebased), what keeps a request where it is and
 * what pins a connection, and a refused leg.  Under BPF_PROG_TEST_RUN the
 * RST clone to the old backend is not seen: its reverse entry's going is.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include "handoff_conn.h"
#include "suites.h"

/* s0 takes every request by weight; the rules alone send any to s1 or s2. */
static const int n_be3[] = { 2, 1, 1 };
static const __u32 w_all_s0[] = { 100000, 0, 0 };

static const char req_plain[] = "GET /a HTTP/1.1\r\nHost: web\r\n\r\n";
static const char req_dark[] = "GET /b HTTP/1.1\r\nHost: web\r\nx-my-header: dark\r\n\r\n";
static const char req_blue[] = "GET /c HTTP/1.1\r\nHost: web\r\nx-my-header: blue\r\n\r\n";
static const char req_chunked[] = "POST /d HTTP/1.1\r\nHost: web\r\nx-my-header: dark\r\n"
				  "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
static const char req_cut[] = "GET /e HTTP/1.1\r\nHost: web\r\nx-my-header: dark\r\n";
static const char h2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
static const char post_head[] = "POST /f HTTP/1.1\r\nHost: web\r\nx-my-header: dark\r\n"
				"Content-Length: 11\r\n\r\n";
static const char post_body[] = "hello world";

static const char resp_len[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
static const char resp_other[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nno!";
static const char resp_chunk_open[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				      "5\r\nhello\r\n";
static const char resp_chunk_done[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				      "5\r\nhello\r\n0\r\n\r\n";
static const char last_chunk[] = "0\r\n\r\n";
static const char resp_until_close[] = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhello";

static void per_request_service(void)
{
	hc_service(3, w_all_s0, n_be3);
	kt_rule_add(KT_SVC, "header", "x-my-header=dark", 1);
	kt_rule_add(KT_SVC, "header", "x-my-header=blue", 2);
}

/* A keep-alive connection: where each side's stream is, on the current leg. */
struct ka {
	struct hc_conn c;
	__u32 cnxt;	/* the client's next seq (the same on every leg) */
	__u32 snxt;	/* the next seq the client expects from the service */
	__u32 bnxt;	/* the current backend's next seq, in its own space */
};

/* Connection i, its first leg established with req to subset. */
static struct ka ka_open(unsigned i, const char *req, int subset)
{
	struct ka k = { .c = hc_conn_http(i, req) };

	hc_establish(&k.c, subset);
	k.cnxt = k.c.cisn + 1 + k.c.req_len;
	k.snxt = k.c.our_isn + 1;
	k.bnxt = k.c.bisn + 1;
	return k;
}

/* The backend sends data, acking all the client sent: the client sees it at snxt. */
static void ka_respond(struct ka *k, const char *data)
{
	size_t len = strlen(data);
	struct tcp4_spec s = hc_from_backend(&k->c, TF_ACK | TF_PSH, k->bnxt, k->cnxt, data, len);
	struct tcp4_spec want = hc_from_vip(&k->c, s);
	struct pkt out;

	ck_verdict(hc_egress(&s, &out), TC_ACT_OK, "backend data");
	want.seq = k->snxt;
	hc_expect_frame(&out, &want, true, "backend data to the client");
	k->bnxt += len;
	k->snxt += len;
}

/*
 * The client sends data (or a bare ACK when data is NULL), acking all it
 * got: it stays on the current leg, its ack in the backend's space.
 */
static void ka_client_sends(struct ka *k, const char *data, const char *what)
{
	size_t len = data ? strlen(data) : 0;
	struct tcp4_spec s = hc_from_client(&k->c, data ? TF_ACK | TF_PSH : TF_ACK, k->cnxt,
					    k->snxt, data, len);
	struct tcp4_spec want = hc_to_backend(&k->c, s);
	struct pkt out;

	ck_verdict(hc_ingress(&s, &out), TC_ACT_OK, what);
	want.ack = k->bnxt;
	hc_expect_frame(&out, &want, false, what);
	k->cnxt += len;
}

static void ka_client_ack(struct ka *k)
{
	ka_client_sends(k, NULL, "client ACK to the current backend");
}

/* A request that must stay on the current leg. */
static void ka_request_stays(struct ka *k, const char *req)
{
	ka_client_sends(k, req, "request to the current backend");
}

static void ka_state(const struct ka *k, struct kanary_ho_entry *e)
{
	struct kanary_ct_key key = kt_ct_fwd_key(&k->c.f);

	ck_assert_msg(bpf_map_lookup_elem(kt.maps.handoff, &key, e) == 0,
		      "%s does not hold the connection", KANARY_MAP_HANDOFF);
}

/*
 * The connection holds legs legs and is pinned for pinned (-1: either
 * unchecked), and the handoff counters are want.
 */
static void ka_expect(const struct ka *k, int legs, int pinned, const struct kanary_ho_stats *want)
{
	struct kanary_ho_entry e;

	ka_state(k, &e);
	if (legs >= 0)
		ck_assert_msg(e.legs == legs, "%u legs, want %d", e.legs, legs);
	if (pinned >= 0)
		ck_assert_msg(e.pinned == pinned, "pinned %u, want %d", e.pinned, pinned);
	hc_expect_ho_stats(want);
}

/*
 * A request that must move to a backend of subset, in a segment that
 * leads with tail, the previous request's last bytes the old backend never
 * acked (a retransmission): it leaves as the new leg's SYN (ISN the
 * request's seq - 1, the client's MSS, no payload), the old leg's reverse
 * entry goes; the new backend (ISN bisn) answers and gets the request, and
 * nothing of tail, in the ACK.
 */
static void ka_request_switches_after(struct ka *k, const char *tail, const char *req, int subset,
				      __u32 bisn)
{
	size_t tl = strlen(tail), len = strlen(req);
	char seg[256];
	struct tcp4_spec s;
	struct kanary_ct_key old_rev = kt_ct_rev_key(&k->c.f, &k->c.be);
	struct kanary_ct_entry ce;
	struct tcp4_spec want;
	struct pkt out;
	__u8 opts[40];

	ck_assert(tl + len <= sizeof(seg));
	memcpy(seg, tail, tl);
	memcpy(seg + tl, req, len);
	s = hc_from_client(&k->c, TF_ACK | TF_PSH, k->cnxt, k->snxt, seg, tl + len);
	ck_verdict(hc_ingress(&s, &out), TC_ACT_OK, "request that moves");
	k->cnxt += tl;
	k->c.be = hc_backend_of(&out, subset);
	want = hc_to_backend(&k->c, hc_from_client(&k->c, TF_SYN, k->cnxt - 1, 0, NULL, 0));
	want.tcp_opts = hc_mss_opts(opts, k->c.mss, 4);
	want.tcp_opts_len = 4;
	hc_expect_frame(&out, &want, false, "the new leg's SYN");
	ck_assert_uint_eq(out.len, ETH_LEN + 44);
	ck_assert_msg(bpf_map_lookup_elem(kt.maps.ct, &old_rev, &ce) != 0,
		      "the old leg's reverse entry is still there");
	ck_assert_msg(hc_replies_tracked(&k->c), "no reverse entry for the new leg");

	k->c.bisn = bisn;
	hc_backend_synack_leg(&k->c, k->cnxt - 1, req, len, &out);
	k->cnxt += len;
	k->bnxt = bisn + 1;
}

static void ka_request_switches(struct ka *k, const char *req, int subset, __u32 bisn)
{
	ka_request_switches_after(k, "", req, subset, bisn);
}

/* One exchange on the current leg, over: response, and the client's ack of it. */
static void ka_exchange_done(struct ka *k, const char *resp)
{
	ka_respond(k, resp);
	ka_client_ack(k);
}

static void expect_requests(int subset, __u64 requests, __u64 rule_requests)
{
	struct kanary_subset_stats st;

	kt_stats(hc_svc_id, kt_subset_idx(KT_SVC, subset), &st);
	ck_assert_msg(st.requests == requests && st.rule_requests == rule_requests,
		      "subset s%d: %llu requests, %llu by rule; want %llu and %llu", subset,
		      st.requests, st.rule_requests, requests, rule_requests);
}

/*
 * The HTTP accounting (bpf/lib/exchange.h) of subset: exchanges ended,
 * of which unanswered, connections not HTTP, and responses of code.
 */
static void expect_http(int subset, __u64 requests, __u64 no_response, __u64 other_conns,
			int code, __u64 of_code)
{
	struct kanary_http_stats st;
	struct kanary_err e = { 0 };
	char name[KANARY_HTTP_SLOT_NAME_LEN], want[KANARY_HTTP_SLOT_NAME_LEN];
	__u64 n = 0;

	ck_assert_msg(kanary_http_stats_read(&kt.maps, hc_svc_id, kt_subset_idx(KT_SVC, subset),
					     &st, &e) == 0, "kanary_http_stats_read: %s", e.msg);
	snprintf(want, sizeof(want), "%d", code);
	for (int i = 0; i < KANARY_HTTP_SLOTS; i++)
		if (kanary_http_slot_name(i, name) == 0 && !strcmp(name, want))
			n = st.codes[i];
	ck_assert_msg(st.requests == requests && st.no_response == no_response &&
		      st.other_conns == other_conns && n == of_code,
		      "subset s%d: %llu exchanges, %llu unanswered, %llu not HTTP, %llu of %d; "
		      "want %llu, %llu, %llu, %llu", subset, st.requests, st.no_response,
		      st.other_conns, n, code, requests, no_response, other_conns, of_code);
}

/* ---- the stash of a leg opening ---- */

START_TEST(second_segment_joins_stash)
{
	struct hc_conn c = hc_conn_http(1, post_head);
	size_t hl = strlen(post_head), bl = strlen(post_body);
	__u32 body_seq = c.cisn + 1 + hl;
	char both[sizeof(post_head) + sizeof(post_body)];
	struct kanary_stash st;
	struct tcp4_spec s;
	struct pkt out;

	per_request_service();
	hc_handshake(&c);
	hc_first_data(&c, 1, &out);

	s = hc_from_client(&c, TF_ACK | TF_PSH, body_seq + 1, c.our_isn + 1, post_body + 1, bl - 1);
	ck_verdict(hc_ingress(&s, &out), TC_ACT_SHOT, "body segment after a gap");
	s = hc_from_client(&c, TF_ACK | TF_PSH, body_seq - 4, c.our_isn + 1, "\r\n\r\nhello", 9);
	ck_verdict(hc_ingress(&s, &out), TC_ACT_SHOT, "segment overlapping the head");
	ck_assert_msg(hc_stash_get(&c, &st), "no stash");
	ck_assert_msg(st.len == hl, "the stash holds %u bytes after segments out of order, want %zu",
		      st.len, hl);

	s = hc_from_client(&c, TF_ACK | TF_PSH, body_seq, c.our_isn + 1, post_body, bl);
	ck_verdict(hc_ingress(&s, &out), TC_ACT_SHOT, "body segment in order");
	ck_assert_msg(hc_stash_get(&c, &st), "no stash");
	ck_assert_msg(st.len == hl + bl && !memcmp(st.data, post_head, hl) &&
		      !memcmp(st.data + hl, post_body, bl), "the stash (%u bytes) is not head + body",
		      st.len);

	memcpy(both, post_head, hl);
	memcpy(both + hl, post_body, bl);
	hc_backend_synack_leg(&c, c.cisn, both, hl + bl, &out);
}
END_TEST

/* ---- moving a request ---- */

START_TEST(keepalive_request_moves_to_rule_backend)
{
	struct kanary_ho_stats want = { .switches = 1 };
	struct kanary_ho_entry e;
	struct ka k;
	__u32 s;

	per_request_service();
	k = ka_open(1, req_plain, 0);
	ka_exchange_done(&k, resp_len);
	s = k.cnxt;
	ka_request_switches(&k, req_dark, 1, 0x7a000000);
	ka_expect(&k, 2, 0, &want);
	ka_state(&k, &e);
	ck_assert_msg(e.leg_isn == s - 1, "leg_isn %#x, want %#x", e.leg_isn, s - 1);
	ck_assert_int_eq(e.subset, kt_subset_idx(KT_SVC, 1));
	expect_requests(0, 1, 0);
	expect_requests(1, 1, 1);
	/* The new backend's first byte is the one after backend 1's last. */
	ka_exchange_done(&k, resp_other);
	ka_exchange_done(&k, resp_len);
}
END_TEST

/* Three backends in turn: each leg's offsets right, the client's seq unchanged throughout. */
START_TEST(three_legs_translate_each)
{
	struct kanary_ho_stats want = { .switches = 2 };
	struct ka k;

	per_request_service();
	k = ka_open(1, req_plain, 0);
	ka_exchange_done(&k, resp_len);
	ka_request_switches(&k, req_dark, 1, 0x11000000);
	ka_exchange_done(&k, resp_other);
	ka_request_switches(&k, req_blue, 2, 0xfffffff0);	/* its seq wraps */
	ka_exchange_done(&k, resp_len);
	ka_exchange_done(&k, resp_chunk_done);
	ka_expect(&k, 3, -1, &want);
	expect_requests(0, 1, 0);
	expect_requests(1, 1, 1);
	expect_requests(2, 1, 1);
	/* Each exchange under the subset that answered; the last response answered nothing. */
	expect_http(0, 1, 0, 0, 200, 1);
	expect_http(1, 1, 0, 0, 404, 1);
	expect_http(2, 1, 0, 0, 200, 1);
}
END_TEST

/*
 * A segment of a leg left behind (sent before its RST, arriving late) is
 * not translated into the client's connection: the leg's reverse entry
 * went with the switch (kept, each switch would leave one in the
 * conntrack LRU), so it passes as any flow kanary does not know, from the
 * pod's own address, which no client socket takes.
 */
START_TEST(old_leg_late_segment_not_translated)
{
	struct tcp4_spec s;
	struct kt_be be0;
	struct pkt in, out;
	struct ka k;
	__u32 b0;

	per_request_service();
	k = ka_open(1, req_plain, 0);
	be0 = k.c.be;
	b0 = k.bnxt;
	ka_exchange_done(&k, resp_len);
	ka_request_switches(&k, req_dark, 1, 0x11000000);
	k.c.be = be0;
	s = hc_from_backend(&k.c, TF_ACK | TF_PSH, b0, k.cnxt, resp_len, strlen(resp_len));
	pkt_tcp4(&in, &s);
	pkt_swap_macs(&in);
	ck_verdict(kt_run_verdict(kt.prog_out, &in, &out), TC_ACT_OK, "late segment of the first leg");
	kt_expect_untouched(&in, &out);
}
END_TEST

/*
 * dark -> plain -> dark: the third leg is the first's tuple again (s1 has
 * one pod).  A late segment of the first leg must not pass as the third's.
 */
START_TEST(leg_back_to_same_backend_drops_old_leg_segment)
{
	struct ka k;
	struct tcp4_spec s;
	struct pkt out;
	__u32 b0;

	per_request_service();
	k = ka_open(1, req_dark, 1);
	b0 = k.bnxt;
	ka_exchange_done(&k, resp_len);
	ka_request_switches(&k, req_plain, 0, 0x22000000);
	ka_exchange_done(&k, resp_other);
	ka_request_switches(&k, req_dark, 1, 0x33000000);
	ka_exchange_done(&k, resp_len);
	s = hc_from_backend(&k.c, TF_ACK | TF_PSH, b0, k.cnxt, resp_len, strlen(resp_len));
	ck_verdict(hc_egress(&s, &out), TC_ACT_SHOT, "late segment of the first leg, same tuple");
}
END_TEST

/* ---- what stays ---- */

START_TEST(request_to_current_subset_stays)
{
	struct kanary_ho_stats none = { 0 };
	struct ka k;

	per_request_service();
	k = ka_open(1, req_plain, 0);
	ka_exchange_done(&k, resp_len);
	ka_request_stays(&k, req_plain);
	ka_exchange_done(&k, resp_len);
	ka_request_stays(&k, req_plain);
	ka_expect(&k, 1, 0, &none);
	expect_requests(0, 3, 0);
}
END_TEST

/*
 * The service deleted: a request that would have moved stays on the leg it
 * has (nothing to choose from), counted as draining, and moves again once
 * the service is made again.
 */
START_TEST(deleted_service_keeps_the_leg)
{
	struct kanary_ho_stats want = { .switches = 1 };
	__u64 before[KANARY_CNT__MAX], after[KANARY_CNT__MAX];
	struct ka k;

	per_request_service();
	k = ka_open(1, req_plain, 0);
	ka_exchange_done(&k, resp_len);
	kt_service_delete(KT_SVC);
	kt_counters(before);
	ka_request_stays(&k, req_dark);
	ka_exchange_done(&k, resp_len);
	kt_counters(after);
	ck_assert_uint_ge(after[KANARY_CNT_DRAINING] - before[KANARY_CNT_DRAINING], 2);
	per_request_service();
	ka_request_switches(&k, req_dark, 1, 0x7a000000);
	ka_expect(&k, 2, 0, &want);
}
END_TEST

START_TEST(pipelined_request_pins)
{
	struct kanary_ho_stats want = { .pinned[KANARY_HO_PIN_PIPELINED] = 1 };
	struct ka k;

	per_request_service();
	k = ka_open(1, req_plain, 0);
	ka_request_stays(&k, req_dark);		/* before the first response */
	ka_respond(&k, resp_len);
	ka_exchange_done(&k, resp_len);
	ka_request_stays(&k, req_dark);
	ka_exchange_done(&k, resp_len);
	ka_request_stays(&k, req_blue);
	ka_expect(&k, 1, KANARY_HO_PIN_PIPELINED, &want);
}
END_TEST

/*
 * The old backend answered a POST before its body arrived; the client
 * sends the body again collapsed with its next request (as Linux
 * retransmits).  The exchange is over: the request moves, the body's bytes
 * go nowhere, and the new leg starts at the request.
 */
START_TEST(retransmitted_tail_then_request_moves)
{
	struct kanary_ho_stats want = { .switches = 1 };
	struct ka k;

	per_request_service();
	k = ka_open(1, req_dark, 1);
	ka_exchange_done(&k, resp_len);
	ka_request_stays(&k, post_head);	/* the body is lost on its way */
	ka_exchange_done(&k, resp_other);
	ka_request_switches_after(&k, post_body, req_plain, 0, 0x44000000);
	ka_expect(&k, 2, 0, &want);
	expect_requests(0, 1, 0);
	expect_requests(1, 2, 2);
	ka_exchange_done(&k, resp_len);
	ka_request_stays(&k, req_plain);
}
END_TEST

/* The same retransmission before the old backend's response is over: it stays, and pins. */
START_TEST(retransmitted_tail_before_response_pins)
{
	struct kanary_ho_stats want = { .pinned[KANARY_HO_PIN_PIPELINED] = 1 };
	char seg[128];
	struct ka k;

	per_request_service();
	k = ka_open(1, req_dark, 1);
	ka_exchange_done(&k, resp_len);
	ka_request_stays(&k, post_head);
	snprintf(seg, sizeof(seg), "%s%s", post_body, req_plain);
	ka_request_stays(&k, seg);
	ka_expect(&k, 1, KANARY_HO_PIN_PIPELINED, &want);
}
END_TEST

/* Request 2 after a complete exchange, which pins the connection for why. */
static void second_request_pins(const char *req, __u8 why)
{
	struct kanary_ho_stats want = { 0 };
	struct ka k;

	per_request_service();
	k = ka_open(1, req_plain, 0);
	ka_exchange_done(&k, resp_len);
	ka_request_stays(&k, req);
	want.pinned[why] = 1;
	ka_expect(&k, -1, why, &want);
}

START_TEST(chunked_request_pins)
{
	second_request_pins(req_chunked, KANARY_HO_PIN_CHUNKED);
}
END_TEST

START_TEST(split_head_pins)
{
	second_request_pins(req_cut, KANARY_HO_PIN_HEAD_SPLIT);
}
END_TEST

START_TEST(http2_preface_pins)
{
	struct kanary_ho_stats want = { .pinned[KANARY_HO_PIN_HTTP2] = 1 };
	struct ka k;

	per_request_service();
	k = ka_open(1, h2_preface, 0);
	ka_expect(&k, -1, KANARY_HO_PIN_HTTP2, &want);
	expect_http(0, 0, 0, 1, 200, 0);
}
END_TEST

START_TEST(response_until_close_pins)
{
	struct kanary_ho_stats want = { .pinned[KANARY_HO_PIN_UNFRAMED] = 1 };
	struct ka k;

	per_request_service();
	k = ka_open(1, req_plain, 0);
	ka_exchange_done(&k, resp_until_close);
	ka_request_stays(&k, req_dark);
	ka_expect(&k, -1, KANARY_HO_PIN_UNFRAMED, &want);
}
END_TEST

START_TEST(chunked_response_complete_allows_switch)
{
	struct kanary_ho_stats want = { .switches = 2 };
	struct ka k;

	per_request_service();
	k = ka_open(1, req_plain, 0);
	ka_exchange_done(&k, resp_chunk_done);
	ka_request_switches(&k, req_dark, 1, 0x44000000);
	/* The last chunk alone in its own segment ends it too. */
	ka_respond(&k, resp_chunk_open);
	ka_exchange_done(&k, last_chunk);
	ka_request_switches(&k, req_plain, 0, 0x55000000);
	hc_expect_ho_stats(&want);
}
END_TEST

START_TEST(chunked_response_open_keeps_request)
{
	struct kanary_ho_stats want = { .pinned[KANARY_HO_PIN_PIPELINED] = 1 };
	struct ka k;

	per_request_service();
	k = ka_open(1, req_plain, 0);
	ka_exchange_done(&k, resp_chunk_open);
	ka_request_stays(&k, req_dark);
	ka_expect(&k, 1, -1, &want);
}
END_TEST

/* ---- a new leg refused ---- */

START_TEST(new_leg_refused_resets_client)
{
	struct kanary_ho_stats want = { .switches = 1, .switch_failed = 1, .backend_refused = 1 };
	struct tcp4_spec s;
	struct pkt out;
	struct ka k;
	size_t len = strlen(req_dark);

	per_request_service();
	k = ka_open(1, req_plain, 0);
	ka_exchange_done(&k, resp_len);
	s = hc_from_client(&k.c, TF_ACK | TF_PSH, k.cnxt, k.snxt, req_dark, len);
	ck_verdict(hc_ingress(&s, &out), TC_ACT_OK, "request that moves");
	k.c.be = hc_backend_of(&out, 1);
	s = hc_from_backend(&k.c, TF_RST | TF_ACK, 0, k.cnxt, NULL, 0);
	ck_verdict(hc_egress(&s, &out), TC_ACT_OK, "the new backend's RST to our SYN");
	hc_expect_rst_to_client(&k.c, &out, k.snxt, "RST for the refused leg");
	hc_expect_ho_stats(&want);
	hc_expect_forgotten(&k.c);
	expect_http(0, 1, 0, 0, 200, 1);
	expect_http(1, 1, 1, 0, 200, 0);
}
END_TEST

Suite *per_request_suite(void)
{
	Suite *s = suite_create("per_request");
	TCase *tc = kt_tcase("per_request", 120);

	tcase_add_checked_fixture(tc, kt_loopback_up, NULL);

	tcase_add_test(tc, second_segment_joins_stash);
	tcase_add_test(tc, keepalive_request_moves_to_rule_backend);
	tcase_add_test(tc, three_legs_translate_each);
	tcase_add_test(tc, old_leg_late_segment_not_translated);
	tcase_add_test(tc, leg_back_to_same_backend_drops_old_leg_segment);
	tcase_add_test(tc, request_to_current_subset_stays);
	tcase_add_test(tc, deleted_service_keeps_the_leg);
	tcase_add_test(tc, pipelined_request_pins);
	tcase_add_test(tc, retransmitted_tail_then_request_moves);
	tcase_add_test(tc, retransmitted_tail_before_response_pins);
	tcase_add_test(tc, chunked_request_pins);
	tcase_add_test(tc, split_head_pins);
	tcase_add_test(tc, http2_preface_pins);
	tcase_add_test(tc, response_until_close_pins);
	tcase_add_test(tc, chunked_response_complete_allows_switch);
	tcase_add_test(tc, chunked_response_open_keeps_request);
	tcase_add_test(tc, new_leg_refused_resets_client);
	suite_add_tcase(s, tc);
	return s;
}
