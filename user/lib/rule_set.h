/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * libkanary: a service's dark-release rules (include/kanary/rules.h), built
 * from what an operator types (rule_cond.c, rule_set.c) and kept in the
 * pinned rules map (rule_set_map.c).  Same conventions as kanary.h: 0 or a
 * negative errno, and a sentence in *e.
 */
#ifndef KANARY_LIB_RULE_SET_H
#define KANARY_LIB_RULE_SET_H

#include <stdbool.h>
#include <stddef.h>
#include "kanary.h"
#include "kanary/rules.h"

/* One rule as an operator writes it, before its conditions are shared. */
struct kanary_rule_spec {
	__u32 n_matches;				/* ORed */
	__u32 n_conds[KANARY_RULE_MATCHES_MAX];		/* ANDed, per match */
	struct kanary_cond conds[KANARY_RULE_MATCHES_MAX][KANARY_MATCH_CONDS_MAX];
	__u32 n_dests;
	__u8 dest_subset[KANARY_RULE_DESTS_MAX];	/* subset indices */
	__u32 dest_weight_milli[KANARY_RULE_DESTS_MAX];
};

/*
 * kind "header" with NAME=VALUE, NAME^=PREFIX or NAME (presence), or kind
 * "path" with =PATH or ^PREFIX.  Header names are lowercased.
 */
int kanary_cond_parse(const char *kind, const char *arg, struct kanary_cond *out,
		      struct kanary_err *e);
/* Whether c is what kanary_cond_parse could produce. */
int kanary_cond_check(const struct kanary_cond *c, struct kanary_err *e);
/* "header x-my-header=dark", "path ^/api": the words that add it, shell-quoted if needed. */
void kanary_cond_format(const struct kanary_cond *c, char *buf, size_t len);

/* Inserts spec as rule `at` (0-based, n_rules appends), sharing equal conditions. */
int kanary_rules_insert(struct kanary_rules *rs, __u32 at, const struct kanary_rule_spec *spec,
			struct kanary_err *e);
/* Removes rule `at`, and the conditions no other rule uses. */
int kanary_rules_remove(struct kanary_rules *rs, __u32 at, struct kanary_err *e);
/* Rule `at` as a spec, its conditions copied out in bit order. */
int kanary_rules_spec(const struct kanary_rules *rs, __u32 at, struct kanary_rule_spec *out,
		      struct kanary_err *e);
/* All the datapath relies on; destination subsets must be below n_subsets. */
int kanary_rules_validate(const struct kanary_rules *rs, __u32 n_subsets, struct kanary_err *e);

/*
 * The rules of service s from the pinned map (an empty set when it has
 * none).  An entry left by a deleted service that had the same id is
 * ignored, and *stale (when not NULL) says so: the datapath still reads it
 * until the next kanary_rules_write.
 */
int kanary_rules_read(struct kanary_maps *m, const struct kanary_service *s,
		      struct kanary_rules *out, bool *stale, struct kanary_err *e);
/*
 * Validates rs against s, bumps its generation and replaces the entry in
 * one update (or deletes it when rs has no rules and no
 * KANARY_RULES_F_PER_REQUEST, so the service pays nothing for rules).
 */
int kanary_rules_write(struct kanary_maps *m, const struct kanary_service *s,
		       struct kanary_rules *rs, struct kanary_err *e);
/* Drops a service id's entry; for kanary_service_del.  Absent is fine. */
int kanary_rules_clear(struct kanary_maps *m, __u32 svc_id, struct kanary_err *e);

#endif /* KANARY_LIB_RULE_SET_H */
