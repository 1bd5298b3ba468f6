// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * route add / list / del / per-request: dark-release rules, tried in order
 * on each request before the weighted split, and per-request weighting for
 * a service without rules.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ctl.h"
#include "help.h"

static int route_help(int argc, char **argv)
{
	return out_help(
		"Usage: kanaryctl [OPTIONS] route add SERVICE COND... [or COND...]... to SUBSET [WEIGHT [SUBSET WEIGHT]...]\n"
		"       kanaryctl [OPTIONS] route { list | show } SERVICE\n"
		"       kanaryctl [OPTIONS] route del SERVICE INDEX\n"
		"       kanaryctl [OPTIONS] route per-request SERVICE { on | off }\n"
		"       kanaryctl [OPTIONS] route help\n"
		"\n"
		"add   appends a rule to SERVICE.  Its rules are tried in order on each\n"
		"      HTTP request, before the weighted split; the first that matches picks\n"
		"      the request's subset.  The conditions of a rule must all hold; 'or'\n"
		"      starts an alternative.  The request goes to SUBSET, or to one of\n"
		"      several by their WEIGHT.\n"
		"      e.g. route add default/greeting header x-my-header=dark to risky\n"
		"list  the rules in the order they are tried, and whether per-request\n"
		"      weighting is on.\n"
		"del   removes rule INDEX and its mirrors; the rules after it move up, with\n"
		"      theirs.\n"
		"per-request\n"
		"      on: SERVICE takes the rule path even without rules, so each request\n"
		"      of a keep-alive connection takes the weighted split on its own; it\n"
		"      stays on when the last rule is deleted.  off (the default): without\n"
		"      rules, a connection's subset is chosen once, at its SYN.\n"
		"\n"
		HELP_SERVICE
		HELP_COND
		HELP_SUBSET
		HELP_WEIGHT
		HELP_INDEX
		"A service has at most 8 rules, a rule 4 alternatives of at most 4\n"
		"conditions, and a service's rules 32 distinct conditions.  Only a\n"
		"connection's first 2048 bytes are read: a header beyond them takes the\n"
		"weighted split, and so does an exact header match when the request head\n"
		"does not end within them.  Requests that are not well-formed HTTP/1.x, and\n"
		"paths with dot segments (/../), match no rule.  A rule whose subsets have\n"
		"no backends leaves its connections to the weighted split.\n"
		"A service with rules (or per-request on) takes the TCP handoff: kanary\n"
		"answers the client's SYN itself and opens a connection to the chosen pod\n"
		"once it has read a request (see README.md).  Other services do not.\n"
		HELP_OPTIONS);
}

/* ---- rendering ---- */

static const char *subset_name(const struct kanary_service *s, __u8 idx, char *buf, size_t len)
{
	if (idx < s->cfg.n_subsets) {
		snprintf(buf, len, "%.*s", KANARY_SUBSET_NAME_LEN, s->cfg.subsets[idx].name);
		return buf;
	}
	snprintf(buf, len, "#%u (missing)", idx);
	return buf;
}

/* "header x-a=1 path ^/b or header x-c": the words that add the rule. */
static void spec_words(const struct kanary_rule_spec *sp, char *buf, size_t len)
{
	char one[2 * (KANARY_COND_NAME_MAX + KANARY_COND_VALUE_MAX) + 16];

	buf[0] = '\0';
	for (__u32 m = 0; m < sp->n_matches; m++) {
		for (__u32 k = 0; k < sp->n_conds[m]; k++) {
			kanary_cond_format(&sp->conds[m][k], one, sizeof(one));
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
				 m || k ? (k ? " " : " or ") : "", one);
		}
	}
}

static json_t *rules_json(const struct kanary_service *s, const struct kanary_rules *rs)
{
	const char *names[KANARY_MAX_SUBSETS];
	json_t *arr = json_array();

	for (__u32 i = 0; i < s->cfg.n_subsets && i < KANARY_MAX_SUBSETS; i++)
		names[i] = s->cfg.subsets[i].name;
	for (__u32 i = 0; i < rs->n_rules; i++)
		json_array_append_new(arr, kanary_rule_json(json_pack("{s:I}", "index", (json_int_t)i + 1),
							    rs, i, names, s->cfg.n_subsets,
							    KANARY_RULE_JSON_REAL_WEIGHTS |
							    KANARY_RULE_JSON_PERCENT));
	return json_pack("{s:s, s:I, s:b, s:o}", "service", s->cfg.name, "generation",
			 (json_int_t)rs->generation, "per_request",
			 !!(rs->flags & KANARY_RULES_F_PER_REQUEST), "rules", arr);
}

static void rules_print(const struct kanary_service *s, const struct kanary_rules *rs)
{
	static const char *const hdr[] = { "INDEX", "MATCH", "TO" };
	struct table *t;

	bool per_request = rs->flags & KANARY_RULES_F_PER_REQUEST;

	if (!rs->n_rules) {
		printf("service %s has no rules: every %s takes the weighted split%s\n", s->cfg.name,
		       per_request ? "request" : "connection",
		       per_request ? " on its own (per-request on)" : "");
		return;
	}
	printf("service %s: %u rule%s, tried in order on each request before the weighted split (generation %u)\n",
	       s->cfg.name, rs->n_rules, rs->n_rules == 1 ? "" : "s", rs->generation);
	if (per_request)
		printf("per-request on: without rules, each request still takes the weighted split on its own\n");
	t = table_new(3, hdr);
	for (__u32 i = 0; i < rs->n_rules; i++) {
		const struct kanary_rule *ru = &rs->rules[i];
		char idx[16], words[2048], to[512] = "", name[KANARY_SUBSET_NAME_LEN + 16];
		char w[KANARY_WEIGHT_STR_LEN];
		struct kanary_rule_spec sp;

		kanary_rules_spec(rs, i, &sp, NULL);
		spec_words(&sp, words, sizeof(words));
		for (__u32 d = 0; d < ru->n_dests && d < KANARY_RULE_DESTS_MAX; d++) {
			kanary_weight_format(w, sizeof(w), ru->dest_weight_milli[d]);
			snprintf(to + strlen(to), sizeof(to) - strlen(to), "%s%s", d ? " " : "",
				 subset_name(s, ru->dest_subset[d], name, sizeof(name)));
			if (ru->n_dests > 1)
				snprintf(to + strlen(to), sizeof(to) - strlen(to), " %s", w);
		}
		snprintf(idx, sizeof(idx), "%u", i + 1);
		table_add(t, idx, words, to);
	}
	table_print(t);
}

/* ---- add ---- */

/* Conditions up to 'to': one alternative per 'or'. */
static int parse_conds(int *pargc, char ***pargv, struct kanary_rule_spec *sp)
{
	static const char *const kinds[] = { "header", "path", NULL };
	struct kanary_err e = {};
	int argc = *pargc;
	char **argv = *pargv;
	__u32 m = 0;

	sp->n_matches = 1;
	while (argc > 0 && strcmp(*argv, "to")) {
		int kind;

		if (!strcmp(*argv, "or")) {
			if (!sp->n_conds[m])
				return p_err("'or' needs conditions before it: expected COND... or COND...");
			if (++m >= KANARY_RULE_MATCHES_MAX)
				return p_err("a rule has at most %d alternatives joined by 'or'",
					     KANARY_RULE_MATCHES_MAX);
			sp->n_matches++;
			NEXT_ARG();
			continue;
		}
		kind = match_word(*argv, kinds);
		if (kind < 0)
			return BAD_ARG("header, path, 'or' or 'to'");
		NEXT_ARG();
		if (argc < 1)
			return p_err("missing argument: expected %s after '%s'",
				     kind ? "=PATH or ^PREFIX" : "NAME=VALUE, NAME^=PREFIX or NAME",
				     kinds[kind]);
		if (sp->n_conds[m] >= KANARY_MATCH_CONDS_MAX)
			return p_err("'%s %s': an alternative has at most %d conditions: split the rule with 'or' or into several rules",
				     kinds[kind], *argv, KANARY_MATCH_CONDS_MAX);
		if (kanary_cond_parse(kinds[kind], *argv, &sp->conds[m][sp->n_conds[m]], &e))
			return p_kerr(&e);
		sp->n_conds[m]++;
		NEXT_ARG();
	}
	if (!sp->n_conds[0])
		return p_err("missing condition: expected header or path before 'to' (for all connections use 'kanaryctl weight set')");
	if (!sp->n_conds[m])
		return p_err("'or' at the end: expected conditions after it");
	if (argc < 1)
		return p_err("missing 'to SUBSET': expected where the matching connections go");
	NEXT_ARG();	/* "to" */
	*pargc = argc;
	*pargv = argv;
	return 0;
}

/* SUBSET [WEIGHT [SUBSET WEIGHT]...] into names and weights. */
static int parse_dests(int argc, char **argv, const char **names, __u32 *milli, __u32 *n)
{
	struct kanary_err e = {};

	REQ_ARGS(1, "SUBSET after 'to'");
	if (argc > 1 && argc % 2)
		return p_err("subset '%s' has no weight: expected SUBSET WEIGHT pairs after the first",
			     argv[argc - 1]);
	if (argc / 2 > KANARY_RULE_DESTS_MAX)
		return p_err("%d subsets named: a rule has at most %d", argc / 2,
			     KANARY_RULE_DESTS_MAX);
	*n = 0;
	for (int i = 0; i < argc; i += 2) {
		names[*n] = argv[i];
		milli[*n] = 100 * KANARY_WEIGHT_MILLI;
		if (i + 1 < argc && kanary_parse_weight(argv[i + 1], &milli[*n], &e))
			return p_err("subset %s: %s", argv[i], e.msg);
		for (__u32 k = 0; k < *n; k++)
			if (!strcmp(names[k], argv[i]))
				return p_err("subset '%s' is named twice: expected each subset once",
					     argv[i]);
		(*n)++;
	}
	return 0;
}

/* A service and its rules, read under the instance lock for one command. */
struct route_ctx {
	struct kanary_maps m;
	struct kanary_service *s;
	struct kanary_rules *rs;
	bool stale;	/* the rules entry was left by a deleted service */
};

static void route_close(struct route_ctx *c)
{
	free(c->rs);
	free(c->s);
	kanary_maps_close(&c->m);
}

/* Opens the maps and reads the service and its rules; reports any error. */
static int route_open(struct route_ctx *c, const char *name)
{
	struct kanary_err e = {};

	memset(c, 0, sizeof(*c));
	if (maps_open_or_err(&c->m))
		return -1;
	c->s = service_get_or_err(&c->m, name);
	c->rs = malloc(sizeof(*c->rs));
	if (!c->s || !c->rs) {
		if (c->s)
			p_err("out of memory");
		route_close(c);
		return -1;
	}
	if (kanary_rules_read(&c->m, c->s, c->rs, &c->stale, &e)) {
		p_kerr(&e);
		route_close(c);
		return -1;
	}
	return 0;
}

static int route_add(int argc, char **argv)
{
	const char *names[KANARY_RULE_DESTS_MAX];
	struct kanary_rule_spec sp;
	struct kanary_err e = {};
	struct route_ctx c;
	const char *svc;
	int ret = -1;

	REQ_ARGS(1, "SERVICE COND... to SUBSET [WEIGHT [SUBSET WEIGHT]...]");
	svc = argv[0];
	NEXT_ARG();
	memset(&sp, 0, sizeof(sp));
	if (parse_conds(&argc, &argv, &sp) ||
	    parse_dests(argc, argv, names, sp.dest_weight_milli, &sp.n_dests))
		return -1;
	if (route_open(&c, svc))
		return -1;
	for (__u32 d = 0; d < sp.n_dests; d++) {
		int si = kanary_subset_find(c.s, names[d], false, &e);

		if (si < 0) {
			p_err("%s: rules send connections to existing subsets (see 'kanaryctl backend add')",
			      e.msg);
			goto out;
		}
		sp.dest_subset[d] = (__u8)si;
	}
	if (kanary_rules_insert(c.rs, c.rs->n_rules, &sp, &e) || kanary_rules_write(&c.m, c.s, c.rs, &e)) {
		p_kerr(&e);
		goto out;
	}
	if (c.stale)
		p_note("rules that a deleted service left under the id of %s were replaced",
		       c.s->cfg.name);
	for (__u32 d = 0; d < sp.n_dests; d++)
		if (!c.s->cfg.subsets[sp.dest_subset[d]].n_backends)
			p_warn("subset %s of service %s has no backends yet: until it has, connections this rule matches follow the weighted split",
			       names[d], c.s->cfg.name);
	if (json_output) {
		out_json(rules_json(c.s, c.rs));
	} else {
		printf("rule %u added to service %s\n", c.rs->n_rules, c.s->cfg.name);
		rules_print(c.s, c.rs);
	}
	ret = 0;
out:
	route_close(&c);
	return ret;
}

/* ---- list, del ---- */

static int route_list(int argc, char **argv)
{
	struct route_ctx c;

	REQ_ARGS(1, "SERVICE");
	if (argc > 1) {
		argv++;
		return BAD_ARG("nothing after SERVICE");
	}
	if (route_open(&c, argv[0]))
		return -1;
	if (c.stale)
		p_warn("the rules map holds rules that a deleted service left under the id of %s, and the datapath still reads them: 'kanaryctl route add %s ...' replaces them",
		       c.s->cfg.name, c.s->cfg.name);
	if (json_output)
		out_json(rules_json(c.s, c.rs));
	else
		rules_print(c.s, c.rs);
	route_close(&c);
	return 0;
}

static int route_del(int argc, char **argv)
{
	struct kanary_mirror_cfg saved;
	struct kanary_err e = {};
	struct route_ctx c;
	__u32 idx;
	int ret = -1;

	REQ_ARGS(2, "SERVICE INDEX");
	if (argc > 2) {
		argv += 2;
		return BAD_ARG("nothing after INDEX");
	}
	if (parse_u32_arg(argv[1], "rule index", 1, KANARY_RULES_MAX, &idx))
		return -1;
	if (route_open(&c, argv[0]))
		return -1;
	if (idx > c.rs->n_rules) {
		if (c.rs->n_rules)
			p_err("service %s has %u rule%s: expected INDEX 1 to %u", c.s->cfg.name,
			      c.rs->n_rules, c.rs->n_rules == 1 ? "" : "s", c.rs->n_rules);
		else
			p_err("service %s has no rules: see 'kanaryctl route list %s'", c.s->cfg.name,
			      c.s->cfg.name);
		goto out;
	}
	/*
	 * The rule's mirrors go with it; the later rules' move up with theirs.
	 * Three writes, so that no request is ever copied by another rule's
	 * share: the moving rules' shares off, the rules, the shares moved.
	 */
	if (kanary_mirror_rules_hold(&c.m, c.s, idx - 1, &saved, &e)) {
		p_kerr(&e);
		goto out;
	}
	if (kanary_rules_remove(c.rs, idx - 1, &e) || kanary_rules_write(&c.m, c.s, c.rs, &e)) {
		p_kerr(&e);
		/* The rules are as they were: so are their shares. */
		if (kanary_mirror_write(&c.m, c.s, &saved, &e))
			p_kerr(&e);
		goto out;
	}
	if (kanary_mirror_rule_removed(&c.m, c.s, idx - 1, &saved, &e)) {
		p_kerr(&e);
		goto out;
	}
	if (json_output) {
		out_json(rules_json(c.s, c.rs));
	} else {
		printf("rule %u of service %s deleted\n", idx, c.s->cfg.name);
		rules_print(c.s, c.rs);
	}
	ret = 0;
out:
	route_close(&c);
	return ret;
}

static int route_per_request(int argc, char **argv)
{
	static const char *const onoff[] = { "on", "off", NULL };
	struct kanary_err e = {};
	struct route_ctx c;
	const char *svc;
	int on, ret = -1;

	REQ_ARGS(2, "SERVICE on|off");
	svc = argv[0];
	NEXT_ARG();
	on = match_word(*argv, onoff);
	if (on < 0)
		return BAD_ARG("on or off");
	on = on == 0;
	NEXT_ARG();
	NO_MORE_ARGS("nothing after on|off");
	if (route_open(&c, svc))
		return -1;
	if (on)
		c.rs->flags |= KANARY_RULES_F_PER_REQUEST;
	else
		c.rs->flags &= ~KANARY_RULES_F_PER_REQUEST;
	if (kanary_rules_write(&c.m, c.s, c.rs, &e)) {
		p_kerr(&e);
		goto out;
	}
	if (c.stale)
		p_note("rules that a deleted service left under the id of %s were replaced",
		       c.s->cfg.name);
	if (json_output) {
		out_json(rules_json(c.s, c.rs));
	} else {
		printf("per-request %s for service %s\n", on ? "on" : "off", c.s->cfg.name);
		rules_print(c.s, c.rs);
	}
	ret = 0;
out:
	route_close(&c);
	return ret;
}

int do_route(int argc, char **argv)
{
	static const struct cmd cmds[] = {
		{ "add",	route_add },
		{ "del",	route_del },
		{ "list",	route_list },
		{ "show",	route_list },
		{ "per-request", route_per_request },
		{ "help",	route_help },
		{ NULL, NULL },
	};

	return cmd_select(cmds, argc, argv, "route command", NULL);
}
