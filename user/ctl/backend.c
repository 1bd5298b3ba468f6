// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* backend add / del / list: the pods behind each subset of a service. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ctl.h"
#include "help.h"

static int backend_help(int argc, char **argv)
{
	return out_help(
		"Usage: kanaryctl [OPTIONS] backend add SERVICE SUBSET ADDR\n"
		"       kanaryctl [OPTIONS] backend del SERVICE SUBSET ADDR\n"
		"       kanaryctl [OPTIONS] backend list SERVICE\n"
		"       kanaryctl [OPTIONS] backend help\n"
		"\n"
		"add  adds the backend ADDR (a pod IP:port) to SUBSET, creating the subset if\n"
		"     needed.  A service's first subset gets weight 100; any later subset gets\n"
		"     weight 0 and takes no traffic until 'kanaryctl weight set'.\n"
		"del  removes ADDR from SUBSET; new connections go to the remaining backends,\n"
		"     tracked ones keep theirs.  A subset left without backends keeps its\n"
		"     weight, and its share goes to the other subsets.\n"
		"\n"
		HELP_SERVICE
		HELP_SUBSET
		HELP_ADDR
		"Each subset holds at most 256 backends; a service at most 8 subsets.\n"
		HELP_OPTIONS);
}

static int find_backend(const struct kanary_service *s, int sub, const struct kanary_backend *b)
{
	for (__u32 j = 0; j < s->cfg.subsets[sub].n_backends; j++) {
		const struct kanary_backend *x = &s->backends[sub][j];

		if (!memcmp(&x->addr, &b->addr, sizeof(b->addr)) && x->port == b->port)
			return (int)j;
	}
	return -1;
}

/* Shared by add and del: parse, read, edit in memory, one commit. */
static int backend_edit(int argc, char **argv, bool add)
{
	struct kanary_backend b = {};
	struct kanary_err e = {};
	struct kanary_service *s;
	struct kanary_maps m;
	struct kanary_subset *sub;
	char addr[ADDR_STR_LEN];
	int si, j, ret = -1;
	bool created;

	REQ_ARGS(3, "SERVICE SUBSET ADDR");
	if (argc > 3) {
		argv += 3;
		return BAD_ARG("nothing after ADDR");
	}
	if (kanary_parse_ipport(argv[2], &b.addr, &b.port, &e))
		return p_kerr(&e);
	if (maps_open_or_err(&m))
		return -1;
	s = service_get_or_err(&m, argv[0]);
	if (!s)
		goto out_maps;
	created = add && kanary_subset_find(s, argv[1], false, NULL) < 0;
	si = kanary_subset_find(s, argv[1], add, &e);
	if (si < 0) {
		p_kerr(&e);
		goto out;
	}
	sub = &s->cfg.subsets[si];
	fmt_ipport(addr, &b);
	j = find_backend(s, si, &b);
	if (add) {
		if (j >= 0) {
			p_err("backend %s is already in subset %s of service %s", addr, sub->name,
			      s->cfg.name);
			goto out;
		}
		if (sub->n_backends >= KANARY_MAX_BACKENDS) {
			p_err("subset %s of service %s already has %d backends, the most allowed",
			      sub->name, s->cfg.name, KANARY_MAX_BACKENDS);
			goto out;
		}
		s->backends[si][sub->n_backends++] = b;
	} else {
		if (j < 0) {
			p_err("backend %s is not in subset %s of service %s: see 'kanaryctl backend list %s'",
			      addr, sub->name, s->cfg.name, s->cfg.name);
			goto out;
		}
		/* Keep the order: positions are what the datapath hashes onto. */
		memmove(&s->backends[si][j], &s->backends[si][j + 1],
			sizeof(b) * (sub->n_backends - (__u32)j - 1));
		sub->n_backends--;
	}
	if (kanary_service_commit(&m, s, &e)) {
		p_kerr(&e);
		goto out;
	}
	if (created && si > 0)
		p_warn("new subset %s of service %s has weight 0 and takes no traffic: set one with 'kanaryctl weight set %s %s WEIGHT'",
		       sub->name, s->cfg.name, s->cfg.name, sub->name);
	if (!add && !sub->n_backends && sub->weight_milli)
		p_warn("subset %s of service %s has no backends left: its share goes to the other subsets",
		       sub->name, s->cfg.name);
	if (json_output)
		out_json(service_json(s));
	else
		printf("backend %s %s subset %s of service %s (generation %u)\n", addr,
		       add ? "added to" : "removed from", sub->name, s->cfg.name,
		       s->cfg.generation);
	ret = 0;
out:
	free(s);
out_maps:
	kanary_maps_close(&m);
	return ret;
}

static int backend_add(int argc, char **argv)
{
	return backend_edit(argc, argv, true);
}

static int backend_del(int argc, char **argv)
{
	return backend_edit(argc, argv, false);
}

static int backend_list(int argc, char **argv)
{
	static const char *const hdr[] = { "SUBSET", "BACKEND" };
	struct kanary_service *s;
	char addr[ADDR_STR_LEN];
	struct table *t = NULL;
	json_t *arr = NULL;

	s = service_arg_read(argc, argv);
	if (!s)
		return -1;
	if (json_output)
		arr = json_array();
	else
		t = table_new(2, hdr);
	for (__u32 i = 0; i < s->cfg.n_subsets; i++) {
		for (__u32 j = 0; j < s->cfg.subsets[i].n_backends; j++) {
			fmt_ipport(addr, &s->backends[i][j]);
			if (arr)
				json_array_append_new(arr, json_pack("{s:s, s:s}", "subset",
								     s->cfg.subsets[i].name,
								     "address", addr));
			else
				table_add(t, s->cfg.subsets[i].name, addr);
		}
	}
	if (arr)
		out_json(json_pack("{s:s, s:o}", "service", s->cfg.name, "backends", arr));
	else
		table_print(t);
	free(s);
	return 0;
}

int do_backend(int argc, char **argv)
{
	static const struct cmd cmds[] = {
		{ "add",	backend_add },
		{ "del",	backend_del },
		{ "list",	backend_list },
		{ "help",	backend_help },
		{ NULL, NULL },
	};

	return cmd_select(cmds, argc, argv, "backend command", NULL);
}
