// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Dark-release rules: conditions as operators type them, rule sets built so
 * that equal conditions share one bit, the checks the datapath relies on,
 * and the pinned map that holds one rule set per service id.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "internal.h"
#include "rule_set.h"

/* ---- conditions ---- */

static bool is_tchar(unsigned char c)
{
	return c && (strchr("!#$%&'*+-.^_`|~", c) || (c >= '0' && c <= '9') ||
		     (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
}

static bool is_ows(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* Printable ASCII, or SP/HTAB inside: what a header value may hold here. */
static bool value_bytes_ok(const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (!(c >= 0x21 && c <= 0x7e) && !is_ows(c))
			return false;
	}
	return true;
}

static bool is_hex(char c)
{
	return c && strchr("0123456789abcdefABCDEF", c);
}

/* Why a path condition could never match a request (see http_match.h), or NULL. */
static const char *path_problem(const char *v, size_t n, bool exact)
{
	char dec[KANARY_COND_VALUE_MAX + 1];
	size_t dn = 0, seg = 1;

	if (n == 0 || v[0] != '/')
		return "it must start with '/'";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c < 0x21 || c > 0x7e)
			return "it may hold only printable ASCII without spaces";
		if (c == '#')
			return "requests with a '#' never match a path condition";
		if (exact && c == '?')
			return "an exact path excludes the query: use path ^PREFIX to match a query";
	}
	if (!exact)
		return NULL;
	/* The path as the matcher sees it: %2e is a dot, a backslash a slash. */
	for (size_t i = 0; i < n && dn < sizeof(dec) - 1; i++) {
		if (v[i] == '%') {
			if (i + 2 >= n || !is_hex(v[i + 1]) || !is_hex(v[i + 2]))
				return "a '%' must be followed by two hex digits";
			dec[dn++] = v[i + 1] == '2' && (v[i + 2] == 'e' || v[i + 2] == 'E') ? '.' : 'x';
			i += 2;
		} else {
			dec[dn++] = v[i] == '\\' ? '/' : v[i];
		}
	}
	for (size_t i = 1; i <= dn; i++) {
		if (i < dn && dec[i] != '/')
			continue;
		if ((i - seg == 1 && dec[seg] == '.') ||
		    (i - seg == 2 && dec[seg] == '.' && dec[seg + 1] == '.'))
			return "requests whose path has a dot segment (/./ or /../) never match";
		seg = i + 1;
	}
	return NULL;
}

int kanary_cond_check(const struct kanary_cond *c, struct kanary_err *e)
{
	const char *why;

	if (c->value_len > KANARY_COND_VALUE_MAX || c->name_len > KANARY_COND_NAME_MAX)
		return kanary_errf(e, EINVAL, "condition longer than %d bytes",
				   KANARY_COND_VALUE_MAX);
	/* Unused bytes are zero, so equal conditions are equal memory. */
	for (size_t i = c->name_len; i < sizeof(c->name); i++)
		if (c->name[i])
			return kanary_errf(e, EINVAL, "condition has bytes after its name");
	for (size_t i = c->value_len; i < sizeof(c->value); i++)
		if (c->value[i])
			return kanary_errf(e, EINVAL, "condition has bytes after its value");
	if (c->kind == KANARY_COND_PATH) {
		if (c->op != KANARY_OP_EXACT && c->op != KANARY_OP_PREFIX)
			return kanary_errf(e, EINVAL, "a path condition is exact or prefix (op %u)",
					   c->op);
		if (c->name_len)
			return kanary_errf(e, EINVAL, "a path condition has no name");
		why = path_problem(c->value, c->value_len, c->op == KANARY_OP_EXACT);
		if (why)
			return kanary_errf(e, EINVAL, "path '%.*s': %s", c->value_len, c->value, why);
		return 0;
	}
	if (c->kind != KANARY_COND_HEADER)
		return kanary_errf(e, EINVAL, "unknown condition kind %u", c->kind);
	if (c->name_len == 0)
		return kanary_errf(e, EINVAL, "a header condition needs a name");
	for (size_t i = 0; i < c->name_len; i++)
		if (!is_tchar((unsigned char)c->name[i]) || (c->name[i] >= 'A' && c->name[i] <= 'Z'))
			return kanary_errf(e, EINVAL, "header name '%.*s' is not a lowercase token",
					   c->name_len, c->name);
	if (!value_bytes_ok(c->value, c->value_len))
		return kanary_errf(e, EINVAL, "header value of '%.*s' is not printable ASCII",
				   c->name_len, c->name);
	switch (c->op) {
	case KANARY_OP_PRESENT:
		if (c->value_len)
			return kanary_errf(e, EINVAL, "a presence condition has no value");
		return 0;
	case KANARY_OP_PREFIX:
		if (c->value_len == 0)
			return kanary_errf(e, EINVAL,
					   "header %.*s^= has an empty prefix: for any value use 'header %.*s'",
					   c->name_len, c->name, c->name_len, c->name);
		/* fallthrough */
	case KANARY_OP_EXACT:
		if (c->value_len && is_ows((unsigned char)c->value[0]))
			return kanary_errf(e, EINVAL,
					   "header %.*s: the value starts with a space, which is never part of a header value",
					   c->name_len, c->name);
		if (c->op == KANARY_OP_EXACT && c->value_len &&
		    is_ows((unsigned char)c->value[c->value_len - 1]))
			return kanary_errf(e, EINVAL,
					   "header %.*s: the value ends with a space, which is never part of a header value",
					   c->name_len, c->name);
		return 0;
	default:
		return kanary_errf(e, EINVAL, "unknown header match %u", c->op);
	}
}

static int parse_header(const char *arg, struct kanary_cond *c, struct kanary_err *e)
{
	const char *eq = strchr(arg, '='), *value = NULL;
	size_t nlen, vlen = 0;

	c->kind = KANARY_COND_HEADER;
	if (!eq) {
		c->op = KANARY_OP_PRESENT;
		nlen = strlen(arg);
	} else if (eq > arg && eq[-1] == '^') {
		c->op = KANARY_OP_PREFIX;
		nlen = (size_t)(eq - 1 - arg);
		value = eq + 1;
	} else {
		c->op = KANARY_OP_EXACT;
		nlen = (size_t)(eq - arg);
		value = eq + 1;
	}
	if (nlen == 0)
		return kanary_errf(e, EINVAL,
				   "header '%s' has no name: expected NAME=VALUE, NAME^=PREFIX or NAME",
				   arg);
	if (nlen > KANARY_COND_NAME_MAX)
		return kanary_errf(e, EINVAL, "header name '%.*s' is %zu bytes: at most %d",
				   (int)nlen, arg, nlen, KANARY_COND_NAME_MAX);
	for (size_t i = 0; i < nlen; i++) {
		if (!is_tchar((unsigned char)arg[i]))
			return kanary_errf(e, EINVAL,
					   "header name '%.*s' has '%c': expected letters, digits and !#$%%&'*+-.^_`|~ (e.g. x-my-header)",
					   (int)nlen, arg, arg[i]);
		c->name[i] = (char)((arg[i] >= 'A' && arg[i] <= 'Z') ? arg[i] + 32 : arg[i]);
	}
	c->name_len = (__u8)nlen;
	if (value) {
		vlen = strlen(value);
		if (vlen > KANARY_COND_VALUE_MAX)
			return kanary_errf(e, EINVAL, "header %.*s: the value is %zu bytes: at most %d",
					   (int)nlen, c->name, vlen, KANARY_COND_VALUE_MAX);
		if (!value_bytes_ok(value, vlen))
			return kanary_errf(e, EINVAL,
					   "header %.*s: the value may hold only printable ASCII and spaces",
					   (int)nlen, c->name);
		memcpy(c->value, value, vlen);
		c->value_len = (__u8)vlen;
	}
	return kanary_cond_check(c, e);
}

static int parse_path(const char *arg, struct kanary_cond *c, struct kanary_err *e)
{
	size_t n;

	c->kind = KANARY_COND_PATH;
	if (arg[0] == '=')
		c->op = KANARY_OP_EXACT;
	else if (arg[0] == '^')
		c->op = KANARY_OP_PREFIX;
	else
		return kanary_errf(e, EINVAL,
				   "path '%s': expected =PATH (exact) or ^PREFIX (e.g. =/api or ^/api/)",
				   arg);
	n = strlen(arg + 1);
	if (n > KANARY_COND_VALUE_MAX)
		return kanary_errf(e, EINVAL, "path '%s' is %zu bytes: at most %d", arg + 1, n,
				   KANARY_COND_VALUE_MAX);
	memcpy(c->value, arg + 1, n);
	c->value_len = (__u8)n;
	return kanary_cond_check(c, e);
}

int kanary_cond_parse(const char *kind, const char *arg, struct kanary_cond *out,
		      struct kanary_err *e)
{
	memset(out, 0, sizeof(*out));
	if (!strcmp(kind, "header"))
		return parse_header(arg, out, e);
	if (!strcmp(kind, "path"))
		return parse_path(arg, out, e);
	return kanary_errf(e, EINVAL, "what is '%s'? expected header or path", kind);
}

/* Appends s to buf as one shell word. */
static void shell_word(char *buf, size_t len, const char *s, size_t n)
{
	size_t used = strlen(buf);
	bool plain = n > 0;

	for (size_t i = 0; i < n; i++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
			    "._-/:=^,@%+~", s[i]) || !s[i])
			plain = false;
	if (plain) {
		snprintf(buf + used, len - used, "%.*s", (int)n, s);
		return;
	}
	snprintf(buf + used, len - used, "'");
	for (size_t i = 0; i < n; i++) {
		used = strlen(buf);
		snprintf(buf + used, len - used, s[i] == '\'' ? "'\\''" : "%c", s[i]);
	}
	used = strlen(buf);
	snprintf(buf + used, len - used, "'");
}

void kanary_cond_format(const struct kanary_cond *c, char *buf, size_t len)
{
	char arg[KANARY_COND_NAME_MAX + KANARY_COND_VALUE_MAX + 4];
	int n;

	if (!len)
		return;
	buf[0] = '\0';
	if (c->kind == KANARY_COND_PATH) {
		n = snprintf(arg, sizeof(arg), "%c%.*s", c->op == KANARY_OP_EXACT ? '=' : '^',
			     c->value_len, c->value);
		snprintf(buf, len, "path ");
	} else {
		n = snprintf(arg, sizeof(arg), "%.*s%s%.*s", c->name_len, c->name,
			     c->op == KANARY_OP_EXACT ? "=" : c->op == KANARY_OP_PREFIX ? "^=" : "",
			     c->op == KANARY_OP_PRESENT ? 0 : c->value_len, c->value);
		snprintf(buf, len, "header ");
	}
	shell_word(buf, len, arg, n > 0 ? (size_t)n : 0);
}

/* ---- rule sets ---- */

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
	if (rs->pad || !memchr(rs->service, '\0', sizeof(rs->service)))
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

/* ---- the pinned map ---- */

static void rules_empty(struct kanary_rules *rs, const char *service)
{
	memset(rs, 0, sizeof(*rs));
	snprintf(rs->service, sizeof(rs->service), "%s", service);
}

int kanary_rules_read(struct kanary_maps *m, const struct kanary_service *s,
		      struct kanary_rules *out, bool *stale, struct kanary_err *e)
{
	struct kanary_err why = {};
	__u32 key = s->id;
	int err = 0;

	if (stale)
		*stale = false;
	if (bpf_map_lookup_elem(m->rules, &key, out)) {
		err = errno;
		if (err != ENOENT)
			return kanary_errf(e, err, "cannot read the rules of service %s: %s",
					   s->cfg.name, strerror(err));
		rules_empty(out, s->cfg.name);
		return 0;
	}
	if (strncmp(out->service, s->cfg.name, sizeof(out->service))) {
		__u32 gen = out->generation;

		if (stale)
			*stale = true;
		rules_empty(out, s->cfg.name);
		out->generation = gen;
		return 0;
	}
	/* Structure only: a subset index is checked against the service on write. */
	err = kanary_rules_validate(out, KANARY_RULE_DESTS_MAX, &why);
	if (err)
		return kanary_errf(e, -err, "the rules of service %s in %s are damaged: %s",
				   s->cfg.name, KANARY_MAP_RULES, why.msg);
	return 0;
}

int kanary_rules_write(struct kanary_maps *m, const struct kanary_service *s,
		       struct kanary_rules *rs, struct kanary_err *e)
{
	struct kanary_rules *old = NULL;
	__u32 key = s->id;
	int err;

	memset(rs->service, 0, sizeof(rs->service));
	snprintf(rs->service, sizeof(rs->service), "%s", s->cfg.name);
	rs->pad = 0;
	err = kanary_rules_validate(rs, s->cfg.n_subsets, e);
	if (err)
		return err;
	old = malloc(sizeof(*old));
	if (!old)
		return kanary_errf(e, ENOMEM, "out of memory");
	if (bpf_map_lookup_elem(m->rules, &key, old) == 0 && old->generation > rs->generation)
		rs->generation = old->generation;
	free(old);
	rs->generation++;
	if (rs->n_rules == 0) {
		err = bpf_map_delete_elem(m->rules, &key) && errno != ENOENT ? errno : 0;
		if (err)
			return kanary_errf(e, err, "cannot remove the rules of service %s: %s",
					   s->cfg.name, strerror(err));
		return 0;
	}
	/* One update of a no-prealloc hash: readers see the old set or the new one. */
	err = bpf_map_update_elem(m->rules, &key, rs, BPF_ANY) ? errno : 0;
	if (err == E2BIG || err == ENOMEM || err == ENOSPC)
		return kanary_errf(e, ENOSPC, "the rules map %s is full", KANARY_MAP_RULES);
	if (err)
		return kanary_errf(e, err, "cannot write the rules of service %s: %s", s->cfg.name,
				   strerror(err));
	return 0;
}

int kanary_rules_clear(struct kanary_maps *m, __u32 svc_id, struct kanary_err *e)
{
	int err = bpf_map_delete_elem(m->rules, &svc_id) && errno != ENOENT ? errno : 0;

	if (err)
		return kanary_errf(e, err, "cannot remove the rules of service id %u: %s", svc_id,
				   strerror(err));
	return 0;
}
