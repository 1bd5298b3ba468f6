// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * An HTTP/1.x request's framing, as far as the relay needs it: where the
 * head ends and how long the body is (Content-Length; a chunked body is
 * followed to its last chunk by Debian's http-parser), and the head a
 * mirror must see.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "relay.h"

#define BODY_MAX	(1ull << 40)	/* a Content-Length beyond this is taken as malformed */

static const uint8_t *find_crlfcrlf(const uint8_t *buf, size_t len)
{
	for (size_t i = 3; i < len; i++)
		if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r')
			return buf + i + 1;
	return NULL;
}

/* Whether the header line [l, end) is named name (any case), with its value in *v. */
static bool header_is(const uint8_t *l, const uint8_t *end, const char *name,
		      const uint8_t **v)
{
	size_t n = strlen(name);

	if ((size_t)(end - l) <= n || strncasecmp((const char *)l, name, n) || l[n] != ':')
		return false;
	for (l += n + 1; l < end && (*l == ' ' || *l == '\t'); l++)
		;
	*v = l;
	return true;
}

/* The next line of the head from l: its end (before CRLF). */
static const uint8_t *line_end(const uint8_t *l, const uint8_t *head_end)
{
	while (l + 1 < head_end && !(l[0] == '\r' && l[1] == '\n'))
		l++;
	return l;
}

enum http_head_result http_frame(const uint8_t *buf, size_t len, uint64_t *total)
{
	const uint8_t *head_end = find_crlfcrlf(buf, len), *l, *e, *v;
	uint64_t body = 0;
	bool have_len = false, chunked = false;

	if (!head_end)
		return HEAD_PARTIAL;
	l = line_end(buf, head_end) + 2;	/* past the request line */
	for (; l < head_end - 2; l = e + 2) {
		e = line_end(l, head_end);
		if (header_is(l, e, "transfer-encoding", &v)) {
			/* Chunked alone, once: any other coding leaves the length unknown. */
			while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
				e--;
			if (chunked || e - v != 7 || strncasecmp((const char *)v, "chunked", 7))
				return HEAD_UNFRAMED;
			chunked = true;
			e = line_end(l, head_end);
			continue;
		}
		if (!header_is(l, e, "content-length", &v))
			continue;
		uint64_t n = 0;
		const uint8_t *d = v;

		for (; d < e && *d >= '0' && *d <= '9' && n <= BODY_MAX; d++)
			n = n * 10 + (uint64_t)(*d - '0');
		while (d < e && (*d == ' ' || *d == '\t'))
			d++;
		if (d == v || d != e || n > BODY_MAX || (have_len && n != body))
			return HEAD_UNFRAMED;
		body = n;
		have_len = true;
	}
	*total = (uint64_t)(head_end - buf) + body;
	if (chunked)	/* with a Content-Length too: two lengths, a smuggling attempt */
		return have_len ? HEAD_UNFRAMED : HEAD_CHUNKED;
	return HEAD_COMPLETE;
}

static int chunks_complete(http_parser *p)
{
	struct http_chunks *c = p->data;

	c->done = true;
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings chunk_settings = { .on_message_complete = chunks_complete };

void http_chunks_init(struct http_chunks *c)
{
	memset(c, 0, sizeof(*c));
	http_parser_init(&c->p, HTTP_REQUEST);
	c->p.data = c;
}

int http_chunks_feed(struct http_chunks *c, const uint8_t *buf, size_t len)
{
	size_t n;

	/*
	 * No new bytes (an event that held again what was held, or bytes
	 * past a hole) is not the stream's end: to http-parser a zero length
	 * is EOF, an error in the middle of a body.
	 */
	if (!len)
		return c->done;
	n = http_parser_execute(&c->p, &chunk_settings, (const char *)buf, len);

	c->seen += n;
	if (c->done)
		return 1;
	return HTTP_PARSER_ERRNO(&c->p) == HPE_OK ? 0 : -1;
}

/*
 * Hop-by-hop headers (RFC 9110 7.6.1) belong to the client's connection,
 * not to the relay's, which keeps its own alive: an intermediary does not
 * pass them on (nor does Envoy's mirror).  Upgrade and TE are the ones a
 * Connection header names in practice.
 */
static bool hop_by_hop(const uint8_t *l, const uint8_t *e)
{
	static const char *const names[] = { "connection", "keep-alive", "proxy-connection",
					     "upgrade", "te" };
	const uint8_t *v;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (header_is(l, e, names[i], &v))
			return true;
	return false;
}

uint8_t *http_mirror_request(const uint8_t *req, size_t len, size_t *out_len)
{
	static const char suffix[] = "-shadow";
	const uint8_t *head_end = find_crlfcrlf(req, len), *l, *e, *v, *at;
	uint8_t *out = malloc(len + sizeof(suffix)), *o = out;

	if (!out)
		return NULL;
	if (!head_end) {	/* cannot be: reassembly framed it */
		memcpy(out, req, len);
		*out_len = len;
		return out;
	}
	l = line_end(req, head_end) + 2;
	memcpy(o, req, (size_t)(l - req));	/* the request line */
	o += l - req;
	for (bool host_done = false; l < head_end - 2; l = e + 2) {
		e = line_end(l, head_end);
		if (hop_by_hop(l, e))
			continue;
		at = e + 2;
		if (!host_done && header_is(l, e, "host", &v)) {
			at = e;	/* after the value, less its trailing blanks */
			while (at > v && (at[-1] == ' ' || at[-1] == '\t'))
				at--;
			host_done = true;
		}
		memcpy(o, l, (size_t)(at - l));
		o += at - l;
		if (at != e + 2) {
			memcpy(o, suffix, sizeof(suffix) - 1);
			o += sizeof(suffix) - 1;
			memcpy(o, at, (size_t)(e + 2 - at));
			o += e + 2 - at;
		}
	}
	memcpy(o, l, len - (size_t)(l - req));	/* the blank line and the body */
	o += len - (size_t)(l - req);
	*out_len = (size_t)(o - out);
	return out;
}
