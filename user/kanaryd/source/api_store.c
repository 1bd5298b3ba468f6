// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/arena.h"
#include "source/api_store.h"
#include "decode/manifest.h"

/* Index of key, or where it would go (*found false). */
static size_t find(const struct kd_kube_store *s, const char *key, bool *found)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(s->v[mid].key, key);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static char *obj_key(json_t *obj)
{
	json_t *m = json_object_get(obj, "metadata");
	const char *name = json_string_value(json_object_get(m, "name"));
	const char *ns = json_string_value(json_object_get(m, "namespace"));

	if (!name || !*name)
		return NULL;
	return kd_xasprintf("%s/%s", ns && *ns ? ns : "default", name);
}

static void drop_good(struct kd_kube_obj *o)
{
	if (o->good) {
		kd_objects_free(o->good);
		free(o->good);
		o->good = NULL;
	}
}

static void obj_free(struct kd_kube_obj *o)
{
	drop_good(o);
	kd_diags_free(&o->diags);
	free(o->key);
	free(o->file);
	free(o->error);
}

const struct kd_kube_obj *kd_kube_store_find(const struct kd_kube_store *s, const char *key)
{
	bool found;
	size_t i = find(s, key, &found);

	return found ? &s->v[i] : NULL;
}

int kd_kube_store_put(struct kd_kube_store *s, const char *kind, const char *api, json_t *obj,
		      struct kd_diags *diags)
{
	struct kd_diags mine = { 0 };
	struct kd_objects *objs;
	struct kd_kube_obj *o;
	char *key = obj_key(obj), *text;
	bool found;
	size_t i;

	if (!key) {
		kd_diag_add(diags, KD_WARN, "api: a %s without metadata.name; skipped", kind);
		return -1;
	}
	/* A list's items carry neither; the decoder needs both. */
	if (!json_is_string(json_object_get(obj, "kind")))
		json_object_set_new(obj, "kind", json_string(kind));
	if (!json_is_string(json_object_get(obj, "apiVersion")))
		json_object_set_new(obj, "apiVersion", json_string(api));
	i = find(s, key, &found);
	if (!found) {
		KD_PUSH(s->v, s->n, s->cap, (struct kd_kube_obj){ 0 });
		memmove(&s->v[i + 1], &s->v[i], (s->n - 1 - i) * sizeof(*s->v));
		memset(&s->v[i], 0, sizeof(s->v[i]));
		s->v[i].key = key;
		s->v[i].file = kd_xasprintf("api:%s/%s", kind, key);
	} else {
		free(key);
	}
	o = &s->v[i];
	/* Indented, so a diagnostic's line points at one field of the object. */
	text = json_dumps(obj, JSON_INDENT(2));
	objs = kd_xcalloc(1, sizeof(*objs));
	if (!text || kd_manifest_decode(o->file, text, strlen(text), objs, &mine)) {
		free(o->error);
		o->error = kd_xstrdup(text ? kd_diag_first(&mine, KD_ERROR) : "cannot encode the object");
		if (!kd_diag_has(&o->diags, o->error))
			kd_diag_add(&mine, KD_ERROR, "%s: bad; %s", o->file, o->good ?
				    "its last good version stays applied" :
				    "and no good version of it has been seen since kanaryd started");
		kd_objects_free(objs);
		free(objs);
	} else {
		free(o->error);
		o->error = NULL;
		drop_good(o);
		o->good = objs;
	}
	free(text);
	/* Pods change often (status, annotations): say each problem once per object. */
	for (size_t k = 0; k < mine.n; k++)
		if (!kd_diag_has(&o->diags, mine.v[k].msg))
			kd_diag_add(diags, mine.v[k].level, "%s", mine.v[k].msg);
	kd_diags_free(&o->diags);
	kd_diag_copy(&o->diags, &mine, KD_WARN);
	kd_diags_free(&mine);
	return 0;
}

bool kd_kube_store_del(struct kd_kube_store *s, json_t *obj)
{
	char *key = obj_key(obj);
	bool found = false;
	size_t i;

	if (!key)
		return false;
	i = find(s, key, &found);
	free(key);
	if (!found)
		return false;
	obj_free(&s->v[i]);
	memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof(*s->v));
	s->n--;
	return true;
}

size_t kd_kube_store_unknown(const struct kd_kube_store *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += s->v[i].error && !s->v[i].good;
	return n;
}

void kd_kube_store_sets(const struct kd_kube_store *s, struct kd_objects ***sets, size_t *n,
			size_t *cap)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].good)
			KD_PUSH(*sets, *n, *cap, s->v[i].good);
}

void kd_kube_store_free(struct kd_kube_store *s)
{
	for (size_t i = 0; i < s->n; i++)
		obj_free(&s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}
