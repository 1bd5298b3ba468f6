/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The read half of a reconcile pass: every service kanaryd owns, read from
 * the maps once, compared with the desired state.  What a write of it
 * needs is kept, so the write does not read the service again.
 */
#ifndef KD_MAPS_DIFF_H
#define KD_MAPS_DIFF_H

#include "kanary.h"
#include "desired/desired.h"
#include "base/sorted_names.h"

/* kanaryd owns the services named NAMESPACE/NAME[/PORT]: those with a '/'. */
bool kd_owned_name(const char *name);

/* What a pass saw of one owned service in the maps. */
struct kd_diff_seen {
	char name[KANARY_NAME_LEN];
	struct kanary_svc_key key;
	bool cfg_equal;		/* its config holds the desired subsets, weights and backends */
	bool rules_equal;	/* the rules map holds its desired rules */
	bool rules_stale;	/* ... rules a deleted service left under its id instead */
	bool mirror_equal;	/* the mirror map holds its desired mirrors */
	bool equal;		/* holds exactly the desired state */
	/*
	 * Where it lives and its config as read, kept when it is desired, not
	 * held, and differs: the only services a pass may write in place.  Its
	 * backends are not kept: a write replaces every subset's backends.
	 */
	__u32 id, slot;
	struct kanary_svc_config *cfg;
};

struct kd_diff {
	struct kanary_maps *m;
	const struct kd_desired *want;
	size_t n, cap;
	struct kd_diff_seen *v;		/* in the maps' order, which deletions follow */
	struct kd_name_index by_name;
};

/* Reads the owned services of m and compares each with want; 0 or -errno (e says why). */
int kd_diff_read(struct kd_diff *df, struct kanary_maps *m, const struct kd_desired *want,
		 struct kanary_err *e);
/*
 * The same for the n services named (those of them in the maps), each
 * found through the service index (kanary_service_get): a partial pass
 * costs the services it touches, not the cluster.
 */
int kd_diff_read_some(struct kd_diff *df, struct kanary_maps *m, const struct kd_desired *want,
		      const char (*names)[KANARY_NAME_LEN], size_t n, struct kanary_err *e);
const struct kd_diff_seen *kd_diff_find(const struct kd_diff *df, const char *name);
/* The service as v was read (config, id and slot, no backends) into s, to write it. */
void kd_diff_restore(const struct kd_diff_seen *v, struct kanary_service *s);
void kd_diff_free(struct kd_diff *df);

#endif
