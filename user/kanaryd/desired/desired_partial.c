// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Partial builds of the desired state (desired_partial.h): the full build
 * that fills the cache, and the services an event touches built again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "desired/partial_int.h"

void kd_desired_cache_free(struct kd_desired_cache *x)
{
	if (x->cfg) {
		kd_ctx_free(x->cfg);
		free(x->cfg);
	}
	for (size_t i = 0; i < x->nsets; i++)
		kd_memo_free(x->sets[i].memo);
	free(x->sets);
	if (x->pods) {
		kd_pod_index_free(x->pods);
		free(x->pods);
	}
	free(x->count);
	memset(x, 0, sizeof(*x));
}

void kd_desired_build_full(struct kd_desired_cache *x, struct kd_objects *const *sets,
			   size_t nsets, const struct kd_desired_opts *opts, struct kd_desired *out,
			   struct kd_diags *diags)
{
	struct kd_build *c = kd_xcalloc(1, sizeof(*c));

	kd_desired_cache_free(x);
	snprintf(x->domain, sizeof(x->domain), "%s",
		 opts && opts->domain ? opts->domain : KD_DEFAULT_DOMAIN);
	c->domain = x->domain;
	c->diags = diags;
	kd_build_all(c, sets, nsets, out);
	kd_ctx_free_pods(c);
	c->diags = NULL;
	x->cfg = c;
	x->sets = kd_xcalloc(nsets ? nsets : 1, sizeof(*x->sets));
	x->pods = kd_xcalloc(1, sizeof(*x->pods));
	for (size_t i = 0; i < nsets; i++) {
		struct kd_cached_set *s = &x->sets[x->nsets++];

		s->set = sets[i];
		s->serial = kd_serial_of(sets[i]);
		s->memo = kd_memo_new(sets[i], x->domain);
		kd_pod_index_add_set(x->pods, s->memo);
		for (size_t p = 0; p < sets[i]->npod; p++)
			kd_pod_count_slot(x, s->memo->pod_name[p])->n++;
	}
	x->last_serial = kd_give_serials(NULL, 0);
	x->valid = true;
}

static bool touched(const struct kd_desired_service *s, const struct kd_u64_set *t)
{
	for (__u32 i = 0; i < s->ndeps; i++)
		if (kd_u64_set_has(t, s->deps[i]))
			return true;
	return false;
}

static int cmp_desired_name(const void *a, const void *b)
{
	return strcmp(((const struct kd_desired_service *)a)->name,
		      ((const struct kd_desired_service *)b)->name);
}

/* The services of the Services in owners, built again from the cache, sorted by name. */
static void rebuild(struct kd_desired_cache *x, const struct kd_u64_set *owners, struct kd_diags *diags,
		    struct kd_desired *patch)
{
	struct kd_build *c = x->cfg;

	memset(patch, 0, sizeof(*patch));
	free(c->said.v);
	memset(&c->said, 0, sizeof(c->said));
	c->nsaid = 0;
	c->diags = diags;
	c->cache = x;
	c->fallback = false;
	for (size_t i = 0; i < c->nsvc; i++)
		if (kd_u64_set_has(owners, c->svc_hash[i]))
			kd_build_service(c, i, patch);
	c->cache = NULL;
	c->diags = NULL;
	if (patch->n)
		qsort(patch->v, patch->n, sizeof(*patch->v), cmp_desired_name);
}

int kd_desired_build_some(struct kd_desired_cache *x, struct kd_objects *const *sets,
			  size_t nsets, const struct kd_desired_opts *opts, struct kd_desired *d,
			  struct kd_diags *diags, struct kd_changes *changes, size_t *rebuilt)
{
	const char *domain = opts && opts->domain ? opts->domain : KD_DEFAULT_DOMAIN;
	struct kd_u64_set t = { 0 }, owners = { 0 };
	struct kd_desired patch;
	size_t *old = NULL, nold = 0, capold = 0;
	int ret = 1;

	memset(changes, 0, sizeof(*changes));
	*rebuilt = 0;
	if (!x->valid || strcmp(domain, x->domain) != 0)
		return 1;
	if (kd_cache_update(x, sets, nsets, diags, &t))
		goto invalid;
	/* A touched Service's services, and every service that looked one up. */
	for (size_t i = 0; i < t.n; i++)
		kd_u64_set_add(&owners, t.v[i]);
	for (size_t i = 0; i < d->n; i++)
		if (touched(&d->v[i], &t))
			kd_u64_set_add(&owners, d->v[i].owner);
	kd_u64_set_sort(&owners);
	rebuild(x, &owners, diags, &patch);
	if (x->cfg->fallback)
		goto invalid_patch;
	for (size_t i = 0; i < d->n; i++)
		if (kd_u64_set_has(&owners, d->v[i].owner))
			KD_PUSH(old, nold, capold, i);
	/* Services added, removed or moved to another VIP:port: the maps' keys change, a full build's job. */
	if (nold != patch.n)
		goto out_patch;
	for (size_t k = 0; k < nold; k++)
		if (strcmp(d->v[old[k]].name, patch.v[k].name) != 0 ||
		    memcmp(&d->v[old[k]].key, &patch.v[k].key, sizeof(patch.v[k].key)) != 0)
			goto out_patch;
	kd_hold_shared_key(patch.v, patch.n, d);
	for (size_t k = 0; k < patch.n; k++) {
		struct kd_desired_service *was = &d->v[old[k]];

		patch.v[k].hash = kd_desired_service_hash(&patch.v[k]);
		if (kd_desired_service_differs(was, &patch.v[k]))
			kd_changes_add(changes, patch.v[k].name);
		kd_desired_service_free(was);
		*was = patch.v[k];
	}
	*rebuilt = patch.n;
	free(patch.v);
	free(old);
	free(t.v);
	free(owners.v);
	return 0;

invalid_patch:
	x->valid = false;
out_patch:
	kd_desired_free(&patch);
	free(old);
	free(t.v);
	free(owners.v);
	return ret;
invalid:
	x->valid = false;
	free(t.v);
	return ret;
}
