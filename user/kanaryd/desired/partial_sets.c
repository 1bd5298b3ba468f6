// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The cache brought to an event's sets (kd_cache_update): which sets are
 * kept, removed or new, what they touch against the configuration before
 * and after, the pod definition counts, and the configuration rebuilt when
 * a set with config objects changed.
 */
#include <stdlib.h>
#include "desired/partial_int.h"

/*
 * The sets now, memos kept or made; the memos of sets gone stay in x->sets,
 * kept[] false.  A source gives its sets in the same order every time (by
 * file or object name), so the kept ones are found in one walk; a set with
 * no serial yet, or one newer than the cache's, is new.  Out of order, a
 * set is only taken for a new one: its objects are touched, still correct.
 * The walk reads each set's serial and x->sets in place, no memo: with
 * --kube there is a set per API object, and each memo read is a cache miss.
 */
static struct kd_cached_set *match_sets(struct kd_desired_cache *x, struct kd_objects *const *sets,
					size_t nsets, bool *kept, bool *added)
{
	struct kd_cached_set *now = kd_xcalloc(nsets ? nsets : 1, sizeof(*now));
	size_t j = 0;

	for (size_t i = 0; i < nsets; i++) {
		bool seen = sets[i]->serial && sets[i]->serial <= x->last_serial;
		size_t k = j;

		while (seen && k < x->nsets && x->sets[k].set != sets[i])
			k++;
		if (seen && k < x->nsets && x->sets[k].serial == sets[i]->serial) {
			now[i] = x->sets[k];
			kept[k] = true;
			j = k + 1;
		} else {
			now[i].set = sets[i];
			now[i].serial = kd_serial_of(sets[i]);
			now[i].memo = kd_memo_new(sets[i], x->domain);
			added[i] = true;
		}
	}
	return now;
}

/* Warnings of a config rebuild (duplicates) that diags does not have yet. */
static void add_new_diags(struct kd_diags *to, const struct kd_diags *from)
{
	for (size_t i = 0; i < from->n; i++)
		if (!kd_diag_has(to, from->v[i].msg))
			kd_diag_add(to, from->v[i].level, "%s", from->v[i].msg);
}

int kd_cache_update(struct kd_desired_cache *x, struct kd_objects *const *sets, size_t nsets,
		    struct kd_diags *diags, struct kd_u64_set *t)
{
	bool *kept = kd_xcalloc(x->nsets + 1, sizeof(*kept));
	bool *added = kd_xcalloc(nsets + 1, sizeof(*added));
	struct kd_cached_set *now = match_sets(x, sets, nsets, kept, added);
	bool config = false, twice = false;

	for (size_t i = 0; i < x->nsets; i++)
		config |= !kept[i] && x->sets[i].memo->config;
	for (size_t i = 0; i < nsets; i++)
		config |= added[i] && now[i].memo->config;
	/* Against the configuration before: what the old pods and objects were part of. */
	kd_touch_changed(x->cfg, x, kept, now, added, nsets, t);
	for (size_t i = 0; i < x->nsets; i++)
		for (size_t p = 0; !kept[i] && p < x->sets[i].memo->npod; p++)
			twice |= kd_pod_count_slot(x, x->sets[i].memo->pod_name[p])->n-- > 1;
	for (size_t i = 0; i < nsets; i++)
		for (size_t p = 0; added[i] && p < now[i].memo->npod; p++)
			twice |= ++kd_pod_count_slot(x, now[i].memo->pod_name[p])->n > 1;
	if (config) {
		struct kd_build *c = kd_xcalloc(1, sizeof(*c));
		struct kd_diags said = { 0 };

		c->domain = x->domain;
		c->diags = &said;
		kd_ctx_init_config(c, sets, nsets);
		c->diags = NULL;
		add_new_diags(diags, &said);
		kd_diags_free(&said);
		kd_ctx_free(x->cfg);
		free(x->cfg);
		x->cfg = c;
		/* And against the configuration after: what they are part of now. */
		kd_touch_changed(x->cfg, x, kept, now, added, nsets, t);
	}
	for (size_t i = 0; i < x->nsets; i++)
		if (!kept[i]) {
			kd_pod_index_remove_set(x->pods, x->sets[i].memo);
			kd_memo_free(x->sets[i].memo);
		}
	for (size_t i = 0; i < nsets; i++)
		if (added[i])
			kd_pod_index_add_set(x->pods, now[i].memo);
	free(x->sets);
	x->sets = now;
	x->nsets = nsets;
	x->last_serial = kd_give_serials(NULL, 0);
	free(kept);
	free(added);
	kd_u64_set_sort(t);
	return twice;
}
