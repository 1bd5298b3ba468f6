// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Diff and apply.  A subset that leaves the manifests keeps its index with
 * weight 0 and no backends (retired) rather than shifting the others down:
 * per-subset counters are kept by index, and must stay with their name.
 * A service's rules name subsets by index too, so they are written after
 * its config is committed (rules_map.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/arena.h"
#include "apply/reconcile.h"
#include "rules.h"
#include "apply/rules_map_write.h"

/* What a pass saw of one owned service in the maps. */
struct seen {
	char name[KANARY_NAME_LEN];
	struct kanary_svc_key key;
	bool cfg_equal;		/* its config holds the desired subsets, weights and backends */
	bool rules_equal;	/* the rules map holds its desired rules */
	bool rules_stale;	/* ... rules a deleted service left under its id instead */
	bool equal;		/* holds exactly the desired state */
};

struct scan {
	struct kanary_maps *m;
	const struct kd_desired *want;
	size_t n, cap;
	struct seen *v;			/* in the maps' order, which deletions follow */
	struct kd_name_index by_name;	/* built once the scan is over */
};

bool kd_owned_name(const char *name)
{
	return strchr(name, '/') != NULL;
}

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
		char w[32];
		int n;

		if (d->sub[i].weight_milli % KANARY_WEIGHT_MILLI)
			snprintf(w, sizeof(w), "%.3g", (double)d->sub[i].weight_milli / KANARY_WEIGHT_MILLI);
		else
			snprintf(w, sizeof(w), "%u", d->sub[i].weight_milli / KANARY_WEIGHT_MILLI);
		n = snprintf(buf + at, len - at, "%s%s %s [%u pod%s]", i ? ", " : "", d->sub[i].name,
			     w, d->sub[i].n, d->sub[i].n == 1 ? "" : "s");
		if (n < 0)
			break;
		at += (size_t)n;
	}
	if (at < len)
		snprintf(buf + at, len - at, "%s", kd_rules_count_text(d, rules, sizeof(rules)));
}

static int desired_subset(const struct kd_desired_service *d, const char *name)
{
	for (__u32 i = 0; i < d->nsub; i++)
		if (strncmp(d->sub[i].name, name, KANARY_SUBSET_NAME_LEN) == 0)
			return (int)i;
	return -1;
}

static bool retired(const struct kanary_subset *s)
{
	return s->weight_milli == 0 && s->n_backends == 0;
}

static bool content_equal(const struct kd_desired_service *d, const struct kanary_service *s)
{
	const struct kanary_svc_config *c = &s->cfg;
	struct kanary_backend tmp[KANARY_MAX_BACKENDS];
	__u32 matched = 0;

	if (memcmp(&d->key, &c->key, sizeof(d->key)) != 0)
		return false;
	for (__u32 j = 0; j < c->n_subsets; j++) {
		const struct kanary_subset *ms = &c->subsets[j];
		int i = desired_subset(d, ms->name);

		if (i < 0) {
			if (!retired(ms))
				return false;
			continue;
		}
		matched++;
		if (ms->weight_milli != d->sub[i].weight_milli || ms->n_backends != d->sub[i].n)
			return false;
		memcpy(tmp, s->backends[j], ms->n_backends * sizeof(tmp[0]));
		for (__u32 k = 0; k < ms->n_backends; k++)
			tmp[k].pad = 0;
		qsort(tmp, ms->n_backends, sizeof(tmp[0]), kd_backend_cmp);
		for (__u32 k = 0; k < ms->n_backends; k++)
			if (kd_backend_cmp(&tmp[k], &d->sub[i].be[k]) != 0)
				return false;
	}
	return matched == d->nsub;
}

static int scan_one(const struct kanary_service *s, void *ctx)
{
	struct scan *sc = ctx;
	const struct kd_desired_service *d;
	struct seen v;

	if (!kd_owned_name(s->cfg.name))
		return 0;
	memset(&v, 0, sizeof(v));
	memcpy(v.name, s->cfg.name, sizeof(v.name) - 1);
	v.key = s->cfg.key;
	d = kd_desired_find(sc->want, v.name);
	if (d && !d->hold) {
		v.cfg_equal = content_equal(d, s);
		v.rules_equal = kd_rules_in_maps(sc->m, d, s, &v.rules_stale);
	}
	v.equal = v.cfg_equal && v.rules_equal;
	KD_PUSH(sc->v, sc->n, sc->cap, v);
	return 0;
}

static const struct seen *seen_find(const struct scan *sc, const char *name)
{
	ssize_t i = kd_name_index_find(&sc->by_name, name);

	return i < 0 ? NULL : &sc->v[i];
}

static void result(struct kd_results *r, const char *name, enum kd_outcome o, const char *msg)
{
	struct kd_result x;

	memset(&x, 0, sizeof(x));
	snprintf(x.name, sizeof(x.name), "%s", name);
	x.outcome = o;
	x.msg = msg ? kd_xstrdup(msg) : NULL;
	KD_PUSH(r->v, r->n, r->cap, x);
	if (o == KD_OUT_CREATED || o == KD_OUT_UPDATED || o == KD_OUT_DELETED)
		r->writes++;
}

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
		int i = desired_subset(d, c->subsets[j].name);

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

static int create(struct kanary_maps *m, struct kanary_service *s,
		  const struct kd_desired_service *d, struct kanary_err *e)
{
	memset(s, 0, sizeof(*s));
	memcpy(s->cfg.name, d->name, sizeof(s->cfg.name));
	s->cfg.key = d->key;
	for (__u32 i = 0; i < d->nsub; i++)
		put_subset(s, s->cfg.n_subsets++, &d->sub[i]);
	return kanary_service_commit(m, s, e);
}

static int update(struct kanary_maps *m, struct kanary_service *s,
		  const struct kd_desired_service *d, struct kanary_err *e)
{
	int err = kanary_service_get(m, d->name, s, e);

	if (err)
		return err;
	/* Renumbered subsets: the old rules would send connections to the wrong ones. */
	if (merge_subsets(s, d)) {
		err = kanary_rules_clear(m, s->id, e);
		if (err)
			return err;
	}
	return kanary_service_commit(m, s, e);
}

static void apply_one(struct kanary_maps *m, struct kanary_service *buf, const struct scan *sc,
		      const struct kd_desired_service *d, struct kd_applied *applied,
		      struct kd_results *out)
{
	const struct seen *v = seen_find(sc, d->name);
	struct kanary_err e = { "" };
	__u64 recorded;
	char msg[600];
	int err;

	if (d->hold) {
		result(out, d->name, KD_OUT_HELD, d->problem);
		return;
	}
	if (v && v->equal) {
		kd_applied_set(applied, d->name, d->hash);
		result(out, d->name, KD_OUT_UNCHANGED, NULL);
		return;
	}
	if (v && memcmp(&v->key, &d->key, sizeof(v->key)) == 0 && !v->rules_stale &&
	    kd_applied_get(applied, d->name, &recorded) && recorded == d->hash) {
		result(out, d->name, KD_OUT_OVERRIDDEN,
		       "changed with kanaryctl since kanaryd wrote it; kept until its manifests change");
		return;
	}
	kd_desired_service_summary(d, msg, sizeof(msg));
	if (!v) {
		err = create(m, buf, d, &e);
	} else if (memcmp(&v->key, &d->key, sizeof(v->key)) != 0) {
		/* A new cluster IP or port: the map key changes, so re-create. */
		err = kanary_service_del(m, d->name, &e);
		if (!err)
			err = create(m, buf, d, &e);
	} else if (v->cfg_equal) {
		err = kanary_service_get(m, d->name, buf, &e);	/* only the rules differ */
	} else {
		err = update(m, buf, d, &e);
	}
	if (!err)
		err = kd_rules_apply(m, d, buf, &e);
	if (err) {
		result(out, d->name, KD_OUT_FAILED, e.msg);
		return;
	}
	kd_applied_set(applied, d->name, d->hash);
	result(out, d->name, v ? KD_OUT_UPDATED : KD_OUT_CREATED, msg);
}

int kd_reconcile(struct kanary_maps *m, const struct kd_desired *want, struct kd_applied *applied,
		 struct kd_results *out, struct kanary_err *e)
{
	struct scan sc = { .m = m, .want = want };
	struct kanary_service *buf;
	int err;

	memset(out, 0, sizeof(*out));
	err = kanary_service_foreach(m, scan_one, &sc, e);
	if (err) {
		free(sc.v);
		return err;
	}
	KD_NAME_INDEX_OF(&sc.by_name, sc.v, sc.n, name);
	buf = kd_xcalloc(1, sizeof(*buf));
	/* Deletions first: they may free the VIP:port a new service needs. */
	for (size_t i = 0; i < sc.n; i++) {
		struct kanary_err de = { "" };

		if (kd_desired_find(want, sc.v[i].name))
			continue;
		if (kanary_service_del(m, sc.v[i].name, &de))
			result(out, sc.v[i].name, KD_OUT_FAILED, de.msg);
		else
			result(out, sc.v[i].name, KD_OUT_DELETED, "no longer in the manifests");
		kd_applied_del(applied, sc.v[i].name);
	}
	for (size_t i = 0; i < want->n; i++)
		apply_one(m, buf, &sc, &want->v[i], applied, out);
	/* Records of services that are neither in the maps nor wanted. */
	for (size_t i = applied->n; i-- > 0;)
		if (!kd_desired_find(want, applied->v[i].name) && !seen_find(&sc, applied->v[i].name))
			kd_applied_del(applied, applied->v[i].name);
	free(buf);
	kd_name_index_free(&sc.by_name);
	free(sc.v);
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
