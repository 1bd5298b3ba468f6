// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The HTTP/1.x framer (include/kanary/http_frame.h, userspace build) on the
 * shared table (tests/bpf/frame_cases.c), on every prefix of each of its
 * heads, and at the stash bound.  tests/bpf/test_http_frame.c holds the
 * BPF build to the same table.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include "frame_cases.h"

Suite *http_frame_suite(void);

static struct kanary_http_frame fr;

START_TEST(table_case)
{
	const struct kt_frame_case *c = &kt_frame_cases[_i];
	char msg[512];

	kt_frame_case_run(c, strlen(c->bytes), &fr);
	ck_assert_msg(kt_frame_case_agrees(c, &fr, msg, sizeof(msg)), "%s", msg);
}
END_TEST

/*
 * Every prefix of a case: PARTIAL until the head ends (or turns malformed),
 * then the same answer as the whole bytes, whatever follows.
 */
START_TEST(table_case_cut_short)
{
	const struct kt_frame_case *c = &kt_frame_cases[_i];
	struct kanary_http_frame whole;
	size_t n = strlen(c->bytes), k;
	int ended = 0;

	kt_frame_case_run(c, n, &whole);
	for (k = 0; k <= n; k++) {
		kt_frame_case_run(c, k, &fr);
		if (fr.result != KANARY_FRAME_PARTIAL)
			ended = 1;
		if (!ended) {
			ck_assert_msg(fr.body == 0 && fr.head_len == 0 && fr.body_len == 0,
				      "%s, %zu bytes: PARTIAL with a body or head length", c->name, k);
			continue;
		}
		ck_assert_msg(kt_frame_same_answer(&fr, &whole),
			      "%s, %zu of %zu bytes: result %u, the whole bytes %u", c->name, k, n,
			      fr.result, whole.result);
		if (fr.result == KANARY_FRAME_COMPLETE)
			ck_assert_msg(fr.head_len <= k, "%s: head_len %u past %zu bytes", c->name,
				      fr.head_len, k);
	}
	if (whole.result == KANARY_FRAME_COMPLETE) {
		kt_frame_case_run(c, whole.head_len - 1, &fr);
		ck_assert_msg(fr.result == KANARY_FRAME_PARTIAL, "%s: one byte short is not PARTIAL",
			      c->name);
	}
}
END_TEST

/* A head of h bytes: "GET / HTTP/1.1\r\n", X: lines of filler, the blank line. */
static size_t long_head(char *buf, size_t h)
{
	size_t n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\nX: ");

	while (n < h - 4)
		buf[n++] = 'a';
	memcpy(buf + n, "\r\n\r\n", 4);
	return h;
}

START_TEST(only_the_stash_counts)
{
	static char buf[KANARY_HTTP_STASH + 64];
	size_t n;

	n = long_head(buf, KANARY_HTTP_STASH);
	kanary_http_frame_request(&fr, (const __u8 *)buf, (__u32)n);
	ck_assert_uint_eq(fr.result, KANARY_FRAME_COMPLETE);
	ck_assert_uint_eq(fr.head_len, KANARY_HTTP_STASH);
	memset(buf + n, 'b', 64);	/* more bytes than the stash: looked at up to it */
	kanary_http_frame_request(&fr, (const __u8 *)buf, (__u32)sizeof(buf));
	ck_assert_uint_eq(fr.result, KANARY_FRAME_COMPLETE);
	ck_assert_uint_eq(fr.len, KANARY_HTTP_STASH);
	n = long_head(buf, KANARY_HTTP_STASH + 1);
	kanary_http_frame_request(&fr, (const __u8 *)buf, (__u32)n);
	ck_assert_uint_eq(fr.result, KANARY_FRAME_PARTIAL);
	ck_assert_uint_eq(fr.head_len, 0);
}
END_TEST

/* No bound on header lines but the stash; chunked many times is still twice. */
START_TEST(many_lines_and_elements)
{
	static char buf[KANARY_HTTP_STASH];
	size_t n = (size_t)sprintf(buf, "POST / HTTP/1.1\r\n");
	int i;

	for (i = 0; i < 400; i++)
		n += (size_t)sprintf(buf + n, "A:\r\n");
	n += (size_t)sprintf(buf + n, "Content-Length: 3\r\n\r\n");
	kanary_http_frame_request(&fr, (const __u8 *)buf, (__u32)n);
	ck_assert_uint_eq(fr.result, KANARY_FRAME_COMPLETE);
	ck_assert_uint_eq(fr.body, KANARY_BODY_LENGTH);
	ck_assert_uint_eq(fr.body_len, 3);

	n = (size_t)sprintf(buf, "POST / HTTP/1.1\r\nTransfer-Encoding: ");
	for (i = 0; i < 200; i++)
		n += (size_t)sprintf(buf + n, "chunked,");
	n += (size_t)sprintf(buf + n, "chunked\r\n\r\n");
	ck_assert_uint_lt(n, sizeof(buf));
	kanary_http_frame_request(&fr, (const __u8 *)buf, (__u32)n);
	ck_assert_uint_eq(fr.result, KANARY_FRAME_INVALID);
}
END_TEST

/* One state reused for a request, then a response: each run starts afresh. */
START_TEST(each_run_starts_afresh)
{
	static const char bad[] = "POST / HTTP/1.0\r\nConnection: close\r\nContent-Length: 9\r\n\r\n";
	static const char ok[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";

	memset(&fr, 0xa5, sizeof(fr));
	kanary_http_frame_request(&fr, (const __u8 *)bad, sizeof(bad) - 1);
	ck_assert_uint_eq(fr.result, KANARY_FRAME_COMPLETE);
	ck_assert_uint_eq(fr.flags, KANARY_FRAME_F_HTTP10 | KANARY_FRAME_F_CLOSE);
	kanary_http_frame_response(&fr, (const __u8 *)ok, sizeof(ok) - 1, 0);
	ck_assert_uint_eq(fr.result, KANARY_FRAME_COMPLETE);
	ck_assert_uint_eq(fr.body, KANARY_BODY_CHUNKED);
	ck_assert_uint_eq(fr.body_len, 0);
	ck_assert_uint_eq(fr.flags, 0);
	ck_assert_uint_eq(fr.status, 200);
	kanary_http_frame_response(&fr, (const __u8 *)ok, sizeof(ok) - 1, 1);
	ck_assert_uint_eq(fr.body, KANARY_BODY_NONE);
}
END_TEST

/* Every byte value in every kind of place: the classes are the ones documented. */
START_TEST(byte_classes_in_values)
{
	char buf[64];
	int c;

	for (c = 0; c < 256; c++) {
		int in_value = c == ' ' || c == '\t' || (c > 0x20 && c != 0x7f);
		int n;

		if (c == '\r')
			continue;
		n = snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nX: a%cb\r\n\r\n", c);
		kanary_http_frame_request(&fr, (const __u8 *)buf, (__u32)n);
		ck_assert_msg(fr.result == (in_value ? KANARY_FRAME_COMPLETE : KANARY_FRAME_INVALID),
			      "byte 0x%02x in a value: result %u", c, fr.result);
		n = snprintf(buf, sizeof(buf), "POST / HTTP/1.1\r\nContent-Length: 1%c\r\n\r\n", c);
		kanary_http_frame_request(&fr, (const __u8 *)buf, (__u32)n);
		ck_assert_msg(fr.result == (c == ' ' || c == '\t' || (c >= '0' && c <= '9') ?
					    KANARY_FRAME_COMPLETE : KANARY_FRAME_INVALID),
			      "byte 0x%02x in a Content-Length: result %u", c, fr.result);
	}
}
END_TEST

Suite *http_frame_suite(void)
{
	Suite *s = suite_create("http_frame");
	TCase *t = tcase_create("frame");

	tcase_add_loop_test(t, table_case, 0, (int)kt_frame_n_cases);
	tcase_add_loop_test(t, table_case_cut_short, 0, (int)kt_frame_n_cases);
	tcase_add_test(t, only_the_stash_counts);
	tcase_add_test(t, many_lines_and_elements);
	tcase_add_test(t, each_run_starts_afresh);
	tcase_add_test(t, byte_classes_in_values);
	suite_add_tcase(s, t);
	return s;
}
