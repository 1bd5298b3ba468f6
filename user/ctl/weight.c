// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* weight set / show: how a service's new connections split across subsets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ctl.h"
#include "help.h"

static int weight_help(int argc, char **argv)
{
	return out_help(
		"Usage: kanaryctl [OPTIONS] weight set SERVICE SUBSET WEIGHT [SUBSET WEIGHT]...\n"
		"       kanaryctl [OPTIONS] weight show SERVICE\n"
		"       kanaryctl [OPTIONS] weight help\n"
		"\n"
		"set   changes the named subsets' weights in one switch (e.g. safe 80 risky 20);\n"
		"      subsets not named keep theirs.  Every pair is checked before anything\n"
		"      is written.  A subset named here that does not exist is created without\n"
		"      backends.  Weights are relative: 4 and 1 split like 80 and 20.\n"
		"show  each subset's weight and effective share of new connections.  A subset\n"
		"      without backends gets 0 %; its share goes to the others.  When no subset\n"
		"      can take a connection, the service's traffic passes through untouched.\n"
		"\n"
		HELP_SERVICE
		HELP_SUBSET
		HELP_WEIGHT
		HELP_OPTIONS);
}

static json_t *weights_json(const struct kanary_service *s)
{
	const struct kanary_svc_config *c = &s->cfg;
	json_t *arr = json_array();

	for (__u32 i = 0; i < c->n_subsets; i++) {
		const char *why = subset_why_empty(c, i);
		json_t *o = json_pack("{s:s, s:o, s:f, s:I, s:I}", "name", c->subsets[i].name,
				      "weight", kanary_weight_json(c->subsets[i].weight_milli, true),
				      "effective_percent", subset_parts(c, i) / 100.0, "parts",
				      (json_int_t)subset_parts(c, i), "backends",
				      (json_int_t)c->subsets[i].n_backends);

		if (why)
			json_object_set_new(o, "note", json_string(why));
		json_array_append_new(arr, o);
	}
	return json_pack("{s:s, s:I, s:o}", "service", c->name, "generation",
			 (json_int_t)c->generation, "subsets", arr);
}

static void weights_print(const struct kanary_service *s)
{
	static const char *const hdr[] = { "SUBSET", "WEIGHT", "EFFECTIVE", "BACKENDS", "NOTE" };
	const struct kanary_svc_config *c = &s->cfg;
	struct table *t = table_new(5, hdr);

	for (__u32 i = 0; i < c->n_subsets; i++) {
		char w[KANARY_WEIGHT_STR_LEN], share[16], nb[16];
		const char *why = subset_why_empty(c, i);

		kanary_weight_format(w, sizeof(w), c->subsets[i].weight_milli);
		snprintf(share, sizeof(share), "%.2f%%", subset_parts(c, i) / 100.0);
		snprintf(nb, sizeof(nb), "%u", c->subsets[i].n_backends);
		table_add(t, c->subsets[i].name, w, share, nb, why ? why : "");
	}
	printf("service %s (generation %u)\n", c->name, c->generation);
	table_print(t);
	if (c->n_subsets && !c->cum_weight[c->n_subsets - 1])
		printf("no subset can take a connection: traffic to this service passes through\n");
}

static int weight_set(int argc, char **argv)
{
	__u32 milli[KANARY_MAX_SUBSETS];
	bool created[KANARY_MAX_SUBSETS] = { false };
	struct kanary_err e = {};
	struct kanary_service *s;
	struct kanary_maps m;
	int npairs, ret = -1;
	__u32 backends = 0, live_weight = 0;

	REQ_ARGS(3, "SERVICE SUBSET WEIGHT [SUBSET WEIGHT]...");
	if ((argc - 1) % 2)
		return p_err("subset '%s' has no weight: expected SUBSET WEIGHT pairs",
			     argv[argc - 1]);
	npairs = (argc - 1) / 2;
	if (npairs > KANARY_MAX_SUBSETS)
		return p_err("%d subsets named: a service has at most %d", npairs,
			     KANARY_MAX_SUBSETS);
	/* Everything is checked before the maps are touched. */
	for (int i = 0; i < npairs; i++) {
		const char *sub = argv[1 + 2 * i], *w = argv[2 + 2 * i];

		for (int k = 0; k < i; k++)
			if (!strcmp(argv[1 + 2 * k], sub))
				return p_err("subset '%s' is named twice: expected each subset once",
					     sub);
		if (kanary_parse_weight(w, &milli[i], &e))
			return p_err("subset %s: %s", sub, e.msg);
	}
	if (maps_open_or_err(&m))
		return -1;
	s = service_get_or_err(&m, argv[0]);
	if (!s)
		goto out_maps;
	for (int i = 0; i < npairs; i++) {
		const char *name = argv[1 + 2 * i];
		bool is_new = kanary_subset_find(s, name, false, NULL) < 0;
		int si = kanary_subset_find(s, name, true, &e);

		if (si < 0) {
			p_kerr(&e);
			goto out;
		}
		s->cfg.subsets[si].weight_milli = milli[i];
		created[i] = is_new;
	}
	for (__u32 i = 0; i < s->cfg.n_subsets; i++) {
		backends += s->cfg.subsets[i].n_backends;
		if (s->cfg.subsets[i].n_backends)
			live_weight += s->cfg.subsets[i].weight_milli ? 1 : 0;
	}
	if (kanary_service_commit(&m, s, &e)) {
		p_kerr(&e);
		goto out;
	}
	for (int i = 0; i < npairs; i++)
		if (created[i])
			p_note("subset %s is new and has no backends: its share goes to the other subsets until 'kanaryctl backend add %s %s ADDR'",
			       argv[1 + 2 * i], s->cfg.name, argv[1 + 2 * i]);
	if (backends && !live_weight)
		p_warn("every subset of %s with backends now has weight 0: its connections pass through to whatever else handles %s (e.g. kube-proxy)",
		       s->cfg.name, s->cfg.name);
	if (json_output)
		out_json(weights_json(s));
	else
		weights_print(s);
	ret = 0;
out:
	free(s);
out_maps:
	kanary_maps_close(&m);
	return ret;
}

static int weight_show(int argc, char **argv)
{
	struct kanary_service *s;

	s = service_arg_read(argc, argv);
	if (!s)
		return -1;
	if (json_output)
		out_json(weights_json(s));
	else
		weights_print(s);
	free(s);
	return 0;
}

int do_weight(int argc, char **argv)
{
	static const struct cmd cmds[] = {
		{ "set",	weight_set },
		{ "show",	weight_show },
		{ "help",	weight_help },
		{ NULL, NULL },
	};

	return cmd_select(cmds, argc, argv, "weight command", NULL);
}
