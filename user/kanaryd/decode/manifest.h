/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * One manifest file into objects: multi-document YAML, JSON, kind: List
 * (and typed lists such as PodList), as kubectl prints them.
 */
#ifndef KD_MANIFEST_H
#define KD_MANIFEST_H

#include <stddef.h>
#include "base/diag.h"
#include "decode/model.h"
#include "decode/yamlnode.h"

/*
 * Decodes every object of buf, naming file in diagnostics.  Returns 0, or
 * -EINVAL when the file is bad: invalid YAML, or a Service, Pod,
 * DestinationRule or VirtualService with a field kanary needs in the wrong
 * form.  Errors and warnings go to diags; out is filled either way (callers
 * drop it on error).
 */
int kd_manifest_decode(const char *file, const void *buf, size_t len, struct kd_objects *out,
		       struct kd_diags *diags);
/* The same for documents already parsed or built (kd_yaml_from_json). */
int kd_manifest_decode_yaml(const char *file, struct kd_yaml *y, struct kd_objects *out,
			    struct kd_diags *diags);

#endif
