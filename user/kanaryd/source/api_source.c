// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The API source's interface for the loop, over the kinds' stores in its cache. */
#include <errno.h>
#include "source/api_cache.h"
#include "source/api_source.h"

static struct kd_kube *kube_of(struct kd_source *s)
{
	return (struct kd_kube *)s;	/* its first member */
}

/* Holds the lock until release: the watch threads change the stores. */
static int api_refresh(struct kd_source *s, bool force, struct kd_refresh *r,
		       struct kd_diags *said, struct kanary_err *e)
{
	struct kd_kube *k = kube_of(s);
	char why[128];

	(void)force;	/* the watches keep the stores current */
	(void)said;	/* the watch threads say what they decode */
	kd_kube_lock(k);
	r->changed = kd_kube_take_changed(k, &r->event_ms);
	if (!kd_kube_synced(k, why, sizeof(why)))
		return kanary_errf(e, EAGAIN, "waiting for the first list of %s from the API "
				   "server; the maps keep their state", why);
	return 0;
}

static void api_release(struct kd_source *s)
{
	kd_kube_unlock(kube_of(s));
}

/* fn summed over the kinds' stores. */
static size_t sum_over_kinds(struct kd_source *s, size_t (*fn)(const struct kd_store *))
{
	struct kd_kube *k = kube_of(s);
	size_t n = 0;

	for (int i = 0; i < KD_KUBE_NKINDS; i++)
		n += fn(&k->kinds[i].store);
	return n;
}

static size_t api_unknown(struct kd_source *s)
{
	return sum_over_kinds(s, kd_store_unknown);
}

static size_t api_bad(struct kd_source *s)
{
	return sum_over_kinds(s, kd_store_bad);
}

/* Kind by kind, in name order. */
static struct kd_objects **api_good_sets(struct kd_source *s, size_t *n)
{
	struct kd_kube *k = kube_of(s);
	struct kd_objects **sets = NULL;
	size_t cap = 0;

	*n = 0;
	for (int i = 0; i < KD_KUBE_NKINDS; i++)
		kd_store_sets(&k->kinds[i].store, &sets, n, &cap);
	return sets;
}

const struct kd_source_ops kd_api_source_ops = {
	.item = "API object",
	.refresh = api_refresh,
	.release = api_release,
	.unknown = api_unknown,
	.bad = api_bad,
	.good_sets = api_good_sets,
};
