/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Where kanaryd's objects come from: the manifest files under --manifests
 * (manifest_files.h) or the Kubernetes API server (api_source.h).  Each
 * keeps what it read in stores (store.h); the loop sees only this.
 */
#ifndef KD_SOURCE_H
#define KD_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include "kanary.h"
#include "base/diag.h"
#include "decode/model.h"

struct kd_source;

struct kd_refresh {
	bool changed;		/* the good objects changed since the last refresh */
	long long event_ms;	/* CLOCK_MONOTONIC of the oldest change when known, else 0 */
};

struct kd_source_ops {
	const char *item;	/* what an item is, for messages: "manifest file", "API object" */
	/*
	 * Brings the stores up to date (force: reads everything again, so its
	 * warnings are said again) and holds them until release: the API's
	 * watch threads change them.  New problems go to said.  0, or -EAGAIN
	 * with e saying why there is nothing to go by yet.
	 */
	int (*refresh)(struct kd_source *s, bool force, struct kd_refresh *r, struct kd_diags *said,
		       struct kanary_err *e);
	void (*release)(struct kd_source *s);
	/* Between refresh and release: */
	size_t (*unknown)(struct kd_source *s);	/* items with no good version seen */
	size_t (*bad)(struct kd_source *s);	/* items whose last version is bad */
	/* Good object sets, for kd_desired_build; free the array. */
	struct kd_objects **(*good_sets)(struct kd_source *s, size_t *n);
};

struct kd_source {
	const struct kd_source_ops *ops;
};

static inline int kd_source_refresh(struct kd_source *s, bool force, struct kd_refresh *r,
				    struct kd_diags *said, struct kanary_err *e)
{
	return s->ops->refresh(s, force, r, said, e);
}

static inline void kd_source_release(struct kd_source *s)
{
	s->ops->release(s);
}

static inline const char *kd_source_item(const struct kd_source *s)
{
	return s->ops->item;
}

static inline size_t kd_source_unknown(struct kd_source *s)
{
	return s->ops->unknown(s);
}

static inline size_t kd_source_bad(struct kd_source *s)
{
	return s->ops->bad(s);
}

static inline struct kd_objects **kd_source_good_sets(struct kd_source *s, size_t *n)
{
	return s->ops->good_sets(s, n);
}

#endif
