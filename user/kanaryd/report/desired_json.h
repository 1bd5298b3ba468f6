/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The desired state as JSON, for --check and the status file. */
#ifndef KD_RENDER_H
#define KD_RENDER_H

#include <jansson.h>
#include "desired/desired.h"

json_t *kd_desired_service_json(const struct kd_desired_service *s);
/* [ service, ... ] */
json_t *kd_desired_json(const struct kd_desired *d);
json_t *kd_diags_json(const struct kd_diags *d, enum kd_level worst_shown);

#endif
