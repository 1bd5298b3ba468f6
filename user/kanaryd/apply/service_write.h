/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The write half of a reconcile pass: one desired service into the maps,
 * in one atomic commit.  A subset keeps its index while its name stays in
 * the manifests: per-subset counters and rules are kept by index.
 */
#ifndef KD_SERVICE_WRITE_H
#define KD_SERVICE_WRITE_H

#include "kanary.h"
#include "desired/desired.h"

/* The index of the subset named name in committed config cfg, or -1. */
int kd_committed_subset(const struct kanary_svc_config *cfg, const char *name);
/* Creates d in the maps; s is a buffer, left holding what was committed. */
int kd_service_create(struct kanary_maps *m, struct kanary_service *s,
		      const struct kd_desired_service *d, struct kanary_err *e);
/*
 * Rewrites s (as read from the maps) to hold d and commits it.  When its
 * subsets had to be renumbered, its rules are cleared first: they would
 * send connections to the wrong subsets.
 */
int kd_service_update(struct kanary_maps *m, struct kanary_service *s,
		      const struct kd_desired_service *d, struct kanary_err *e);

#endif
