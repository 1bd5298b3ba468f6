// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bin/kanary_mirror_unit: the relay's reassembly (user/mirror/reasm.c) and
 * framing (http.c) on hand-made ring events: every request handed on once
 * and exact, or dropped under the right reason; retransmitted, overlapping,
 * early and late bytes; out-of-order runs and holes; the limits; the Host rewrite.  The relay's
 * counting is replaced here by a recorder of the drops.
 */
#include <stdlib.h>
#include <string.h>
#include <check.h>
#include "relay.h"

#define SVC	7
#define SUBSETS	0x02

/* What reassembly handed on and dropped. */
static int n_done, drops[KANARY_MIRROR_DROP__MAX];
static uint8_t last[1 << 16];
static size_t last_len;

void stats_drop(uint32_t svc_id, uint8_t subsets, int why)
{
	ck_assert_uint_eq(svc_id, SVC);
	ck_assert_uint_eq(subsets, SUBSETS);
	drops[why]++;
}

static void on_done(uint32_t svc_id, const union kanary_addr *client, __be16 port,
		    uint8_t subsets, const uint8_t *req, size_t len)
{
	ck_assert_uint_eq(svc_id, SVC);
	ck_assert_uint_eq(client->w[3], 0x0200000a);
	ck_assert_uint_ge(port, 1);
	ck_assert_uint_eq(subsets, SUBSETS);
	ck_assert_uint_le(len, sizeof(last));
	memcpy(last, req, len);
	last_len = len;
	n_done++;
}

static const struct relay_limits lim = { .max_conns = 2, .max_request = 4096,
					 .max_bytes = 1 << 20, .max_sends = 8, .timeout_ms = 1000 };

static void setup(void)
{
	n_done = 0;
	memset(drops, 0, sizeof(drops));
	last_len = 0;
	reasm_init(&lim, on_done);
}

static void teardown(void)
{
	reasm_expire(~0ull >> 1);	/* forget what a test left */
}

/* One event of connection port: len bytes of data at seq. */
static void event(__u16 port, __u32 seq, bool start, const void *data, size_t len, uint64_t now)
{
	uint8_t buf[sizeof(struct kanary_mirror_event) + KANARY_MIRROR_CHUNK];
	struct kanary_mirror_event *ev = (void *)buf;

	ck_assert_uint_le(len, KANARY_MIRROR_CHUNK);
	memset(ev, 0, sizeof(*ev));
	ev->client.w[3] = 0x0200000a;
	ev->client_port = port;
	ev->svc_id = SVC;
	ev->subsets = SUBSETS;
	ev->flags = start ? KANARY_MIRROR_EV_START : 0;
	ev->seq = seq;
	ev->len = (__u32)len;
	memcpy(buf + sizeof(*ev), data, len);
	reasm_event(buf, sizeof(*ev) + len, now);
}

static int total_drops(void)
{
	int n = 0;

	for (int i = 0; i < KANARY_MIRROR_DROP__MAX; i++)
		n += drops[i];
	return n;
}

static const char post[] = "POST /p HTTP/1.1\r\nHost: web\r\nContent-Length: 10\r\n\r\n0123456789";
#define HEAD_LEN (sizeof(post) - 1 - 10)

static void expect_post(void)
{
	ck_assert_int_eq(n_done, 1);
	ck_assert_uint_eq(last_len, sizeof(post) - 1);
	ck_assert_int_eq(memcmp(last, post, last_len), 0);
}

START_TEST(in_order_once_and_exact)
{
	event(1, 1000, true, post, HEAD_LEN, 0);
	ck_assert_int_eq(n_done, 0);
	event(1, 1000 + HEAD_LEN, false, post + HEAD_LEN, 4, 0);
	event(1, 1000 + HEAD_LEN + 4, false, post + HEAD_LEN + 4, 6, 0);
	expect_post();
	/* After it, until the next START: ignored. */
	event(1, 1000 + sizeof(post) - 1, false, "GET / HTTP/1.1\r\n\r\n", 18, 0);
	ck_assert_int_eq(n_done, 1);
	ck_assert_int_eq(total_drops(), 0);
}
END_TEST

START_TEST(retransmissions_and_overlaps_once)
{
	event(1, 1000, true, post, HEAD_LEN, 0);
	event(1, 1000, false, post, HEAD_LEN, 0);			/* the head again */
	event(1, 1000 + 5, false, post + 5, 10, 0);			/* inside it */
	event(1, 1000 + HEAD_LEN - 3, false, post + HEAD_LEN - 3, 8, 0);	/* across its end */
	ck_assert_int_eq(n_done, 0);
	event(1, 1000 + HEAD_LEN + 5, false, post + HEAD_LEN + 5, 5, 0);
	expect_post();
	ck_assert_int_eq(total_drops(), 0);
}
END_TEST

START_TEST(bytes_before_the_start_skipped)
{
	char early[20 + sizeof(post) - 1];

	memset(early, 'Z', 20);
	memcpy(early + 20, post, sizeof(post) - 1);
	event(1, 1000, true, post, 10, 0);
	/* A retransmission starting 20 bytes before the request, with all of it. */
	event(1, 980, false, early, sizeof(early), 0);
	expect_post();
	/* Data of an earlier request alone: nothing. */
	event(2, 5000, true, post, 10, 0);
	event(2, 4000, false, "ZZZZ", 4, 0);
	ck_assert_int_eq(n_done, 1);
}
END_TEST

/* post's bytes [lo, hi) as one event of connection 1, its request starting at seq 1000. */
static void part(size_t lo, size_t hi, bool start)
{
	event(1, 1000 + (__u32)lo, start, post + lo, hi - lo, 0);
}

START_TEST(runs_past_holes_held_until_filled)
{
	/* As two CPUs copying one flow's segments at once leave them in the ring. */
	part(0, 10, true);
	part(40, sizeof(post) - 1, false);
	part(20, 30, false);
	part(25, 35, false);			/* overlaps the run before it */
	ck_assert_int_eq(n_done, 0);
	part(10, 20, false);			/* 35 .. 40 still missing */
	ck_assert_int_eq(n_done, 0);
	part(35, 40, false);
	expect_post();
	ck_assert_int_eq(total_drops(), 0);
}
END_TEST

START_TEST(bytes_before_their_start_held)
{
	part(30, sizeof(post) - 1, false);
	part(12, 20, false);			/* earlier still, and a hole after it */
	part(20, 30, false);
	ck_assert_int_eq(n_done + total_drops(), 0);
	part(0, 12, true);
	expect_post();
	ck_assert_int_eq(total_drops(), 0);
}
END_TEST

START_TEST(a_hole_never_filled_drops_the_request)
{
	part(0, 10, true);
	part(20, sizeof(post) - 1, false);
	/* The next request comes: this one's hole is for good. */
	event(1, 5000, true, post, sizeof(post) - 1, 0);
	ck_assert_int_eq(drops[KANARY_MIRROR_DROP_INCOMPLETE], 1);
	ck_assert_int_eq(n_done, 1);
	/* A hole that idles past the timeout. */
	event(2, 1000, true, post, 10, 0);
	event(2, 1020, false, post + 20, sizeof(post) - 1 - 20, 0);
	reasm_expire(lim.timeout_ms + 1);
	ck_assert_int_eq(drops[KANARY_MIRROR_DROP_INCOMPLETE], 2);
	event(2, 1010, false, post + 10, 10, lim.timeout_ms + 2);
	ck_assert_int_eq(n_done, 1);		/* nothing rebuilt from a forgotten request */
}
END_TEST

START_TEST(one_run_too_many_drops_the_request)
{
	static char big[HEAD_LEN + 1 + 100];

	memcpy(big, post, HEAD_LEN);
	memcpy(big + HEAD_LEN - 6, "100\r\n\r\n", 7);	/* Content-Length: 100 */
	memset(big + HEAD_LEN + 1, 'b', 100);
	event(1, 1000, true, big, HEAD_LEN + 1, 0);
	/* Nine one-byte runs, each past a hole. */
	for (int i = 0; i < 9; i++)
		event(1, 1000 + HEAD_LEN + 2 + 2 * i, false, big + HEAD_LEN + 2 + 2 * i, 1, 0);
	ck_assert_int_eq(drops[KANARY_MIRROR_DROP_INCOMPLETE], 1);
	ck_assert_int_eq(n_done, 0);
}
END_TEST

START_TEST(late_retransmission_counted_nowhere)
{
	part(0, sizeof(post) - 1, true);
	expect_post();
	part(10, 30, false);			/* after it was handed on */
	reasm_expire(lim.timeout_ms + 1);
	ck_assert_int_eq(total_drops(), 0);
	/* Nor does it spoil the next request, when that starts before it expires. */
	part(10, 30, false);
	event(1, 1000 + sizeof(post) - 1, true, post, sizeof(post) - 1, lim.timeout_ms + 2);
	ck_assert_int_eq(n_done, 2);
	ck_assert_int_eq(total_drops(), 0);
}
END_TEST

START_TEST(a_new_start_drops_the_unfinished_one)
{
	event(1, 1000, true, post, HEAD_LEN, 0);
	event(1, 3000, true, post, sizeof(post) - 1, 0);
	ck_assert_int_eq(drops[KANARY_MIRROR_DROP_INCOMPLETE], 1);
	expect_post();
}
END_TEST

START_TEST(pipelined_only_the_first)
{
	char two[2 * (sizeof(post) - 1)];

	memcpy(two, post, sizeof(post) - 1);
	memcpy(two + sizeof(post) - 1, post, sizeof(post) - 1);
	event(1, 1000, true, two, sizeof(two), 0);
	expect_post();
}
END_TEST

START_TEST(sequence_numbers_wrap)
{
	__u32 start = 0xffffffff - 20;

	event(1, start, true, post, 30, 0);
	event(1, start + 30, false, post + 30, sizeof(post) - 1 - 30, 0);
	expect_post();
}
END_TEST

/* A chunked body is followed to its last chunk, over events cut anywhere, trailers and all. */
START_TEST(chunked_request_whole_at_its_last_chunk)
{
	static const char chunked[] = "POST /c HTTP/1.1\r\nTransfer-Encoding: Chunked \r\n\r\n"
				      "5;ext=1\r\nhello\r\n10\r\n0123456789abcdef\r\n0\r\nX-T: 1\r\n\r\n";
	const size_t len = sizeof(chunked) - 1;

	for (size_t step = 1; step <= len; step += step < 8 ? 1 : 7) {
		n_done = 0;
		for (size_t off = 0; off < len; off += step)
			event(3, 500 + (__u32)off, off == 0, chunked + off,
			      off + step > len ? len - off : step, 0);
		ck_assert_msg(n_done == 1, "step %zu: %d requests", step, n_done);
		ck_assert_uint_eq(last_len, len);
		ck_assert_int_eq(memcmp(last, chunked, len), 0);
	}
	/* What follows the last chunk, until the next START, is not part of it. */
	n_done = 0;
	event(4, 1, true, chunked, len, 0);
	event(4, 1 + (__u32)len, false, "GET / HTTP/1.1\r\n\r\n", 18, 0);
	ck_assert_int_eq(n_done, 1);
	ck_assert_uint_eq(last_len, len);
	ck_assert_int_eq(total_drops(), 0);
}
END_TEST

/*
 * A chunked body's events retransmitted or out of order: an event that
 * adds nothing contiguous (a copy of bytes held, or bytes past a hole)
 * leaves no new bytes for the chunk parser, which must not take that as
 * the end of the stream (http-parser's EOF is a zero-length call).
 */
START_TEST(chunked_request_retransmitted_and_out_of_order)
{
	static const char chunked[] = "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
				      "5\r\nhello\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n";
	const __u32 len = sizeof(chunked) - 1, cut = 60;	/* in the body: its head is 48 */

	/* The head and part of the body, then the same bytes again. */
	event(5, 100, true, chunked, cut, 0);
	event(5, 100, false, chunked, cut, 0);
	event(5, 100 + 10, false, chunked + 10, 20, 0);
	ck_assert_int_eq(n_done + total_drops(), 0);
	event(5, 100 + cut, false, chunked + cut, len - cut, 0);
	ck_assert_int_eq(n_done, 1);
	ck_assert_uint_eq(last_len, len);
	ck_assert_int_eq(memcmp(last, chunked, len), 0);

	/* As two CPUs leave consecutive segments in the ring: the later one first. */
	n_done = 0;
	event(6, 900, true, chunked, cut, 0);
	event(6, 900 + cut + 10, false, chunked + cut + 10, len - cut - 10, 0);
	ck_assert_int_eq(n_done + total_drops(), 0);
	event(6, 900 + cut, false, chunked + cut, 10, 0);
	ck_assert_int_eq(n_done, 1);
	ck_assert_uint_eq(last_len, len);
	ck_assert_int_eq(memcmp(last, chunked, len), 0);
	ck_assert_int_eq(total_drops(), 0);
}
END_TEST

START_TEST(unframed_and_too_large_dropped)
{
	static const char gzip[] = "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nxx";
	static const char te_and_len[] = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
					 "Content-Length: 12\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
	static const char bad_chunk[] = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
	static const char two_lens[] = "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab";
	static const char huge[] = "POST / HTTP/1.1\r\nContent-Length: 5000\r\n\r\n";
	char head[KANARY_MIRROR_CHUNK];

	event(1, 1, true, gzip, sizeof(gzip) - 1, 0);
	event(1, 1000, true, two_lens, sizeof(two_lens) - 1, 0);
	event(1, 2000, true, te_and_len, sizeof(te_and_len) - 1, 0);
	event(1, 3000, true, bad_chunk, sizeof(bad_chunk) - 1, 0);
	ck_assert_int_eq(drops[KANARY_MIRROR_DROP_UNFRAMED], 4);
	event(1, 5000, true, huge, sizeof(huge) - 1, 0);
	ck_assert_int_eq(drops[KANARY_MIRROR_DROP_TOO_LARGE], 1);
	/* A head that never ends, past max_request. */
	memset(head, 'h', sizeof(head));
	memcpy(head, "GET / HTTP/1.1\r\nX: ", 19);
	for (__u32 i = 0; i < 5; i++)
		event(2, 100 + i * sizeof(head), i == 0, head, sizeof(head), 0);
	ck_assert_int_eq(drops[KANARY_MIRROR_DROP_TOO_LARGE], 2);
	ck_assert_int_eq(n_done, 0);
}
END_TEST

START_TEST(limits_and_timeout)
{
	event(1, 1, true, post, 10, 0);
	event(2, 1, true, post, 10, 0);
	event(3, 1, true, post, 10, 0);		/* max_conns is 2 */
	ck_assert_int_eq(drops[KANARY_MIRROR_DROP_BUSY], 1);
	reasm_expire(500);
	ck_assert_int_eq(drops[KANARY_MIRROR_DROP_INCOMPLETE], 0);
	event(1, 11, false, post + 10, 5, 900);
	reasm_expire(1500);			/* 2 idle since 0, 1 since 900 */
	ck_assert_int_eq(drops[KANARY_MIRROR_DROP_INCOMPLETE], 1);
	reasm_expire(2000);
	ck_assert_int_eq(drops[KANARY_MIRROR_DROP_INCOMPLETE], 2);
}
END_TEST

START_TEST(event_lengths_not_trusted)
{
	uint8_t buf[sizeof(struct kanary_mirror_event) + 10] = { 0 };
	struct kanary_mirror_event *ev = (void *)buf;

	ev->svc_id = SVC;
	ev->subsets = SUBSETS;
	ev->flags = KANARY_MIRROR_EV_START;
	ev->len = 11;			/* one more than it carries */
	reasm_event(buf, sizeof(buf), 0);
	reasm_event(buf, sizeof(*ev) - 1, 0);
	ck_assert_int_eq(n_done + total_drops(), 0);
	reasm_expire(5000);
	ck_assert_int_eq(total_drops(), 0);	/* nothing was begun */
}
END_TEST

static void expect_mirrored(const char *in, const char *want)
{
	size_t n;
	uint8_t *out = http_mirror_request((const uint8_t *)in, strlen(in), &n);

	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(n, strlen(want));
	ck_assert_msg(memcmp(out, want, n) == 0, "got '%.*s'", (int)n, out);
	free(out);
}

START_TEST(host_gets_shadow)
{
	expect_mirrored("GET / HTTP/1.1\r\nHost: web\r\nA: b\r\n\r\n",
		      "GET / HTTP/1.1\r\nHost: web-shadow\r\nA: b\r\n\r\n");
	expect_mirrored("GET / HTTP/1.1\r\nX-Host: no\r\nhOsT:web:8080  \r\n\r\nbody Host: x",
		      "GET / HTTP/1.1\r\nX-Host: no\r\nhOsT:web:8080-shadow  \r\n\r\nbody Host: x");
	expect_mirrored("GET / HTTP/1.0\r\nA: b\r\n\r\n", "GET / HTTP/1.0\r\nA: b\r\n\r\n");
	/* Only the first Host (a second one is the mirror's to refuse, as the live pod's). */
	expect_mirrored("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
			"GET / HTTP/1.1\r\nHost: a-shadow\r\nHost: b\r\n\r\n");
}
END_TEST

START_TEST(hop_by_hop_headers_left_out)
{
	expect_mirrored("POST /p HTTP/1.1\r\nConnection: close\r\nHost: web\r\n"
			"Content-Length: 4\r\nkeep-alive: timeout=5\r\nX-Connection: kept\r\n"
			"Upgrade: h2c\r\nTE: trailers\r\nProxy-Connection: close\r\n\r\nbody",
			"POST /p HTTP/1.1\r\nHost: web-shadow\r\nContent-Length: 4\r\n"
			"X-Connection: kept\r\n\r\nbody");
	expect_mirrored("GET / HTTP/1.1\r\nconnection:keep-alive\r\n\r\n", "GET / HTTP/1.1\r\n\r\n");
}
END_TEST

Suite *pair_suite(void);	/* test_pair.c */
Suite *answer_suite(void);	/* test_answer.c */
Suite *send_suite(void);	/* test_send.c */

int main(void)
{
	Suite *s = suite_create("mirror_relay");
	TCase *tc = tcase_create("mirror_relay");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, in_order_once_and_exact);
	tcase_add_test(tc, retransmissions_and_overlaps_once);
	tcase_add_test(tc, bytes_before_the_start_skipped);
	tcase_add_test(tc, runs_past_holes_held_until_filled);
	tcase_add_test(tc, bytes_before_their_start_held);
	tcase_add_test(tc, a_hole_never_filled_drops_the_request);
	tcase_add_test(tc, one_run_too_many_drops_the_request);
	tcase_add_test(tc, late_retransmission_counted_nowhere);
	tcase_add_test(tc, a_new_start_drops_the_unfinished_one);
	tcase_add_test(tc, pipelined_only_the_first);
	tcase_add_test(tc, sequence_numbers_wrap);
	tcase_add_test(tc, chunked_request_whole_at_its_last_chunk);
	tcase_add_test(tc, chunked_request_retransmitted_and_out_of_order);
	tcase_add_test(tc, unframed_and_too_large_dropped);
	tcase_add_test(tc, limits_and_timeout);
	tcase_add_test(tc, event_lengths_not_trusted);
	tcase_add_test(tc, host_gets_shadow);
	tcase_add_test(tc, hop_by_hop_headers_left_out);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_add_suite(sr, pair_suite());
	srunner_add_suite(sr, answer_suite());
	srunner_add_suite(sr, send_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
