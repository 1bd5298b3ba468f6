/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * One object from the API server (a list item or a watch event's object)
 * into a kind's store, decoded by the manifest decoder
 * (kd_manifest_decode_yaml) with no text in between.
 */
#ifndef KD_API_OBJECT_H
#define KD_API_OBJECT_H

#include <stdbool.h>
#include <jansson.h>
#include "base/diag.h"
#include "source/store.h"

/*
 * Adds or replaces obj (kind and apiVersion fill in what a list item
 * omits) as the store item "api:KIND/NAMESPACE/NAME".  Problems the
 * previous version did not have go to said.  -EINVAL when obj has no
 * metadata.name.
 */
int kd_api_object_put(struct kd_store *s, const char *kind, const char *api, json_t *obj,
		      struct kd_diags *said);
/* Removes the object named in obj's metadata; false when it was not there. */
bool kd_api_object_del(struct kd_store *s, const char *kind, json_t *obj);

#endif
