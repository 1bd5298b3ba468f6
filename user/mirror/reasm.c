// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Reassembly: per client connection, the bytes of the one request being
 * mirrored, from the sequence number its START event gave.  Data before
 * it (retransmissions of earlier requests) is skipped, and data held
 * again (retransmissions of this one) changes nothing.  The ring does not
 * keep a connection's events in TCP order: two CPUs can copy consecutive
 * segments of one flow at once (the sender's process on one, its ACK-
 * clocked softirq on the other), and a lost segment's retransmission
 * comes after the data past it.  So data past a hole is held, as a run
 * at its place in the buffer, until the hole fills; so is data that came
 * before its request's START, anchored once the START tells where the
 * request begins.  A request whose hole never fills is dropped when the
 * next START comes or when it times out, so a mirror never gets a request
 * with a byte wrong or missing.  A request is handed on once, when its
 * framing says it is whole, and forgotten.
 */
#include <stdlib.h>
#include <string.h>
#include "relay.h"

#define HEAD_MAX	(64u << 10)	/* a head not ended by then is dropped as too large */
#define BUCKETS		4096
#define RUNS		8		/* runs held past holes; one more drops the request */

/* Bytes [lo, hi) of a request, as offsets from its first. */
struct run {
	uint32_t lo, hi;
};

struct rconn {
	struct rconn *next;		/* in its bucket */
	uint32_t svc_id;
	union kanary_addr client;
	__be16 port;
	uint8_t subsets;
	bool anchored;			/* start is the request's (a START came), not an early byte's */
	uint32_t start;			/* the sequence number of buf[0] */
	uint8_t *buf;
	uint32_t have, cap;		/* buf[0 .. have) is held without a hole */
	uint8_t n_runs;
	struct run runs[RUNS];		/* held past have: sorted, apart, none touching have */
	uint64_t need;			/* head and body, once the head is framed; 0 before */
	struct http_chunks *chunks;	/* a chunked request's end being found (buf[0 .. chunks->seen) fed) */
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

/*
 * Unlinks and frees *pp; a request not handed on is counted as dropped for
 * why (< 0: not).  Bytes no START claimed were no request of ours (a late
 * retransmission of one already handed on): they are not counted.
 */
static void forget(struct rconn **pp, int why)
{
	struct rconn *c = *pp;

	if (why >= 0 && c->anchored)
		stats_drop(c->svc_id, c->subsets, why);
	*pp = c->next;
	held -= c->cap;
	n_conns--;
	free(c->chunks);
	free(c->buf);
	free(c);
}

/* Makes room for buf[0 .. want) in c; false at a limit. */
static bool reserve(struct rconn *c, uint64_t want, int *why)
{
	uint64_t cap = c->cap ? c->cap : 2048;
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

/* The end of what c holds, runs included. */
static uint32_t held_end(const struct rconn *c)
{
	return c->n_runs ? c->runs[c->n_runs - 1].hi : c->have;
}

/* Records buf[lo .. hi) as held, now written; false when it would take a run too many. */
static bool mark_held(struct rconn *c, uint32_t lo, uint32_t hi)
{
	struct run *r = c->runs;
	uint8_t i = 0, j;

	if (lo <= c->have) {
		if (hi > c->have)
			c->have = hi;
	} else {
		/* Runs before it stay; those it touches merge into it. */
		while (i < c->n_runs && r[i].hi < lo)
			i++;
		for (j = i; j < c->n_runs && r[j].lo <= hi; j++) {
			lo = lo < r[j].lo ? lo : r[j].lo;
			hi = hi > r[j].hi ? hi : r[j].hi;
		}
		if (i == j && c->n_runs == RUNS)
			return false;
		memmove(&r[i + 1], &r[j], (c->n_runs - j) * sizeof(*r));
		c->n_runs = (uint8_t)(c->n_runs - (j - i) + 1);
		r[i] = (struct run){ lo, hi };
	}
	/* A hole filled: the runs it reaches join what is held. */
	for (i = 0; i < c->n_runs && r[i].lo <= c->have; i++)
		if (r[i].hi > c->have)
			c->have = r[i].hi;
	memmove(r, &r[i], (c->n_runs - i) * sizeof(*r));
	c->n_runs -= i;
	return true;
}

/*
 * Moves buf[0] d bytes earlier in the stream (to a sequence number that
 * came later): what was held becomes one more run past a hole.
 */
static bool rebase(struct rconn *c, uint32_t d, int *why)
{
	uint32_t end = held_end(c);

	*why = KANARY_MIRROR_DROP_INCOMPLETE;
	if (c->have && c->n_runs == RUNS)
		return false;
	if (!reserve(c, (uint64_t)end + d, why))
		return false;
	memmove(c->buf + d, c->buf, end);
	for (int i = 0; i < c->n_runs; i++) {
		c->runs[i].lo += d;
		c->runs[i].hi += d;
	}
	if (c->have) {
		memmove(&c->runs[1], &c->runs[0], c->n_runs * sizeof(c->runs[0]));
		c->runs[0] = (struct run){ d, c->have + d };
		c->n_runs++;
	}
	c->have = 0;
	c->start -= d;
	return true;
}

/* A new entry for ev's connection, its first byte at ev's; NULL (counted) at a limit. */
static struct rconn *conn_new(struct rconn **pp, const struct kanary_mirror_event *ev)
{
	struct rconn *c;

	if (n_conns >= lim.max_conns || !(c = calloc(1, sizeof(*c)))) {
		if (ev->flags & KANARY_MIRROR_EV_START)
			stats_drop(ev->svc_id, ev->subsets, KANARY_MIRROR_DROP_BUSY);
		return NULL;
	}
	c->svc_id = ev->svc_id;
	c->client = ev->client;
	c->port = ev->client_port;
	c->subsets = ev->subsets;
	c->start = ev->seq;
	c->anchored = ev->flags & KANARY_MIRROR_EV_START;
	c->next = *pp;
	*pp = c;
	n_conns++;
	return c;
}

/*
 * A START: a new request on the connection.  Bytes held without a START
 * that lie after it are its own, come early; anything else held was a
 * request never whole, or a stray retransmission.
 */
static struct rconn *begin(struct rconn **pp, const struct kanary_mirror_event *ev)
{
	struct rconn *c = *pp;
	int32_t d = c ? (int32_t)(c->start - ev->seq) : 0;
	int why;

	if (c && !c->anchored && d > 0 && (uint32_t)d < lim.max_request) {
		if (!rebase(c, (uint32_t)d, &why)) {
			c->anchored = true;
			forget(pp, why);
			return NULL;
		}
		c->anchored = true;
		c->subsets = ev->subsets;
		return c;
	}
	if (c)
		forget(pp, KANARY_MIRROR_DROP_INCOMPLETE);
	return conn_new(pp, ev);
}

/* Frames c's head once it can, and hands c on once whole; false when c was forgotten. */
static bool advance(struct rconn **pp, struct rconn *c)
{
	if (!c->anchored)
		return true;
	if (!c->need && !c->chunks) {
		uint64_t head;
		enum http_head_result r = http_frame(c->buf, c->have, &head);

		if (r == HEAD_COMPLETE)
			c->need = head;
		if (r == HEAD_CHUNKED) {
			c->chunks = malloc(sizeof(*c->chunks));
			if (!c->chunks) {
				forget(pp, KANARY_MIRROR_DROP_BUSY);
				return false;
			}
			http_chunks_init(c->chunks);
		}
		if (r == HEAD_UNFRAMED || (r == HEAD_PARTIAL && c->have > HEAD_MAX)) {
			forget(pp, r == HEAD_UNFRAMED ? KANARY_MIRROR_DROP_UNFRAMED :
							KANARY_MIRROR_DROP_TOO_LARGE);
			return false;
		}
		if (r == HEAD_COMPLETE && c->need > lim.max_request) {
			forget(pp, KANARY_MIRROR_DROP_TOO_LARGE);
			return false;
		}
	}
	if (c->chunks && !c->need) {
		int r = http_chunks_feed(c->chunks, c->buf + c->chunks->seen, c->have - c->chunks->seen);

		if (r < 0) {
			forget(pp, KANARY_MIRROR_DROP_UNFRAMED);
			return false;
		}
		if (r > 0)
			c->need = c->chunks->seen;
	}
	if (c->need && c->have >= c->need) {
		done_fn(c->svc_id, &c->client, c->port, c->subsets, c->buf, c->need);
		forget(pp, -1);
		return false;
	}
	return true;
}

void reasm_event(const void *data, size_t size, uint64_t now_ms)
{
	const struct kanary_mirror_event *ev = data;
	const uint8_t *payload = (const uint8_t *)data + sizeof(*ev);
	struct rconn **pp, *c;
	uint32_t len, at;
	int32_t off;
	int why = -1;

	if (size < sizeof(*ev) || ev->len > size - sizeof(*ev) || !ev->len)
		return;		/* not one of ours: never trust a length not bounded */
	len = ev->len;
	pp = find(ev->svc_id, &ev->client, ev->client_port);
	if (ev->flags & KANARY_MIRROR_EV_START)
		c = begin(pp, ev);
	else
		c = *pp ? *pp : conn_new(pp, ev);
	if (!c)
		return;
	off = (int32_t)(ev->seq - c->start);
	if (off < 0 && !c->anchored) {
		/* Early bytes, earlier than those held: they start buf now. */
		if ((uint32_t)-off >= lim.max_request || !rebase(c, (uint32_t)-off, &why)) {
			forget(pp, -1);
			return;
		}
		off = 0;
	}
	if (off < 0) {
		if ((uint32_t)-off >= len)
			return;		/* all of it before the request */
		payload += -off;
		len -= (uint32_t)-off;
		off = 0;
	}
	at = (uint32_t)off;
	c->last_ms = now_ms;
	/* Held bytes written again are the same bytes: TCP sends nothing else. */
	if (!reserve(c, (uint64_t)at + len, &why)) {
		forget(pp, why);
		return;
	}
	memcpy(c->buf + at, payload, len);
	if (!mark_held(c, at, at + len)) {
		forget(pp, KANARY_MIRROR_DROP_INCOMPLETE);
		return;
	}
	advance(pp, c);
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
