// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A mirror's answer framed (user/mirror/answer.c): where it ends, fed
 * whole and byte by byte, so the connection can carry the next request;
 * when it cannot (Connection: close, read until close, bytes past the end,
 * a body too long to drain); interim 100s passed over; HEAD answers with
 * a Content-Length but no body; garbage and answers cut short.
 */
#include <stdio.h>
#include <string.h>
#include <check.h>
#include "relay.h"

/* Feeds s to a fresh answer in pieces of step bytes (0: whole); the last result. */
static enum answer_result feed(struct answer *a, const char *s, size_t step, bool head)
{
	size_t len = strlen(s), off = 0;
	enum answer_result r = ANSWER_MORE;

	answer_init(a, head);
	while (off < len && r == ANSWER_MORE) {
		size_t n = step && len - off > step ? step : len - off;

		r = answer_feed(a, (const uint8_t *)s + off, n);
		off += n;
	}
	return r;
}

/* s, whole and byte by byte, ends as want with status. */
static void expect_answer(const char *s, bool head, enum answer_result want, int status)
{
	struct answer a;

	for (size_t step = 0; step <= 1; step++) {
		enum answer_result r = feed(&a, s, step, head);

		ck_assert_msg(r == want, "step %zu: result %d, want %d for %s", step, r, want, s);
		ck_assert_int_eq(a.status, status);
	}
}

START_TEST(framed_answers_reuse_the_connection)
{
	expect_answer("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false, ANSWER_REUSE, 200);
	expect_answer("HTTP/1.1 204 No Content\r\n\r\n", false, ANSWER_REUSE, 204);
	expect_answer("HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n", false,
		      ANSWER_REUSE, 304);
	expect_answer("HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n", false,
		      ANSWER_REUSE, 204);
	expect_answer("HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n"
		      "3\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nTrailer: x\r\n\r\n",
		      false, ANSWER_REUSE, 500);
	expect_answer("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
		      false, ANSWER_REUSE, 200);
}
END_TEST

START_TEST(a_head_answer_has_no_body)
{
	expect_answer("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", true, ANSWER_REUSE, 200);
	/* Not a HEAD: the same head waits for its 1234 bytes. */
	expect_answer("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", false, ANSWER_MORE, 200);
}
END_TEST

START_TEST(interim_answers_passed_over)
{
	expect_answer("HTTP/1.1 100 Continue\r\n\r\n", false, ANSWER_MORE, 0);
	expect_answer("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
		      false, ANSWER_REUSE, 201);
}
END_TEST

START_TEST(answers_that_end_the_connection)
{
	struct answer a;

	expect_answer("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", false,
		      ANSWER_CLOSE, 200);
	expect_answer("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", false, ANSWER_CLOSE, 200);
	/*
	 * Bytes past the end in the same read: an answer nobody asked for.
	 * (Read apart, they come while the connection is idle: send.c closes it.)
	 */
	ck_assert_int_eq(feed(&a, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n",
			      0, false), ANSWER_CLOSE);
	expect_answer("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n", false, ANSWER_CLOSE,
		      101);
	/* Read until close: ends at the pod's FIN. */
	ck_assert_int_eq(feed(&a, "HTTP/1.1 200 OK\r\n\r\nsome body", 0, false), ANSWER_MORE);
	ck_assert_int_eq(answer_eof(&a), ANSWER_CLOSE);
	ck_assert_int_eq(a.status, 200);
}
END_TEST

START_TEST(a_long_body_is_not_drained)
{
	static char big[300 << 10];
	struct answer a;
	int n = snprintf(big, sizeof(big), "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n",
			 (int)sizeof(big));

	memset(big + n, 'x', sizeof(big) - (size_t)n - 1);
	ck_assert_int_eq(feed(&a, big, 4096, false), ANSWER_CLOSE);
	ck_assert_int_eq(a.status, 200);
	ck_assert_uint_lt(a.body, sizeof(big));
}
END_TEST

START_TEST(garbage_and_answers_cut_short)
{
	struct answer a;

	expect_answer("SSH-2.0-OpenSSH_9.2\r\n", false, ANSWER_BAD, 0);
	expect_answer("HTTP/1.1 2x0 OK\r\n\r\n", false, ANSWER_BAD, 0);
	ck_assert_int_eq(feed(&a, "HTTP/1.1 200 O", 0, false), ANSWER_MORE);
	ck_assert_int_eq(answer_eof(&a), ANSWER_BAD);
	/* Its head read, the body cut short: counted by its status. */
	ck_assert_int_eq(feed(&a, "HTTP/1.1 503 No\r\nContent-Length: 9\r\n\r\nabc", 0, false),
			 ANSWER_MORE);
	ck_assert_int_eq(answer_eof(&a), ANSWER_CLOSE);
	ck_assert_int_eq(a.status, 503);
}
END_TEST

Suite *answer_suite(void)
{
	Suite *s = suite_create("mirror_answer");
	TCase *tc = tcase_create("mirror_answer");

	tcase_add_test(tc, framed_answers_reuse_the_connection);
	tcase_add_test(tc, a_head_answer_has_no_body);
	tcase_add_test(tc, interim_answers_passed_over);
	tcase_add_test(tc, answers_that_end_the_connection);
	tcase_add_test(tc, a_long_body_is_not_drained);
	tcase_add_test(tc, garbage_and_answers_cut_short);
	suite_add_tcase(s, tc);
	return s;
}
