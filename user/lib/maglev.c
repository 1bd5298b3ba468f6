// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A subset's Maglev table (Eisenbud et al., NSDI 2016), built here and
 * written beside the subset's backends in the same config slot, so the
 * service's one switch makes both live at once (service_commit.c).
 *
 * Every backend has its own permutation of the table's points, a function
 * of its address and port alone.  Backends take turns, each claiming the
 * next point of its permutation that no one has yet, until every point is
 * taken: each backend ends up with M/n points, give or take one, and a
 * backend added or removed takes or frees about its share while the others
 * mostly keep theirs.  A load over pins of a kanary before Maglev writes
 * the tables the live slots lack (kanary_maglev_backfill).
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "internal.h"

/* Seeds of the two hashes of a backend: where its permutation starts, and its step. */
#define MAGLEV_SEED_OFFSET	0x2545f491
#define MAGLEV_SEED_SKIP	0x9e3779b9

static __u32 rotl32(__u32 w, unsigned int s)
{
	return (w << s) | (w >> (32 - s));
}

/* One word into a MurmurHash3 (x86_32) state. */
static __u32 murmur_word(__u32 h, __u32 k)
{
	k *= 0xcc9e2d51;
	k = rotl32(k, 15);
	k *= 0x1b873593;
	h ^= k;
	h = rotl32(h, 13);
	return h * 5 + 0xe6546b64;
}

/* MurmurHash3 of the backend's address and port (host order, so every node agrees). */
static __u32 backend_hash(const struct kanary_backend *be, __u32 seed)
{
	__u32 h = seed;

	for (int i = 0; i < 4; i++)
		h = murmur_word(h, ntohl(be->addr.w[i]));
	h = murmur_word(h, ntohs(be->port));
	h ^= sizeof(be->addr) + sizeof(be->port);
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	return h ^ (h >> 16);
}

void kanary_maglev_perm(const struct kanary_backend *be, __u32 *offset, __u32 *skip)
{
	*offset = backend_hash(be, MAGLEV_SEED_OFFSET) % KANARY_MAGLEV_SIZE;
	*skip = backend_hash(be, MAGLEV_SEED_SKIP) % (KANARY_MAGLEV_SIZE - 1) + 1;
}

static int backend_cmp(const struct kanary_backend *a, const struct kanary_backend *b)
{
	int c = memcmp(&a->addr, &b->addr, sizeof(a->addr));

	return c ? c : memcmp(&a->port, &b->port, sizeof(a->port));
}

void kanary_maglev_build(const struct kanary_backend *be, __u32 n, struct kanary_maglev *t)
{
	/* next[k]: the point backend order[k] tries next, stepping by skip[k]. */
	__u32 order[KANARY_MAX_BACKENDS], next[KANARY_MAX_BACKENDS], skip[KANARY_MAX_BACKENDS];
	bool taken[KANARY_MAGLEV_SIZE] = { false };
	__u32 filled = 0;

	memset(t, 0, sizeof(*t));
	if (n == 0 || n > KANARY_MAX_BACKENDS)
		return;
	/*
	 * Turns go in the backends' own order, not the caller's: the same set
	 * listed in any order gives the same table.  n <= 256: insertion sort.
	 */
	for (__u32 k = 0; k < n; k++) {
		__u32 j = k;

		for (; j > 0 && backend_cmp(&be[order[j - 1]], &be[k]) > 0; j--)
			order[j] = order[j - 1];
		order[j] = k;
	}
	for (__u32 k = 0; k < n; k++)
		kanary_maglev_perm(&be[order[k]], &next[k], &skip[k]);
	/* M is prime and 0 < skip < M, so each walk meets every point: it always finds a free one. */
	while (filled < KANARY_MAGLEV_SIZE) {
		for (__u32 k = 0; k < n && filled < KANARY_MAGLEV_SIZE; k++) {
			while (taken[next[k]])
				next[k] = (next[k] + skip[k]) % KANARY_MAGLEV_SIZE;
			taken[next[k]] = true;
			t->backend[next[k]] = (__u8)order[k];
			filled++;
		}
	}
}

static struct kanary_maglev_key table_key(__u32 id, __u32 slot, __u32 subset)
{
	struct kanary_maglev_key k;

	memset(&k, 0, sizeof(k));
	k.svc_id = id;
	k.slot = (__u8)slot;
	k.subset = (__u8)subset;
	return k;
}

int kanary_maglev_write(struct kanary_maps *m, __u32 id, __u32 slot, __u32 subset,
			const struct kanary_backend *be, __u32 n, struct kanary_err *e)
{
	struct kanary_maglev_key k = table_key(id, slot, subset);
	struct kanary_maglev t;

	kanary_maglev_build(be, n, &t);
	/* One update replaces the whole value: no reader sees half a table. */
	if (bpf_map_update_elem(m->mag, &k, &t, BPF_ANY) == 0)
		return 0;
	if (errno == E2BIG || errno == ENOMEM || errno == ENOSPC)
		return kanary_errf(e, ENOSPC,
				   "no room for the Maglev table of service id %u in %s: %s",
				   id, KANARY_MAP_MAGLEV, strerror(errno));
	return kanary_errf(e, errno, "cannot write the Maglev table of service id %u: %s", id,
			   strerror(errno));
}

struct backfill {
	struct kanary_maps *m;
	struct kanary_err *e;
	int err;
};

static int backfill_service(const struct kanary_service *s, void *ctx)
{
	struct backfill *b = ctx;
	struct kanary_maglev t;

	for (__u32 i = 0; i < s->cfg.n_subsets && i < KANARY_MAX_SUBSETS; i++) {
		struct kanary_maglev_key k = table_key(s->id, s->slot, i);
		__u32 n = s->cfg.subsets[i].n_backends;

		if (!n || bpf_map_lookup_elem(b->m->mag, &k, &t) == 0)
			continue;
		/* The slot is live: one update puts the whole table in at once. */
		b->err = kanary_maglev_write(b->m, s->id, s->slot, i, s->backends[i], n, b->e);
		if (b->err)
			return 1;
	}
	return 0;
}

int kanary_maglev_backfill(const char *pin_path, struct kanary_err *e)
{
	struct kanary_maps m;
	struct backfill b = { &m, e, 0 };
	int err = kanary_maps_open(&m, pin_path, e);

	if (err)
		return err;
	err = kanary_service_foreach(&m, backfill_service, &b, e);
	kanary_maps_close(&m);
	return err ? err : b.err;
}

int kanary_maglev_delete(struct kanary_maps *m, __u32 id, __u32 slot, __u32 subset,
			 struct kanary_err *e)
{
	struct kanary_maglev_key k = table_key(id, slot, subset);

	if (bpf_map_delete_elem(m->mag, &k) == 0 || errno == ENOENT)
		return 0;
	return kanary_errf(e, errno, "cannot delete a Maglev table of service id %u: %s", id,
			   strerror(errno));
}
