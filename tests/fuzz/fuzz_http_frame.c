// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer harness of the HTTP/1.x framer's userspace build
 * (include/kanary/http_frame.h).  The first input byte chooses request or
 * response (bit 0) and whether the response answers a HEAD (bit 1); the
 * rest is the bytes, copied to a buffer of their exact size (ASan).  Every
 * input must: not crash; answer the same twice; keep the invariants (a
 * COMPLETE head ends with its first CRLF CRLF, within the bytes; nothing
 * but result and flags unless COMPLETE; LENGTH at most 12 digits); agree
 * with the plain reference in ref_frame.c; and on shorter prefixes answer
 * PARTIAL before the head ends, the same answer after it, and never turn
 * back from INVALID.  Built with -fsanitize=fuzzer,address,undefined.
 */
#define _GNU_SOURCE	/* memmem */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kanary/http_frame.h"
#include "ref_frame.h"

_Static_assert(KANARY_HTTP_STASH == 2048, "the reference has the framer's stash");

static const char *what_mode(int response, int head_request)
{
	return !response ? "request" : head_request ? "response to HEAD" : "response";
}

#define DIE(...) do { \
	fprintf(stderr, "fuzz_http_frame (%s, %zu bytes): ", what_mode(response, head_request), n); \
	fprintf(stderr, __VA_ARGS__); \
	fprintf(stderr, "\n"); \
	abort(); \
} while (0)

static void frame(struct kanary_http_frame *f, const __u8 *b, size_t n, int response,
		  int head_request)
{
	if (response)
		kanary_http_frame_response(f, b, (__u32)n, head_request);
	else
		kanary_http_frame_request(f, b, (__u32)n);
}

static int same(const struct kanary_http_frame *a, const struct kanary_http_frame *b)
{
	return a->result == b->result && a->body == b->body && a->flags == b->flags &&
	       a->status == b->status && a->head_len == b->head_len && a->body_len == b->body_len;
}

static void invariants(const struct kanary_http_frame *f, const __u8 *b, size_t n,
		       int response, int head_request)
{
	size_t len = n > KANARY_HTTP_STASH ? KANARY_HTTP_STASH : n;

	if (f->result > KANARY_FRAME_COMPLETE || f->body > KANARY_BODY_UNTIL_CLOSE)
		DIE("result %u body %u out of range", f->result, f->body);
	if (f->result != KANARY_FRAME_COMPLETE) {
		if (f->body || f->head_len || f->body_len)
			DIE("not COMPLETE, but body %u head_len %u body_len %llu", f->body,
			    f->head_len, (unsigned long long)f->body_len);
		return;
	}
	if (f->head_len < 4 || f->head_len > len || memcmp(b + f->head_len - 4, "\r\n\r\n", 4))
		DIE("head_len %u does not end with CRLF CRLF within %zu bytes", f->head_len, len);
	if (memmem(b, f->head_len - 1, "\r\n\r\n", 4))
		DIE("head_len %u is not the first CRLF CRLF", f->head_len);
	if (f->body_len > 999999999999ull || (f->body != KANARY_BODY_LENGTH && f->body_len))
		DIE("body %u body_len %llu", f->body, (unsigned long long)f->body_len);
	if (!response && f->body == KANARY_BODY_UNTIL_CLOSE)
		DIE("a request read until close");
}

static void against_reference(const struct kanary_http_frame *f, const __u8 *b, size_t n,
			      int response, int head_request)
{
	struct ref_frame r;

	ref_frame(b, n, response, head_request, &r);
	if (r.h2 != !!(f->flags & KANARY_FRAME_F_HTTP2))
		DIE("HTTP/2 preface: reference %d, framer flags 0x%x", r.h2, f->flags);
	if (r.verdict == REF_FRAME_INVALID && f->result != KANARY_FRAME_INVALID)
		DIE("the reference finds it malformed; the framer says %u", f->result);
	if (r.verdict == REF_FRAME_UNKNOWN && f->result == KANARY_FRAME_COMPLETE)
		DIE("COMPLETE without a blank line, says the reference");
	if (r.verdict != REF_FRAME_COMPLETE)
		return;
	if (f->result != KANARY_FRAME_COMPLETE || f->head_len != r.head_len || f->body != r.body ||
	    f->body_len != r.body_len || f->flags != r.flags || f->status != r.status)
		DIE("framer: result %u head_len %u body %u body_len %llu flags 0x%x status %u; "
		    "reference: COMPLETE head_len %zu body %d body_len %llu flags 0x%x status %u",
		    f->result, f->head_len, f->body, (unsigned long long)f->body_len, f->flags,
		    f->status, r.head_len, r.body, r.body_len, r.flags, r.status);
}

/* Prefixes: PARTIAL before the head ends, the whole answer after; INVALID stays. */
static void prefixes(const struct kanary_http_frame *whole, const __u8 *b, size_t n,
		     int response, int head_request)
{
	static struct kanary_http_frame p;
	size_t step = n / 16 + 1;
	int was_invalid = 0;

	for (size_t k = 0; k < n; k += step) {
		frame(&p, b, k, response, head_request);
		if (was_invalid && p.result != KANARY_FRAME_INVALID)
			DIE("INVALID on a shorter prefix, %u on %zu bytes", p.result, k);
		was_invalid = p.result == KANARY_FRAME_INVALID;
		if (whole->result == KANARY_FRAME_COMPLETE && k < whole->head_len &&
		    p.result != KANARY_FRAME_PARTIAL)
			DIE("a prefix of %zu bytes of a good head is %u, not PARTIAL", k, p.result);
		if (p.result != KANARY_FRAME_PARTIAL && p.result != whole->result)
			DIE("%zu bytes: %u; all %zu bytes: %u", k, p.result, n, whole->result);
		if (p.result == KANARY_FRAME_COMPLETE && !same(&p, whole))
			DIE("COMPLETE on %zu bytes differs from the whole", k);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kanary_http_frame f, again;	/* reused: each run must start afresh */
	int response, head_request;
	size_t n;
	__u8 *b;

	if (size < 1)
		return 0;
	response = data[0] & 1;
	head_request = (data[0] >> 1) & 1;
	n = size - 1;
	b = malloc(n ? n : 1);
	if (!b)
		abort();
	memcpy(b, data + 1, n);
	frame(&f, b, n, response, head_request);
	frame(&again, b, n, response, head_request);
	if (!same(&f, &again))
		DIE("a second run on the same input answers differently");
	invariants(&f, b, n, response, head_request);
	against_reference(&f, b, n, response, head_request);
	prefixes(&f, b, n, response, head_request);
	free(b);
	return 0;
}
