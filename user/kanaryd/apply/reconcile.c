// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * One reconcile pass: the services kanaryd owns are read and compared once
 * (maps_diff.c), deletions go first, then each desired service is written
 * (service_write.c) unless the maps hold it already or an operator's
 * change to it stands.  A service's rules and mirrors name subsets by
 * index, so they are written after its config is committed
 * (rules_map_write.c, mirror_map_write.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/arena.h"
#include "apply/maps_diff.h"
#include "apply/mirror_map_write.h"
#include "apply/reconcile.h"
#include "apply/rules_map_write.h"
#include "apply/service_write.h"
#include "desired/desired_changed.h"

const char *kd_outcome_name(enum kd_outcome o)
{
	static const char *const names[] = {
		[KD_OUT_CREATED] = "created",
		[KD_OUT_UPDATED] = "updated",
		[KD_OUT_UNCHANGED] = "unchanged",
		[KD_OUT_OVERRIDDEN] = "overridden",
		[KD_OUT_HELD] = "held",
		[KD_OUT_FAILED] = "failed",
		[KD_OUT_DELETED] = "deleted",
	};

	return o <= KD_OUT_DELETED ? names[o] : "?";
}

void kd_desired_service_summary(const struct kd_desired_service *d, char *buf, size_t len)
{
	char rules[32];
	size_t at = 0;

	buf[0] = '\0';
	for (__u32 i = 0; i < d->nsub && at < len; i++) {
		char w[KANARY_WEIGHT_STR_LEN];
		int n;

		kanary_weight_format(w, sizeof(w), d->sub[i].weight_milli);
		n = snprintf(buf + at, len - at, "%s%s %s [%u pod%s]", i ? ", " : "", d->sub[i].name,
			     w, d->sub[i].n, d->sub[i].n == 1 ? "" : "s");
		if (n < 0)
			break;
		at += (size_t)n;
	}
	if (at < len)
		at += (size_t)snprintf(buf + at, len - at, "%s",
				       kd_rules_count_text(d, rules, sizeof(rules)));
	for (__u32 i = 0; i < d->nsub && at < len; i++) {
		char pct[KANARY_PERCENT_STR_LEN];

		if (d->mirror_ppm[i]) {
			kanary_percent_format(pct, sizeof(pct), d->mirror_ppm[i]);
			at += (size_t)snprintf(buf + at, len - at, "; mirror %s%% to %s", pct,
					       d->sub[i].name);
		}
		for (int k = 0; k < KANARY_RULES_MAX && at < len; k++) {
			if (!d->rule_mirror_ppm[k][i])
				continue;
			kanary_percent_format(pct, sizeof(pct), d->rule_mirror_ppm[k][i]);
			at += (size_t)snprintf(buf + at, len - at, "; mirror rule %d's %s%% to %s",
					       k + 1, pct, d->sub[i].name);
		}
	}
}

static void result(struct kd_results *r, const char *name, enum kd_outcome o, const char *msg,
		   int err)
{
	struct kd_result x;

	memset(&x, 0, sizeof(x));
	snprintf(x.name, sizeof(x.name), "%s", name);
	x.outcome = o;
	x.msg = msg ? kd_xstrdup(msg) : NULL;
	x.err = err;
	KD_PUSH(r->v, r->n, r->cap, x);
	if (o == KD_OUT_CREATED || o == KD_OUT_UPDATED || o == KD_OUT_DELETED)
		r->writes++;
}

/* Writes d, which the maps lack (v NULL) or hold otherwise (v as read), then its rules and mirrors. */
static int write_service(struct kanary_maps *m, struct kanary_service *buf,
			 const struct kd_diff_seen *v, const struct kd_desired_service *d,
			 struct kanary_err *e)
{
	int err;

	if (!v) {
		err = kd_service_create(m, buf, d, e);
	} else if (memcmp(&v->key, &d->key, sizeof(v->key)) != 0) {
		/* A new cluster IP or port: the map key changes, so re-create. */
		err = kanary_service_del(m, d->name, e);
		if (!err)
			err = kd_service_create(m, buf, d, e);
	} else {
		kd_diff_restore(v, buf);
		/* When only the rules differ, the config stays as it is. */
		err = v->cfg_equal ? 0 : kd_service_update(m, buf, d, e);
	}
	if (!err)
		err = kd_rules_apply(m, d, buf, e);
	return err ? err : kd_mirror_apply(m, d, buf, e);
}

static void apply_one(struct kanary_maps *m, struct kanary_service *buf, const struct kd_diff *df,
		      const struct kd_desired_service *d, struct kd_applied *applied,
		      struct kd_results *out)
{
	const struct kd_diff_seen *v = kd_diff_find(df, d->name);
	struct kanary_err e = { "" };
	__u64 recorded;
	char msg[600];
	int err;

	if (d->hold) {
		result(out, d->name, KD_OUT_HELD, d->problem, 0);
		return;
	}
	if (v && v->equal) {
		kd_applied_set(applied, d->name, d->hash);
		result(out, d->name, KD_OUT_UNCHANGED, NULL, 0);
		return;
	}
	if (v && memcmp(&v->key, &d->key, sizeof(v->key)) == 0 && !v->rules_stale &&
	    kd_applied_get(applied, d->name, &recorded) && recorded == d->hash) {
		result(out, d->name, KD_OUT_OVERRIDDEN,
		       "changed with kanaryctl since kanaryd wrote it; kept until its manifests change", 0);
		return;
	}
	kd_desired_service_summary(d, msg, sizeof(msg));
	err = write_service(m, buf, v, d, &e);
	if (err) {
		result(out, d->name, KD_OUT_FAILED, e.msg, err);
		return;
	}
	kd_applied_set(applied, d->name, d->hash);
	result(out, d->name, v ? KD_OUT_UPDATED : KD_OUT_CREATED, msg, 0);
}

/* Deletions, then the desired services of df (all of want when only is NULL). */
static void apply_diff(struct kanary_maps *m, const struct kd_desired *want, struct kd_diff *df,
		       const struct kd_changes *only, struct kd_applied *applied,
		       struct kd_results *out)
{
	struct kanary_service *buf = kd_xcalloc(1, sizeof(*buf));
	int err;

	/* Deletions first: they may free the VIP:port a new service needs. */
	for (size_t i = 0; i < df->n; i++) {
		struct kanary_err de = { "" };

		if (kd_desired_find(want, df->v[i].name))
			continue;
		err = kanary_service_del(m, df->v[i].name, &de);
		if (err)
			result(out, df->v[i].name, KD_OUT_FAILED, de.msg, err);
		else
			result(out, df->v[i].name, KD_OUT_DELETED, "no longer in the manifests", 0);
		kd_applied_del(applied, df->v[i].name);
	}
	for (size_t i = 0; i < want->n; i++)
		if (!only || kd_changes_has(only, want->v[i].name))
			apply_one(m, buf, df, &want->v[i], applied, out);
	free(buf);
}

int kd_reconcile(struct kanary_maps *m, const struct kd_desired *want, struct kd_applied *applied,
		 struct kd_results *out, struct kanary_err *e)
{
	struct kd_diff df;
	int err;

	memset(out, 0, sizeof(*out));
	err = kd_diff_read(&df, m, want, e);
	if (err)
		return err;
	apply_diff(m, want, &df, NULL, applied, out);
	/* Records of services that are neither in the maps nor wanted. */
	for (size_t i = applied->n; i-- > 0;)
		if (!kd_desired_find(want, applied->v[i].name) && !kd_diff_find(&df, applied->v[i].name))
			kd_applied_del(applied, applied->v[i].name);
	kd_diff_free(&df);
	/* The old slots of this pass's commits, freed once (slots_release.c in libkanary). */
	kanary_slots_release(m, NULL);
	KD_NAME_INDEX_OF(&out->by_name, out->v, out->n, name);
	return 0;
}

static void result_copy(struct kd_results *r, const struct kd_result *x)
{
	struct kd_result c = *x;	/* the name is a terminated array of the same size */

	c.msg = x->msg ? kd_xstrdup(x->msg) : NULL;
	KD_PUSH(r->v, r->n, r->cap, c);
	if (c.outcome == KD_OUT_CREATED || c.outcome == KD_OUT_UPDATED || c.outcome == KD_OUT_DELETED)
		r->writes++;
}

/*
 * before's result for name, looked for first at *next (one past the last
 * one found).  before holds the last pass's deletions, then a result per
 * desired service in name order, the same names as now (a partial pass
 * adds or removes none), so the cursor finds nearly all of them without a
 * search; the index finds the others.
 */
static const struct kd_result *before_find(const struct kd_results *before, const char *name,
					   size_t *next)
{
	const struct kd_result *r;

	if (*next < before->n && strcmp(before->v[*next].name, name) == 0)
		return &before->v[(*next)++];
	r = kd_results_find(before, name);
	if (r)
		*next = (size_t)(r - before->v) + 1;
	return r;
}

int kd_reconcile_some(struct kanary_maps *m, const struct kd_desired *want,
		      const struct kd_changes *changes, struct kd_applied *applied,
		      const struct kd_results *before, struct kd_results *out, struct kanary_err *e)
{
	struct kd_results part = { 0 };
	struct kd_diff df;
	int err;

	memset(out, 0, sizeof(*out));
	err = kd_diff_read_some(&df, m, want, changes->names, changes->n, e);
	if (err)
		return err;
	apply_diff(m, want, &df, changes, applied, &part);
	kd_diff_free(&df);
	kanary_slots_release(m, NULL);
	KD_NAME_INDEX_OF(&part.by_name, part.v, part.n, name);
	/* Merged in kd_reconcile's order: this pass's deletions, then every desired service. */
	out->cap = part.n + want->n;
	out->v = kd_xcalloc(out->cap ? out->cap : 1, sizeof(*out->v));
	for (size_t i = 0; i < part.n; i++)
		if (!kd_desired_find(want, part.v[i].name))
			result_copy(out, &part.v[i]);
	for (size_t i = 0, c = 0, next = 0; i < want->n; i++) {
		const char *name = want->v[i].name;
		const struct kd_result *r;
		bool changed;

		/* Both sorted by name: a walk, not a search per service. */
		while (c < changes->n && strcmp(changes->names[c], name) < 0)
			c++;
		changed = c < changes->n && strcmp(changes->names[c], name) == 0;
		r = changed ? kd_results_find(&part, name) : before_find(before, name, &next);
		if (r)
			result_copy(out, r);
	}
	out->writes = part.writes;	/* not the earlier passes' copied along */
	kd_results_free(&part);
	KD_NAME_INDEX_OF(&out->by_name, out->v, out->n, name);
	return 0;
}

void kd_results_free(struct kd_results *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].msg);
	free(r->v);
	kd_name_index_free(&r->by_name);
	memset(r, 0, sizeof(*r));
}

const struct kd_result *kd_results_find(const struct kd_results *r, const char *name)
{
	ssize_t i = kd_name_index_find(&r->by_name, name);

	return i < 0 ? NULL : &r->v[i];
}
