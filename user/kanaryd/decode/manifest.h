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

/*
 * Decodes every object of buf, naming file in diagnostics.  Returns 0, or
 * -1 when the file is bad: invalid YAML, or a Service, Pod, DestinationRule
 * or VirtualService with a field kanary needs in the wrong form.  Errors and
 * warnings go to diags; out is filled either way (callers drop it on -1).
 */
int kd_manifest_decode(const char *file, const void *buf, size_t len, struct kd_objects *out,
		       struct kd_diags *diags);

#endif
