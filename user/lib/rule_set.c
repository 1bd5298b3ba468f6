// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A service's rule set: rules inserted and removed so that equal
 * conditions share one bit, and the checks the datapath relies on.
 */
#include <errno.h>
#include <string.h>
#include "internal.h"
#include "rule_set.h"

static int popcount32(__u32 v)
{
	return __builtin_popcount(v);
}

static int dests_check(const __u8 *subset, const __u32 *weight, __u32 n, __u32 n_subsets,
		       struct kanary_err *e)
{
	__u64 sum = 0;

	if (n < 1 || n > KANARY_RULE_DESTS_MAX)
		return kanary_errf(e, EINVAL, "a rule has 1 to %d destinations (%u given)",
				   KANARY_RULE_DESTS_MAX, n);
	for (__u32 i = 0; i < n; i++) {
		if (subset[i] >= n_subsets)
			return kanary_errf(e, EINVAL, "destination subset #%u does not exist", subset[i]);
		for (__u32 k = 0; k < i; k++)
			if (subset[k] == subset[i])
				return kanary_errf(e, EINVAL,
						   "a rule names subset #%u twice: expected each subset once",
						   subset[i]);
		if (weight[i] > KANARY_WEIGHT_MAX_MILLI)
			return kanary_errf(e, ERANGE, "destination weight above %d", KANARY_WEIGHT_MAX);
		sum += weight[i];
	}
	if (!sum)
		return kanary_errf(e, EINVAL,
				   "every destination of the rule has weight 0: expected one above 0");
	return 0;
}

static int cond_slot(struct kanary_rules *rs, const struct kanary_cond *c, struct kanary_err *e)
{
	for (__u32 i = 0; i < rs->n_conds; i++)
		if (!memcmp(&rs->conds[i], c, sizeof(*c)))
			return (int)i;
	if (rs->n_conds >= KANARY_CONDS_MAX)
		return kanary_errf(e, ENOSPC,
				   "a service's rules hold at most %d distinct conditions: remove a rule first",
				   KANARY_CONDS_MAX);
	rs->conds[rs->n_conds] = *c;
	return (int)rs->n_conds++;
}

int kanary_rules_insert(struct kanary_rules *rs, __u32 at, const struct kanary_rule_spec *spec,
			struct kanary_err *e)
{
	struct kanary_rules tmp = *rs;
	struct kanary_rule ru;
	int err;

	if (rs->n_rules >= KANARY_RULES_MAX)
		return kanary_errf(e, ENOSPC,
				   "the service already has %d rules, the most allowed: delete one first",
				   KANARY_RULES_MAX);
	if (at > rs->n_rules)
		return kanary_errf(e, EINVAL, "rule position %u is past the end (%u rules)", at + 1,
				   rs->n_rules);
	if (spec->n_matches < 1 || spec->n_matches > KANARY_RULE_MATCHES_MAX)
		return kanary_errf(e, EINVAL, "a rule has 1 to %d alternatives joined by 'or' (%u given)",
				   KANARY_RULE_MATCHES_MAX, spec->n_matches);
	err = dests_check(spec->dest_subset, spec->dest_weight_milli, spec->n_dests,
			  KANARY_RULE_DESTS_MAX, e);
	if (err)
		return err;
	memset(&ru, 0, sizeof(ru));
	for (__u32 m = 0; m < spec->n_matches; m++) {
		if (spec->n_conds[m] < 1 || spec->n_conds[m] > KANARY_MATCH_CONDS_MAX)
			return kanary_errf(e, EINVAL,
					   "each alternative of a rule has 1 to %d conditions (%u given)",
					   KANARY_MATCH_CONDS_MAX, spec->n_conds[m]);
		for (__u32 k = 0; k < spec->n_conds[m]; k++) {
			int slot;

			err = kanary_cond_check(&spec->conds[m][k], e);
			if (err)
				return err;
			slot = cond_slot(&tmp, &spec->conds[m][k], e);
			if (slot < 0)
				return slot;
			ru.match_mask[m] |= 1u << slot;
		}
	}
	ru.n_matches = (__u8)spec->n_matches;
	ru.n_dests = (__u8)spec->n_dests;
	for (__u32 d = 0; d < spec->n_dests; d++) {
		ru.dest_subset[d] = spec->dest_subset[d];
		ru.dest_weight_milli[d] = spec->dest_weight_milli[d];
	}
	kanary_weights_share(ru.dest_weight_milli, ru.n_dests, ru.dest_cum_parts);
	memmove(&tmp.rules[at + 1], &tmp.rules[at], sizeof(ru) * (tmp.n_rules - at));
	tmp.rules[at] = ru;
	tmp.n_rules++;
	*rs = tmp;
	return 0;
}

int kanary_rules_remove(struct kanary_rules *rs, __u32 at, struct kanary_err *e)
{
	int map[KANARY_CONDS_MAX];
	__u32 used = 0, n = 0;

	if (at >= rs->n_rules || rs->n_rules > KANARY_RULES_MAX)
		return kanary_errf(e, ENOENT, "no rule %u: there are %u", at + 1, rs->n_rules);
	memmove(&rs->rules[at], &rs->rules[at + 1],
		sizeof(rs->rules[0]) * (rs->n_rules - at - 1));
	rs->n_rules--;
	memset(&rs->rules[rs->n_rules], 0, sizeof(rs->rules[0]));
	for (__u32 r = 0; r < rs->n_rules; r++)
		for (__u32 m = 0; m < KANARY_RULE_MATCHES_MAX; m++)
			used |= rs->rules[r].match_mask[m];
	/* Compact the conditions still used, keeping their order. */
	for (__u32 c = 0; c < rs->n_conds && c < KANARY_CONDS_MAX; c++) {
		map[c] = -1;
		if (!(used & (1u << c)))
			continue;
		map[c] = (int)n;
		rs->conds[n++] = rs->conds[c];
	}
	for (__u32 c = n; c < KANARY_CONDS_MAX; c++)
		memset(&rs->conds[c], 0, sizeof(rs->conds[c]));
	for (__u32 r = 0; r < rs->n_rules; r++) {
		for (__u32 m = 0; m < KANARY_RULE_MATCHES_MAX; m++) {
			__u32 old = rs->rules[r].match_mask[m], mask = 0;

			for (__u32 c = 0; c < rs->n_conds && c < KANARY_CONDS_MAX; c++)
				if (old & (1u << c))
					mask |= 1u << map[c];
			rs->rules[r].match_mask[m] = mask;
		}
	}
	rs->n_conds = n;
	return 0;
}

int kanary_rules_spec(const struct kanary_rules *rs, __u32 at, struct kanary_rule_spec *out,
		      struct kanary_err *e)
{
	const struct kanary_rule *ru;

	if (at >= rs->n_rules || at >= KANARY_RULES_MAX)
		return kanary_errf(e, ENOENT, "no rule %u: there are %u", at + 1, rs->n_rules);
	ru = &rs->rules[at];
	memset(out, 0, sizeof(*out));
	out->n_matches = ru->n_matches > KANARY_RULE_MATCHES_MAX ? KANARY_RULE_MATCHES_MAX :
								    ru->n_matches;
	for (__u32 m = 0; m < out->n_matches; m++) {
		for (__u32 c = 0; c < KANARY_CONDS_MAX && c < rs->n_conds; c++) {
			if (!(ru->match_mask[m] & (1u << c)) ||
			    out->n_conds[m] >= KANARY_MATCH_CONDS_MAX)
				continue;
			out->conds[m][out->n_conds[m]++] = rs->conds[c];
		}
	}
	out->n_dests = ru->n_dests > KANARY_RULE_DESTS_MAX ? KANARY_RULE_DESTS_MAX : ru->n_dests;
	for (__u32 d = 0; d < out->n_dests; d++) {
		out->dest_subset[d] = ru->dest_subset[d];
		out->dest_weight_milli[d] = ru->dest_weight_milli[d];
	}
	return 0;
}

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static int rule_check(const struct kanary_rules *rs, __u32 r, __u32 n_subsets, __u32 *used,
		      struct kanary_err *e)
{
	const struct kanary_rule *ru = &rs->rules[r];
	__u32 all = rs->n_conds >= 32 ? ~0u : (1u << rs->n_conds) - 1;
	__u32 cum[KANARY_RULE_DESTS_MAX] = { 0 };
	struct kanary_err why = {};
	int err;

	if (ru->n_matches < 1 || ru->n_matches > KANARY_RULE_MATCHES_MAX)
		return kanary_errf(e, EINVAL, "rule %u has %u alternatives: expected 1 to %d", r + 1,
				   ru->n_matches, KANARY_RULE_MATCHES_MAX);
	for (__u32 m = 0; m < KANARY_RULE_MATCHES_MAX; m++) {
		__u32 mask = ru->match_mask[m];

		if (m >= ru->n_matches) {
			if (mask)
				return kanary_errf(e, EINVAL, "rule %u has a stray alternative", r + 1);
			continue;
		}
		if (!mask || popcount32(mask) > KANARY_MATCH_CONDS_MAX || (mask & ~all))
			return kanary_errf(e, EINVAL,
					   "rule %u: alternative %u names %d conditions (expected 1 to %d, of %u)",
					   r + 1, m + 1, popcount32(mask), KANARY_MATCH_CONDS_MAX,
					   rs->n_conds);
		*used |= mask;
	}
	err = dests_check(ru->dest_subset, ru->dest_weight_milli, ru->n_dests, n_subsets, &why);
	if (err)
		return kanary_errf(e, -err, "rule %u: %s", r + 1, why.msg);
	kanary_weights_share(ru->dest_weight_milli, ru->n_dests, cum);
	if (memcmp(cum, ru->dest_cum_parts, sizeof(cum)) ||
	    !all_zero(&ru->dest_subset[ru->n_dests], KANARY_RULE_DESTS_MAX - ru->n_dests) ||
	    !all_zero(&ru->dest_weight_milli[ru->n_dests],
		      sizeof(__u32) * (KANARY_RULE_DESTS_MAX - ru->n_dests)) || ru->pad)
		return kanary_errf(e, EINVAL, "rule %u: its destination shares are inconsistent",
				   r + 1);
	return 0;
}

int kanary_rules_validate(const struct kanary_rules *rs, __u32 n_subsets, struct kanary_err *e)
{
	__u32 used = 0;
	int err;

	if (rs->n_rules > KANARY_RULES_MAX || rs->n_conds > KANARY_CONDS_MAX)
		return kanary_errf(e, EINVAL, "%u rules and %u conditions: at most %d and %d",
				   rs->n_rules, rs->n_conds, KANARY_RULES_MAX, KANARY_CONDS_MAX);
	if ((rs->flags & ~KANARY_RULES_F_ALL) || !memchr(rs->service, '\0', sizeof(rs->service)))
		return kanary_errf(e, EINVAL, "the rule set's header is malformed");
	for (__u32 c = 0; c < rs->n_conds; c++) {
		err = kanary_cond_check(&rs->conds[c], e);
		if (err)
			return err;
		for (__u32 k = 0; k < c; k++)
			if (!memcmp(&rs->conds[k], &rs->conds[c], sizeof(rs->conds[c])))
				return kanary_errf(e, EINVAL, "conditions %u and %u are the same",
						   k, c);
	}
	for (__u32 r = 0; r < rs->n_rules; r++) {
		err = rule_check(rs, r, n_subsets, &used, e);
		if (err)
			return err;
	}
	if (rs->n_conds && used != (rs->n_conds >= 32 ? ~0u : (1u << rs->n_conds) - 1))
		return kanary_errf(e, EINVAL, "some conditions belong to no rule");
	if (!all_zero(&rs->conds[rs->n_conds], sizeof(rs->conds[0]) * (KANARY_CONDS_MAX - rs->n_conds)) ||
	    !all_zero(&rs->rules[rs->n_rules], sizeof(rs->rules[0]) * (KANARY_RULES_MAX - rs->n_rules)))
		return kanary_errf(e, EINVAL, "the rule set has bytes past its last entry");
	return 0;
}
