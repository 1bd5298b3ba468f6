/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The dark-release matcher: which rule, if any, an HTTP/1.x request head
 * matches.  One source for the BPF datapath (clang -target bpf) and for
 * userspace (gcc or clang).  The steps use no libc, no function pointers
 * (only the BPF driver hands two callbacks to bpf_loop), no recursion, no
 * constant tables (clang 14 puts them in .rodata, whose BTF the kernel
 * rejects); every loop is bounded and every buffer index masked.
 *
 * It runs in three passes over state that lives in a map value, never on
 * the 512-byte stack:
 *   1. scan: one step per byte (bpf_loop in BPF) checks the request line
 *      and header block the way a strict RFC 9112 parser would, and notes
 *      the request-target and every header line whose name is as long as a
 *      condition's;
 *   2. pairs: one step per (condition, line) compares names and values;
 *   3. decide: condition bits, then the first rule whose match holds.
 *
 * Semantics (what an operator gets; tests/unit/lib/test_http_match.c checks
 * each, and the fuzz harness holds an independent reference to them):
 * - Input: the first bytes of the client's first data, at most
 *   KANARY_HTTP_STASH (2048); a request head, perhaps cut short, perhaps
 *   followed by a body.  Bytes after the blank line (the body) never match.
 * - The request line must be METHOD SP request-target SP HTTP/1.<digit>
 *   CRLF, METHOD a token.  Otherwise no rule matches (the weighted default).
 * - Lines end with CRLF only.  A bare LF or CR, a control byte, a space
 *   before a colon, an obs-fold line (one starting with SP or HTAB) or a
 *   line with no colon makes the request match no rule: a strict parser
 *   (Envoy) rejects such a head, and lenient ones disagree about it.
 * - A header name matches only at the start of a line, case-insensitively,
 *   over the whole name (so "x-my-header-2" is not "x-my-header").  SP and
 *   HTAB around the value are skipped.  Values compare case-sensitively.
 * - Repeated headers are joined with "," in order, as Envoy does for route
 *   matching (since CVE-2020-25017): "exact dark" does not match two
 *   "dark" lines ("dark,dark").  Prefix and presence hold on the joined value.
 * - Cut short, conservatively: a line without its CRLF within the bytes
 *   does not exist.  As a later line could repeat a header and change the
 *   joined value, an exact header condition holds only when the head is
 *   complete (blank line seen); prefix and presence hold from the complete
 *   lines seen.  A head of more than KANARY_HTTP_LINES_MAX header lines
 *   counts as cut short after the last of them.
 * - Path, as Istio maps `uri` onto Envoy: exact compares the path, i.e. the
 *   request-target up to '?' (the query excluded); prefix compares the
 *   start of the whole request-target (the query included).  Only an
 *   origin-form target ("/...") matches, and none a proxy would normalise
 *   or reject first: one with a '#', or whose path has a dot segment ("/./",
 *   "/../", also through %2e or '\') or a '%' not followed by two hex digits.
 */
#ifndef KANARY_HTTP_MATCH_H
#define KANARY_HTTP_MATCH_H

#include <linux/types.h>
#include "kanary/rules.h"

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#define KHM_MASK	(KANARY_HTTP_STASH - 1)
#define KHM_LMASK	(KANARY_HTTP_LINES_MAX - 1)
#define KHM_CMASK	(KANARY_CONDS_MAX - 1)
#define KHM_VMASK	(KANARY_COND_VALUE_MAX - 1)

/* How far the bytes hold a well-formed request head. */
enum kanary_http_head {
	KANARY_HTTP_INVALID = 0,	/* not an HTTP/1.x request, or malformed */
	KANARY_HTTP_PARTIAL_LINE = 1,	/* the request line does not end within the bytes */
	KANARY_HTTP_PARTIAL_HEAD = 2,	/* request line whole, head cut short */
	KANARY_HTTP_COMPLETE = 3,	/* ends with the blank line within the bytes */
};

/* Where the scan is (internal). */
enum khm_phase {
	KHM_METHOD, KHM_TARGET, KHM_VERSION, KHM_RL_LF, KHM_LINE, KHM_NAME, KHM_OWS,
	KHM_VALUE, KHM_LF, KHM_END_LF, KHM_DONE, KHM_BAD,
};

/* Dot-segment tracker over the decoded path (internal). */
enum khm_seg { KHM_SEG_OTHER, KHM_SEG_SLASH, KHM_SEG_DOT1, KHM_SEG_DOT2 };

enum khm_flags {
	KHM_F_QUERY = 1 << 0,		/* the target's '?' was seen */
	KHM_F_PATH_BAD = 1 << 1,	/* path conditions cannot match this target */
	KHM_F_OVERFLOW = 1 << 2,	/* more header lines than are matched */
};

/* A header line whose name is as long as some condition's. */
struct kanary_http_line {
	__u16	name_off, name_len;
	__u16	value_off, value_len;	/* without surrounding SP/HTAB */
};

/* All the matcher's state; lives in a map value in BPF. */
struct kanary_http_state {
	__u32	met;		/* result: bit c set when conds[c] holds */
	__u8	head;		/* result: enum kanary_http_head */
	__u8	phase;		/* enum khm_phase */
	__u8	flags;		/* enum khm_flags */
	__u8	ver_idx;	/* bytes of "HTTP/1.x" seen */
	__u8	seg;		/* enum khm_seg */
	__u8	pct;		/* 0, or 1..3 inside a %XX escape of the path */
	__u16	len;		/* bytes looked at (<= KANARY_HTTP_STASH) */
	__u16	target_off, target_len, path_len;
	__u16	tok_off;	/* start of the current header name */
	__u16	name_len, value_off, value_end;
	__u16	n_lines;	/* entries of lines[] */
	__u16	n_hdr;		/* header lines seen, matched or not */
	__u16	pad16;
	__u64	name_lens;	/* bit n-1: some header condition's name has n bytes */
	__u32	seen;		/* bit c: a line named like conds[c] was seen */
	__u32	failed;		/* bit c: the joined value cannot match conds[c] */
	__u32	done;		/* bit c: conds[c] already holds (prefix, path) */
	__u32	pad;
	__u8	pos[KANARY_CONDS_MAX];	/* bytes of conds[c].value matched so far */
	struct kanary_http_line lines[KANARY_HTTP_LINES_MAX];
};

_Static_assert(sizeof(struct kanary_http_line) == 8, "line layout");
_Static_assert(sizeof(struct kanary_http_state) == 56 + KANARY_CONDS_MAX +
	       8 * KANARY_HTTP_LINES_MAX, "state layout");

/* ---- byte classes, as arithmetic (a lookup table would land in .rodata) ---- */

/* RFC 9110 tchar: ALPHA DIGIT ! # $ % & ' * + - . ^ _ ` | ~ */
static __always_inline int khm_tchar(__u8 c)
{
	__u32 m;

	if (c < 0x20 || c > 0x7e)
		return 0;
	/* One bit per byte of 0x20-0x3f, 0x40-0x5f and 0x60-0x7f. */
	m = c < 0x40 ? 0x03ff6cfau : c < 0x60 ? 0xc7fffffeu : 0x57ffffffu;
	return (m >> (c & 31)) & 1;
}

/* field-vchar: VCHAR or obs-text */
static __always_inline int khm_vchar(__u8 c)
{
	return (c > 0x20 && c < 0x7f) || c >= 0x80;
}

static __always_inline int khm_hex(__u8 c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

static __always_inline __u8 khm_lower(__u8 c)
{
	return c >= 'A' && c <= 'Z' ? c | 0x20 : c;
}

/* Byte idx of "HTTP/1." without a string constant. */
static __always_inline __u8 khm_version_byte(__u32 idx)
{
	const __u64 v = 'H' | 'T' << 8 | 'T' << 16 | (__u64)'P' << 24 | (__u64)'/' << 32 |
			(__u64)'1' << 40 | (__u64)'.' << 48;

	return (__u8)(v >> ((idx & 7) * 8));
}

static __always_inline __u32 khm_vlen(const struct kanary_cond *cd)
{
	return cd->value_len > KANARY_COND_VALUE_MAX ? KANARY_COND_VALUE_MAX : cd->value_len;
}

/* ---- pass 1: the scan ---- */

static __always_inline void khm_begin(struct kanary_http_state *st,
				      const struct kanary_rules *r, __u32 len)
{
	__u64 lens = 0;
	__u32 n = r->n_conds;

	for (__u32 c = 0; c < KANARY_CONDS_MAX; c++) {
		const struct kanary_cond *cd = &r->conds[c];

		if (c >= n)
			break;
		if (cd->kind == KANARY_COND_HEADER && cd->name_len >= 1 &&
		    cd->name_len <= KANARY_COND_NAME_MAX)
			lens |= 1ull << (cd->name_len - 1);
	}
	st->met = 0;
	st->head = KANARY_HTTP_PARTIAL_LINE;
	st->phase = KHM_METHOD;
	st->flags = 0;
	st->ver_idx = 0;
	st->seg = KHM_SEG_OTHER;
	st->pct = 0;
	st->len = len > KANARY_HTTP_STASH ? KANARY_HTTP_STASH : len;
	st->target_off = 0;
	st->target_len = 0;
	st->path_len = 0;
	st->tok_off = 0;
	st->name_len = 0;
	st->value_off = 0;
	st->value_end = 0;
	st->n_lines = 0;
	st->n_hdr = 0;
	st->pad16 = 0;
	st->name_lens = lens;
	st->seen = 0;
	st->failed = 0;
	st->done = 0;
	st->pad = 0;
}

static __always_inline int khm_bad(struct kanary_http_state *st)
{
	st->phase = KHM_BAD;
	st->head = KANARY_HTTP_INVALID;
	return 1;
}

/* Feeds one decoded path byte to the dot-segment tracker. */
static __always_inline void khm_seg(struct kanary_http_state *st, __u8 c)
{
	if (c == '/' || c == '\\') {
		if (st->seg == KHM_SEG_DOT1 || st->seg == KHM_SEG_DOT2)
			st->flags |= KHM_F_PATH_BAD;
		st->seg = KHM_SEG_SLASH;
	} else if (c == '.') {
		st->seg = st->seg == KHM_SEG_SLASH ? KHM_SEG_DOT1 :
			  st->seg == KHM_SEG_DOT1 ? KHM_SEG_DOT2 : KHM_SEG_OTHER;
	} else {
		st->seg = KHM_SEG_OTHER;
	}
}

/* The path ends (at '?' or at the target's end). */
static __always_inline void khm_path_end(struct kanary_http_state *st, __u32 i)
{
	st->path_len = (__u16)(i - st->target_off);
	if (st->seg == KHM_SEG_DOT1 || st->seg == KHM_SEG_DOT2 || st->pct)
		st->flags |= KHM_F_PATH_BAD;
}

/* One byte of the path part of the target: escapes and dot segments. */
static __always_inline void khm_path_byte(struct kanary_http_state *st, __u8 c, int first)
{
	if (first && c != '/')
		st->flags |= KHM_F_PATH_BAD;	/* not origin-form */
	if (st->pct) {
		if (!khm_hex(c)) {
			st->flags |= KHM_F_PATH_BAD;
			st->pct = 0;
			return;
		}
		if (st->pct == 1) {
			st->pct = c == '2' ? 2 : 3;
			return;
		}
		khm_seg(st, st->pct == 2 && (c | 0x20) == 'e' ? '.' : 'x');
		st->pct = 0;
		return;
	}
	if (c == '%') {
		st->pct = 1;
		return;
	}
	khm_seg(st, c);
}

/* A header line ended with CRLF: keep it when a condition could name it. */
static __always_inline void khm_commit_line(struct kanary_http_state *st)
{
	struct kanary_http_line *ln;
	__u32 n = st->name_len;

	if (st->n_hdr >= KANARY_HTTP_LINES_MAX) {
		st->flags |= KHM_F_OVERFLOW;
		return;
	}
	st->n_hdr++;
	if (n == 0 || n > KANARY_COND_NAME_MAX || !((st->name_lens >> (n - 1)) & 1))
		return;
	ln = &st->lines[st->n_lines & KHM_LMASK];
	ln->name_off = st->tok_off;
	ln->name_len = (__u16)n;
	ln->value_off = st->value_off;
	ln->value_len = (__u16)(st->value_end - st->value_off);
	st->n_lines++;
}

/*
 * Pass 1, byte i of buf (i < st->len).  Returns 1 when the scan is over:
 * the head ended, or it is malformed.
 */
static __always_inline int khm_scan_step(struct kanary_http_state *st, const __u8 *buf,
					 __u32 i)
{
	__u8 c = buf[i & KHM_MASK];
	__u8 ph = st->phase;

	if (ph == KHM_METHOD) {
		if (c == ' ' && i > 0) {
			st->phase = KHM_TARGET;
			st->target_off = (__u16)(i + 1);
			return 0;
		}
		return khm_tchar(c) ? 0 : khm_bad(st);
	}
	if (ph == KHM_TARGET) {
		if (c == ' ') {
			if (i == st->target_off)
				return khm_bad(st);	/* empty target */
			st->target_len = (__u16)(i - st->target_off);
			if (!(st->flags & KHM_F_QUERY))
				khm_path_end(st, i);
			st->phase = KHM_VERSION;
			return 0;
		}
		if (c < 0x21 || c > 0x7e)
			return khm_bad(st);
		if (c == '#')
			st->flags |= KHM_F_PATH_BAD;	/* a fragment: proxies strip or reject it */
		if (st->flags & KHM_F_QUERY)
			return 0;
		if (c == '?') {
			st->flags |= KHM_F_QUERY;
			khm_path_end(st, i);
			if (i == st->target_off)
				st->flags |= KHM_F_PATH_BAD;
			return 0;
		}
		khm_path_byte(st, c, i == st->target_off);
		return 0;
	}
	if (ph == KHM_VERSION) {
		if (st->ver_idx < 7) {
			if (c != khm_version_byte(st->ver_idx))
				return khm_bad(st);
			st->ver_idx++;
			return 0;
		}
		if (st->ver_idx == 7) {
			if (c < '0' || c > '9')
				return khm_bad(st);
			st->ver_idx = 8;
			return 0;
		}
		if (c != '\r')
			return khm_bad(st);
		st->phase = KHM_RL_LF;
		return 0;
	}
	if (ph == KHM_RL_LF) {
		if (c != '\n')
			return khm_bad(st);
		st->phase = KHM_LINE;
		st->head = KANARY_HTTP_PARTIAL_HEAD;
		return 0;
	}
	if (ph == KHM_LINE) {
		if (c == '\r') {
			st->phase = KHM_END_LF;
			return 0;
		}
		if (!khm_tchar(c))
			return khm_bad(st);	/* obs-fold, leading space, ':' ... */
		st->tok_off = (__u16)i;
		st->phase = KHM_NAME;
		return 0;
	}
	if (ph == KHM_NAME) {
		if (c == ':') {
			st->name_len = (__u16)(i - st->tok_off);
			st->phase = KHM_OWS;
			return 0;
		}
		return khm_tchar(c) ? 0 : khm_bad(st);
	}
	if (ph == KHM_OWS || ph == KHM_VALUE) {
		if (c == ' ' || c == '\t')
			return 0;
		if (c == '\r') {
			if (ph == KHM_OWS) {
				st->value_off = (__u16)i;
				st->value_end = (__u16)i;
			}
			st->phase = KHM_LF;
			return 0;
		}
		if (!khm_vchar(c))
			return khm_bad(st);
		if (ph == KHM_OWS) {
			st->value_off = (__u16)i;
			st->phase = KHM_VALUE;
		}
		st->value_end = (__u16)(i + 1);
		return 0;
	}
	if (ph == KHM_LF) {
		if (c != '\n')
			return khm_bad(st);
		khm_commit_line(st);
		st->phase = KHM_LINE;
		return 0;
	}
	if (ph == KHM_END_LF) {
		if (c != '\n')
			return khm_bad(st);
		st->phase = KHM_DONE;
		if (!(st->flags & KHM_F_OVERFLOW))
			st->head = KANARY_HTTP_COMPLETE;
		return 1;
	}
	return 1;	/* KHM_DONE, KHM_BAD */
}

/* ---- pass 2: (condition, line) pairs ---- */

/* Steps of pass 2: every condition against the target (line 0) and each line. */
static __always_inline __u32 khm_pairs(const struct kanary_http_state *st,
				       const struct kanary_rules *r)
{
	__u32 n = r->n_conds > KANARY_CONDS_MAX ? KANARY_CONDS_MAX : r->n_conds;

	if (st->head < KANARY_HTTP_PARTIAL_HEAD)
		return 0;
	return n * ((__u32)st->n_lines + 1);
}

/* n bytes of buf at off equal value[from..from+n); n + from <= 64. */
static __always_inline int khm_bytes_eq(const __u8 *buf, __u32 off, const char *value,
					__u32 from, __u32 n)
{
	for (__u32 j = 0; j < KANARY_COND_VALUE_MAX; j++) {
		if (j >= n)
			break;
		if (buf[(off + j) & KHM_MASK] != (__u8)value[(from + j) & KHM_VMASK])
			return 0;
	}
	return 1;
}

/* The n-byte name at off, lowercased, equals name (stored lowercase). */
static __always_inline int khm_name_eq(const __u8 *buf, __u32 off, const char *name, __u32 n)
{
	for (__u32 j = 0; j < KANARY_COND_NAME_MAX; j++) {
		if (j >= n)
			break;
		if (khm_lower(buf[(off + j) & KHM_MASK]) != (__u8)name[j])
			return 0;
	}
	return 1;
}

static __always_inline void khm_path_cond(struct kanary_http_state *st,
					  const struct kanary_cond *cd, __u32 bit,
					  const __u8 *buf)
{
	__u32 tlen = khm_vlen(cd);

	if (st->flags & KHM_F_PATH_BAD)
		return;
	if (cd->op == KANARY_OP_EXACT) {
		if (st->path_len != tlen)
			return;
	} else if (cd->op == KANARY_OP_PREFIX) {
		if (st->target_len < tlen)
			return;
	} else {
		return;
	}
	if (khm_bytes_eq(buf, st->target_off, cd->value, 0, tlen))
		st->done |= bit;
}

/* One more line of the header cd names: extend the joined value with it. */
static __always_inline void khm_header_value(struct kanary_http_state *st,
					     const struct kanary_cond *cd, __u32 c,
					     const __u8 *buf, const struct kanary_http_line *ln)
{
	__u32 bit = 1u << c, tlen = khm_vlen(cd), pos = 0, n;

	if ((st->failed | st->done) & bit || cd->op == KANARY_OP_PRESENT) {
		st->seen |= bit;
		return;
	}
	if (st->seen & bit) {	/* a repeat: the joined value goes on with ',' */
		pos = st->pos[c & KHM_CMASK];
		if (pos >= tlen || cd->value[pos & KHM_VMASK] != ',') {
			st->failed |= bit;
			return;
		}
		pos++;
	}
	st->seen |= bit;
	n = ln->value_len;
	if (n > tlen - pos) {
		if (cd->op != KANARY_OP_PREFIX) {
			st->failed |= bit;
			return;
		}
		n = tlen - pos;
	}
	if (!khm_bytes_eq(buf, ln->value_off, cd->value, pos, n)) {
		st->failed |= bit;
		return;
	}
	pos += n;
	st->pos[c & KHM_CMASK] = (__u8)pos;
	if (cd->op == KANARY_OP_PREFIX && pos >= tlen)
		st->done |= bit;
}

/* Pass 2, step k: condition k / (n_lines + 1) against line k % (n_lines + 1). */
static __always_inline void khm_pair_step(struct kanary_http_state *st,
					  const struct kanary_rules *r, const __u8 *buf, __u32 k)
{
	__u32 nl = (__u32)st->n_lines + 1, c = k / nl, l = k - c * nl;
	const struct kanary_cond *cd = &r->conds[c & KHM_CMASK];
	const struct kanary_http_line *ln;

	if (c >= KANARY_CONDS_MAX)
		return;
	if (cd->kind == KANARY_COND_PATH) {
		if (l == 0)
			khm_path_cond(st, cd, 1u << (c & KHM_CMASK), buf);
		return;
	}
	if (cd->kind != KANARY_COND_HEADER || l == 0)
		return;
	ln = &st->lines[(l - 1) & KHM_LMASK];
	if (ln->name_len != cd->name_len || !khm_name_eq(buf, ln->name_off, cd->name, ln->name_len))
		return;
	khm_header_value(st, cd, c & KHM_CMASK, buf, ln);
}

/* ---- pass 3: decide ---- */

/* Returns the index of the first matching rule, or KANARY_RULE_NONE. */
static __always_inline int khm_decide(struct kanary_http_state *st, const struct kanary_rules *r)
{
	__u32 met = 0, n = r->n_conds, nr = r->n_rules;

	st->met = 0;
	if (st->head < KANARY_HTTP_PARTIAL_HEAD)
		return KANARY_RULE_NONE;
	for (__u32 c = 0; c < KANARY_CONDS_MAX; c++) {
		const struct kanary_cond *cd = &r->conds[c];
		__u32 bit = 1u << c;

		if (c >= n)
			break;
		if (cd->kind == KANARY_COND_PATH || cd->op == KANARY_OP_PREFIX) {
			if (st->done & bit)
				met |= bit;
		} else if (cd->op == KANARY_OP_PRESENT) {
			if (st->seen & bit)
				met |= bit;
		} else if (cd->op == KANARY_OP_EXACT) {
			if ((st->seen & bit) && !(st->failed & bit) &&
			    st->head == KANARY_HTTP_COMPLETE && st->pos[c] == khm_vlen(cd))
				met |= bit;
		}
	}
	st->met = met;
	for (__u32 i = 0; i < KANARY_RULES_MAX; i++) {
		const struct kanary_rule *ru = &r->rules[i];

		if (i >= nr)
			break;
		for (__u32 m = 0; m < KANARY_RULE_MATCHES_MAX; m++) {
			__u32 mask = ru->match_mask[m];

			if (m >= ru->n_matches)
				break;
			if (mask && (mask & met) == mask)
				return (int)i;
		}
	}
	return KANARY_RULE_NONE;
}

/* ---- the drivers: bpf_loop in BPF, plain loops in userspace ---- */

#ifdef __bpf__
/* Needs <bpf/bpf_helpers.h> (bpf_loop) included before this file. */
struct khm_loop_ctx {
	struct kanary_http_state *st;
	const struct kanary_rules *r;
	const __u8 *buf;
};

static int khm_scan_cb(__u32 i, void *ctx)
{
	struct khm_loop_ctx *x = ctx;

	return khm_scan_step(x->st, x->buf, i);
}

static int khm_pair_cb(__u32 k, void *ctx)
{
	struct khm_loop_ctx *x = ctx;

	khm_pair_step(x->st, x->r, x->buf, k);
	return 0;
}

/*
 * Matches the len bytes at buf (a map value of at least KANARY_HTTP_STASH
 * bytes) against r; st is scratch in a map value.  Returns the rule index
 * or KANARY_RULE_NONE; st->head and st->met tell why.
 */
static __always_inline int kanary_http_match(struct kanary_http_state *st,
					     const struct kanary_rules *r, const __u8 *buf,
					     __u32 len)
{
	struct khm_loop_ctx x = { .st = st, .r = r, .buf = buf };

	khm_begin(st, r, len);
	bpf_loop(st->len, khm_scan_cb, &x, 0);
	bpf_loop(khm_pairs(st, r), khm_pair_cb, &x, 0);
	return khm_decide(st, r);
}
#else
/* Userspace: the same steps; buf holds len bytes. */
static inline int kanary_http_match(struct kanary_http_state *st, const struct kanary_rules *r,
				    const __u8 *buf, __u32 len)
{
	__u32 n;

	khm_begin(st, r, len);
	for (__u32 i = 0; i < st->len; i++)
		if (khm_scan_step(st, buf, i))
			break;
	n = khm_pairs(st, r);
	for (__u32 k = 0; k < n; k++)
		khm_pair_step(st, r, buf, k);
	return khm_decide(st, r);
}
#endif

#endif /* KANARY_HTTP_MATCH_H */
