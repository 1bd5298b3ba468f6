// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The service index of an open kanary_maps, built from the pinned maps by
 * one pass: the service map says which ids are live (and under which
 * VIP:port), the live config slot of each gives its name.
 *
 * Coherence.  The index lives in struct kanary_maps, that is between one
 * kanary_maps_open and its close, while the instance lock (an exclusive
 * flock on the pin directory) is held.  Every libkanary writer (kanaryctl,
 * kanaryd, the loader) takes that lock before it touches the maps, so while
 * the index exists the only writer is this process, and service_commit.c
 * updates the index with each add and delete.  Nothing is kept across a close:
 * kanaryd opens the maps for one reconcile pass at a time, so the next pass
 * rebuilds the index and sees what kanaryctl changed in between.  The
 * datapath never writes the service or config maps.
 *
 * A program writing the maps without libkanary or without the lock breaks
 * that assumption.  service_read.c checks every name found here against the
 * service and config maps (one lookup each) and rebuilds the index when
 * they disagree; a name the index does not have, or a free id, cannot be
 * checked that cheaply and is trusted.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "internal.h"

#define WALK_BATCH	1024	/* service map entries per BPF_MAP_LOOKUP_BATCH */

/* The service map one entry at a time, for kernels without batch lookups. */
static int svc_walk_each(struct kanary_maps *m,
			 int (*fn)(const struct kanary_svc_key *, const struct kanary_svc_ref *, void *),
			 void *ctx, struct kanary_err *e)
{
	struct kanary_svc_key key, next;
	struct kanary_svc_ref ref;
	void *prev = NULL;
	int err;

	while (bpf_map_get_next_key(m->svc, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(m->svc, &key, &ref))
			continue;	/* deleted meanwhile */
		err = fn(&key, &ref, ctx);
		if (err)
			return err;
	}
	if (errno != ENOENT)
		return kanary_errf(e, errno, "cannot walk the service map: %s", strerror(errno));
	return 0;
}

int kanary_svc_walk(struct kanary_maps *m,
		    int (*fn)(const struct kanary_svc_key *, const struct kanary_svc_ref *, void *),
		    void *ctx, struct kanary_err *e)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct kanary_svc_key *keys;
	struct kanary_svc_ref *refs;
	__u32 cap = WALK_BATCH, batch = 0, count;
	bool first = true, done = false;
	int err = 0;

	keys = malloc(cap * sizeof(*keys));
	refs = malloc(cap * sizeof(*refs));
	while (!err && !done && keys && refs) {
		count = cap;
		if (bpf_map_lookup_batch(m->svc, first ? NULL : &batch, &batch, keys, refs, &count,
					 &opts)) {
			err = errno;
			if (err == ENOSPC && count == 0) {
				/* One hash bucket holds more than cap entries: a bigger buffer. */
				void *k = realloc(keys, 2 * cap * sizeof(*keys));
				void *r = k ? realloc(refs, 2 * cap * sizeof(*refs)) : NULL;

				keys = k ? k : keys;
				refs = r ? r : refs;
				if (!k || !r) {
					err = kanary_errf(e, ENOMEM, "out of memory");
					break;
				}
				cap *= 2;
				err = 0;
				continue;
			}
			if (first && (err == EINVAL || err == ENOTSUP || err == EOPNOTSUPP)) {
				free(keys);
				free(refs);
				return svc_walk_each(m, fn, ctx, e);
			}
			if (err != ENOENT) {
				err = kanary_errf(e, err, "cannot walk the service map: %s", strerror(err));
				break;
			}
			err = 0;
			done = true;	/* ENOENT: this was the last part */
		}
		first = false;
		for (__u32 i = 0; i < count && !err; i++)
			err = fn(&keys[i], &refs[i], ctx);
	}
	if (!err && (!keys || !refs))
		err = kanary_errf(e, ENOMEM, "out of memory");
	free(keys);
	free(refs);
	return err;
}

struct build {
	struct kanary_maps *m;
	__u8 *slot1;			/* slot + 1 of each live id, else 0 */
	struct kanary_svc_key *keys;	/* of each live id */
	struct kanary_svc_config *chunk;	/* 2 * KANARY_CFG_CHUNK_IDS config slots */
	struct kanary_err *e;
};

static int collect_one(const struct kanary_svc_key *key, const struct kanary_svc_ref *ref, void *ctx)
{
	struct build *b = ctx;

	/* Out of range: points nowhere, and the datapath ignores it too. */
	if (ref->id < b->m->max_services && ref->slot < 2) {
		b->slot1[ref->id] = (__u8)(ref->slot + 1);
		b->keys[ref->id] = *key;
	}
	return 0;
}

static int cfg_lookup(struct build *b, __u32 id, struct kanary_svc_config *cfg)
{
	__u32 key = id * 2 + b->slot1[id] - 1;

	if (bpf_map_lookup_elem(b->m->cfg, &key, cfg))
		return kanary_errf(b->e, errno, "cannot read config %u of service id %u: %s",
				   b->slot1[id] - 1, id, strerror(errno));
	return 0;
}

static void index_one(struct kanary_name_index *x, __u32 id, const struct kanary_svc_key *key,
		      const struct kanary_svc_config *cfg)
{
	/* A live id whose name is unusable or taken twice stays taken, unnamed. */
	if (memchr(cfg->name, '\0', sizeof(cfg->name)) == NULL ||
	    kanary_name_index_add(x, id, cfg->name, key))
		kanary_name_index_take(x, id);
}

static int index_names(struct build *b, struct kanary_name_index *x)
{
	struct kanary_svc_config cfg;
	__u32 max = b->m->max_services;
	int err;

	for (__u32 first = 0; first < max; first += KANARY_CFG_CHUNK_IDS) {
		__u32 n = max - first < KANARY_CFG_CHUNK_IDS ? max - first : KANARY_CFG_CHUNK_IDS;
		__u32 live = 0;
		bool batched;

		for (__u32 id = first; id < first + n; id++)
			live += b->slot1[id] != 0;
		if (!live)
			continue;
		batched = kanary_cfg_chunk_worth(live, n) &&
			  kanary_cfg_read_chunk(b->m, first, n, b->chunk);
		for (__u32 id = first; id < first + n; id++) {
			__u32 slot = b->slot1[id] - 1u;

			if (!b->slot1[id])
				continue;
			if (batched) {
				index_one(x, id, &b->keys[id], &b->chunk[(id - first) * 2 + slot]);
				continue;
			}
			err = cfg_lookup(b, id, &cfg);
			if (err)
				return err;
			index_one(x, id, &b->keys[id], &cfg);
		}
	}
	return 0;
}

int kanary_index_get(struct kanary_maps *m, struct kanary_name_index **out,
		     struct kanary_err *e)
{
	struct build b = { .m = m, .e = e };
	struct kanary_name_index *x = NULL;
	int err;

	if (m->index) {
		*out = m->index;
		return 0;
	}
	if (!m->max_services)
		return kanary_errf(e, EIO, "the config map at %s has room for no service: load again",
				   m->pin_path);
	b.slot1 = calloc(m->max_services, 1);
	b.keys = calloc(m->max_services, sizeof(*b.keys));
	b.chunk = malloc(2 * KANARY_CFG_CHUNK_IDS * sizeof(*b.chunk));
	x = kanary_name_index_new(m->max_services, 0);
	if (!b.slot1 || !b.keys || !b.chunk || !x) {
		err = kanary_errf(e, ENOMEM, "out of memory for an index of %u services",
				  m->max_services);
		goto out;
	}
	err = kanary_svc_walk(m, collect_one, &b, e);
	if (!err)
		err = index_names(&b, x);
	if (!err) {
		m->index = *out = x;
		x = NULL;
	}
out:
	free(x);
	free(b.slot1);
	free(b.keys);
	free(b.chunk);
	return err;
}

void kanary_index_drop(struct kanary_maps *m)
{
	free(m->index);
	m->index = NULL;
}
