/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Makes the pinned maps hold the desired state, writing only services that
 * differ, each in one atomic commit, then their dark-release rules in one
 * map update.  kanaryd owns the services whose name has a '/'
 * (NAMESPACE/NAME): it creates, rewrites and deletes only those.
 */
#ifndef KD_RECONCILE_H
#define KD_RECONCILE_H

#include "kanary.h"
#include "apply/applied.h"
#include "desired/desired.h"
#include "base/sorted_names.h"

enum kd_outcome {
	KD_OUT_CREATED,
	KD_OUT_UPDATED,
	KD_OUT_UNCHANGED,	/* the maps already hold the desired state */
	KD_OUT_OVERRIDDEN,	/* the maps differ but the manifests did not change: an operator's change stays */
	KD_OUT_HELD,		/* the manifests cannot be applied (see msg): the maps keep what they had */
	KD_OUT_FAILED,		/* a write failed (see msg); tried again on the next change or SIGHUP */
	KD_OUT_DELETED,		/* no longer in the manifests */
};

struct kd_result {
	char name[KANARY_NAME_LEN];
	enum kd_outcome outcome;
	char *msg;
	int err;		/* KD_OUT_FAILED: -errno (-ENOSPC: a map is full) */
};

struct kd_results {
	size_t n, cap;
	struct kd_result *v;	/* deletions, then the desired services in order */
	struct kd_name_index by_name;	/* of v, once kd_reconcile returns */
	size_t writes;		/* services created, updated or deleted */
};

const char *kd_outcome_name(enum kd_outcome o);

/*
 * One pass over the maps m (opened, so the instance lock is held).  applied
 * is read and updated: a service whose desired hash equals the recorded one
 * and whose maps differ was changed by an operator, and is left alone.
 * Returns 0, or a negative errno when the maps could not be read at all;
 * a failure to write one service is in its result, and the rest go on.
 */
int kd_reconcile(struct kanary_maps *m, const struct kd_desired *want, struct kd_applied *applied,
		 struct kd_results *out, struct kanary_err *e);
/*
 * A partial pass: only the services of changes (none structural, see
 * desired_changed.h) are read from the maps, compared and written, the
 * same way as kd_reconcile does it.  out is before with those services'
 * results replaced, in kd_reconcile's order; before's deletions are gone.
 * Its writes count this pass's only.
 */
struct kd_changes;
int kd_reconcile_some(struct kanary_maps *m, const struct kd_desired *want,
		      const struct kd_changes *changes, struct kd_applied *applied,
		      const struct kd_results *before, struct kd_results *out, struct kanary_err *e);
void kd_results_free(struct kd_results *r);
const struct kd_result *kd_results_find(const struct kd_results *r, const char *name);

/* "safe 80 [2 pods], risky 20 [1 pod]", then "; 1 rule" when it has rules */
void kd_desired_service_summary(const struct kd_desired_service *d, char *buf, size_t len);

#endif
