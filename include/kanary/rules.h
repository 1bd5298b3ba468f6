/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The ABI of dark-release rules: what userspace writes for a service and
 * what the datapath reads before it falls back to the weighted split.
 *
 * A service has up to KANARY_RULES_MAX rules, tried in order; the first that
 * matches wins.  A rule matches when any of its matches (ORed) holds; a match
 * holds when all its conditions (ANDed) do.  Conditions are stored once per
 * service, deduplicated, and a match names them by bit: match_mask bit c is
 * conds[c].  So the matcher evaluates each distinct condition once, then
 * resolves rules with mask tests.
 *
 * The map (proposed for bpf/lib/maps.h): KANARY_MAP_RULES, a hash from the
 * service id (__u32) to struct kanary_rules, BPF_F_NO_PREALLOC so that an
 * update replaces the whole value at once for readers.  A service without
 * rules has no entry, unless it opted into per-request weighting
 * (KANARY_RULES_F_PER_REQUEST): an entry with n_rules = 0 puts it on the
 * rule path, where every request takes the weighted split on its own.
 */
#ifndef KANARY_RULES_H
#define KANARY_RULES_H

#include <linux/types.h>
#include "kanary/abi.h"

#define KANARY_MAP_RULES	"kanary_rules_v1"

#define KANARY_RULES_MAX	8	/* rules per service */
#define KANARY_RULE_MATCHES_MAX	4	/* ORed matches per rule */
#define KANARY_MATCH_CONDS_MAX	4	/* ANDed conditions per match */
#define KANARY_CONDS_MAX	32	/* distinct conditions per service: one bit each */
#define KANARY_RULE_DESTS_MAX	KANARY_MAX_SUBSETS
#define KANARY_COND_NAME_MAX	64	/* header name bytes */
#define KANARY_COND_VALUE_MAX	64	/* value, prefix or path bytes */

/*
 * The first bytes of a connection the matcher looks at: the stash the
 * handoff keeps the client's first data in.  A power of two, so that an
 * index masked with KANARY_HTTP_STASH - 1 is in bounds for the verifier.
 */
#define KANARY_HTTP_STASH	2048
/* Header lines of one head that are matched; later lines are not. */
#define KANARY_HTTP_LINES_MAX	64

#define KANARY_RULE_NONE	(-1)	/* no rule matched: the weighted default */

enum kanary_cond_kind {
	KANARY_COND_HEADER = 1,
	KANARY_COND_PATH = 2,
};

enum kanary_cond_op {
	KANARY_OP_EXACT = 1,	/* header value / path equals value */
	KANARY_OP_PREFIX = 2,	/* header value / request-target starts with value */
	KANARY_OP_PRESENT = 3,	/* header present (any value); headers only */
};

/*
 * One condition.  name: a header name in lowercase, name_len bytes (unused
 * for a path).  value: value_len bytes, not NUL-terminated; unused bytes
 * are zero so that equal conditions compare equal as memory.
 */
struct kanary_cond {
	__u8	kind;		/* enum kanary_cond_kind */
	__u8	op;		/* enum kanary_cond_op */
	__u8	name_len;	/* 1..KANARY_COND_NAME_MAX for a header, 0 for a path */
	__u8	value_len;	/* 0..KANARY_COND_VALUE_MAX */
	char	name[KANARY_COND_NAME_MAX];
	char	value[KANARY_COND_VALUE_MAX];
};

/*
 * One rule: which conditions make it match, and where its connections go.
 * dest_cum_parts are cumulative shares in parts per 10,000 over all
 * destinations (dest i owns [cum[i-1], cum[i])), computed by userspace
 * from dest_weight_milli; the datapath decides what to do with a
 * destination subset that has no backends.
 */
struct kanary_rule {
	__u32	match_mask[KANARY_RULE_MATCHES_MAX];	/* bits of conds; 0: unused */
	__u32	dest_weight_milli[KANARY_RULE_DESTS_MAX];	/* the operator's weight x1000 */
	__u32	dest_cum_parts[KANARY_RULE_DESTS_MAX];
	__u8	dest_subset[KANARY_RULE_DESTS_MAX];	/* index into the service's subsets */
	__u8	n_matches;	/* 1..KANARY_RULE_MATCHES_MAX */
	__u8	n_dests;	/* 1..KANARY_RULE_DESTS_MAX */
	__u16	pad;
};

/* Value of the rules map: a service's whole rule set, replaced at once. */
/* Keep the rule path with no rules: per-request weighting. */
#define KANARY_RULES_F_PER_REQUEST	1u
#define KANARY_RULES_F_ALL		KANARY_RULES_F_PER_REQUEST

struct kanary_rules {
	char	service[KANARY_NAME_LEN];	/* owner: an entry of another name is stale */
	__u32	generation;	/* bumped on every write */
	__u32	n_rules;	/* 0..KANARY_RULES_MAX */
	__u32	n_conds;	/* 0..KANARY_CONDS_MAX */
	__u32	flags;		/* KANARY_RULES_F_* */
	struct kanary_cond conds[KANARY_CONDS_MAX];
	struct kanary_rule rules[KANARY_RULES_MAX];
};

_Static_assert(KANARY_CONDS_MAX <= 32, "a match names its conditions in a __u32");
_Static_assert((KANARY_HTTP_STASH & (KANARY_HTTP_STASH - 1)) == 0, "stash: power of two");
_Static_assert(KANARY_HTTP_STASH <= 65535, "stash offsets are __u16");
_Static_assert((KANARY_HTTP_LINES_MAX & (KANARY_HTTP_LINES_MAX - 1)) == 0, "lines: power of two");
_Static_assert(KANARY_COND_VALUE_MAX == 64 && KANARY_COND_NAME_MAX == 64, "masks of 63");
_Static_assert(KANARY_RULE_DESTS_MAX <= 255, "dest_subset is a __u8");
_Static_assert(sizeof(struct kanary_cond) == 4 + 64 + 64, "cond layout");
_Static_assert(sizeof(struct kanary_rule) == 16 + 32 + 32 + 8 + 4, "rule layout");
_Static_assert(sizeof(struct kanary_rules) == 64 + 16 + 32 * 132 + 8 * 92, "rules layout");

#endif /* KANARY_RULES_H */
