// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Reading the owned services from the maps and comparing them with the
 * desired state.  A subset that left the manifests stays in the maps,
 * retired (weight 0, no backends), and does not make a service differ.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "base/arena.h"
#include "apply/maps_diff.h"
#include "apply/mirror_map_write.h"
#include "apply/rules_map_write.h"

bool kd_owned_name(const char *name)
{
	return strchr(name, '/') != NULL;
}

static bool retired(const struct kanary_subset *s)
{
	return s->weight_milli == 0 && s->n_backends == 0;
}

/* Whether subset ms's backends be, as the maps hold them (in any order), are d's. */
static bool backends_equal(const struct kd_desired_subset *d, const struct kanary_subset *ms,
			   const struct kanary_backend *be)
{
	struct kanary_backend tmp[KANARY_MAX_BACKENDS];

	memcpy(tmp, be, ms->n_backends * sizeof(tmp[0]));
	for (__u32 k = 0; k < ms->n_backends; k++)
		tmp[k].pad = 0;
	qsort(tmp, ms->n_backends, sizeof(tmp[0]), kd_backend_cmp);
	for (__u32 k = 0; k < ms->n_backends; k++)
		if (kd_backend_cmp(&tmp[k], &d->be[k]) != 0)
			return false;
	return true;
}

static bool content_equal(const struct kd_desired_service *d, const struct kanary_service *s)
{
	const struct kanary_svc_config *c = &s->cfg;
	__u32 matched = 0;

	if (memcmp(&d->key, &c->key, sizeof(d->key)) != 0)
		return false;
	for (__u32 j = 0; j < c->n_subsets; j++) {
		const struct kanary_subset *ms = &c->subsets[j];
		int i = kd_desired_subset_index(d, ms->name);

		if (i < 0) {
			if (!retired(ms))
				return false;
			continue;
		}
		matched++;
		if (ms->weight_milli != d->sub[i].weight_milli || ms->n_backends != d->sub[i].n ||
		    !backends_equal(&d->sub[i], ms, s->backends[j]))
			return false;
	}
	return matched == d->nsub;
}

static int read_one(const struct kanary_service *s, void *ctx)
{
	struct kd_diff *df = ctx;
	const struct kd_desired_service *d;
	struct kd_diff_seen v;

	if (!kd_owned_name(s->cfg.name))
		return 0;
	memset(&v, 0, sizeof(v));
	memcpy(v.name, s->cfg.name, sizeof(v.name) - 1);
	v.key = s->cfg.key;
	d = kd_desired_find(df->want, v.name);
	if (d && !d->hold) {
		v.cfg_equal = content_equal(d, s);
		v.rules_equal = kd_rules_in_maps(df->m, d, s, &v.rules_stale);
		v.mirror_equal = kd_mirror_in_maps(df->m, d, s);
	}
	v.equal = v.cfg_equal && v.rules_equal && v.mirror_equal;
	if (d && !d->hold && !v.equal) {
		v.id = s->id;
		v.slot = s->slot;
		v.cfg = kd_xcalloc(1, sizeof(*v.cfg));
		*v.cfg = s->cfg;
	}
	KD_PUSH(df->v, df->n, df->cap, v);
	return 0;
}

int kd_diff_read(struct kd_diff *df, struct kanary_maps *m, const struct kd_desired *want,
		 struct kanary_err *e)
{
	int err;

	memset(df, 0, sizeof(*df));
	df->m = m;
	df->want = want;
	err = kanary_service_foreach(m, read_one, df, e);
	if (err) {
		kd_diff_free(df);
		return err;
	}
	KD_NAME_INDEX_OF(&df->by_name, df->v, df->n, name);
	return 0;
}

int kd_diff_read_some(struct kd_diff *df, struct kanary_maps *m, const struct kd_desired *want,
		      const char (*names)[KANARY_NAME_LEN], size_t n, struct kanary_err *e)
{
	struct kanary_service *s = kd_xcalloc(1, sizeof(*s));
	int err = 0;

	memset(df, 0, sizeof(*df));
	df->m = m;
	df->want = want;
	for (size_t i = 0; i < n && !err; i++) {
		const struct kd_desired_service *d = kd_desired_find(want, names[i]);

		/* At its VIP:port, where it usually is: no name index of every service. */
		err = d ? kanary_service_get_at(m, names[i], &d->key, s, e) :
			  kanary_service_get(m, names[i], s, e);
		if (err == -ENOENT)
			err = 0;	/* not in the maps: created */
		else if (!err)
			err = read_one(s, df);
	}
	free(s);
	if (err) {
		kd_diff_free(df);
		return err;
	}
	KD_NAME_INDEX_OF(&df->by_name, df->v, df->n, name);
	return 0;
}

const struct kd_diff_seen *kd_diff_find(const struct kd_diff *df, const char *name)
{
	ssize_t i = kd_name_index_find(&df->by_name, name);

	return i < 0 ? NULL : &df->v[i];
}

void kd_diff_restore(const struct kd_diff_seen *v, struct kanary_service *s)
{
	memset(s, 0, sizeof(*s));
	s->exists = true;
	s->id = v->id;
	s->slot = v->slot;
	s->cfg = *v->cfg;
}

void kd_diff_free(struct kd_diff *df)
{
	for (size_t i = 0; i < df->n; i++)
		free(df->v[i].cfg);
	free(df->v);
	kd_name_index_free(&df->by_name);
	memset(df, 0, sizeof(*df));
}
