// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A partial build's pods (kd_cache_pod_candidates, desired_int.h): from
 * the cache's per-set label indexes, since it has no index of every pod.
 */
#include <stdlib.h>
#include <string.h>
#include "desired/partial_int.h"

static void add_candidate(struct kd_build *c, const struct kd_set_memo *m, size_t i,
			  const struct kd_pod ***v, size_t *n, size_t *cap)
{
	if (kd_pod_count_slot(c->cache, m->pod_name[i])->n > 1)
		c->fallback = true;	/* which definition wins is the full build's dedupe */
	KD_PUSH(*v, *n, *cap, m->set->pod[i]);
}

const struct kd_pod **kd_cache_pod_candidates(struct kd_build *c, const char *ns,
					      const struct kd_labels *sel, size_t *n)
{
	const struct kd_desired_cache *x = c->cache;
	const struct kd_pod **v = kd_xcalloc(1, sizeof(*v));
	char *key = sel->n ? kd_label_key(ns, sel->key[0], sel->val[0]) : NULL;
	unsigned long long h = key ? kd_name_index_hash(key) : 0;
	size_t cap = 1;

	*n = 0;
	for (size_t s = 0; s < x->nsets; s++) {
		const struct kd_set_memo *m = &x->sets[s];
		size_t end, r;

		if (!key) {
			for (size_t i = 0; i < m->npod; i++)
				if (strcmp(m->pod_ns[i], ns) == 0)
					add_candidate(c, m, i, &v, n, &cap);
			continue;
		}
		for (r = kd_name_index_range_hashed(&m->by_label, key, h, &end); r < end; r++)
			add_candidate(c, m, m->by_label.v[r].at, &v, n, &cap);
	}
	free(key);
	return v;
}
