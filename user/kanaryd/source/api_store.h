/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The objects of one kind as the API server last listed and watched them,
 * each decoded by the same decoder as a manifest file (kd_manifest_decode),
 * so --kube and --manifests mean the same.  Like a file, an object whose
 * new version is bad keeps its last good version.
 */
#ifndef KD_KUBE_CACHE_H
#define KD_KUBE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include "base/diag.h"
#include "decode/model.h"

struct kd_kube_obj {
	char *key;		/* NAMESPACE/NAME */
	char *file;		/* how diagnostics name it: "api:Pod/default/greeting-1" */
	struct kd_objects *good;	/* NULL: no good version seen */
	char *error;		/* the last version is bad: why; NULL when good */
	struct kd_diags diags;	/* warnings of the last version */
};

struct kd_kube_store {
	size_t n, cap;
	struct kd_kube_obj *v;	/* sorted by key */
};

/*
 * Adds or replaces obj (a list item or a watch event's object; kind and
 * apiVersion fill in what a list item omits).  Diagnostics the previous
 * version did not have go to diags.  -1 when obj has no metadata.name.
 */
int kd_kube_store_put(struct kd_kube_store *s, const char *kind, const char *api, json_t *obj,
		      struct kd_diags *diags);
/* Removes the object named in obj's metadata; false when it was not there. */
bool kd_kube_store_del(struct kd_kube_store *s, json_t *obj);
const struct kd_kube_obj *kd_kube_store_find(const struct kd_kube_store *s, const char *key);
/* Objects whose only version seen is bad. */
size_t kd_kube_store_unknown(const struct kd_kube_store *s);
/* Appends each good object set to *sets (grown with KD_PUSH). */
void kd_kube_store_sets(const struct kd_kube_store *s, struct kd_objects ***sets, size_t *n,
			size_t *cap);
void kd_kube_store_free(struct kd_kube_store *s);

#endif
