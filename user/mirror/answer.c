// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A mirror's answer, framed with Debian's http-parser (libhttp-parser),
 * so the relay knows where it ends and can send the next request on the
 * same connection: Content-Length, chunked, read-until-close, no body for
 * HEAD, 1xx, 204 and 304.  Interim 1xx answers (100 Continue) are passed
 * over; the final answer's status is what counts.  The body is read and
 * thrown away, up to ANSWER_DRAIN_MAX: a longer one ends the connection
 * rather than cost the relay its transfer.
 */
#include <string.h>
#include "relay.h"

#define ANSWER_DRAIN_MAX	(256u << 10)

static int on_headers_complete(http_parser *p)
{
	struct answer *a = p->data;

	bool interim = p->status_code >= 100 && p->status_code < 200 && p->status_code != 101;

	if (!interim)
		a->status = p->status_code;
	/* 1: no body, whatever Content-Length says (RFC 9110 6.4.1). */
	return a->head_request || interim || p->status_code == 204 || p->status_code == 304;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	struct answer *a = p->data;

	(void)at;
	a->body += len;
	return a->body > ANSWER_DRAIN_MAX;	/* nonzero stops the parser */
}

static int on_message_complete(http_parser *p)
{
	struct answer *a = p->data;

	if (!a->status)
		return 0;	/* an interim answer: the final one follows */
	a->complete = true;
	a->keep = http_should_keep_alive(p) && p->status_code != 101;
	http_parser_pause(p, 1);	/* bytes past the answer are not ours */
	return 0;
}

static http_parser_settings settings = {
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

void answer_init(struct answer *a, bool head_request)
{
	memset(a, 0, sizeof(*a));
	http_parser_init(&a->p, HTTP_RESPONSE);
	a->p.data = a;
	a->head_request = head_request;
}

enum answer_result answer_feed(struct answer *a, const uint8_t *buf, size_t len)
{
	size_t n = http_parser_execute(&a->p, &settings, (const char *)buf, len);

	if (a->complete)
		/* Anything after the answer (an unasked-for one, garbage) spoils the connection. */
		return a->keep && n == len ? ANSWER_REUSE : ANSWER_CLOSE;
	if (HTTP_PARSER_ERRNO(&a->p) != HPE_OK)
		/* Malformed, or a body past what is worth draining: counted by its status if it had one. */
		return a->status ? ANSWER_CLOSE : ANSWER_BAD;
	return ANSWER_MORE;
}

enum answer_result answer_eof(struct answer *a)
{
	/* Ends an answer read until close; one cut short still counts by its status. */
	http_parser_execute(&a->p, &settings, NULL, 0);
	return a->status ? ANSWER_CLOSE : ANSWER_BAD;
}
