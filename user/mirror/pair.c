// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The comparison: pairs each mirrored request's live answer (a LIVE ring
 * event from the datapath) with each of its mirrors' answers (send.c), by
 * the request's identity: service, client address and port, and the
 * client's sequence number of its first byte.
 *
 * An entry is made at the request's START (the only event that gives its
 * sequence number), marked sent when reassembly hands the request on, and
 * freed when every mirror it went to has been compared with the live
 * answer.  The two answers come in either order.  Bounded: max_pairs
 * entries, preallocated; a START beyond them is not compared (counted
 * unpaired).  An entry older than expire_ms is given up: a request sent
 * whose live or mirror answer never came counts unpaired; one never sent
 * is already counted as dropped, so it goes silently.
 */
#include <stdlib.h>
#include <string.h>
#include "relay.h"

struct pair {
	struct pair *hnext;		/* in its bucket, or in the free list */
	struct pair *prev, *next;	/* in use, oldest first */
	struct pair_key key;
	uint64_t born_ms;
	uint8_t subsets;		/* the request's mirror subsets */
	uint8_t pending;		/* of which not yet compared nor given up */
	uint8_t answered;		/* of which the mirror answered (mirror_status) */
	bool sent, live_seen;
	uint16_t live_status;
	uint32_t live_us;
	uint16_t mirror_status[KANARY_MAX_SUBSETS];	/* 0: an error */
	uint32_t mirror_us[KANARY_MAX_SUBSETS];
	char method[KANARY_MIRROR_DIFF_METHOD];
	char path[KANARY_MIRROR_DIFF_PATH];
};

static struct pair *pool, *free_list, *oldest, *newest, **buckets;
static uint32_t n_buckets, n_used, expire_ms;
static struct pair_stats counts;

int pair_init(uint32_t max_pairs, uint32_t expire)
{
	free(pool);
	free(buckets);
	memset(&counts, 0, sizeof(counts));
	oldest = newest = free_list = NULL;
	n_used = 0;
	expire_ms = expire;
	for (n_buckets = 64; n_buckets < max_pairs; n_buckets *= 2)
		;
	pool = calloc(max_pairs, sizeof(*pool));
	buckets = calloc(n_buckets, sizeof(*buckets));
	if (!pool || !buckets)
		return -1;
	for (uint32_t i = max_pairs; i-- > 0;) {
		pool[i].hnext = free_list;
		free_list = &pool[i];
	}
	return 0;
}

/* The connection's bucket: all its requests' entries are in it. */
static struct pair **bucket(uint32_t svc_id, const union kanary_addr *a, __be16 port)
{
	uint32_t h = svc_id * 2654435761u ^ port;

	for (int i = 0; i < 4; i++)
		h = (h ^ a->w[i]) * 2654435761u;
	return &buckets[h & (n_buckets - 1)];
}

static bool same_conn(const struct pair_key *k, uint32_t svc_id, const union kanary_addr *a,
		      __be16 port)
{
	return k->svc_id == svc_id && k->port == port && !memcmp(&k->client, a, sizeof(*a));
}

static struct pair **find(const struct pair_key *k)
{
	struct pair **pp = bucket(k->svc_id, &k->client, k->port);

	for (; *pp; pp = &(*pp)->hnext)
		if ((*pp)->key.seq == k->seq && same_conn(&(*pp)->key, k->svc_id, &k->client, k->port))
			return pp;
	return pp;
}

/* Unlinks *pp (found in its bucket) and gives it back; its pending mirrors count unpaired. */
static void release(struct pair **pp)
{
	struct pair *p = *pp;

	if (p->sent && p->pending) {
		stats_unpaired(p->key.svc_id, p->pending);
		counts.expired++;
	}
	*pp = p->hnext;
	if (p->prev)
		p->prev->next = p->next;
	else
		oldest = p->next;
	if (p->next)
		p->next->prev = p->prev;
	else
		newest = p->prev;
	p->hnext = free_list;
	free_list = p;
	n_used--;
}

/* Mirror i's answer against the live one: counted, and a disagreement kept. */
static void compare(struct pair *p, int i)
{
	int live = p->live_status, mirror = p->mirror_status[i];
	bool agree = mirror && live / 100 == mirror / 100;

	stats_compare(p->key.svc_id, i, agree, mirror, p->live_us, p->mirror_us[i]);
	if (!agree)
		diff_count(p->key.svc_id, i, p->method, p->path, live, mirror);
	p->pending &= (uint8_t)~(1u << i);
	counts.compared++;
}

/* Compares what both sides have answered; frees p when nothing is left. */
static void settle(struct pair **pp)
{
	struct pair *p = *pp;

	if (!p->live_seen)
		return;
	for (int i = 0; i < KANARY_MAX_SUBSETS; i++)
		if (p->pending & p->answered & (1u << i))
			compare(p, i);
	if (p->sent && !p->pending)
		release(pp);
}

void pair_start(const struct kanary_mirror_event *ev, uint64_t now_ms)
{
	struct pair_key k = { .svc_id = ev->svc_id, .client = ev->client,
			      .port = ev->client_port, .seq = ev->seq };
	struct pair **pp = bucket(k.svc_id, &k.client, k.port), *p;

	/* The connection's request not handed on is given up by reassembly: forget it too. */
	while (*pp) {
		if (same_conn(&(*pp)->key, k.svc_id, &k.client, k.port) && !(*pp)->sent &&
		    (*pp)->key.seq != k.seq)
			release(pp);
		else
			pp = &(*pp)->hnext;
	}
	if (*find(&k))
		return;		/* a START seen again (a retransmitted copy) */
	if (!free_list) {
		stats_unpaired(k.svc_id, ev->subsets);
		counts.full++;
		return;
	}
	p = free_list;
	free_list = p->hnext;
	memset(p, 0, sizeof(*p));
	p->key = k;
	p->born_ms = now_ms;
	p->subsets = p->pending = ev->subsets;
	pp = bucket(k.svc_id, &k.client, k.port);
	p->hnext = *pp;
	*pp = p;
	p->prev = newest;
	if (newest)
		newest->next = p;
	else
		oldest = p;
	newest = p;
	n_used++;
}

/* The request line's method and path (query cut off, so that a path's disagreements add up). */
static void method_and_path(struct pair *p, const uint8_t *req, size_t len)
{
	size_t i = 0, m = 0, n = 0;

	for (; i < len && req[i] != ' ' && req[i] != '\r' && req[i] != '\n'; i++)
		if (m < sizeof(p->method) - 1)
			p->method[m++] = (char)req[i];
	for (i++; i < len && req[i] != ' ' && req[i] != '?' && req[i] != '\r' && req[i] != '\n';
	     i++)
		if (n < sizeof(p->path) - 1)
			p->path[n++] = (char)req[i];
}

bool pair_request(uint32_t svc_id, const union kanary_addr *client, __be16 port,
		  const uint8_t *req, size_t len, struct pair_key *key)
{
	struct pair **pp = bucket(svc_id, client, port);

	for (; *pp; pp = &(*pp)->hnext) {
		struct pair *p = *pp;

		if (!same_conn(&p->key, svc_id, client, port) || p->sent)
			continue;
		p->sent = true;
		method_and_path(p, req, len);
		*key = p->key;
		settle(pp);
		return true;
	}
	return false;
}

void pair_live(const void *data, size_t size)
{
	const struct kanary_mirror_event *ev = data;
	const struct kanary_mirror_live *live = (const void *)(ev + 1);
	struct pair_key k;
	struct pair **pp;

	if (size < sizeof(*ev) + sizeof(*live) || live->status < 100 || live->status > 599)
		return;		/* not one of ours */
	k = (struct pair_key){ .svc_id = ev->svc_id, .client = ev->client,
			       .port = ev->client_port, .seq = ev->seq };
	pp = find(&k);
	if (!*pp || (*pp)->live_seen)
		return;		/* its START was not seen (a relay started since), or not kept */
	(*pp)->live_seen = true;
	(*pp)->live_status = (uint16_t)live->status;
	(*pp)->live_us = live->latency_us;
	counts.live++;
	settle(pp);
}

void pair_mirror(const struct pair_key *key, int subset, int status, uint32_t latency_us)
{
	struct pair **pp = find(key);
	struct pair *p = *pp;
	uint8_t bit = (uint8_t)(1u << subset);

	if (!p || !(p->pending & bit))
		return;		/* given up already */
	if (status < 0) {	/* never sent to this mirror: counted as dropped */
		p->pending &= (uint8_t)~bit;
	} else {
		p->answered |= bit;
		p->mirror_status[subset] = (uint16_t)status;
		p->mirror_us[subset] = latency_us;
	}
	if (p->sent && !p->pending)
		release(pp);
	else
		settle(pp);
}

void pair_expire(uint64_t now_ms)
{
	while (oldest && now_ms - oldest->born_ms > expire_ms)
		release(find(&oldest->key));
}

struct pair_stats pair_stats(void)
{
	counts.open = n_used;
	return counts;
}
