/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A second, deliberately plain implementation of the matcher's semantics
 * (include/kanary/http_match.h): split the head into lines, join repeated
 * headers into a string, compare with memcmp.  Slow and obvious; the fuzz
 * harness and the BPF differential test hold the real matcher to it.
 * It shares no code with the matcher, only the numbers below.
 */
#ifndef REF_MATCH_H
#define REF_MATCH_H

#include <stdbool.h>
#include <stddef.h>

#define REF_STASH	2048	/* bytes looked at */
#define REF_LINES	64	/* header lines matched */
#define REF_CONDS_MAX	64

enum { REF_INVALID, REF_PARTIAL_LINE, REF_PARTIAL_HEAD, REF_COMPLETE };
enum { REF_HEADER = 1, REF_PATH = 2 };
enum { REF_EXACT = 1, REF_PREFIX = 2, REF_PRESENT = 3 };

struct ref_cond {
	int kind, op;
	const char *name;	/* lowercase */
	size_t name_len;
	const char *value;
	size_t value_len;
};

/* A rule: n_matches alternatives, each the indices of its conditions. */
struct ref_rule {
	int n_matches;
	int n[4];
	int idx[4][4];
};

struct ref_out {
	int head;		/* REF_INVALID .. REF_COMPLETE */
	int rule;		/* first matching rule, or -1 */
	bool met[REF_CONDS_MAX];
};

void ref_match(const unsigned char *buf, size_t len, const struct ref_cond *conds, int n_conds,
	       const struct ref_rule *rules, int n_rules, struct ref_out *out);

#endif /* REF_MATCH_H */
