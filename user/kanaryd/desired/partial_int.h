/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Private to the partial build's files (desired_partial.h), each a layer
 * calling only those below it: desired_partial.c -> partial_sets.c ->
 * partial_touch.c -> partial_memo.c, partial_pod_index.c,
 * partial_pod_count.c; partial_candidates.c serves the service builds of
 * desired_int.h from the pod index.
 */
#ifndef KD_PARTIAL_INT_H
#define KD_PARTIAL_INT_H

#include "base/u64_set.h"
#include "desired/desired_int.h"
#include "desired/desired_partial.h"

/* What the cache keeps of one object set; the set itself is valid only while it is current. */
struct kd_set_memo {
	struct kd_objects *set;
	bool config;		/* it has Services, DestinationRules or VirtualServices */
	size_t nfqdn;
	__u64 *fqdn;		/* the hosts its config objects name */
	size_t npod;
	/* Copies, kept as the cache's pod index names them: the set is gone when an event removes it. */
	char **ns_key;		/* pod i's kd_ns_key */
	__u64 *pod_name;	/* hash of each pod's ns/name */
	size_t *key_first;	/* pod i's label keys: key[key_first[i]] to key[key_first[i + 1] - 1] */
	char **key;
	/* Where the pod index keeps each pod under ns_key[] and key[]: kd_pod_ref.back points here. */
	size_t *ns_pos, *key_pos;
};

struct kd_pod_count {
	__u64 h;		/* 0: an empty place */
	size_t n;
};

/* ---- partial_memo.c: a set's memo, and the serials that tell sets apart ---- */

struct kd_set_memo *kd_memo_new(struct kd_objects *o, const char *domain);
void kd_memo_free(struct kd_set_memo *m);
/* "NAMESPACE\x1f", a pod's name in the pod index for selectors without labels (free it). */
char *kd_ns_key(const char *ns);
/* Gives every set without one a serial, never reused; returns the newest given so far. */
unsigned long long kd_give_serials(struct kd_objects *const *sets, size_t nsets);
/* o's serial, given now when it has none. */
unsigned long long kd_serial_of(struct kd_objects *o);

/* ---- partial_pod_index.c: the cache's pods by label over all sets ---- */

/* One pod of a memo under one name of the pod index. */
struct kd_pod_ref {
	struct kd_set_memo *m;
	size_t pod;		/* its position in m */
	size_t *back;		/* in m: this ref's position in its bucket, kept as refs move */
};

/* The pods under one name: a label key (kd_label_key) or a namespace (kd_ns_key). */
struct kd_pod_bucket {
	char *name;		/* owned; NULL: an empty place */
	unsigned long long h;	/* kd_name_index_hash of name */
	size_t n, cap;
	struct kd_pod_ref *v;	/* in no order: a ref removed takes the last one's place */
};

/*
 * Open addressing by name.  Kept set by set as events add and remove them,
 * so a selector finds its pods in O(pods of its rarest label), whatever the
 * number of sets (with --kube every API object is one).  A bucket emptied
 * stays until the next full build (kd_desired_build_full starts a new one).
 */
struct kd_pod_index {
	size_t n, cap;		/* cap: 0 or a power of two */
	struct kd_pod_bucket *b;
};

void kd_pod_index_add_set(struct kd_pod_index *x, struct kd_set_memo *m);
void kd_pod_index_remove_set(struct kd_pod_index *x, struct kd_set_memo *m);
/* The pods under name, or NULL when none ever was. */
const struct kd_pod_bucket *kd_pod_index_get(const struct kd_pod_index *x, const char *name);
void kd_pod_index_free(struct kd_pod_index *x);

/* ---- partial_pod_count.c: pod definitions by ns/name, a pod defined twice left to a full build ---- */

/* The count of pod ns/name hash h, a place made for it (n 0) when new. */
struct kd_pod_count *kd_pod_count_slot(struct kd_desired_cache *x, __u64 h);

/* ---- partial_touch.c: the Services (FQDN hashes) a set's objects touch ---- */

/*
 * Adds to t, against the configuration c, what every set of x the event
 * removed (kept[] false) and every new one (added[], memos in now) touch.
 */
void kd_touch_changed(const struct kd_build *c, const struct kd_desired_cache *x,
		      const bool *kept, const struct kd_cached_set *now, const bool *added,
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
