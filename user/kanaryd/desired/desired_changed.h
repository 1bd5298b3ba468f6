/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What an event changed: the services whose maps content differs between
 * two desired states.  Found from the result, not from which objects the
 * event touched, so no dependency (a pod's labels, a subset, an exportTo)
 * can be missed: a partial reconcile (kd_reconcile_some) writes exactly
 * these.
 */
#ifndef KD_DESIRED_CHANGED_H
#define KD_DESIRED_CHANGED_H

#include <stdbool.h>
#include "desired/desired.h"

struct kd_changes {
	size_t n, cap;
	char (*names)[KANARY_NAME_LEN];	/* sorted, as the desired state */
	/*
	 * A service was added or removed, or its VIP:port changed: the map
	 * keys change, deletions may free what a creation needs, so only a
	 * full pass applies it.
	 */
	bool structural;
};

/* Fills out with the services of after that differ from before (hash, hold, problem). */
void kd_desired_changed(const struct kd_desired *before, const struct kd_desired *after,
			struct kd_changes *out);
/* What reconcile would do with it differs: written content, held or not, and why. */
bool kd_desired_service_differs(const struct kd_desired_service *a, const struct kd_desired_service *b);
/* Appends name: in name order, as the partial build does. */
void kd_changes_add(struct kd_changes *c, const char *name);
bool kd_changes_has(const struct kd_changes *c, const char *name);
void kd_changes_free(struct kd_changes *c);

#endif
