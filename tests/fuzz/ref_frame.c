// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The framer's reference: see ref_frame.h.  Flag and body values are the header's. */
#define _GNU_SOURCE	/* memmem */
#include <string.h>
#include <strings.h>
#include "ref_frame.h"

#define STASH		2048
#define F_HEAD		1
#define F_CLOSE		2
#define F_100		4
#define F_UPG		8
#define F_10		32
#define F_CONNECT	64
enum { B_NONE, B_LENGTH, B_CHUNKED, B_CLOSE };

struct hdrs {			/* what the header lines said */
	int cl, te, te_last_chunked, chunked, bad;
	unsigned long long cl_val;
	unsigned flags;
};

static int tchar(int c)
{
	return c > 0 && c < 127 && (strchr("!#$%&'*+-.^_`|~", c) || (c >= '0' && c <= '9') ||
				    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
}

static int vbyte(int c)	/* SP, HTAB, VCHAR, obs-text */
{
	return c == ' ' || c == '\t' || (c > 32 && c != 127);
}

static int all(const char *s, size_t n, int (*cls)(int))
{
	for (size_t i = 0; i < n; i++)
		if (!cls((unsigned char)s[i]))
			return 0;
	return 1;
}

static int digit(int c) { return c >= '0' && c <= '9'; }
static int target_byte(int c) { return c > 32 && c < 127; }

/* Trims SP and HTAB around s[0..*n). */
static const char *trim(const char *s, size_t *n)
{
	while (*n && (*s == ' ' || *s == '\t'))
		s++, (*n)--;
	while (*n && (s[*n - 1] == ' ' || s[*n - 1] == '\t'))
		(*n)--;
	return s;
}

static int is_word(const char *s, size_t n, const char *w)
{
	return n == strlen(w) && !strncasecmp(s, w, n);
}

static int version(const char *s, unsigned *flags)
{
	if (strncmp(s, "HTTP/1.", 7) || !digit(s[7]))
		return 0;
	if (s[7] == '0')
		*flags |= F_10;
	return 1;
}

static int request_line(const char *s, size_t n, unsigned *flags)
{
	const char *sp1 = memchr(s, ' ', n), *sp2;

	if (!sp1 || sp1 == s || !all(s, (size_t)(sp1 - s), tchar))
		return 0;
	sp2 = memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - s));
	if (!sp2 || sp2 == sp1 + 1 || !all(sp1 + 1, (size_t)(sp2 - sp1 - 1), target_byte))
		return 0;
	if (s + n - (sp2 + 1) != 8 || !version(sp2 + 1, flags))
		return 0;
	if (sp1 - s == 4 && !memcmp(s, "HEAD", 4))
		*flags |= F_HEAD;
	if (sp1 - s == 7 && !memcmp(s, "CONNECT", 7))
		*flags |= F_CONNECT;
	return 1;
}

static int status_line(const char *s, size_t n, unsigned *flags, unsigned *status)
{
	if (n < 13 || !version(s, flags) || s[8] != ' ' || !all(s + 9, 3, digit) || s[12] != ' ' ||
	    !all(s + 13, n - 13, vbyte))
		return 0;
	*status = (unsigned)((s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0'));
	if (*status == 101)
		*flags |= F_UPG;
	return *status >= 100 && *status <= 599;
}

/* One element of a Content-Length or Transfer-Encoding value. */
static void element(struct hdrs *h, int is_cl, const char *e, size_t n)
{
	const char *semi;

	e = trim(e, &n);
	if (!n) {
		h->bad = 1;
	} else if (is_cl) {
		unsigned long long v = 0;

		if (n > 12 || !all(e, n, digit)) {
			h->bad = 1;
			return;
		}
		for (size_t i = 0; i < n; i++)
			v = v * 10 + (unsigned)(e[i] - '0');
		if (h->cl && v != h->cl_val)
			h->bad = 1;
		h->cl = 1;
		h->cl_val = v;
	} else {
		size_t cn;

		semi = memchr(e, ';', n);
		cn = semi ? (size_t)(semi - e) : n;
		trim(e, &cn);
		if (memchr(e, '"', n) || !cn || !all(e, cn, tchar)) {
			h->bad = 1;
			return;
		}
		h->te = 1;
		h->te_last_chunked = !semi && is_word(e, n, "chunked");
		h->chunked += h->te_last_chunked;
	}
}

static void header_line(struct hdrs *h, const char *s, size_t n, int response)
{
	const char *colon = memchr(s, ':', n), *v, *e;
	size_t nn, vn;

	if (!colon || colon == s || !all(s, (size_t)(colon - s), tchar)) {
		h->bad = 1;
		return;
	}
	nn = (size_t)(colon - s);
	v = colon + 1;
	vn = n - nn - 1;
	if (!all(v, vn, vbyte)) {
		h->bad = 1;
		return;
	}
	if (!response && is_word(s, nn, "upgrade"))
		h->flags |= F_UPG;
	for (e = v;; ) {	/* the value's list elements */
		const char *comma = memchr(e, ',', vn - (size_t)(e - v));
		size_t en = comma ? (size_t)(comma - e) : vn - (size_t)(e - v);
		const char *t = e;
		size_t tn = en;

		t = trim(t, &tn);
		if (is_word(s, nn, "content-length") || is_word(s, nn, "transfer-encoding"))
			element(h, is_word(s, nn, "content-length"), e, en);
		else if (is_word(s, nn, "connection") && is_word(t, tn, "close"))
			h->flags |= F_CLOSE;
		else if (!response && is_word(s, nn, "expect") && is_word(t, tn, "100-continue"))
			h->flags |= F_100;
		if (!comma)
			break;
		e = comma + 1;
	}
}

static int body(const struct hdrs *h, struct ref_frame *o, int response, int head_request)
{
	unsigned st = o->status;

	if (h->te && (o->flags & F_10))
		return 0;
	if (h->chunked > 1 || (h->chunked == 1 && !h->te_last_chunked))
		return 0;
	if (response) {
		if (head_request || st < 200 || st == 204 || st == 304)
			o->body = B_NONE;
		else
			o->body = h->te ? (h->te_last_chunked ? B_CHUNKED : B_CLOSE) :
				  h->cl ? B_LENGTH : B_CLOSE;
	} else {
		if (h->te && (h->cl || !h->te_last_chunked))
			return 0;
		o->body = h->te ? B_CHUNKED : h->cl ? B_LENGTH : B_NONE;
	}
	o->body_len = o->body == B_LENGTH ? h->cl_val : 0;
	return 1;
}

void ref_frame(const unsigned char *ubuf, size_t len, int response, int head_request,
	       struct ref_frame *o)
{
	const char *buf = (const char *)ubuf, *line = buf, *end;
	struct hdrs h = {};
	size_t n;

	memset(o, 0, sizeof(*o));
	len = len > STASH ? STASH : len;
	o->h2 = !response && len >= 14 && !memcmp(buf, "PRI * HTTP/2.0", 14);
	o->verdict = o->h2 ? REF_FRAME_INVALID : REF_FRAME_UNKNOWN;
	for (int first = 1; !o->h2; first = 0) {	/* each complete line */
		end = memmem(line, len - (size_t)(line - buf), "\r\n", 2);
		if (!end)
			return;
		n = (size_t)(end - line);
		if (memchr(line, '\r', n) || memchr(line, '\n', n)) {
			o->verdict = REF_FRAME_INVALID;
			return;
		}
		if (first ? !(response ? status_line(line, n, &o->flags, &o->status) :
			       request_line(line, n, &o->flags)) :
		    n ? (header_line(&h, line, n, response), h.bad) : 0) {
			o->verdict = REF_FRAME_INVALID;
			return;
		}
		line = end + 2;
		if (!first && !n)
			break;
	}
	if (o->h2)
		return;
	o->flags |= h.flags;
	o->head_len = (size_t)(line - buf);
	o->verdict = body(&h, o, response, head_request) ? REF_FRAME_COMPLETE : REF_FRAME_INVALID;
}
