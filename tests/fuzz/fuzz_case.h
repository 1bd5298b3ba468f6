/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * One test case of the matcher, as the fuzzer and the corpus hold it:
 *
 *   header x-my-header=dark      conditions, as 'kanaryctl route add' takes them
 *   path ^/api                   (numbered from 0 in the order they appear)
 *   rule 0 1 or 2                a rule: condition numbers, 'or' between alternatives
 *   %%                           the rest, byte for byte, is the client's first data
 *   GET /api HTTP/1.1\r\n...
 *
 * Without a "%%" line the whole input is the request, matched against a
 * built-in rule set.  A "raw" line fills the rule set with the request's
 * bytes instead: garbage the matcher must survive (no reference then).
 */
#ifndef FUZZ_CASE_H
#define FUZZ_CASE_H

#include <stdbool.h>
#include <stddef.h>
#include "kanary/rules.h"
#include "ref_match.h"

#define FC_CONDS_MAX	48	/* more than a rule set holds, to reach its limit */

struct fuzz_case {
	int n_conds;
	struct kanary_cond conds[FC_CONDS_MAX];	/* as parsed */
	int n_rules;
	struct ref_rule rules[KANARY_RULES_MAX];	/* those the rule set took */
	struct kanary_rules rs;				/* built by libkanary */
	int bit[FC_CONDS_MAX];				/* conds[i] is rs.conds[bit[i]], or -1 */
	bool raw;
	const unsigned char *req;
	size_t req_len;
};

/* Parses data into fc (which points into data). */
void fuzz_case_parse(const unsigned char *data, size_t size, struct fuzz_case *fc);

/* The reference's view of fc's conditions; n_conds entries. */
void fuzz_case_ref_conds(const struct fuzz_case *fc, struct ref_cond *out);

/*
 * Checks one answer of the matcher (rule, head, met bits) against the
 * reference; on a difference writes why into msg and returns false.
 */
bool fuzz_case_agrees(const struct fuzz_case *fc, int rule, int head, __u32 met,
		      char *msg, size_t msg_len);

#endif /* FUZZ_CASE_H */
