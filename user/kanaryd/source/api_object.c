// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* An object from the API server into a store: named, decoded as a manifest's, recorded. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "base/arena.h"
#include "decode/manifest.h"
#include "decode/yamlnode_json.h"
#include "source/api_object.h"

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
