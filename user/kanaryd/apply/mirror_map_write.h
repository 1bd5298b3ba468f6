/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A desired service's mirrors against kanary_mirror_v2.  The map keeps a
 * share per subset index of the committed config, which reconcile keeps
 * per subset name; so, as rules are, mirrors are renumbered by name and
 * written after the commit.
 */
#ifndef KD_MIRROR_MAP_WRITE_H
#define KD_MIRROR_MAP_WRITE_H

#include <stdbool.h>
#include "kanary.h"
#include "desired/desired.h"

/* d's mirrors (none: all 0) by cfg's subset indexes; false when cfg lacks one of them. */
bool kd_mirror_committed(const struct kd_desired_service *d, const struct kanary_svc_config *cfg,
			 struct kanary_mirror_cfg *out);
/* Whether the map holds exactly d's mirrors for s (none: no entry). */
bool kd_mirror_in_maps(struct kanary_maps *m, const struct kd_desired_service *d,
		       const struct kanary_service *s);
/* Writes d's mirrors for s as just committed; removes s's entry when d has none. */
int kd_mirror_apply(struct kanary_maps *m, const struct kd_desired_service *d,
		    const struct kanary_service *s, struct kanary_err *e);

#endif
