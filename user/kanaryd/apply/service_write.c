// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A desired service onto its maps' config.  A subset that leaves the
 * manifests keeps its index with weight 0 and no backends (retired) rather
 * than shifting the others down: per-subset counters are kept by index,
 * and must stay with their name.
 */
#include <string.h>
#include "rule_set.h"
#include "apply/service_write.h"

static void put_subset(struct kanary_service *s, __u32 j, const struct kd_desired_subset *d)
{
	struct kanary_subset *ms = &s->cfg.subsets[j];

	memset(ms, 0, sizeof(*ms));
	memcpy(ms->name, d->name, sizeof(ms->name));
	ms->weight_milli = d->weight_milli;
	ms->n_backends = d->n;
	for (__u32 k = 0; k < d->n; k++)
		s->backends[j][k] = d->be[k];
}

/*
 * The desired subsets onto s: kept names keep their index, gone ones are
 * retired in place, new ones are appended; only when all eight slots are
 * needed are retired ones dropped.  True when indexes changed that way.
 */
static bool merge_subsets(struct kanary_service *s, const struct kd_desired_service *d)
{
	struct kanary_svc_config *c = &s->cfg;
	bool placed[KANARY_MAX_SUBSETS] = { false }, kept[KANARY_MAX_SUBSETS] = { false };
	__u32 need = 0;

	for (__u32 j = 0; j < c->n_subsets; j++) {
		int i = kd_desired_subset_index(d, c->subsets[j].name);

		if (i < 0) {
			c->subsets[j].weight_milli = 0;
			c->subsets[j].n_backends = 0;
			continue;
		}
		put_subset(s, j, &d->sub[i]);
		placed[i] = kept[j] = true;
	}
	for (__u32 i = 0; i < d->nsub; i++)
		need += !placed[i];
	if (c->n_subsets + need > KANARY_MAX_SUBSETS) {
		c->n_subsets = 0;
		for (__u32 i = 0; i < d->nsub; i++)
			put_subset(s, c->n_subsets++, &d->sub[i]);
		return true;
	}
	for (__u32 i = 0; i < d->nsub; i++) {
		if (placed[i])
			continue;
		kept[c->n_subsets] = true;
		put_subset(s, c->n_subsets++, &d->sub[i]);
	}
	while (c->n_subsets > 0 && !kept[c->n_subsets - 1])
		c->n_subsets--;
	return false;
}

int kd_committed_subset(const struct kanary_svc_config *cfg, const char *name)
{
	for (__u32 j = 0; j < cfg->n_subsets && j < KANARY_MAX_SUBSETS; j++)
		if (strncmp(cfg->subsets[j].name, name, KANARY_SUBSET_NAME_LEN) == 0)
			return (int)j;
	return -1;
}

int kd_service_create(struct kanary_maps *m, struct kanary_service *s,
		      const struct kd_desired_service *d, struct kanary_err *e)
{
	memset(s, 0, sizeof(*s));
	memcpy(s->cfg.name, d->name, sizeof(s->cfg.name));
	s->cfg.key = d->key;
	for (__u32 i = 0; i < d->nsub; i++)
		put_subset(s, s->cfg.n_subsets++, &d->sub[i]);
	return kanary_service_commit(m, s, e);
}

int kd_service_update(struct kanary_maps *m, struct kanary_service *s,
		      const struct kd_desired_service *d, struct kanary_err *e)
{
	int err;

	if (merge_subsets(s, d)) {
		err = kanary_rules_clear(m, s->id, e);
		if (err)
			return err;
	}
	return kanary_service_commit(m, s, e);
}
