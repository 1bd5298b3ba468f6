// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Test cases of the matcher: parsing, building the rule set, judging answers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rule_set.h"
#include "fuzz_case.h"

/* Matched when an input has no rule section of its own. */
#define DEFAULT_CONFIG			\
	"header x-my-header=dark\n"	\
	"header x-my-header^=da\n"	\
	"header x-canary\n"		\
	"path =/api\n"			\
	"path ^/api/v2\n"		\
	"header user-agent^=curl/\n"	\
	"header x-my-header=a,b\n"	\
	"rule 0\n"			\
	"rule 1 2\n"			\
	"rule 3 or 4\n"			\
	"rule 5 or 6\n"

static void fail_invariant(const char *what, const struct kanary_err *e)
{
	fprintf(stderr, "fuzz_case: libkanary broke an invariant: %s: %s\n", what, e->msg);
	abort();
}

/* Distinct conditions of spec that rs does not hold yet. */
static __u32 new_conds(const struct kanary_rules *rs, const struct kanary_rule_spec *spec)
{
	const struct kanary_cond *seen[KANARY_RULE_MATCHES_MAX * KANARY_MATCH_CONDS_MAX];
	__u32 n = 0;

	for (__u32 m = 0; m < spec->n_matches; m++) {
		for (__u32 k = 0; k < spec->n_conds[m]; k++) {
			const struct kanary_cond *c = &spec->conds[m][k];
			bool known = false;

			for (__u32 i = 0; i < rs->n_conds; i++)
				known = known || !memcmp(&rs->conds[i], c, sizeof(*c));
			for (__u32 i = 0; i < n; i++)
				known = known || !memcmp(seen[i], c, sizeof(*c));
			if (!known)
				seen[n++] = c;
		}
	}
	return n;
}

/* "rule 0 1 or 2": given to libkanary; kept for the reference if it takes it. */
static void add_rule(struct fuzz_case *fc, char *s)
{
	struct kanary_rule_spec spec;
	struct ref_rule rr;
	struct kanary_err e = {};
	char *save = NULL, *tok;
	bool fits;
	int m = 0;

	memset(&spec, 0, sizeof(spec));
	memset(&rr, 0, sizeof(rr));
	rr.n_matches = 1;
	for (tok = strtok_r(s, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *end;
		long n;

		if (!strcmp(tok, "or")) {
			if (++m >= KANARY_RULE_MATCHES_MAX)
				return;
			rr.n_matches = m + 1;
			continue;
		}
		n = strtol(tok, &end, 10);
		if (*end || end == tok || n < 0 || n >= fc->n_conds || rr.n[m] >= KANARY_MATCH_CONDS_MAX)
			return;
		rr.idx[m][rr.n[m]++] = (int)n;
	}
	spec.n_matches = (__u32)rr.n_matches;
	for (int i = 0; i < rr.n_matches; i++) {
		if (!rr.n[i])
			return;
		spec.n_conds[i] = (__u32)rr.n[i];
		for (int k = 0; k < rr.n[i]; k++)
			spec.conds[i][k] = fc->conds[rr.idx[i][k]];
	}
	spec.n_dests = 1;
	spec.dest_weight_milli[0] = 1000;
	fits = fc->rs.n_rules < KANARY_RULES_MAX &&
	       fc->rs.n_conds + new_conds(&fc->rs, &spec) <= KANARY_CONDS_MAX;
	if (kanary_rules_insert(&fc->rs, fc->rs.n_rules, &spec, &e) == 0) {
		if (!fits)
			fail_invariant("a rule beyond the limits was taken", &e);
		fc->rules[fc->n_rules++] = rr;
	} else if (fits) {
		fail_invariant("a rule within the limits was refused", &e);
	}
}

/* "del N": removes rule N from both sides. */
static void del_rule(struct fuzz_case *fc, const char *s)
{
	struct kanary_err e = {};
	char *end;
	long n = strtol(s, &end, 10);

	if (*end || end == s || n < 0 || n >= fc->n_rules)
		return;
	if (kanary_rules_remove(&fc->rs, (__u32)n, &e))
		fail_invariant("removing an existing rule failed", &e);
	memmove(&fc->rules[n], &fc->rules[n + 1], sizeof(fc->rules[0]) * (size_t)(fc->n_rules - n - 1));
	fc->n_rules--;
}

static void parse_line(struct fuzz_case *fc, char *line)
{
	struct kanary_err e = {};
	const char *kind = NULL, *arg = NULL;

	if (!strncmp(line, "header ", 7)) {
		kind = "header";
		arg = line + 7;
	} else if (!strncmp(line, "path ", 5)) {
		kind = "path";
		arg = line + 5;
	} else if (!strncmp(line, "rule ", 5)) {
		add_rule(fc, line + 5);
	} else if (!strncmp(line, "del ", 4)) {
		del_rule(fc, line + 4);
	} else if (!strcmp(line, "raw")) {
		fc->raw = true;
	}
	if (kind && fc->n_conds < FC_CONDS_MAX &&
	    kanary_cond_parse(kind, arg, &fc->conds[fc->n_conds], &e) == 0)
		fc->n_conds++;
}

static void parse_config(struct fuzz_case *fc, const char *cfg, size_t n)
{
	char *copy = malloc(n + 1), *line, *save = NULL;

	if (!copy)
		abort();
	memcpy(copy, cfg, n);
	copy[n] = '\0';
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		parse_line(fc, line);
	free(copy);
}

void fuzz_case_parse(const unsigned char *data, size_t size, struct fuzz_case *fc)
{
	const unsigned char *sep = NULL;
	struct kanary_err e = {};
	size_t cfg_len = 0;

	memset(fc, 0, sizeof(*fc));
	if (size >= 3 && !memcmp(data, "%%\n", 3)) {
		sep = data;
	} else {
		for (size_t i = 0; i + 4 <= size; i++) {
			if (!memcmp(data + i, "\n%%\n", 4)) {
				sep = data + i + 1;
				cfg_len = i + 1;
				break;
			}
		}
	}
	if (sep) {
		parse_config(fc, (const char *)data, cfg_len);
		fc->req = sep + 3;
		fc->req_len = size - (size_t)(fc->req - data);
	} else {
		parse_config(fc, DEFAULT_CONFIG, strlen(DEFAULT_CONFIG));
		fc->req = data;
		fc->req_len = size;
	}
	if (kanary_rules_validate(&fc->rs, 1, &e))
		fail_invariant("the rule set it built does not validate", &e);
	for (int i = 0; i < fc->n_conds; i++) {
		fc->bit[i] = -1;
		for (__u32 b = 0; b < fc->rs.n_conds; b++)
			if (!memcmp(&fc->rs.conds[b], &fc->conds[i], sizeof(fc->conds[i])))
				fc->bit[i] = (int)b;
	}
	if (fc->raw && fc->req_len) {
		unsigned char *p = (unsigned char *)&fc->rs;

		for (size_t i = 0; i < sizeof(fc->rs); i++)
			p[i] = fc->req[i % fc->req_len];
	}
}

void fuzz_case_ref_conds(const struct fuzz_case *fc, struct ref_cond *out)
{
	for (int i = 0; i < fc->n_conds; i++) {
		const struct kanary_cond *c = &fc->conds[i];

		out[i] = (struct ref_cond){
			.kind = c->kind == KANARY_COND_PATH ? REF_PATH : REF_HEADER,
			.op = c->op == KANARY_OP_EXACT ? REF_EXACT :
			      c->op == KANARY_OP_PREFIX ? REF_PREFIX : REF_PRESENT,
			.name = c->name, .name_len = c->name_len,
			.value = c->value, .value_len = c->value_len,
		};
	}
}

bool fuzz_case_agrees(const struct fuzz_case *fc, int rule, int head, __u32 met,
		      char *msg, size_t msg_len)
{
	struct ref_cond rc[FC_CONDS_MAX];
	struct ref_out ro;
	__u32 all = fc->rs.n_conds >= 32 ? ~0u : (1u << fc->rs.n_conds) - 1;

	fuzz_case_ref_conds(fc, rc);
	ref_match(fc->req, fc->req_len, rc, fc->n_conds, fc->rules, fc->n_rules, &ro);
	if (rule != ro.rule) {
		snprintf(msg, msg_len, "rule %d, the reference says %d", rule, ro.rule);
		return false;
	}
	if (head != ro.head) {
		snprintf(msg, msg_len, "head status %d, the reference says %d", head, ro.head);
		return false;
	}
	if (met & ~all) {
		snprintf(msg, msg_len, "met bits 0x%x beyond the %u conditions", met, fc->rs.n_conds);
		return false;
	}
	for (int i = 0; i < fc->n_conds; i++) {
		bool got;

		if (fc->bit[i] < 0)
			continue;
		got = (met >> fc->bit[i]) & 1;
		if (got != ro.met[i]) {
			snprintf(msg, msg_len, "condition %d ('%.*s' / '%.*s', op %u) %s, the reference says %s",
				 i, fc->conds[i].name_len, fc->conds[i].name, fc->conds[i].value_len,
				 fc->conds[i].value, fc->conds[i].op, got ? "holds" : "fails",
				 ro.met[i] ? "holds" : "fails");
			return false;
		}
	}
	return true;
}
