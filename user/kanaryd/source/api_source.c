// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* API objects into the store, and the API source's interface over the watches. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/arena.h"
#include "decode/manifest.h"
#include "decode/yamlnode_json.h"
#include "source/api_source.h"
#include "source/api_watch.h"

/* How diagnostics and the status file name it: "api:Pod/default/greeting-1"; NULL without a name. */
static char *object_name(const char *kind, json_t *obj)
{
	json_t *m = json_object_get(obj, "metadata");
	const char *name = json_string_value(json_object_get(m, "name"));
	const char *ns = json_string_value(json_object_get(m, "namespace"));

	if (!name || !*name)
		return NULL;
	return kd_xasprintf("api:%s/%s/%s", kind, ns && *ns ? ns : "default", name);
}

/* The objects of obj, or NULL when it is bad; what decoding said goes to problems. */
static struct kd_objects *decode_object(const char *name, json_t *obj, struct kd_diags *problems)
{
	struct kd_objects *objs = kd_xcalloc(1, sizeof(*objs));
	struct kanary_err e = { "" };
	struct kd_yaml y;
	int ret;

	if (kd_yaml_from_json(&y, obj, &e)) {
		kd_diag_add(problems, KD_ERROR, "%s: %s", name, e.msg);
		ret = -ENOMEM;
	} else {
		ret = kd_manifest_decode_yaml(name, &y, objs, problems);
		kd_yaml_free(&y);
	}
	if (ret) {
		kd_objects_free(objs);
		free(objs);
		return NULL;
	}
	return objs;
}

int kd_api_object_put(struct kd_store *s, const char *kind, const char *api, json_t *obj,
		      struct kd_diags *said)
{
	struct kd_diags problems = { 0 };
	struct kd_objects *objs;
	char *name = object_name(kind, obj);

	if (!name) {
		kd_diag_add(said, KD_WARN, "api: a %s without metadata.name; skipped", kind);
		return -EINVAL;
	}
	/* A list's items carry neither; the decoder needs both. */
	if (!json_is_string(json_object_get(obj, "kind")))
		json_object_set_new(obj, "kind", json_string(kind));
	if (!json_is_string(json_object_get(obj, "apiVersion")))
		json_object_set_new(obj, "apiVersion", json_string(api));
	objs = decode_object(name, obj, &problems);
	/* Pods change often (status, annotations): each problem is said once per object. */
	kd_store_record(kd_store_item(s, name), objs, &problems, false, said);
	free(name);
	return 0;
}

bool kd_api_object_del(struct kd_store *s, const char *kind, json_t *obj)
{
	char *name = object_name(kind, obj);
	bool found;

	if (!name)
		return false;
	found = kd_store_remove(s, name);
	free(name);
	return found;
}

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
