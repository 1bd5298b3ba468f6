// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * HTTP accounting on the canary path (bpf/lib/exchange.h) on crafted
 * segments: each exchange of a keep-alive connection once, by status code,
 * with a latency; retransmissions, body bytes, interim responses and
 * pipelined requests not counted again; a connection that is not HTTP/1.x
 * counted as such; a request left without a response counted as that.
 * The rule path's accounting is in test_per_request.c.
 */
#include <string.h>
#include <bpf/bpf.h>
#include "fixture.h"
#include "canary_conv.h"
#include "suites.h"

static const char get_a[] = "GET /a HTTP/1.1\r\nHost: web\r\n\r\n";
static const char get_b[] = "GET /b HTTP/1.1\r\nHost: web\r\n\r\n";
static const char post_head[] = "POST /p HTTP/1.1\r\nHost: web\r\nContent-Length: 15\r\n\r\n";
static const char body_like_get[] = "GET / HTTP/1.1\n";	/* 15 bytes of body that look like a request */
static const char ok_200[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
static const char nf_404[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
static const char su_503[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n";

static __u32 svc_id;

/* The test service: one subset, one backend. */
static void http_service(void)
{
	static const __u32 w[] = { 100000 };
	static const int nb[] = { 1 };

	svc_id = kt_service_create(KT_SVC, KT_VIP, KT_VPORT, 1, w, nb);
}

/* Connection i (canary_conv.h); connection 0, opened first, makes the service. */
static struct conv conv_open(unsigned i)
{
	if (i == 0)
		http_service();
	return conv_connect(i);
}

static struct kanary_http_stats http_of(int subset)
{
	struct kanary_http_stats st;
	struct kanary_err e = { 0 };

	ck_assert_msg(kanary_http_stats_read(&kt.maps, svc_id, kt_subset_idx(KT_SVC, subset),
					     &st, &e) == 0, "kanary_http_stats_read: %s", e.msg);
	return st;
}

/* The code's slot, found through the library's names so both sides agree. */
static __u64 code_count(const struct kanary_http_stats *st, const char *code)
{
	char name[KANARY_HTTP_SLOT_NAME_LEN];

	for (int s = 0; s < KANARY_HTTP_SLOTS; s++)
		if (kanary_http_slot_name(s, name) == 0 && !strcmp(name, code))
			return st->codes[s];
	ck_abort_msg("no slot named %s", code);
	return 0;
}

static __u64 latency_count(const struct kanary_http_stats *st)
{
	__u64 n = 0;

	for (int b = 0; b < KANARY_HTTP_BUCKETS; b++)
		n += st->latency[b];
	return n;
}

/*
 * requests exchanges, of which no_response unanswered, other_conns not
 * HTTP; every answered one with a latency.
 */
static void expect_http(const struct kanary_http_stats *st, __u64 requests, __u64 no_response,
			__u64 other_conns)
{
	ck_assert_msg(st->requests == requests, "%llu requests, want %llu",
		      (unsigned long long)st->requests, (unsigned long long)requests);
	ck_assert_msg(st->no_response == no_response, "%llu without response, want %llu",
		      (unsigned long long)st->no_response, (unsigned long long)no_response);
	ck_assert_msg(st->other_conns == other_conns, "%llu other connections, want %llu",
		      (unsigned long long)st->other_conns, (unsigned long long)other_conns);
	ck_assert_msg(kanary_http_responses(st) == requests - no_response,
		      "%llu responses by code, want %llu",
		      (unsigned long long)kanary_http_responses(st),
		      (unsigned long long)(requests - no_response));
	ck_assert_msg(latency_count(st) == requests - no_response,
		      "%llu latencies, want one per response", (unsigned long long)latency_count(st));
}

START_TEST(keepalive_counts_every_exchange)
{
	struct conv c = conv_open(0);
	struct kanary_http_stats st;

	client(&c, get_a);
	backend(&c, ok_200);
	client(&c, get_b);
	backend(&c, nf_404);
	client(&c, get_a);
	backend(&c, su_503);
	st = http_of(0);
	expect_http(&st, 3, 0, 0);
	ck_assert_uint_eq(code_count(&st, "200"), 1);
	ck_assert_uint_eq(code_count(&st, "404"), 1);
	ck_assert_uint_eq(code_count(&st, "503"), 1);
	ck_assert_uint_eq(kanary_http_class_count(&st, 5), 1);
}
END_TEST

START_TEST(retransmissions_count_once)
{
	struct conv c = conv_open(0);
	__u32 req = c.cnxt, resp = c.snxt;
	struct kanary_http_stats st;

	client(&c, get_a);
	client_at(&c, req, TF_PSH, get_a, strlen(get_a));
	backend(&c, ok_200);
	backend_at(&c, resp, TF_PSH, ok_200, strlen(ok_200));
	/*
	 * The request sent again after its response (its ack was lost): not a
	 * new one, which the close would find unanswered.
	 */
	client_at(&c, req, TF_PSH, get_a, strlen(get_a));
	backend_at(&c, c.snxt, TF_FIN, NULL, 0);
	st = http_of(0);
	expect_http(&st, 1, 0, 0);
	ck_assert_uint_eq(code_count(&st, "200"), 1);
}
END_TEST

START_TEST(body_that_looks_like_a_request_is_body)
{
	struct conv c = conv_open(0);
	struct kanary_http_stats st;

	client(&c, post_head);
	client(&c, body_like_get);
	backend(&c, nf_404);
	st = http_of(0);
	expect_http(&st, 1, 0, 0);
	ck_assert_uint_eq(code_count(&st, "404"), 1);
}
END_TEST

/* The head is lost and its body comes first: the head, sent again, still starts the request. */
START_TEST(request_head_retransmitted_after_its_body)
{
	struct conv c = conv_open(0);
	__u32 head = c.cnxt;
	struct kanary_http_stats st;

	client_at(&c, head + strlen(post_head), TF_PSH, body_like_get, strlen(body_like_get));
	client_at(&c, head, 0, post_head, strlen(post_head));
	backend(&c, ok_200);
	st = http_of(0);
	expect_http(&st, 1, 0, 0);
	ck_assert_uint_eq(code_count(&st, "200"), 1);
}
END_TEST

/* The same on the way back: a response's head, lost, comes after its body. */
START_TEST(response_head_retransmitted_after_its_body)
{
	static const char head[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 15\r\n\r\n";
	struct conv c = conv_open(0);
	__u32 resp;
	struct kanary_http_stats st;

	client(&c, get_a);
	resp = c.snxt;
	backend_at(&c, resp + strlen(head), TF_PSH, body_like_get, strlen(body_like_get));
	backend_at(&c, resp, 0, head, strlen(head));
	st = http_of(0);
	expect_http(&st, 1, 0, 0);
	ck_assert_uint_eq(code_count(&st, "404"), 1);
}
END_TEST

START_TEST(interim_response_waits_for_the_final_one)
{
	static const char head[] = "POST /p HTTP/1.1\r\nHost: web\r\nExpect: 100-continue\r\n"
				   "Content-Length: 15\r\n\r\n";
	struct conv c = conv_open(0);
	struct kanary_http_stats st;

	client(&c, head);
	backend(&c, "HTTP/1.1 100 Continue\r\n\r\n");
	client(&c, body_like_get);
	backend(&c, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
	st = http_of(0);
	expect_http(&st, 1, 0, 0);
	ck_assert_uint_eq(code_count(&st, "201"), 1);
	ck_assert_uint_eq(code_count(&st, "1xx"), 0);
}
END_TEST

START_TEST(other_codes_fold_into_their_class)
{
	struct conv c = conv_open(0);
	struct kanary_http_stats st;

	client(&c, get_a);
	backend(&c, "HTTP/1.1 418 I'm a teapot\r\nContent-Length: 0\r\n\r\n");
	client(&c, get_a);
	backend(&c, "HTTP/1.1 599 Odd\r\nContent-Length: 0\r\n\r\n");
	st = http_of(0);
	expect_http(&st, 2, 0, 0);
	ck_assert_uint_eq(code_count(&st, "4xx"), 1);
	ck_assert_uint_eq(code_count(&st, "5xx"), 1);
	ck_assert_uint_eq(kanary_http_class_count(&st, 4), 1);
}
END_TEST

START_TEST(not_http_is_counted_as_other)
{
	static const __u8 tls_hello[16] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc,
					    0x03, 0x03, 'G', 'E', 'T', ' ', '/' };
	static const char h2[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	struct conv c = conv_open(0), d = conv_open(1);
	struct kanary_http_stats st;

	client_at(&c, c.cnxt, TF_PSH, tls_hello, sizeof(tls_hello));
	backend(&c, "HTTP/1.1 200 OK\r\n\r\n");	/* bytes that only look like a response */
	client(&c, get_a);
	backend(&c, ok_200);
	client(&d, h2);
	st = http_of(0);
	expect_http(&st, 0, 0, 2);
}
END_TEST

START_TEST(upgrade_ends_the_accounting)
{
	struct conv c = conv_open(0);
	struct kanary_http_stats st;

	client(&c, "GET /ws HTTP/1.1\r\nHost: web\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
	backend(&c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n");
	client(&c, get_a);	/* websocket bytes, whatever they look like */
	backend(&c, ok_200);
	st = http_of(0);
	expect_http(&st, 1, 0, 0);
	ck_assert_uint_eq(code_count(&st, "1xx"), 1);
}
END_TEST

START_TEST(pipelined_requests_count_as_one)
{
	struct conv c = conv_open(0);
	struct kanary_http_stats st;

	client(&c, get_a);
	client(&c, get_b);
	backend(&c, ok_200);
	backend(&c, ok_200);
	st = http_of(0);
	expect_http(&st, 1, 0, 0);
}
END_TEST

START_TEST(client_reset_while_waiting_is_no_response)
{
	struct conv c = conv_open(0);
	struct kanary_http_stats st;

	client(&c, get_a);
	backend(&c, ok_200);
	client(&c, get_b);
	client_at(&c, c.cnxt, TF_RST, NULL, 0);
	st = http_of(0);
	expect_http(&st, 2, 1, 0);
}
END_TEST

START_TEST(backend_close_while_waiting_is_no_response)
{
	struct conv c = conv_open(0), d = conv_open(1);
	struct kanary_http_stats st;

	client(&c, get_a);
	backend_at(&c, c.snxt, TF_FIN, NULL, 0);
	client(&d, get_a);
	backend_at(&d, d.snxt, TF_RST, NULL, 0);
	st = http_of(0);
	expect_http(&st, 2, 2, 0);
	/* Each counted once: the client's FIN and the backend's FIN again add nothing. */
	client_at(&c, c.cnxt, TF_FIN, NULL, 0);
	backend_at(&c, c.snxt - 1, TF_FIN, NULL, 0);
	st = http_of(0);
	expect_http(&st, 2, 2, 0);
}
END_TEST

START_TEST(close_after_response_is_not_lost)
{
	struct conv c = conv_open(0);
	struct kanary_http_stats st;

	client(&c, get_a);
	backend_at(&c, c.snxt, TF_PSH | TF_FIN, ok_200, strlen(ok_200));
	client_at(&c, c.cnxt, TF_FIN, NULL, 0);
	st = http_of(0);
	expect_http(&st, 1, 0, 0);
	ck_assert_uint_eq(code_count(&st, "200"), 1);
}
END_TEST

/* kanaryctl load http-stats off: the flag in kanary_glob_v1 stops the counting. */
START_TEST(off_counts_nothing)
{
	struct conv c = conv_open(0);
	struct kanary_globals g;
	struct kanary_http_stats st;
	__u32 zero = 0;

	ck_assert_int_eq(bpf_map_lookup_elem(kt.maps.globals, &zero, &g), 0);
	g.flags |= KANARY_GLOBAL_F_NO_HTTP;
	ck_assert_int_eq(bpf_map_update_elem(kt.maps.globals, &zero, &g, BPF_ANY), 0);
	client(&c, get_a);
	backend(&c, ok_200);
	st = http_of(0);
	expect_http(&st, 0, 0, 0);
	g.flags &= ~KANARY_GLOBAL_F_NO_HTTP;
	ck_assert_int_eq(bpf_map_update_elem(kt.maps.globals, &zero, &g, BPF_ANY), 0);
	client(&c, get_b);
	backend(&c, nf_404);
	st = http_of(0);
	expect_http(&st, 1, 0, 0);
}
END_TEST

/* Under BPF_PROG_TEST_RUN an exchange takes microseconds: the first buckets. */
START_TEST(latency_lands_in_a_bucket)
{
	struct conv c = conv_open(0);
	struct kanary_http_stats st;
	double p50;

	client(&c, get_a);
	backend(&c, ok_200);
	st = http_of(0);
	ck_assert_uint_eq(latency_count(&st), 1);
	ck_assert_msg(st.latency[KANARY_HTTP_BOUNDS] == 0, "a test run's exchange took over 60 s");
	p50 = kanary_http_quantile_us(&st, 0.5);
	ck_assert_msg(p50 >= 0 && p50 <= 60e6, "p50 %.1f us", p50);
	ck_assert_msg(st.latency_sum_us < 60000000ull, "latency sum %llu us",
		      (unsigned long long)st.latency_sum_us);
}
END_TEST

Suite *http_stats_suite(void)
{
	Suite *s = suite_create("http_stats");
	TCase *tc = kt_tcase("http_stats", 30);

	tcase_add_test(tc, keepalive_counts_every_exchange);
	tcase_add_test(tc, retransmissions_count_once);
	tcase_add_test(tc, body_that_looks_like_a_request_is_body);
	tcase_add_test(tc, request_head_retransmitted_after_its_body);
	tcase_add_test(tc, response_head_retransmitted_after_its_body);
	tcase_add_test(tc, interim_response_waits_for_the_final_one);
	tcase_add_test(tc, other_codes_fold_into_their_class);
	tcase_add_test(tc, not_http_is_counted_as_other);
	tcase_add_test(tc, upgrade_ends_the_accounting);
	tcase_add_test(tc, pipelined_requests_count_as_one);
	tcase_add_test(tc, client_reset_while_waiting_is_no_response);
	tcase_add_test(tc, backend_close_while_waiting_is_no_response);
	tcase_add_test(tc, close_after_response_is_not_lost);
	tcase_add_test(tc, latency_lands_in_a_bucket);
	tcase_add_test(tc, off_counts_nothing);
	suite_add_tcase(s, tc);
	return s;
}
