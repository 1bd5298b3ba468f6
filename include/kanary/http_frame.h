/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The HTTP/1.x framer: where a request or response head ends, and how the
 * message's body is framed (RFC 9112 section 6), so that the datapath knows
 * where each message of a keep-alive connection ends.  One source for BPF
 * (clang -target bpf, one bpf_loop step per byte) and userspace, under the
 * rules of http_match.h: no libc, no tables, no string constants (the names
 * it knows are 64-bit immediates compared by length, then byte by byte),
 * every loop bounded, every buffer index masked, state in a map value.
 *
 * Semantics (tests/unit/lib/test_http_frame.c checks each; the fuzz harness
 * holds an independent reference):
 * - Input: at most KANARY_HTTP_STASH (2048) bytes that start with a head.  A
 *   head that does not end within them is PARTIAL however long; there is no
 *   bound on header lines other than these bytes.
 * - Request line METHOD SP target SP HTTP/1.<digit> CRLF (METHOD a token,
 *   target visible ASCII); status line HTTP/1.<digit> SP 3DIGIT SP reason
 *   CRLF, status 100-599, reason possibly empty (its SP is not optional).
 * - Header lines as in http_match.h: CRLF only, name a token right before
 *   ':', value bytes SP, HTAB, VCHAR or obs-text.  Names case-insensitive.
 * - Responses: to a HEAD request, 1xx, 204 and 304 -> NONE; Transfer-Encoding
 *   whose final coding is chunked -> CHUNKED, other Transfer-Encoding ->
 *   UNTIL_CLOSE; else Content-Length -> LENGTH; else UNTIL_CLOSE.
 * - Requests: Transfer-Encoding with chunked final -> CHUNKED; else
 *   Content-Length -> LENGTH (also when 0); else NONE.
 * - Flags: HEAD_METHOD, CONNECT_METHOD (requests, method case-sensitive);
 *   CLOSE (a "close" element of any Connection line); EXPECT_CONTINUE (a
 *   "100-continue" element of an Expect line of a request); UPGRADE (an
 *   Upgrade line in a request, status 101 in a response); HTTP10 (the
 *   version is HTTP/1.0: not persistent unless keep-alive is asked for);
 *   HTTP2 (the bytes start with "PRI * HTTP/2.0", the HTTP/2 preface; the
 *   result is then INVALID).  List elements compare case-insensitively,
 *   trimmed of SP and HTAB.  Flags are final only when COMPLETE.
 * INVALID, besides a malformed line: anything two parsers could frame in two
 * ways, as a request smuggler would use it (RFC 9112 6.1, 6.3):
 * - a request with both Transfer-Encoding and Content-Length, or whose
 *   Transfer-Encoding does not end with chunked;
 * - chunked anywhere but last, or twice (it must be applied once, last);
 *   an empty Transfer-Encoding element, a coding not a token, a '"' in one;
 * - Transfer-Encoding in an HTTP/1.0 message (its framing is faulty);
 * - a Content-Length element empty or not all digits (after trimming SP and
 *   HTAB), longer than 12 digits, or differing from another ("5, 5" and two
 *   "5" lines are fine; "5, 6" is not).  Checked even where the body is NONE.
 * When not COMPLETE, body, head_len and body_len are 0.
 */
#ifndef KANARY_HTTP_FRAME_H
#define KANARY_HTTP_FRAME_H

#include "kanary/http_match.h"	/* byte classes, the stash size */

enum kanary_http_body {
	KANARY_BODY_NONE = 0,		/* no body */
	KANARY_BODY_LENGTH = 1,		/* body_len bytes follow the head */
	KANARY_BODY_CHUNKED = 2,	/* chunked transfer coding */
	KANARY_BODY_UNTIL_CLOSE = 3,	/* responses only: until the connection closes */
};

enum kanary_frame_result {
	KANARY_FRAME_INVALID = 0,	/* not an HTTP/1.x head, or malformed, or ambiguous framing */
	KANARY_FRAME_PARTIAL = 1,	/* well-formed so far, but the head does not end within the bytes */
	KANARY_FRAME_COMPLETE = 2,	/* head ends (blank line) within the bytes */
};

enum kanary_frame_flags {
	KANARY_FRAME_F_HEAD_METHOD = 1 << 0,	/* request: method is HEAD */
	KANARY_FRAME_F_CLOSE = 1 << 1,		/* Connection: close (token, case-insensitive, in a list) */
	KANARY_FRAME_F_EXPECT_CONTINUE = 1 << 2,	/* request: Expect: 100-continue */
	KANARY_FRAME_F_UPGRADE = 1 << 3,	/* request has Upgrade header / response status 101 */
	KANARY_FRAME_F_HTTP2 = 1 << 4,		/* the bytes start with the HTTP/2 preface "PRI * HTTP/2.0" */
	KANARY_FRAME_F_HTTP10 = 1 << 5,		/* the version is HTTP/1.0 */
	KANARY_FRAME_F_CONNECT_METHOD = 1 << 6,	/* request: method is CONNECT (a tunnel follows a 2xx) */
};

/* Where the scan is (internal). */
enum khf_phase {
	KHF_METHOD, KHF_TARGET, KHF_VERSION, KHF_SP_STATUS, KHF_STATUS, KHF_SP_REASON,
	KHF_REASON, KHF_LF, KHF_LINE, KHF_NAME, KHF_VALUE, KHF_END_LF, KHF_H2, KHF_DONE,
};

/* The header line being read (internal): the only ones that matter. */
enum khf_hdr { KHF_H_OTHER, KHF_H_CL, KHF_H_TE, KHF_H_CONN, KHF_H_EXPECT };

/* Where a list element of a value is (internal). */
enum khf_el { KHF_EL_BEFORE, KHF_EL_TOKEN, KHF_EL_AFTER, KHF_EL_PARAMS };

enum khf_seen {
	KHF_S_CL = 1 << 0,		/* a Content-Length element was read */
	KHF_S_TE = 1 << 1,		/* a Transfer-Encoding element was read */
	KHF_S_TE_LAST_CHUNKED = 1 << 2,	/* the last one is chunked */
	KHF_S_RESPONSE = 1 << 3,	/* the bytes are a response */
	KHF_S_HEAD_REQUEST = 1 << 4,	/* the response answers a HEAD */
};

struct kanary_http_frame {
	__u8	result;		/* enum kanary_frame_result */
	__u8	body;		/* enum kanary_http_body, valid when COMPLETE */
	__u8	flags;		/* enum kanary_frame_flags */
	__u8	pad;
	__u16	status;		/* responses: the status code */
	__u16	head_len;	/* bytes of the head, blank line included, when COMPLETE */
	__u64	body_len;	/* KANARY_BODY_LENGTH: Content-Length */
	/* The scan (internal). */
	__u64	cl_val;		/* the first Content-Length element */
	__u64	cl_cur;		/* the element being read */
	__u16	len;		/* bytes to scan (<= KANARY_HTTP_STASH) */
	__u16	tok_off;	/* start of the method, or of the header name */
	__u16	el_off, el_end;	/* the list element being read, trimmed */
	__u8	phase;		/* enum khf_phase */
	__u8	idx;		/* bytes of the version or status read */
	__u8	hdr;		/* enum khf_hdr */
	__u8	el;		/* enum khf_el */
	__u8	cl_digits;	/* digits of cl_cur */
	__u8	seen;		/* enum khf_seen */
	__u8	chunked;	/* chunked elements read */
	__u8	pad2;
};

_Static_assert(sizeof(struct kanary_http_frame) == 48, "frame layout");

#define KHF_MASK	(KANARY_HTTP_STASH - 1)
#define KHF_CL_DIGITS	12

/* Eight bytes as one little-endian immediate: a name without .rodata. */
#define KHF_W(a, b, c, d, e, f, g, h) \
	((__u64)(a) | (__u64)(b) << 8 | (__u64)(c) << 16 | (__u64)(d) << 24 | \
	 (__u64)(e) << 32 | (__u64)(f) << 40 | (__u64)(g) << 48 | (__u64)(h) << 56)

/* Byte j (< 24) of the string w0 w1 w2. */
static __always_inline __u8 khf_wbyte(__u32 j, __u64 w0, __u64 w1, __u64 w2)
{
	__u64 w = j < 8 ? w0 : j < 16 ? w1 : w2;

	return (__u8)(w >> ((j & 7) * 8));
}

/*
 * The n bytes at buf[off] equal the string w0 w1 w2 (n <= 24), lowercased
 * first when fold.
 */
static __always_inline int khf_eq(const __u8 *buf, __u32 off, __u32 n, __u64 w0, __u64 w1,
				  __u64 w2, int fold)
{
	for (__u32 j = 0; j < 24; j++) {
		__u8 c;

		if (j >= n)
			break;
		c = buf[(off + j) & KHF_MASK];
		if (fold)
			c = khm_lower(c);
		if (c != khf_wbyte(j, w0, w1, w2))
			return 0;
	}
	return 1;
}

#define KHF_PREFACE_LEN	14
#define KHF_PREFACE0	KHF_W('P', 'R', 'I', ' ', '*', ' ', 'H', 'T')
#define KHF_PREFACE1	KHF_W('T', 'P', '/', '2', '.', '0', 0, 0)

static __always_inline void khf_begin(struct kanary_http_frame *f, __u32 len, int response,
				      int head_request)
{
	f->result = KANARY_FRAME_PARTIAL;
	f->body = KANARY_BODY_NONE;
	f->flags = 0;
	f->pad = 0;
	f->status = 0;
	f->head_len = 0;
	f->body_len = 0;
	f->cl_val = 0;
	f->cl_cur = 0;
	f->len = (__u16)(len > KANARY_HTTP_STASH ? KANARY_HTTP_STASH : len);
	f->tok_off = 0;
	f->el_off = 0;
	f->el_end = 0;
	f->phase = response ? KHF_VERSION : KHF_METHOD;
	f->idx = 0;
	f->hdr = KHF_H_OTHER;
	f->el = KHF_EL_BEFORE;
	f->cl_digits = 0;
	f->seen = (response ? KHF_S_RESPONSE : 0) | (head_request ? KHF_S_HEAD_REQUEST : 0);
	f->chunked = 0;
	f->pad2 = 0;
}

static __always_inline int khf_bad(struct kanary_http_frame *f)
{
	f->phase = KHF_DONE;
	f->result = KANARY_FRAME_INVALID;
	return 1;
}

/* The method ended at i: note HEAD and CONNECT. */
static __always_inline void khf_method(struct kanary_http_frame *f, const __u8 *buf, __u32 i)
{
	__u32 n = i - f->tok_off;

	if (n == 4 && khf_eq(buf, 0, 4, KHF_W('H', 'E', 'A', 'D', 0, 0, 0, 0), 0, 0, 0))
		f->flags |= KANARY_FRAME_F_HEAD_METHOD;
	if (n == 7 && khf_eq(buf, 0, 7, KHF_W('C', 'O', 'N', 'N', 'E', 'C', 'T', 0), 0, 0, 0))
		f->flags |= KANARY_FRAME_F_CONNECT_METHOD;
}

/* The header name ended at i (the ':'): which header the line is. */
static __always_inline void khf_name(struct kanary_http_frame *f, const __u8 *buf, __u32 i)
{
	__u32 n = i - f->tok_off, off = f->tok_off;

	f->hdr = KHF_H_OTHER;
	if (n == 14 && khf_eq(buf, off, 14, KHF_W('c', 'o', 'n', 't', 'e', 'n', 't', '-'),
			      KHF_W('l', 'e', 'n', 'g', 't', 'h', 0, 0), 0, 1))
		f->hdr = KHF_H_CL;
	else if (n == 17 && khf_eq(buf, off, 17, KHF_W('t', 'r', 'a', 'n', 's', 'f', 'e', 'r'),
				   KHF_W('-', 'e', 'n', 'c', 'o', 'd', 'i', 'n'),
				   KHF_W('g', 0, 0, 0, 0, 0, 0, 0), 1))
		f->hdr = KHF_H_TE;
	else if (n == 10 && khf_eq(buf, off, 10, KHF_W('c', 'o', 'n', 'n', 'e', 'c', 't', 'i'),
				   KHF_W('o', 'n', 0, 0, 0, 0, 0, 0), 0, 1))
		f->hdr = KHF_H_CONN;
	else if (n == 6 && !(f->seen & KHF_S_RESPONSE) &&
		 khf_eq(buf, off, 6, KHF_W('e', 'x', 'p', 'e', 'c', 't', 0, 0), 0, 0, 1))
		f->hdr = KHF_H_EXPECT;
	else if (n == 7 && !(f->seen & KHF_S_RESPONSE) &&
		 khf_eq(buf, off, 7, KHF_W('u', 'p', 'g', 'r', 'a', 'd', 'e', 0), 0, 0, 1))
		f->flags |= KANARY_FRAME_F_UPGRADE;
	f->el = KHF_EL_BEFORE;
}

/* A list element of the line's value ended; returns 1 when that is malformed. */
static __always_inline int khf_element(struct kanary_http_frame *f, const __u8 *buf)
{
	__u32 off = f->el_off, n = f->el_end - f->el_off;
	__u8 hdr = f->hdr;

	if (hdr == KHF_H_CL) {
		if (!(f->seen & KHF_S_CL)) {
			f->cl_val = f->cl_cur;
			f->seen |= KHF_S_CL;
		} else if (f->cl_cur != f->cl_val) {
			return 1;
		}
		f->cl_cur = 0;
		f->cl_digits = 0;
	} else if (hdr == KHF_H_TE) {
		f->seen = (f->seen | KHF_S_TE) & ~KHF_S_TE_LAST_CHUNKED;
		if (f->el != KHF_EL_PARAMS && n == 7 &&
		    khf_eq(buf, off, 7, KHF_W('c', 'h', 'u', 'n', 'k', 'e', 'd', 0), 0, 0, 1)) {
			f->seen |= KHF_S_TE_LAST_CHUNKED;
			if (f->chunked < 2)	/* twice is enough to refuse */
				f->chunked++;
		}
	} else if (hdr == KHF_H_CONN) {
		if (n == 5 && khf_eq(buf, off, 5, KHF_W('c', 'l', 'o', 's', 'e', 0, 0, 0), 0, 0, 1))
			f->flags |= KANARY_FRAME_F_CLOSE;
	} else if (hdr == KHF_H_EXPECT) {
		if (n == 12 && khf_eq(buf, off, 12, KHF_W('1', '0', '0', '-', 'c', 'o', 'n', 't'),
				      KHF_W('i', 'n', 'u', 'e', 0, 0, 0, 0), 0, 1))
			f->flags |= KANARY_FRAME_F_EXPECT_CONTINUE;
	}
	f->el = KHF_EL_BEFORE;
	return 0;
}

/* One byte of a header value. */
static __always_inline int khf_value(struct kanary_http_frame *f, const __u8 *buf, __u32 i,
				     __u8 c)
{
	__u8 hdr = f->hdr, strict = hdr == KHF_H_CL || hdr == KHF_H_TE;

	if (c == '\r' || c == ',') {
		if (f->el == KHF_EL_BEFORE) {
			if (strict)
				return khf_bad(f);	/* empty element, or no value */
		} else if (khf_element(f, buf)) {
			return khf_bad(f);
		}
		if (c == '\r')
			f->phase = KHF_LF;
		return 0;
	}
	if (c == ' ' || c == '\t') {
		if (f->el == KHF_EL_TOKEN)
			f->el = KHF_EL_AFTER;
		return 0;
	}
	if (!khm_vchar(c))
		return khf_bad(f);
	if (hdr == KHF_H_OTHER)
		return 0;
	if (hdr == KHF_H_TE && c == ';' && f->el != KHF_EL_BEFORE) {
		f->el = KHF_EL_PARAMS;
		return 0;
	}
	if (f->el == KHF_EL_PARAMS)
		return c == '"' ? khf_bad(f) : 0;
	if (f->el == KHF_EL_AFTER && strict)
		return khf_bad(f);	/* "5 5", "chunked x" */
	if (f->el == KHF_EL_BEFORE)
		f->el_off = (__u16)i;
	f->el = KHF_EL_TOKEN;
	f->el_end = (__u16)(i + 1);
	if (hdr == KHF_H_TE)
		return khm_tchar(c) ? 0 : khf_bad(f);
	if (hdr != KHF_H_CL)
		return 0;
	if (c < '0' || c > '9' || f->cl_digits >= KHF_CL_DIGITS)
		return khf_bad(f);
	f->cl_digits++;
	f->cl_cur = f->cl_cur * 10 + (c - '0');
	return 0;
}

/* The blank line ended at i: the body's framing, or INVALID. */
static __always_inline int khf_finish(struct kanary_http_frame *f, __u32 i)
{
	__u8 te = f->seen & KHF_S_TE, last = f->seen & KHF_S_TE_LAST_CHUNKED;
	__u8 cl = f->seen & KHF_S_CL;
	__u16 st = f->status;

	if (te && (f->flags & KANARY_FRAME_F_HTTP10))
		return khf_bad(f);
	if (f->chunked > 1 || (f->chunked == 1 && !last))
		return khf_bad(f);
	if (f->seen & KHF_S_RESPONSE) {
		if ((f->seen & KHF_S_HEAD_REQUEST) || st < 200 || st == 204 || st == 304)
			f->body = KANARY_BODY_NONE;
		else if (te)
			f->body = last ? KANARY_BODY_CHUNKED : KANARY_BODY_UNTIL_CLOSE;
		else if (cl)
			f->body = KANARY_BODY_LENGTH;
		else
			f->body = KANARY_BODY_UNTIL_CLOSE;
	} else {
		if (te && (cl || !last))
			return khf_bad(f);
		f->body = te ? KANARY_BODY_CHUNKED : cl ? KANARY_BODY_LENGTH : KANARY_BODY_NONE;
	}
	if (f->body == KANARY_BODY_LENGTH)
		f->body_len = f->cl_val;
	f->head_len = (__u16)(i + 1);
	f->result = KANARY_FRAME_COMPLETE;
	f->phase = KHF_DONE;
	return 1;
}

/* The version failed at i in a request: the HTTP/2 preface, or malformed. */
static __always_inline int khf_h2_or_bad(struct kanary_http_frame *f, const __u8 *buf, __u32 i)
{
	if (!(f->seen & KHF_S_RESPONSE) && i == KHF_PREFACE_LEN - 3 &&
	    khf_eq(buf, 0, KHF_PREFACE_LEN - 2, KHF_PREFACE0, KHF_PREFACE1, 0, 0)) {
		f->phase = KHF_H2;
		return 0;
	}
	return khf_bad(f);
}

/* "HTTP/1.<digit>", then CR (request) or SP (response). */
static __always_inline int khf_version(struct kanary_http_frame *f, const __u8 *buf, __u32 i,
				       __u8 c)
{
	if (f->idx < 7) {
		if (c != khm_version_byte(f->idx))
			return khf_h2_or_bad(f, buf, i);
	} else if (f->idx == 7) {
		if (c < '0' || c > '9')
			return khf_bad(f);
		if (c == '0')
			f->flags |= KANARY_FRAME_F_HTTP10;
	} else if (f->seen & KHF_S_RESPONSE) {
		if (c != ' ')
			return khf_bad(f);
		f->phase = KHF_STATUS;
		f->idx = 0;
		return 0;
	} else {
		if (c != '\r')
			return khf_bad(f);
		f->phase = KHF_LF;
		return 0;
	}
	f->idx++;
	return 0;
}

/* The status line after the version: 3DIGIT SP reason. */
static __always_inline int khf_status(struct kanary_http_frame *f, __u8 c)
{
	if (f->phase == KHF_STATUS) {
		if (c < '0' || c > '9')
			return khf_bad(f);
		f->status = (__u16)(f->status * 10 + (c - '0'));
		if (++f->idx < 3)
			return 0;
		if (f->status < 100 || f->status > 599)
			return khf_bad(f);
		if (f->status == 101)
			f->flags |= KANARY_FRAME_F_UPGRADE;
		f->phase = KHF_SP_REASON;
		return 0;
	}
	if (f->phase == KHF_SP_REASON) {
		if (c != ' ')
			return khf_bad(f);
		f->phase = KHF_REASON;
		return 0;
	}
	if (c == '\r') {
		f->phase = KHF_LF;
		return 0;
	}
	return c == ' ' || c == '\t' || khm_vchar(c) ? 0 : khf_bad(f);
}

/* The request line up to the version. */
static __always_inline int khf_request_line(struct kanary_http_frame *f, const __u8 *buf,
					    __u32 i, __u8 c)
{
	if (f->phase == KHF_METHOD) {
		if (c == ' ' && i > 0) {
			khf_method(f, buf, i);
			f->phase = KHF_TARGET;
			f->tok_off = (__u16)(i + 1);
			return 0;
		}
		return khm_tchar(c) ? 0 : khf_bad(f);
	}
	if (c == ' ') {
		if (i == f->tok_off)
			return khf_bad(f);	/* empty target */
		f->phase = KHF_VERSION;
		return 0;
	}
	return c > 0x20 && c < 0x7f ? 0 : khf_bad(f);
}

/*
 * Byte i of buf (i < f->len).  Returns 1 when the scan is over: the head
 * ended, or it is malformed.
 */
static __always_inline int khf_step(struct kanary_http_frame *f, const __u8 *buf, __u32 i)
{
	__u8 c = buf[i & KHF_MASK], ph = f->phase;

	if (ph == KHF_VALUE)
		return khf_value(f, buf, i, c);
	if (ph == KHF_NAME) {
		if (c == ':') {
			khf_name(f, buf, i);
			f->phase = KHF_VALUE;
			return 0;
		}
		return khm_tchar(c) ? 0 : khf_bad(f);
	}
	if (ph == KHF_LINE) {
		if (c == '\r') {
			f->phase = KHF_END_LF;
			return 0;
		}
		if (!khm_tchar(c))
			return khf_bad(f);	/* obs-fold, leading space, ':' ... */
		f->tok_off = (__u16)i;
		f->phase = KHF_NAME;
		return 0;
	}
	if (ph == KHF_LF) {
		if (c != '\n')
			return khf_bad(f);
		f->phase = KHF_LINE;
		f->hdr = KHF_H_OTHER;
		return 0;
	}
	if (ph == KHF_END_LF)
		return c == '\n' ? khf_finish(f, i) : khf_bad(f);
	if (ph == KHF_METHOD || ph == KHF_TARGET)
		return khf_request_line(f, buf, i, c);
	if (ph == KHF_VERSION)
		return khf_version(f, buf, i, c);
	if (ph == KHF_STATUS || ph == KHF_SP_REASON || ph == KHF_REASON)
		return khf_status(f, c);
	if (ph == KHF_H2) {
		if (c != khf_wbyte(i, KHF_PREFACE0, KHF_PREFACE1, 0))
			return khf_bad(f);
		if (i < KHF_PREFACE_LEN - 1)
			return 0;
		f->flags |= KANARY_FRAME_F_HTTP2;
		return khf_bad(f);
	}
	return 1;	/* KHF_DONE */
}

/* ---- the drivers: bpf_loop in BPF, a plain loop in userspace ---- */

#ifdef __bpf__
/* Needs <bpf/bpf_helpers.h> (bpf_loop) included before this file. */
struct khf_loop_ctx {
	struct kanary_http_frame *f;
	const __u8 *buf;
};

static int khf_step_cb(__u32 i, void *ctx)
{
	struct khf_loop_ctx *x = ctx;

	return khf_step(x->f, x->buf, i);
}

static __always_inline void khf_run(struct kanary_http_frame *f, const __u8 *buf)
{
	struct khf_loop_ctx x = { .f = f, .buf = buf };

	bpf_loop(f->len, khf_step_cb, &x, 0);
}
#else
static inline void khf_run(struct kanary_http_frame *f, const __u8 *buf)
{
	for (__u32 i = 0; i < f->len; i++)
		if (khf_step(f, buf, i))
			break;
}
#endif

/*
 * Frames the request head at the start of buf: in BPF a map value of at
 * least KANARY_HTTP_STASH bytes, in userspace len bytes; len is clamped to
 * KANARY_HTTP_STASH.  f lives in a map value in BPF.
 */
static __always_inline void kanary_http_frame_request(struct kanary_http_frame *f,
						      const __u8 *buf, __u32 len)
{
	khf_begin(f, len, 0, 0);
	khf_run(f, buf);
}

/* The same for a response; head_request: the request it answers was a HEAD. */
static __always_inline void kanary_http_frame_response(struct kanary_http_frame *f,
						       const __u8 *buf, __u32 len,
						       int head_request)
{
	khf_begin(f, len, 1, head_request);
	khf_run(f, buf);
}

#endif /* KANARY_HTTP_FRAME_H */
