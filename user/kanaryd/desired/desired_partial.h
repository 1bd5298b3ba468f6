/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The desired state rebuilt only where an event can have changed it.  A
 * source's object sets never change once decoded (a new version of a file
 * or API object is a new set), so the sets an event brought and took away
 * are found by their serials.  Their objects touch Services: a pod, those
 * of its namespace whose selector its labels (old or new) match; a
 * Service, DestinationRule or VirtualService, the hosts it names.  Every
 * desired service whose Service, or any Service it looked up (route and
 * mirror destinations), is touched is built again, and only those.
 *
 * The cache keeps what that takes between builds: the last build's
 * Services, DestinationRules and VirtualServices with their indexes, and
 * one index of the pods of all sets by label, updated set by set, so a
 * selector finds its pods without the index of every pod a full build
 * makes, and without visiting every set.  tests/unit/kanaryd/
 * test_partial.c checks the result against a full build, event by event.
 */
#ifndef KD_DESIRED_PARTIAL_H
#define KD_DESIRED_PARTIAL_H

#include <stdbool.h>
#include "desired/desired.h"
#include "desired/desired_changed.h"

struct kd_build;
struct kd_set_memo;
struct kd_pod_index;
struct kd_pod_count;

/* A set of the last build, told apart from a new one without reading its memo: an event walks them all. */
struct kd_cached_set {
	struct kd_objects *set;
	unsigned long long serial;
	struct kd_set_memo *memo;
};

struct kd_desired_cache {
	bool valid;			/* a full build filled it */
	char domain[256];
	struct kd_build *cfg;		/* the last build's objects but the pods, and their indexes */
	size_t nsets;
	struct kd_cached_set *sets;	/* the last build's sets, in the source's order */
	struct kd_pod_index *pods;	/* their pods by label, for the services built again */
	unsigned long long last_serial;	/* the newest serial given before the last build ended */
	/* How many definitions each pod ns/name has (by hash), over every set. */
	size_t ncount, capcount;
	struct kd_pod_count *count;
};

/* kd_desired_build, filling the cache for the partial builds after it. */
void kd_desired_build_full(struct kd_desired_cache *cache, struct kd_objects *const *sets,
			   size_t nsets, const struct kd_desired_opts *opts, struct kd_desired *out,
			   struct kd_diags *diags);
/*
 * Brings d, the last build's result, up to date with sets by building only
 * the services the changed sets touch; changes gets the names whose maps
 * content differs (as kd_desired_changed would), *rebuilt how many were
 * built.  New warnings go to diags (only those of the services built: the
 * others' stay as the last full build said them).  0, or 1 when only a
 * full build can do it (no full build before, a pod defined twice, a
 * service added, removed or given another VIP:port), d then unchanged.
 */
int kd_desired_build_some(struct kd_desired_cache *cache, struct kd_objects *const *sets,
			  size_t nsets, const struct kd_desired_opts *opts, struct kd_desired *d,
			  struct kd_diags *diags, struct kd_changes *changes, size_t *rebuilt);
void kd_desired_cache_free(struct kd_desired_cache *cache);

#endif
