/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The API source: objects from the API server, kept in one store per kind
 * (struct kd_kube, api_watch.h), each decoded by the same decoder as a
 * manifest file (kd_manifest_decode_yaml), so --kube and --manifests mean
 * the same.  Like a file, an object whose new version is bad keeps its
 * last good version.
 */
#ifndef KD_API_SOURCE_H
#define KD_API_SOURCE_H

#include <stdbool.h>
#include <jansson.h>
#include "base/diag.h"
#include "source/source.h"
#include "source/store.h"

/* struct kd_kube's interface for the loop (kd_kube_start sets it). */
extern const struct kd_source_ops kd_api_source_ops;

/*
 * Adds or replaces obj (a list item or a watch event's object; kind and
 * apiVersion fill in what a list item omits) as the store item
 * "api:KIND/NAMESPACE/NAME".  Problems the previous version did not have
 * go to said.  -EINVAL when obj has no metadata.name.
 */
int kd_api_object_put(struct kd_store *s, const char *kind, const char *api, json_t *obj,
		      struct kd_diags *said);
/* Removes the object named in obj's metadata; false when it was not there. */
bool kd_api_object_del(struct kd_store *s, const char *kind, json_t *obj);

#endif
