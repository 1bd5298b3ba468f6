/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A desired service's dark-release rules against the rules map.  Desired
 * rules name their subsets by index in the desired service; the map's name
 * them by index in the committed config, which reconcile keeps per subset
 * name.  So rules are renumbered by name, and written after the commit.
 */
#ifndef KD_RULES_MAP_H
#define KD_RULES_MAP_H

#include <stdbool.h>
#include "kanary.h"
#include "desired/desired.h"

/* d's rules (none: an empty set) renumbered to cfg's subsets; false when cfg lacks one of them. */
bool kd_rules_committed(const struct kd_desired_service *d, const struct kanary_svc_config *cfg,
			struct kanary_rules *out);
/*
 * Whether the map holds exactly d's rules for s.  *stale: it holds rules a
 * deleted service left under s's id, which no operator wrote.
 */
bool kd_rules_in_maps(struct kanary_maps *m, const struct kd_desired_service *d,
		      const struct kanary_service *s, bool *stale);
/* Writes d's rules for s as just committed; removes s's entry when d has none. */
int kd_rules_apply(struct kanary_maps *m, const struct kd_desired_service *d,
		   const struct kanary_service *s, struct kanary_err *e);
/* Rules in d: "", or "; 1 rule" for the summaries people read. */
const char *kd_rules_count_text(const struct kd_desired_service *d, char *buf, size_t len);

#endif
