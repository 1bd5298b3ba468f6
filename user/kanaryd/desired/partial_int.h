/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Private to the partial build's files (desired_partial.h), each a layer
 * calling only those below it: desired_partial.c -> partial_sets.c ->
 * partial_touch.c -> partial_memo.c, partial_pod_count.c; the cache's pod
 * lookups (partial_candidates.c) serve the service builds of desired_int.h.
 */
#ifndef KD_PARTIAL_INT_H
#define KD_PARTIAL_INT_H

#include "base/u64_set.h"
#include "desired/desired_int.h"
#include "desired/desired_partial.h"

/* What the cache keeps of one object set; the set itself is valid only while it is current. */
struct kd_set_memo {
	unsigned long long serial;
	struct kd_objects *set;
	bool config;		/* it has Services, DestinationRules or VirtualServices */
	size_t nfqdn;
	__u64 *fqdn;		/* the hosts its config objects name */
	size_t npod;
	char **pod_ns;		/* copies: the set is gone when an event removes it */
	__u64 *pod_name;	/* hash of each pod's ns/name */
	size_t *key_first;	/* pod i's label keys: key[key_first[i]] to key[key_first[i + 1] - 1] */
	char **key;
	struct kd_name_index by_label;	/* key[] -> pod index in the set */
};

struct kd_pod_count {
	__u64 h;		/* 0: an empty place */
	size_t n;
};

/* ---- partial_memo.c: a set's memo, and the serials that tell sets apart ---- */

void kd_memo_init(struct kd_set_memo *m, struct kd_objects *o, const char *domain);
void kd_memo_free(struct kd_set_memo *m);
/* Gives every set without one a serial, never reused; returns the newest given so far. */
unsigned long long kd_give_serials(struct kd_objects *const *sets, size_t nsets);

/* ---- partial_pod_count.c: pod definitions by ns/name, a pod defined twice left to a full build ---- */

/* The count of pod ns/name hash h, a place made for it (n 0) when new. */
struct kd_pod_count *kd_pod_count_slot(struct kd_desired_cache *x, __u64 h);

/* ---- partial_touch.c: the Services (FQDN hashes) a set's objects touch ---- */

/*
 * Adds to t, against the configuration c, what every set of x the event
 * removed (kept[] false) and every new one (added[], memos in now) touch.
 */
void kd_touch_changed(const struct kd_build *c, const struct kd_desired_cache *x,
		      const bool *kept, const struct kd_set_memo *now, const bool *added,
		      size_t nsets, struct kd_u64_set *t);

/* ---- partial_sets.c: the cache brought to an event's sets ---- */

/*
 * Brings the cache to sets and collects in t (sorted) what changed: 1 when
 * a pod defined twice was among the changes (a full build decides which
 * wins).  Warnings of a rebuilt configuration that diags lacks go to it.
 */
int kd_cache_update(struct kd_desired_cache *x, struct kd_objects *const *sets, size_t nsets,
		    struct kd_diags *diags, struct kd_u64_set *t);

#endif
