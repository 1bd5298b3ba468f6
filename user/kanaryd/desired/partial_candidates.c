// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A partial build's pods (kd_cache_pod_candidates, desired_int.h): those
 * of the selector's rarest label in the cache's pod index, as the full
 * build takes them from its index of every pod.
 */
#include <stdlib.h>
#include "desired/partial_int.h"

/* The bucket of sel's rarest label in namespace ns (of ns itself when sel has none); NULL: no pod. */
static const struct kd_pod_bucket *rarest(const struct kd_pod_index *x, const char *ns,
					  const struct kd_labels *sel)
{
	const struct kd_pod_bucket *best = NULL;
	char *key;

	if (!sel->n) {
		key = kd_ns_key(ns);
		best = kd_pod_index_get(x, key);
		free(key);
		return best;
	}
	for (size_t l = 0; l < sel->n; l++) {
		const struct kd_pod_bucket *b;

		key = kd_label_key(ns, sel->key[l], sel->val[l]);
		b = kd_pod_index_get(x, key);
		free(key);
		if (!b || !b->n)
			return NULL;
		if (!best || b->n < best->n)
			best = b;
	}
	return best;
}

const struct kd_pod **kd_cache_pod_candidates(struct kd_build *c, const char *ns,
					      const struct kd_labels *sel, size_t *n)
{
	const struct kd_pod_bucket *b = rarest(c->cache->pods, ns, sel);
	const struct kd_pod **v;

	*n = b ? b->n : 0;
	v = kd_xcalloc(*n ? *n : 1, sizeof(*v));
	for (size_t i = 0; i < *n; i++) {
		const struct kd_pod_ref *r = &b->v[i];

		if (kd_pod_count_slot(c->cache, r->m->pod_name[r->pod])->n > 1)
			c->fallback = true;	/* which definition wins is the full build's dedupe */
		v[i] = r->m->set->pod[r->pod];
	}
	return v;
}
