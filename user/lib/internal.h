/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* libkanary's private helpers, shared between its .c files only. */
#ifndef KANARY_LIB_INTERNAL_H
#define KANARY_LIB_INTERNAL_H

#include <stdbool.h>
#include <linux/bpf.h>
#include "kanary.h"

/* One pinned map as the ABI defines it, to check old pins against. */
struct kanary_map_spec {
	const char *name;
	__u32 type;
	__u32 key_size;
	__u32 value_size;
	bool fixed_entries;	/* max_entries is part of the layout */
	__u32 max_entries;	/* when fixed_entries */
};

extern const struct kanary_map_spec kanary_map_specs[];
extern const int kanary_n_map_specs;

/* "<pin>/<name>" into buf; -ENAMETOOLONG with a sentence when it does not fit. */
int kanary_pin_join(char *buf, size_t len, const char *pin, const char *name,
		    struct kanary_err *e);

/*
 * Opens <pin>/<spec->name> and checks its type, key and value size against
 * the ABI.  Returns the fd, -ENOENT (no message) when the pin is missing, or
 * another negative errno with a sentence naming the map.
 */
int kanary_pinned_map_open(const char *pin, const struct kanary_map_spec *spec,
			   __u32 *max_entries, struct kanary_err *e);

/* The instance lock: an exclusive flock on the pin directory. */
int kanary_lock(const char *pin, struct kanary_err *e);

/* Re-attaches every interface of this netns that has a kanary filter. */
int kanary_reattach_all(int prog_in_fd, int prog_out_fd, struct kanary_err *e);
/* Removes kanary's filters from every interface of this netns. */
int kanary_detach_all(struct kanary_err *e);
/* Attaches (or moves) the sockops program prog_fd: see kanary_load_opts.cgroup. */
int kanary_sockops_attach(const char *pin_path, int prog_fd, const char *cgroup,
			  struct kanary_err *e);

/*
 * A decimal with at most `decimals` decimals into units of 10^-decimals
 * (parse.c): 0, -EINVAL, -EDOM (too many decimals) or -ERANGE (above max).
 */
int kanary_parse_fixed(const char *s, int decimals, unsigned long long max,
		       unsigned long long *out);

/* Name rules: 1..max-1 characters of [A-Za-z0-9._/-]. */
bool kanary_name_valid(const char *s, size_t max);

/* ---- services (service_read.c), for the commit (service_commit.c) ---- */

/* Config slot `slot` of service id into cfg. */
int kanary_cfg_read(struct kanary_maps *m, __u32 id, __u32 slot, struct kanary_svc_config *cfg,
		    struct kanary_err *e);
struct kanary_backend_key kanary_backend_key_of(__u32 id, __u32 slot, __u32 subset, __u32 index);
/* Finds a live service by name; -ENOENT without a message when absent. */
int kanary_service_find(struct kanary_maps *m, const char *name, __u32 *id, __u32 *slot,
			struct kanary_err *e);

/* Deletes the backends and Maglev tables of one config slot of service id (service_commit.c). */
int kanary_slot_clear(struct kanary_maps *m, __u32 id, __u32 slot, struct kanary_err *e);
/* Records a slot a commit switched away from, for kanary_slots_release; -ENOMEM. */
int kanary_slot_retire(struct kanary_maps *m, __u32 id, __u32 slot);
bool kanary_slot_retired(const struct kanary_maps *m, __u32 id, __u32 slot);

/* ---- Maglev tables (maglev.c), written by the commit ---- */

/* Where backend be's permutation of the table's points starts, and its step (1..M-1). */
void kanary_maglev_perm(const struct kanary_backend *be, __u32 *offset, __u32 *skip);
/*
 * The table of the n (1..KANARY_MAX_BACKENDS) backends be[] into t: each
 * point holds an index into be[].  Depends only on the set of backends:
 * listed in another order, each point names the same address and port.
 */
void kanary_maglev_build(const struct kanary_backend *be, __u32 n, struct kanary_maglev *t);
/* Builds and writes the table of a subset's n (>= 1) backends into its config slot. */
int kanary_maglev_write(struct kanary_maps *m, __u32 id, __u32 slot, __u32 subset,
			const struct kanary_backend *be, __u32 n, struct kanary_err *e);
/* Removes a subset's table from a config slot; none there is no error. */
int kanary_maglev_delete(struct kanary_maps *m, __u32 id, __u32 slot, __u32 subset,
			 struct kanary_err *e);
/*
 * Writes the live slot's missing tables of every service, for pins made by
 * a kanary before Maglev (load calls it; it takes the instance lock).
 */
int kanary_maglev_backfill(const char *pin_path, struct kanary_err *e);

/*
 * One entry (key) of the per-CPU map fd, of size bytes per CPU, all __u64
 * counters, summed over CPUs into sum; what names the map in an error.
 */
int kanary_percpu_sum(int fd, const void *key, void *sum, size_t size, const char *what,
		      struct kanary_err *e);

/* Zeroes the per-CPU stats of one service (all its subset slots). */
int kanary_stats_zero(struct kanary_maps *m, __u32 svc_id, struct kanary_err *e);

/* ---- the service index (name_index.c: memory only; service_index.c: from the maps) ---- */

#define KANARY_NAME_INDEX_MAX_IDS	(1u << 24)

/*
 * Ids 0..max_ids-1, each free, taken, or taken under a name with its
 * VIP:port key.  n_buckets 0: one per id.  NULL when out of memory or out
 * of range.  Release with free().
 */
struct kanary_name_index *kanary_name_index_new(__u32 max_ids, __u32 n_buckets);
/* -ENOENT when no id has that name. */
int kanary_name_index_find(const struct kanary_name_index *x, const char *name, __u32 *id);
/* Takes id under name: -ERANGE, -EBUSY (id taken), -EINVAL (name), -EEXIST (name taken). */
int kanary_name_index_add(struct kanary_name_index *x, __u32 id, const char *name,
			  const struct kanary_svc_key *key);
/* Takes id without a name (a live service whose name is unusable). */
int kanary_name_index_take(struct kanary_name_index *x, __u32 id);
/* Frees id and its name; -ENOENT when it was free. */
int kanary_name_index_del(struct kanary_name_index *x, __u32 id);
/* The lowest free id, not taken yet; -ENOSPC when none is. */
int kanary_name_index_free_id(struct kanary_name_index *x, __u32 *id);
bool kanary_name_index_used(const struct kanary_name_index *x, __u32 id);
/* The key recorded with id's name, or NULL when id has none. */
const struct kanary_svc_key *kanary_name_index_key(const struct kanary_name_index *x, __u32 id);
__u32 kanary_name_index_count(const struct kanary_name_index *x);

/* Calls fn for every entry of the service map; stops at fn's first non-zero return. */
int kanary_svc_walk(struct kanary_maps *m,
		    int (*fn)(const struct kanary_svc_key *key, const struct kanary_svc_ref *ref,
			      void *ctx),
		    void *ctx, struct kanary_err *e);
/* Config slots of ids first..first+n-1 (n <= KANARY_CFG_CHUNK_IDS) into out[2n] (cfg_batch.c). */
#define KANARY_CFG_CHUNK_IDS	128
/* false when the batch failed (the caller then reads slot by slot). */
bool kanary_cfg_read_chunk(struct kanary_maps *m, __u32 first, __u32 n,
			   struct kanary_svc_config *out);
/* Whether live ids among n are read faster in one batch than one by one. */
bool kanary_cfg_chunk_worth(__u32 live, __u32 n);

/* m's index, built by one pass over the maps on first use. */
int kanary_index_get(struct kanary_maps *m, struct kanary_name_index **out,
		     struct kanary_err *e);
/* Forgets m's index: the next kanary_index_get builds it again from the maps. */
void kanary_index_drop(struct kanary_maps *m);

#endif /* KANARY_LIB_INTERNAL_H */
