// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The reference matcher: whole lines and strings, no state machine. */
#include <string.h>
#include "ref_match.h"

struct ref_line {
	const unsigned char *name, *value;
	size_t name_len, value_len;
};

struct ref_head {
	int status;
	const unsigned char *target;
	size_t target_len;
	struct ref_line lines[REF_LINES];
	int n_lines;
};

static bool is_token_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_value_byte(unsigned char c)
{
	return c == ' ' || c == '\t' || (c >= 0x21 && c <= 0x7e) || c >= 0x80;
}

static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* METHOD SP TARGET SP HTTP/1.d CRLF; returns the offset after it, or FAIL(status). */
#define FAIL(status) (-1 - (long)(status))
static long request_line(const unsigned char *b, size_t len, struct ref_head *h)
{
	const char *version = "HTTP/1.";
	size_t p = 0, t0;

	while (p < len && b[p] != ' ') {
		if (!is_token_byte(b[p]))
			return FAIL(REF_INVALID);
		p++;
	}
	if (p == len)
		return FAIL(REF_PARTIAL_LINE);
	if (p == 0)
		return FAIL(REF_INVALID);
	t0 = ++p;
	while (p < len && b[p] != ' ') {
		if (b[p] < 0x21 || b[p] > 0x7e)
			return FAIL(REF_INVALID);
		p++;
	}
	if (p == len)
		return FAIL(REF_PARTIAL_LINE);
	if (p == t0)
		return FAIL(REF_INVALID);
	h->target = b + t0;
	h->target_len = p - t0;
	p++;
	for (size_t k = 0; k < 7; k++, p++) {
		if (p == len)
			return FAIL(REF_PARTIAL_LINE);
		if (b[p] != (unsigned char)version[k])
			return FAIL(REF_INVALID);
	}
	if (p == len)
		return FAIL(REF_PARTIAL_LINE);
	if (b[p] < '0' || b[p] > '9')
		return FAIL(REF_INVALID);
	if (++p == len)
		return FAIL(REF_PARTIAL_LINE);
	if (b[p] != '\r')
		return FAIL(REF_INVALID);
	if (++p == len)
		return FAIL(REF_PARTIAL_LINE);
	if (b[p] != '\n')
		return FAIL(REF_INVALID);
	return (long)p + 1;
}

/* The header lines from p on, until the blank line or the end of the bytes. */
static int header_lines(const unsigned char *b, size_t len, size_t p, struct ref_head *h)
{
	int seen = 0;

	for (;;) {
		const unsigned char *colon;
		size_t q, name_end, v0, v1;

		if (p >= len)
			return REF_PARTIAL_HEAD;
		if (b[p] == '\r') {
			if (p + 1 >= len)
				return REF_PARTIAL_HEAD;
			if (b[p + 1] != '\n')
				return REF_INVALID;
			return seen > REF_LINES ? REF_PARTIAL_HEAD : REF_COMPLETE;
		}
		for (q = p; q < len && b[q] != '\r' && b[q] != '\n'; q++)
			;
		colon = memchr(b + p, ':', q - p);
		name_end = colon ? (size_t)(colon - b) : q;
		for (size_t i = p; i < name_end; i++)
			if (!is_token_byte(b[i]))
				return REF_INVALID;
		if (colon && name_end == p)
			return REF_INVALID;
		for (size_t i = name_end + 1; colon && i < q; i++)
			if (!is_value_byte(b[i]))
				return REF_INVALID;
		if (q >= len)
			return REF_PARTIAL_HEAD;	/* the line goes on past the bytes */
		if (b[q] == '\n' || !colon)
			return REF_INVALID;
		if (q + 1 >= len)
			return REF_PARTIAL_HEAD;
		if (b[q + 1] != '\n')
			return REF_INVALID;
		if (++seen <= REF_LINES) {
			v0 = name_end + 1;
			v1 = q;
			while (v0 < v1 && (b[v0] == ' ' || b[v0] == '\t'))
				v0++;
			while (v1 > v0 && (b[v1 - 1] == ' ' || b[v1 - 1] == '\t'))
				v1--;
			h->lines[h->n_lines++] = (struct ref_line){
				.name = b + p, .name_len = name_end - p,
				.value = b + v0, .value_len = v1 - v0,
			};
		}
		p = q + 2;
	}
}

static bool hexdigit(unsigned char c)
{
	return (c >= '0' && c <= '9') || (lower(c) >= 'a' && lower(c) <= 'f');
}

/* Whether a proxy would leave this target's path as it is (see http_match.h). */
static bool path_plain(const unsigned char *t, size_t tlen, size_t plen)
{
	char dec[REF_STASH + 1];
	size_t n = 0;

	if (tlen == 0 || t[0] != '/' || memchr(t, '#', tlen))
		return false;
	for (size_t i = 0; i < plen; i++) {
		if (t[i] == '%') {
			if (i + 2 >= plen || !hexdigit(t[i + 1]) || !hexdigit(t[i + 2]))
				return false;
			dec[n++] = t[i + 1] == '2' && lower(t[i + 2]) == 'e' ? '.' : 'x';
			i += 2;
		} else {
			dec[n++] = t[i] == '\\' ? '/' : (char)t[i];
		}
	}
	dec[n] = '\0';
	for (size_t i = 0; i < n; i++) {
		size_t end;

		if (dec[i] != '/')
			continue;
		for (end = i + 1; end < n && dec[end] != '/'; end++)
			;
		if ((end - i - 1 == 1 && dec[i + 1] == '.') ||
		    (end - i - 1 == 2 && dec[i + 1] == '.' && dec[i + 2] == '.'))
			return false;
	}
	return true;
}

static bool path_met(const struct ref_head *h, const struct ref_cond *c)
{
	const unsigned char *qm = memchr(h->target, '?', h->target_len);
	size_t plen = qm ? (size_t)(qm - h->target) : h->target_len;

	if (!path_plain(h->target, h->target_len, plen))
		return false;
	if (c->op == REF_EXACT)
		return plen == c->value_len && !memcmp(h->target, c->value, plen);
	if (c->op == REF_PREFIX)
		return h->target_len >= c->value_len && !memcmp(h->target, c->value, c->value_len);
	return false;
}

static bool same_name(const struct ref_line *l, const struct ref_cond *c)
{
	if (l->name_len != c->name_len)
		return false;
	for (size_t i = 0; i < l->name_len; i++)
		if (lower(l->name[i]) != (unsigned char)c->name[i])
			return false;
	return true;
}

static bool header_met(const struct ref_head *h, const struct ref_cond *c)
{
	char joined[REF_STASH * 2];
	size_t n = 0;
	bool seen = false;

	for (int i = 0; i < h->n_lines; i++) {
		if (!same_name(&h->lines[i], c))
			continue;
		if (seen)
			joined[n++] = ',';
		memcpy(joined + n, h->lines[i].value, h->lines[i].value_len);
		n += h->lines[i].value_len;
		seen = true;
	}
	if (!seen)
		return false;
	if (c->op == REF_PRESENT)
		return true;
	if (c->op == REF_PREFIX)
		return n >= c->value_len && !memcmp(joined, c->value, c->value_len);
	if (c->op == REF_EXACT)	/* a later line could extend the value */
		return h->status == REF_COMPLETE && n == c->value_len &&
		       !memcmp(joined, c->value, n);
	return false;
}

void ref_match(const unsigned char *buf, size_t len, const struct ref_cond *conds, int n_conds,
	       const struct ref_rule *rules, int n_rules, struct ref_out *out)
{
	static struct ref_head h;
	long p;

	memset(out, 0, sizeof(*out));
	memset(&h, 0, sizeof(h));
	out->rule = -1;
	if (len > REF_STASH)
		len = REF_STASH;
	p = request_line(buf, len, &h);
	out->head = p < 0 ? (int)(-1 - p) : header_lines(buf, len, (size_t)p, &h);
	h.status = out->head;
	if (out->head == REF_INVALID || out->head == REF_PARTIAL_LINE)
		return;
	for (int c = 0; c < n_conds && c < REF_CONDS_MAX; c++)
		out->met[c] = conds[c].kind == REF_PATH ? path_met(&h, &conds[c]) :
			      conds[c].kind == REF_HEADER ? header_met(&h, &conds[c]) : false;
	for (int r = 0; r < n_rules && out->rule < 0; r++) {
		for (int m = 0; m < rules[r].n_matches && out->rule < 0; m++) {
			bool all = rules[r].n[m] > 0;

			for (int k = 0; k < rules[r].n[m]; k++)
				all = all && out->met[rules[r].idx[m][k]];
			if (all)
				out->rule = r;
		}
	}
}
