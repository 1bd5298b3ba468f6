// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * What a changed set touches: a pod, the Services of its namespace whose
 * selector its labels match; a Service, DestinationRule or VirtualService,
 * the hosts it names.  Touched Services are collected as FQDN hashes.
 */
#include <stdlib.h>
#include <string.h>
#include "desired/partial_int.h"

/* Whether every label of Service s's selector is among a pod's keys. */
static bool selects(const struct kd_service *s, char *const *key, size_t nkey)
{
	for (size_t l = 0; l < s->selector.n; l++) {
		char *want = kd_label_key(s->m.ns, s->selector.key[l], s->selector.val[l]);
		bool found = false;

		for (size_t k = 0; k < nkey && !found; k++)
			found = strcmp(key[k], want) == 0;
		free(want);
		if (!found)
			return false;
	}
	return true;
}

/* The Services of c that select pod i of memo m (found by their first selector label). */
static void touch_pod(const struct kd_build *c, const struct kd_set_memo *m, size_t i,
		      struct kd_u64_set *t)
{
	char *const *key = m->key + m->key_first[i];
	size_t nkey = m->key_first[i + 1] - m->key_first[i];

	for (size_t k = 0; k < nkey; k++) {
		size_t end, r = kd_name_index_range(&c->svc_by_selector, key[k], &end);

		for (; r < end; r++) {
			size_t svc = c->svc_by_selector.v[r].at;

			if (selects(c->svc[svc], key, nkey))
				kd_u64_set_add(t, c->svc_hash[svc]);
		}
	}
}

static void touch_set(const struct kd_build *c, const struct kd_set_memo *m, struct kd_u64_set *t)
{
	for (size_t i = 0; i < m->nfqdn; i++)
		kd_u64_set_add(t, m->fqdn[i]);
	for (size_t i = 0; i < m->npod; i++)
		touch_pod(c, m, i, t);
}

void kd_touch_changed(const struct kd_build *c, const struct kd_desired_cache *x,
		      const bool *kept, const struct kd_cached_set *now, const bool *added,
		      size_t nsets, struct kd_u64_set *t)
{
	for (size_t i = 0; i < x->nsets; i++)
		if (!kept[i])
			touch_set(c, x->sets[i].memo, t);
	for (size_t i = 0; i < nsets; i++)
		if (added[i])
			touch_set(c, now[i].memo, t);
}
