// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Reassembly: per client connection, the bytes of the one request being
 * mirrored, from the sequence number its START event gave.  Data before
 * it (retransmissions of earlier requests) and data already held
 * (retransmissions of this one) are skipped; data past a hole (a lost
 * copy, or a segment the client reordered) drops the request, so a
 * mirror never gets a request with a byte wrong or missing.  A request is
 * handed on once, when its framing says it is whole, and forgotten, so
 * what comes after it until the next START is ignored.
 */
#include <stdlib.h>
#include <string.h>
#include "relay.h"

#define HEAD_MAX	(64u << 10)	/* a head not ended by then is dropped as too large */
#define BUCKETS		4096

struct rconn {
	struct rconn *next;		/* in its bucket */
	uint32_t svc_id;
	union kanary_addr client;
	__be16 port;
	uint8_t subsets;
	uint32_t start;			/* the request's first sequence number */
	uint8_t *buf;
	uint32_t have, cap;
	uint64_t need;			/* head and body, once the head is framed; 0 before */
	uint64_t last_ms;
};

static struct rconn *table[BUCKETS];
static struct relay_limits lim;
static reasm_done_fn done_fn;
static uint32_t n_conns;
static uint64_t held;			/* bytes of all bufs */

int reasm_init(const struct relay_limits *l, reasm_done_fn done)
{
	lim = *l;
	done_fn = done;
	return 0;
}

static uint32_t bucket_of(uint32_t svc_id, const union kanary_addr *a, __be16 port)
{
	uint32_t h = svc_id * 2654435761u ^ port;

	for (int i = 0; i < 4; i++)
		h = (h ^ a->w[i]) * 2654435761u;
	return h % BUCKETS;
}

static struct rconn **find(uint32_t svc_id, const union kanary_addr *a, __be16 port)
{
	struct rconn **pp = &table[bucket_of(svc_id, a, port)];

	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->svc_id == svc_id && (*pp)->port == port &&
		    !memcmp(&(*pp)->client, a, sizeof(*a)))
			return pp;
	return pp;
}

/* Unlinks and frees *pp; a request not handed on is counted as dropped for why (< 0: not). */
static void forget(struct rconn **pp, int why)
{
	struct rconn *c = *pp;

	if (why >= 0)
		stats_drop(c->svc_id, c->subsets, why);
	*pp = c->next;
	held -= c->cap;
	n_conns--;
	free(c->buf);
	free(c);
}

/* Makes room for n more bytes in c; false at a limit. */
static bool reserve(struct rconn *c, uint32_t n, int *why)
{
	uint64_t want = (uint64_t)c->have + n, cap = c->cap ? c->cap : 2048;
	uint8_t *b;

	if (want > lim.max_request) {
		*why = KANARY_MIRROR_DROP_TOO_LARGE;
		return false;
	}
	if (want <= c->cap)
		return true;
	while (cap < want)
		cap *= 2;
	if (cap > lim.max_request)
		cap = lim.max_request;
	if (held - c->cap + cap > lim.max_bytes) {
		*why = KANARY_MIRROR_DROP_BUSY;
		return false;
	}
	b = realloc(c->buf, cap);
	if (!b) {
		*why = KANARY_MIRROR_DROP_BUSY;
		return false;
	}
	held += cap - c->cap;
	c->buf = b;
	c->cap = (uint32_t)cap;
	return true;
}

/* A START: a new request on the connection; the one before it, if any, was never whole. */
static struct rconn *begin(struct rconn **pp, const struct kanary_mirror_event *ev)
{
	struct rconn *c;

	if (*pp)
		forget(pp, KANARY_MIRROR_DROP_INCOMPLETE);
	if (n_conns >= lim.max_conns) {
		stats_drop(ev->svc_id, ev->subsets, KANARY_MIRROR_DROP_BUSY);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		stats_drop(ev->svc_id, ev->subsets, KANARY_MIRROR_DROP_BUSY);
		return NULL;
	}
	c->svc_id = ev->svc_id;
	c->client = ev->client;
	c->port = ev->client_port;
	c->subsets = ev->subsets;
	c->start = ev->seq;
	c->next = *pp;
	*pp = c;
	n_conns++;
	return c;
}

void reasm_event(const void *data, size_t size, uint64_t now_ms)
{
	const struct kanary_mirror_event *ev = data;
	const uint8_t *payload = (const uint8_t *)data + sizeof(*ev);
	struct rconn **pp, *c;
	uint32_t len, skip;
	int64_t off;
	int why = -1;

	if (size < sizeof(*ev) || ev->len > size - sizeof(*ev) || !ev->len)
		return;		/* not one of ours: never trust a length not bounded */
	len = ev->len;
	pp = find(ev->svc_id, &ev->client, ev->client_port);
	if (ev->flags & KANARY_MIRROR_EV_START)
		c = begin(pp, ev);
	else
		c = *pp;
	if (!c)
		return;
	/* Where the event starts against the bytes held: before them (< 0) is retransmitted. */
	off = (int64_t)(int32_t)(ev->seq - c->start) - c->have;
	if (off > 0) {
		forget(pp, KANARY_MIRROR_DROP_INCOMPLETE);	/* a hole: a copy was lost */
		return;
	}
	if ((uint64_t)-off >= len)
		return;		/* all of it held already, or before the request */
	skip = (uint32_t)-off;
	c->last_ms = now_ms;
	if (!reserve(c, len - skip, &why)) {
		forget(pp, why);
		return;
	}
	memcpy(c->buf + c->have, payload + skip, len - skip);
	c->have += len - skip;
	if (!c->need) {
		enum http_head_result r = http_frame(c->buf, c->have, &c->need);

		if (r == HEAD_UNFRAMED || (r == HEAD_PARTIAL && c->have > HEAD_MAX)) {
			forget(pp, r == HEAD_UNFRAMED ? KANARY_MIRROR_DROP_UNFRAMED :
							KANARY_MIRROR_DROP_TOO_LARGE);
			return;
		}
		if (r == HEAD_COMPLETE && c->need > lim.max_request) {
			forget(pp, KANARY_MIRROR_DROP_TOO_LARGE);
			return;
		}
	}
	if (c->need && c->have >= c->need) {
		done_fn(c->svc_id, c->subsets, c->buf, c->need);
		forget(pp, -1);
	}
}

void reasm_expire(uint64_t now_ms)
{
	for (int b = 0; b < BUCKETS; b++) {
		struct rconn **pp = &table[b];

		while (*pp) {
			if (now_ms - (*pp)->last_ms > lim.timeout_ms)
				forget(pp, KANARY_MIRROR_DROP_INCOMPLETE);
			else
				pp = &(*pp)->next;
		}
	}
}
