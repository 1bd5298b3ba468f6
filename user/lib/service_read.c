// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Services read from the maps.  A service owns id N: config slots 2N and
 * 2N+1, backend keys {N, slot, subset, index} and stats N*8..N*8+7; the
 * service map entry says which slot is live (see service_commit.c).  Names
 * come from the in-memory index (service_index.c), checked against the
 * maps, so a lookup does not walk every service.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "internal.h"

int kanary_cfg_read(struct kanary_maps *m, __u32 id, __u32 slot,
		    struct kanary_svc_config *cfg, struct kanary_err *e)
{
	__u32 key = id * 2 + slot;

	if (bpf_map_lookup_elem(m->cfg, &key, cfg))
		return kanary_errf(e, errno, "cannot read config %u of service id %u: %s", slot,
				   id, strerror(errno));
	return 0;
}

struct kanary_backend_key kanary_backend_key_of(__u32 id, __u32 slot, __u32 subset, __u32 index)
{
	struct kanary_backend_key k;

	memset(&k, 0, sizeof(k));
	k.svc_id = id;
	k.slot = (__u8)slot;
	k.subset = (__u8)subset;
	k.index = (__u16)index;
	return k;
}

struct live {
	__u8 *slot1;		/* slot + 1 of every id the service map points to, else 0 */
	__u32 max;
};

static int live_one(const struct kanary_svc_key *key, const struct kanary_svc_ref *ref, void *ctx)
{
	struct live *l = ctx;

	if (ref->id < l->max && ref->slot < 2)
		l->slot1[ref->id] = (__u8)(ref->slot + 1);
	return 0;
}

static int live_ids(struct kanary_maps *m, __u8 **out, struct kanary_err *e)
{
	struct live l = { .slot1 = calloc(m->max_services ? m->max_services : 1, 1),
			  .max = m->max_services };
	int err;

	if (!l.slot1)
		return kanary_errf(e, ENOMEM, "out of memory");
	err = kanary_svc_walk(m, live_one, &l, e);
	if (err) {
		free(l.slot1);
		return err;
	}
	*out = l.slot1;
	return 0;
}

/* Into an all-zero s: the config (read unless cfg is given) and its backends. */
static int service_fill(struct kanary_maps *m, __u32 id, __u32 slot,
			const struct kanary_svc_config *cfg, struct kanary_service *s,
			struct kanary_err *e)
{
	int err;

	if (cfg) {
		s->cfg = *cfg;
	} else {
		err = kanary_cfg_read(m, id, slot, &s->cfg, e);
		if (err)
			return err;
	}
	if (s->cfg.n_subsets > KANARY_MAX_SUBSETS)
		return kanary_errf(e, EIO, "config %u of service id %u has %u subsets (max %d)",
				   slot, id, s->cfg.n_subsets, KANARY_MAX_SUBSETS);
	for (__u32 i = 0; i < s->cfg.n_subsets; i++) {
		struct kanary_subset *sub = &s->cfg.subsets[i];

		if (sub->n_backends > KANARY_MAX_BACKENDS)
			return kanary_errf(e, EIO, "subset %.*s of service %.*s has %u backends (max %d)",
					   KANARY_SUBSET_NAME_LEN, sub->name, KANARY_NAME_LEN,
					   s->cfg.name, sub->n_backends, KANARY_MAX_BACKENDS);
		for (__u32 j = 0; j < sub->n_backends; j++) {
			struct kanary_backend_key k = kanary_backend_key_of(id, slot, i, j);

			if (bpf_map_lookup_elem(m->be, &k, &s->backends[i][j]))
				return kanary_errf(e, EIO,
						   "service %.*s: backend %u of subset %.*s is missing from %s: "
						   "the maps are inconsistent",
						   KANARY_NAME_LEN, s->cfg.name, j,
						   KANARY_SUBSET_NAME_LEN, sub->name, KANARY_MAP_BACKENDS);
		}
	}
	s->exists = true;
	s->id = id;
	s->slot = slot;
	return 0;
}

static int service_load(struct kanary_maps *m, __u32 id, __u32 slot,
			struct kanary_service *s, struct kanary_err *e)
{
	memset(s, 0, sizeof(*s));
	return service_fill(m, id, slot, NULL, s, e);
}

/*
 * Back to all zero after service_fill, touching only what it wrote: the
 * whole struct is 49 KB, and zeroing it for each of 10,000 services cost
 * more than reading them.
 */
static void service_clear(struct kanary_service *s)
{
	for (__u32 i = 0; i < s->cfg.n_subsets && i < KANARY_MAX_SUBSETS; i++) {
		__u32 n = s->cfg.subsets[i].n_backends;

		memset(s->backends[i], 0,
		       (n < KANARY_MAX_BACKENDS ? n : KANARY_MAX_BACKENDS) * sizeof(s->backends[i][0]));
	}
	memset(&s->cfg, 0, sizeof(s->cfg));
	s->exists = false;
	s->id = s->slot = 0;
}

/*
 * What the index says about id, checked against the maps: the service map
 * entry of its key still points to id, and that slot still has its name.
 * -ESTALE when they disagree (see service_index.c).
 */
static int index_check(struct kanary_maps *m, const struct kanary_name_index *x, __u32 id,
		       const char *name, __u32 *slot, struct kanary_err *e)
{
	const struct kanary_svc_key *key = kanary_name_index_key(x, id);
	struct kanary_svc_config cfg;
	struct kanary_svc_ref ref;
	int err;

	if (!key || bpf_map_lookup_elem(m->svc, key, &ref) || ref.id != id || ref.slot > 1)
		return -ESTALE;
	err = kanary_cfg_read(m, id, ref.slot, &cfg, e);
	if (err)
		return err;
	if (strncmp(cfg.name, name, sizeof(cfg.name)) != 0)
		return -ESTALE;
	*slot = ref.slot;
	return 0;
}

int kanary_service_find(struct kanary_maps *m, const char *name, __u32 *id, __u32 *slot,
			struct kanary_err *e)
{
	struct kanary_name_index *x;
	int err;

	for (int rebuilt = 0; rebuilt < 2; rebuilt++) {
		err = kanary_index_get(m, &x, e);
		if (err)
			return err;
		if (kanary_name_index_find(x, name, id))
			return -ENOENT;
		err = index_check(m, x, *id, name, slot, e);
		if (err != -ESTALE)
			return err;
		kanary_index_drop(m);
	}
	return kanary_errf(e, EAGAIN,
			   "service %s changed while it was looked up: is a program writing %s "
			   "without kanary's lock?", name, m->pin_path);
}

int kanary_service_get(struct kanary_maps *m, const char *name,
		       struct kanary_service *out, struct kanary_err *e)
{
	__u32 id, slot;
	int err;

	err = kanary_service_find(m, name, &id, &slot, e);
	if (err == -ENOENT)
		return kanary_errf(e, ENOENT, "no service named '%s': see 'kanaryctl service list'",
				   name);
	if (err)
		return err;
	return service_load(m, id, slot, out, e);
}

int kanary_service_get_at(struct kanary_maps *m, const char *name,
			  const struct kanary_svc_key *key, struct kanary_service *out,
			  struct kanary_err *e)
{
	struct kanary_svc_config cfg;
	struct kanary_svc_ref ref;

	/* The same checks as index_check: the entry points to id, whose slot has the name. */
	if (bpf_map_lookup_elem(m->svc, key, &ref) == 0 && ref.id < m->max_services &&
	    ref.slot < 2 && kanary_cfg_read(m, ref.id, ref.slot, &cfg, NULL) == 0 &&
	    strncmp(cfg.name, name, sizeof(cfg.name)) == 0) {
		memset(out, 0, sizeof(*out));
		return service_fill(m, ref.id, ref.slot, &cfg, out, e);
	}
	return kanary_service_get(m, name, out, e);
}

int kanary_service_foreach(struct kanary_maps *m,
			   int (*fn)(const struct kanary_service *s, void *ctx),
			   void *ctx, struct kanary_err *e)
{
	struct kanary_service *s = calloc(1, sizeof(*s));
	struct kanary_svc_config *chunk = malloc(2 * KANARY_CFG_CHUNK_IDS * sizeof(*chunk));
	__u8 *live = NULL;
	bool stop = false;
	int err;

	if (!s || !chunk) {
		free(s);
		free(chunk);
		return kanary_errf(e, ENOMEM, "out of memory");
	}
	err = live_ids(m, &live, e);
	for (__u32 first = 0; !err && !stop && first < m->max_services;
	     first += KANARY_CFG_CHUNK_IDS) {
		__u32 end = m->max_services - first < KANARY_CFG_CHUNK_IDS ? m->max_services :
			    first + KANARY_CFG_CHUNK_IDS, n = 0;
		bool batched;

		for (__u32 id = first; id < end; id++)
			n += live[id] != 0;
		batched = kanary_cfg_chunk_worth(n, end - first) &&
			  kanary_cfg_read_chunk(m, first, end - first, chunk);
		for (__u32 id = first; !err && !stop && id < end; id++) {
			__u32 slot = live[id] - 1u;

			if (!live[id])
				continue;
			err = service_fill(m, id, slot, batched ? &chunk[(id - first) * 2 + slot] : NULL,
					   s, e);
			stop = !err && fn(s, ctx);
			service_clear(s);
		}
	}
	free(live);
	free(chunk);
	free(s);
	return err;
}
