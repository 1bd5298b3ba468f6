/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The desired state as JSON, for --check and the status file. */
#ifndef KD_RENDER_H
#define KD_RENDER_H

#include <jansson.h>
#include "desired/desired.h"

/* A weight in thousandths as the operator wrote it: 80, or 0.5. */
json_t *kd_weight_json(__u32 milli);
json_t *kd_desired_service_json(const struct kd_desired_service *s);
/* [ service, ... ] */
json_t *kd_desired_json(const struct kd_desired *d);
json_t *kd_diags_json(const struct kd_diags *d, enum kd_level worst_shown);

#endif
