// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The in-memory service index: name -> id, and the lowest free id, without
 * walking the maps.  Plain memory, no BPF: service_index.c fills it from the
 * pinned maps.  Names hash into chains threaded through an array indexed by
 * id, so adding or deleting never allocates, and ids are reused lowest
 * first, as the scan over all ids used to pick them.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

/*
 * One allocation, so that kanary_maps_close can free it without knowing
 * this layout (maps.c is also linked alone into the fuzz targets).  calloc
 * of a large block is lazily backed by zero pages: an instance loaded for a
 * million services costs memory only for the ids in use.
 */
struct kanary_name_index {
	__u32 max_ids;
	__u32 mask;			/* buckets - 1, a power of two minus one */
	__u32 n_used;
	__u32 free_hint;		/* no id below it is free */
	__u32 *bucket;			/* first id + 1 of each chain; 0: empty */
	__u32 *next;			/* next id + 1 in the chain of id */
	__u8 *used;			/* 1: id taken (named or not) */
	__u8 *named;			/* 1: id is in a chain under names[id] */
	struct kanary_svc_key *keys;
	char (*names)[KANARY_NAME_LEN];
	/* the arrays follow */
};

static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

struct kanary_name_index *kanary_name_index_new(__u32 max_ids, __u32 n_buckets)
{
	struct kanary_name_index *x;
	size_t at, sz_bucket, sz_next, sz_used, sz_keys, sz_names;
	__u32 buckets = 1;
	char *mem;

	if (max_ids == 0 || max_ids > KANARY_NAME_INDEX_MAX_IDS)
		return NULL;
	if (n_buckets == 0)
		n_buckets = max_ids;	/* chains of one on average */
	if (n_buckets > KANARY_NAME_INDEX_MAX_IDS)
		return NULL;
	while (buckets < n_buckets)
		buckets <<= 1;
	sz_bucket = align8((size_t)buckets * sizeof(__u32));
	sz_next = align8((size_t)max_ids * sizeof(__u32));
	sz_used = align8(max_ids);
	sz_keys = align8((size_t)max_ids * sizeof(struct kanary_svc_key));
	sz_names = (size_t)max_ids * KANARY_NAME_LEN;
	at = align8(sizeof(*x));
	mem = calloc(1, at + sz_bucket + sz_next + 2 * sz_used + sz_keys + sz_names);
	if (!mem)
		return NULL;
	x = (struct kanary_name_index *)mem;
	x->max_ids = max_ids;
	x->mask = buckets - 1;
	x->bucket = (__u32 *)(mem + at);
	at += sz_bucket;
	x->next = (__u32 *)(mem + at);
	at += sz_next;
	x->used = (__u8 *)(mem + at);
	at += sz_used;
	x->named = (__u8 *)(mem + at);
	at += sz_used;
	x->keys = (struct kanary_svc_key *)(mem + at);
	at += sz_keys;
	x->names = (char (*)[KANARY_NAME_LEN])(mem + at);
	return x;
}

/* FNV-1a over the name as the config holds it (at most KANARY_NAME_LEN - 1 bytes). */
static __u32 name_hash(const char *name)
{
	__u32 h = 2166136261u;

	for (size_t i = 0; i < KANARY_NAME_LEN && name[i]; i++) {
		h ^= (__u8)name[i];
		h *= 16777619u;
	}
	return h;
}

/* A name a config slot can hold: 1..KANARY_NAME_LEN-1 bytes. */
static bool storable(const char *name)
{
	size_t len = strnlen(name, KANARY_NAME_LEN);

	return len > 0 && len < KANARY_NAME_LEN;
}

int kanary_name_index_find(const struct kanary_name_index *x, const char *name, __u32 *id)
{
	if (!storable(name))
		return -ENOENT;
	for (__u32 i = x->bucket[name_hash(name) & x->mask]; i; i = x->next[i - 1]) {
		if (strcmp(x->names[i - 1], name) == 0) {
			*id = i - 1;
			return 0;
		}
	}
	return -ENOENT;
}

int kanary_name_index_add(struct kanary_name_index *x, __u32 id, const char *name,
			  const struct kanary_svc_key *key)
{
	__u32 *head, other;

	if (id >= x->max_ids)
		return -ERANGE;
	if (x->used[id])
		return -EBUSY;
	if (!storable(name))
		return -EINVAL;
	if (kanary_name_index_find(x, name, &other) == 0)
		return -EEXIST;
	head = &x->bucket[name_hash(name) & x->mask];
	strcpy(x->names[id], name);
	x->keys[id] = *key;
	x->next[id] = *head;
	*head = id + 1;
	x->used[id] = x->named[id] = 1;
	x->n_used++;
	return 0;
}

int kanary_name_index_take(struct kanary_name_index *x, __u32 id)
{
	if (id >= x->max_ids)
		return -ERANGE;
	if (x->used[id])
		return -EBUSY;
	x->used[id] = 1;
	x->n_used++;
	return 0;
}

int kanary_name_index_del(struct kanary_name_index *x, __u32 id)
{
	if (id >= x->max_ids || !x->used[id])
		return -ENOENT;
	if (x->named[id]) {
		__u32 *link = &x->bucket[name_hash(x->names[id]) & x->mask];

		while (*link != id + 1)
			link = &x->next[*link - 1];
		*link = x->next[id];
		x->next[id] = 0;
		x->named[id] = 0;
		memset(x->names[id], 0, sizeof(x->names[id]));
		memset(&x->keys[id], 0, sizeof(x->keys[id]));
	}
	x->used[id] = 0;
	x->n_used--;
	if (id < x->free_hint)
		x->free_hint = id;
	return 0;
}

int kanary_name_index_free_id(struct kanary_name_index *x, __u32 *id)
{
	const __u8 *p;

	if (x->free_hint < x->max_ids) {
		p = memchr(x->used + x->free_hint, 0, x->max_ids - x->free_hint);
		if (p) {
			x->free_hint = (__u32)(p - x->used);
			*id = x->free_hint;
			return 0;
		}
	}
	x->free_hint = x->max_ids;
	return -ENOSPC;
}

bool kanary_name_index_used(const struct kanary_name_index *x, __u32 id)
{
	return id < x->max_ids && x->used[id];
}

const struct kanary_svc_key *kanary_name_index_key(const struct kanary_name_index *x, __u32 id)
{
	return id < x->max_ids && x->named[id] ? &x->keys[id] : NULL;
}

__u32 kanary_name_index_count(const struct kanary_name_index *x)
{
	return x->n_used;
}
