// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * How many sets define each pod ns/name (by hash, open addressing): which
 * of two definitions wins is the full build's dedupe, so a partial build
 * that meets one falls back to it.
 */
#include <stdlib.h>
#include "desired/partial_int.h"

struct kd_pod_count *kd_pod_count_slot(struct kd_desired_cache *x, __u64 h)
{
	size_t i;

	if (2 * (x->ncount + 1) > x->capcount) {
		struct kd_pod_count *old = x->count;
		size_t oldcap = x->capcount;

		x->capcount = oldcap ? 2 * oldcap : 1024;
		x->count = kd_xcalloc(x->capcount, sizeof(*x->count));
		x->ncount = 0;
		for (size_t k = 0; k < oldcap; k++)
			if (old[k].h)
				*kd_pod_count_slot(x, old[k].h) = old[k];	/* counted there */
		free(old);
	}
	for (i = h & (x->capcount - 1); x->count[i].h && x->count[i].h != h;)
		i = (i + 1) & (x->capcount - 1);
	if (!x->count[i].h) {
		x->count[i].h = h;
		x->ncount++;
	}
	return &x->count[i];
}
