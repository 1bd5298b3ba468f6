// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Services written to the maps: the two-slot commit.  A commit fills the
 * service's inactive config slot, its backends and their Maglev tables
 * (maglev.c), then flips the one service map entry, so the datapath sees
 * either all or none of a change.
 * Callers hold the instance lock (kanary_maps_open), so there is one writer.
 * Add and delete keep the in-memory index (service_index.c) up to date.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include "internal.h"
#include "rule_set.h"

static int cfg_write(struct kanary_maps *m, __u32 id, __u32 slot,
		     const struct kanary_svc_config *cfg, struct kanary_err *e)
{
	__u32 key = id * 2 + slot;

	if (bpf_map_update_elem(m->cfg, &key, cfg, BPF_ANY))
		return kanary_errf(e, errno, "cannot write config %u of service id %u: %s", slot,
				   id, strerror(errno));
	return 0;
}

/* Deletes the contiguous run of backend keys from index `from` on. */
static int be_delete_from(struct kanary_maps *m, __u32 id, __u32 slot, __u32 subset,
			  __u32 from, struct kanary_err *e)
{
	for (__u32 j = from; j < KANARY_MAX_BACKENDS; j++) {
		struct kanary_backend_key k = kanary_backend_key_of(id, slot, subset, j);

		if (bpf_map_delete_elem(m->be, &k) == 0)
			continue;
		if (errno == ENOENT)
			break;
		return kanary_errf(e, errno, "cannot delete a backend of service id %u: %s", id,
				   strerror(errno));
	}
	return 0;
}

int kanary_slot_clear(struct kanary_maps *m, __u32 id, __u32 slot, struct kanary_err *e)
{
	for (__u32 i = 0; i < KANARY_MAX_SUBSETS; i++) {
		int err = be_delete_from(m, id, slot, i, 0, e);

		if (!err)
			err = kanary_maglev_delete(m, id, slot, i, e);
		if (err)
			return err;
	}
	return 0;
}

/*
 * Only the live slot keeps Maglev tables: half the memory.  A packet still
 * under way in the old slot finds none and takes hash % n over that slot's
 * backends, which stay until kanary_slots_release (slots_release.c) frees
 * them after a grace period.  Best effort: a table left over costs memory
 * only, and the next commit rewrites the slot.
 */
static void tables_drop(struct kanary_maps *m, __u32 id, __u32 slot)
{
	for (__u32 i = 0; i < KANARY_MAX_SUBSETS; i++)
		kanary_maglev_delete(m, id, slot, i, NULL);
}

static int validate(const struct kanary_service *s, struct kanary_err *e)
{
	const struct kanary_svc_config *c = &s->cfg;
	char addr[64];

	if (memchr(c->name, '\0', sizeof(c->name)) == NULL || !kanary_name_valid(c->name, KANARY_NAME_LEN))
		return kanary_errf(e, EINVAL,
				   "'%.*s' is not a valid service name: expected 1-%d characters of A-Z a-z 0-9 . _ / -",
				   KANARY_NAME_LEN, c->name, KANARY_NAME_LEN - 1);
	if (c->key.proto != IPPROTO_TCP)
		return kanary_errf(e, EPROTONOSUPPORT, "only tcp is supported (protocol %u given)",
				   c->key.proto);
	if (c->key.port == 0)
		return kanary_errf(e, EINVAL, "service %s has port 0: expected 1-65535", c->name);
	if (c->n_subsets > KANARY_MAX_SUBSETS)
		return kanary_errf(e, ENOSPC, "service %s has %u subsets: at most %d are allowed",
				   c->name, c->n_subsets, KANARY_MAX_SUBSETS);
	for (__u32 i = 0; i < c->n_subsets; i++) {
		const struct kanary_subset *sub = &c->subsets[i];

		if (memchr(sub->name, '\0', sizeof(sub->name)) == NULL ||
		    !kanary_name_valid(sub->name, KANARY_SUBSET_NAME_LEN))
			return kanary_errf(e, EINVAL, "subset %u of service %s has an invalid name", i,
					   c->name);
		for (__u32 k = 0; k < i; k++)
			if (strcmp(c->subsets[k].name, sub->name) == 0)
				return kanary_errf(e, EINVAL, "service %s has subset '%s' twice",
						   c->name, sub->name);
		if (sub->weight_milli > KANARY_WEIGHT_MAX_MILLI)
			return kanary_errf(e, ERANGE, "subset %s of service %s: weight above %d",
					   sub->name, c->name, KANARY_WEIGHT_MAX);
		if (sub->n_backends > KANARY_MAX_BACKENDS)
			return kanary_errf(e, ENOSPC,
					   "subset %s of service %s has %u backends: at most %d are allowed",
					   sub->name, c->name, sub->n_backends, KANARY_MAX_BACKENDS);
		for (__u32 j = 0; j < sub->n_backends; j++) {
			if (s->backends[i][j].port == 0) {
				kanary_format_ipport(addr, sizeof(addr), &s->backends[i][j].addr, 0);
				return kanary_errf(e, EINVAL, "backend %s of subset %s has port 0", addr,
						   sub->name);
			}
		}
	}
	return 0;
}

static int be_write_slot(struct kanary_maps *m, const struct kanary_service *s, __u32 id,
			 __u32 slot, struct kanary_err *e)
{
	const struct kanary_svc_config *c = &s->cfg;

	/* Stale keys first: they hold room the new ones may need. */
	for (__u32 i = 0; i < KANARY_MAX_SUBSETS; i++) {
		int err = be_delete_from(m, id, slot, i, i < c->n_subsets ? c->subsets[i].n_backends : 0, e);

		if (err)
			return err;
	}
	for (__u32 i = 0; i < c->n_subsets; i++) {
		int err;

		for (__u32 j = 0; j < c->subsets[i].n_backends; j++) {
			struct kanary_backend_key k = kanary_backend_key_of(id, slot, i, j);
			struct kanary_backend v = s->backends[i][j];

			v.pad = 0;
			if (bpf_map_update_elem(m->be, &k, &v, BPF_ANY) == 0)
				continue;
			/* Full: the old slots of earlier commits may hold the room. */
			if ((errno == E2BIG || errno == ENOMEM || errno == ENOSPC) && m->n_retired) {
				if (kanary_slots_release(m, NULL) == 0 &&
				    bpf_map_update_elem(m->be, &k, &v, BPF_ANY) == 0)
					continue;
				errno = errno == 0 ? ENOSPC : errno;
			}
			if (errno == E2BIG || errno == ENOMEM || errno == ENOSPC)
				return kanary_errf(e, ENOSPC,
						   "the backend map %s is full: unload and load with a larger max-backends",
						   KANARY_MAP_BACKENDS);
			return kanary_errf(e, errno, "cannot write a backend of service %s: %s",
					   c->name, strerror(errno));
		}
		if (!c->subsets[i].n_backends)
			continue;	/* no table: tables_drop left none in this slot */
		err = kanary_maglev_write(m, id, slot, i, s->backends[i], c->subsets[i].n_backends, e);
		if (err)
			return err;
	}
	return 0;
}

/* A name and a VIP:port no other live service has; picks a free id. */
static int claim_id(struct kanary_maps *m, const struct kanary_service *s, __u32 *id,
		    struct kanary_err *e)
{
	struct kanary_name_index *x;
	struct kanary_svc_ref ref;
	struct kanary_svc_config other;
	char vip[64];
	__u32 oid, oslot;
	int err;

	kanary_format_ipport(vip, sizeof(vip), &s->cfg.key.vip, s->cfg.key.port);
	if (bpf_map_lookup_elem(m->svc, &s->cfg.key, &ref) == 0) {
		if (ref.id < m->max_services && ref.slot < 2 &&
		    kanary_cfg_read(m, ref.id, ref.slot, &other, NULL) == 0)
			return kanary_errf(e, EEXIST, "%s/tcp is already service '%.*s'", vip,
					   KANARY_NAME_LEN, other.name);
		return kanary_errf(e, EEXIST, "%s/tcp is already a service", vip);
	}
	err = kanary_service_find(m, s->cfg.name, &oid, &oslot, e);
	if (err == 0)
		return kanary_errf(e, EEXIST, "service '%s' already exists", s->cfg.name);
	if (err != -ENOENT)
		return err;
	err = kanary_index_get(m, &x, e);
	if (err)
		return err;
	/* An id nothing points to is free, even if an interrupted delete left data in it. */
	if (kanary_name_index_free_id(x, id))
		return kanary_errf(e, ENOSPC,
				   "all %u service ids are in use: delete a service, or unload and load with a larger max-services",
				   m->max_services);
	return 0;
}

/* The index follows a change this process made; if it cannot, it is rebuilt on next use. */
static void index_added(struct kanary_maps *m, __u32 id, const struct kanary_svc_config *cfg)
{
	if (m->index && kanary_name_index_add(m->index, id, cfg->name, &cfg->key))
		kanary_index_drop(m);
}

static void index_deleted(struct kanary_maps *m, __u32 id)
{
	if (m->index && kanary_name_index_del(m->index, id))
		kanary_index_drop(m);
}

static int commit_new(struct kanary_maps *m, struct kanary_service *s, struct kanary_err *e)
{
	struct kanary_svc_config empty;
	struct kanary_svc_ref ref = {};
	__u32 id = 0;
	int err;

	err = claim_id(m, s, &id, e);
	if (err)
		return err;
	memset(&empty, 0, sizeof(empty));
	err = cfg_write(m, id, 1, &empty, e);
	if (!err)
		err = kanary_slot_clear(m, id, 1, e);
	if (!err)
		err = kanary_stats_zero(m, id, e);
	if (!err)
		err = kanary_rules_clear(m, id, e);
	if (!err)
		err = kanary_mirror_clear(m, id, e);
	if (!err)
		err = be_write_slot(m, s, id, 0, e);
	if (err)
		return err;
	s->cfg.generation = 1;
	kanary_weights_normalize(&s->cfg);
	err = cfg_write(m, id, 0, &s->cfg, e);
	if (err)
		return err;
	ref.id = id;
	ref.slot = 0;
	if (bpf_map_update_elem(m->svc, &s->cfg.key, &ref, BPF_NOEXIST)) {
		if (errno == E2BIG || errno == ENOMEM)
			return kanary_errf(e, ENOSPC, "the service map %s is full", KANARY_MAP_SERVICES);
		return kanary_errf(e, errno, "cannot add service %s: %s", s->cfg.name,
				   strerror(errno));
	}
	index_added(m, id, &s->cfg);
	s->exists = true;
	s->id = id;
	s->slot = 0;
	return 0;
}

int kanary_service_commit(struct kanary_maps *m, struct kanary_service *s,
			  struct kanary_err *e)
{
	struct kanary_svc_config live;
	struct kanary_svc_ref ref = {};
	__u32 next;
	int err;

	/* Unused tail bytes must not carry garbage into the maps. */
	for (__u32 i = s->cfg.n_subsets; i < KANARY_MAX_SUBSETS; i++)
		memset(&s->cfg.subsets[i], 0, sizeof(s->cfg.subsets[i]));
	s->cfg.key.pad = 0;
	err = validate(s, e);
	if (err)
		return err;
	if (!s->exists)
		return commit_new(m, s, e);

	if (s->id >= m->max_services || s->slot > 1)
		return kanary_errf(e, EINVAL, "service %s has id %u slot %u: out of range",
				   s->cfg.name, s->id, s->slot);
	if (bpf_map_lookup_elem(m->svc, &s->cfg.key, &ref) || ref.id != s->id ||
	    ref.slot != s->slot)
		return kanary_errf(e, ESTALE,
				   "service %s changed or went away since it was read: read it again",
				   s->cfg.name);
	err = kanary_cfg_read(m, s->id, s->slot, &live, e);
	if (err)
		return err;
	if (strncmp(live.name, s->cfg.name, sizeof(live.name)) != 0)
		return kanary_errf(e, EINVAL,
				   "a service cannot be renamed ('%.*s' to '%s'): delete it and add it again",
				   KANARY_NAME_LEN, live.name, s->cfg.name);

	next = !s->slot;
	/* Retired by an earlier commit of this batch: packets may still read it until a grace period. */
	if (kanary_slot_retired(m, s->id, next)) {
		err = kanary_slots_release(m, e);
		if (err)
			return err;
	}
	err = be_write_slot(m, s, s->id, next, e);
	if (err)
		return err;
	s->cfg.generation = live.generation + 1;
	kanary_weights_normalize(&s->cfg);
	err = cfg_write(m, s->id, next, &s->cfg, e);
	if (err)
		return err;
	/* The switch: one update, seen by the datapath whole or not at all. */
	ref.id = s->id;
	ref.slot = next;
	if (bpf_map_update_elem(m->svc, &s->cfg.key, &ref, BPF_EXIST))
		return kanary_errf(e, errno, "cannot switch service %s to its new config: %s",
				   s->cfg.name, strerror(errno));
	s->slot = next;
	tables_drop(m, s->id, !next);
	/* Its backends go once no packet can be reading them; kept if this cannot be recorded. */
	kanary_slot_retire(m, s->id, !next);
	return 0;
}

int kanary_service_add(struct kanary_maps *m, const char *name,
		       const struct kanary_svc_key *key, struct kanary_err *e)
{
	struct kanary_service *s;
	int err;

	if (!kanary_name_valid(name, KANARY_NAME_LEN))
		return kanary_errf(e, EINVAL,
				   "'%s' is not a valid service name: expected 1-%d characters of A-Z a-z 0-9 . _ / -",
				   name, KANARY_NAME_LEN - 1);
	s = calloc(1, sizeof(*s));
	if (!s)
		return kanary_errf(e, ENOMEM, "out of memory");
	strcpy(s->cfg.name, name);
	s->cfg.key = *key;
	err = kanary_service_commit(m, s, e);
	free(s);
	return err;
}

int kanary_service_del(struct kanary_maps *m, const char *name, struct kanary_err *e)
{
	struct kanary_svc_config empty;
	struct kanary_service *s;
	int err;

	s = malloc(sizeof(*s));
	if (!s)
		return kanary_errf(e, ENOMEM, "out of memory");
	err = kanary_service_get(m, name, s, e);
	if (err)
		goto out;
	/* Unhook first: from here on the datapath no longer sees the service. */
	if (bpf_map_delete_elem(m->svc, &s->cfg.key)) {
		err = kanary_errf(e, errno, "cannot delete service %s: %s", name, strerror(errno));
		goto out;
	}
	/* Nothing points to the id any more: free to reuse, whatever the cleanup below does. */
	index_deleted(m, s->id);
	memset(&empty, 0, sizeof(empty));
	for (__u32 slot = 0; slot < 2 && !err; slot++) {
		err = cfg_write(m, s->id, slot, &empty, e);
		if (!err)
			err = kanary_slot_clear(m, s->id, slot, e);
	}
	if (!err)
		err = kanary_stats_zero(m, s->id, e);
	if (!err)
		err = kanary_rules_clear(m, s->id, e);
	if (!err)
		err = kanary_mirror_clear(m, s->id, e);
out:
	free(s);
	return err;
}

int kanary_subset_find(struct kanary_service *s, const char *name, bool create,
		       struct kanary_err *e)
{
	struct kanary_svc_config *c = &s->cfg;
	char have[KANARY_MAX_SUBSETS * (KANARY_SUBSET_NAME_LEN + 2)] = "";
	struct kanary_subset *sub;

	for (__u32 i = 0; i < c->n_subsets && i < KANARY_MAX_SUBSETS; i++)
		if (strncmp(c->subsets[i].name, name, KANARY_SUBSET_NAME_LEN) == 0)
			return (int)i;
	if (!kanary_name_valid(name, KANARY_SUBSET_NAME_LEN))
		return kanary_errf(e, EINVAL,
				   "'%s' is not a valid subset name: expected 1-%d characters of A-Z a-z 0-9 . _ / -",
				   name, KANARY_SUBSET_NAME_LEN - 1);
	if (!create) {
		for (__u32 i = 0; i < c->n_subsets && i < KANARY_MAX_SUBSETS; i++) {
			if (i)
				strcat(have, ", ");
			strncat(have, c->subsets[i].name, KANARY_SUBSET_NAME_LEN);
		}
		return kanary_errf(e, ENOENT, "service %.*s has no subset '%s' (it has: %s)",
				   KANARY_NAME_LEN, c->name, name, c->n_subsets ? have : "none");
	}
	if (c->n_subsets >= KANARY_MAX_SUBSETS)
		return kanary_errf(e, ENOSPC,
				   "service %.*s already has %d subsets, the most allowed: cannot add '%s'",
				   KANARY_NAME_LEN, c->name, KANARY_MAX_SUBSETS, name);
	sub = &c->subsets[c->n_subsets];
	memset(sub, 0, sizeof(*sub));
	strcpy(sub->name, name);
	/* The first subset takes all traffic; a canary takes none until weighted. */
	sub->weight_milli = c->n_subsets == 0 ? 100 * KANARY_WEIGHT_MILLI : 0;
	return (int)c->n_subsets++;
}
