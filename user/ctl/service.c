// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* service add / del / list / show. */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ctl.h"
#include "help.h"

static int service_help(int argc, char **argv)
{
	return out_help(
		"Usage: kanaryctl [OPTIONS] service add SERVICE ADDR [tcp]\n"
		"       kanaryctl [OPTIONS] service del SERVICE\n"
		"       kanaryctl [OPTIONS] service list\n"
		"       kanaryctl [OPTIONS] service show SERVICE\n"
		"       kanaryctl [OPTIONS] service help\n"
		"\n"
		"add   creates SERVICE for the virtual ADDR clients dial (the Service VIP:port).\n"
		"      It has no subsets until 'kanaryctl backend add'.\n"
		"del   removes SERVICE; its connections already tracked keep their backend.\n"
		"show  the live config slot, its generation, and each subset's weight, share\n"
		"      of new connections and backends.\n"
		"\n"
		HELP_SERVICE
		HELP_ADDR
		HELP_OPTIONS);
}

static int service_add(int argc, char **argv)
{
	struct kanary_svc_key key = { .proto = IPPROTO_TCP };
	struct kanary_service *s;
	struct kanary_err e = {};
	struct kanary_maps m;
	const char *name;
	int ret;

	REQ_ARGS(2, "SERVICE ADDR [tcp]");
	name = argv[0];
	if (kanary_parse_ipport(argv[1], &key.vip, &key.port, &e))
		return p_kerr(&e);
	argc -= 2;
	argv += 2;
	if (argc > 0) {
		if (strcmp(*argv, "tcp"))
			return p_err("'%s': only tcp is supported: expected tcp or nothing", *argv);
		NEXT_ARG();
	}
	NO_MORE_ARGS("nothing after the protocol");
	if (maps_open_or_err(&m))
		return -1;
	ret = kanary_service_add(&m, name, &key, &e);
	if (ret) {
		kanary_maps_close(&m);
		return p_kerr(&e);
	}
	s = service_get_or_err(&m, name);
	kanary_maps_close(&m);
	if (!s)
		return -1;
	if (json_output) {
		ret = out_json(service_json(s));
	} else {
		char vip[ADDR_STR_LEN];

		fmt_vip(vip, &s->cfg);
		printf("service %s added: %s/tcp, id %u\n", name, vip, s->id);
		p_note("it has no backends yet: add some with 'kanaryctl backend add %s SUBSET ADDR'",
		       name);
	}
	free(s);
	return ret;
}

static int service_del(int argc, char **argv)
{
	struct kanary_err e = {};
	struct kanary_maps m;
	int ret;

	REQ_ARGS(1, "SERVICE");
	if (argc > 1) {
		argv++;
		return BAD_ARG("nothing after SERVICE");
	}
	if (maps_open_or_err(&m))
		return -1;
	ret = kanary_service_del(&m, argv[0], &e);
	kanary_maps_close(&m);
	if (ret)
		return p_kerr(&e);
	if (json_output)
		return out_json(json_pack("{s:s}", "deleted", argv[0]));
	printf("service %s deleted\n", argv[0]);
	return 0;
}

struct list_ctx {
	json_t *arr;
	struct table *t;
};

static int list_one(const struct kanary_service *s, void *ctx)
{
	struct list_ctx *c = ctx;
	char vip[ADDR_STR_LEN], id[16], slot[16], gen[16], subs[512] = "";

	if (c->arr) {
		json_array_append_new(c->arr, service_json(s));
		return 0;
	}
	for (__u32 i = 0; i < s->cfg.n_subsets; i++) {
		const struct kanary_subset *sub = &s->cfg.subsets[i];

		snprintf(subs + strlen(subs), sizeof(subs) - strlen(subs), "%s%.*s %.2f%% (%u)",
			 i ? ", " : "", KANARY_SUBSET_NAME_LEN, sub->name,
			 subset_parts(&s->cfg, i) / 100.0, sub->n_backends);
	}
	fmt_vip(vip, &s->cfg);
	snprintf(id, sizeof(id), "%u", s->id);
	snprintf(slot, sizeof(slot), "%u", s->slot);
	snprintf(gen, sizeof(gen), "%u", s->cfg.generation);
	table_add(c->t, s->cfg.name, vip, id, slot, gen, subs[0] ? subs : "(none)");
	return 0;
}

static int service_list(int argc, char **argv)
{
	static const char *const hdr[] = { "SERVICE", "VIP", "ID", "SLOT", "GEN",
					   "SUBSETS: SHARE (BACKENDS)" };
	struct list_ctx c = {};
	struct kanary_err e = {};
	struct kanary_maps m;
	int ret;

	NO_MORE_ARGS("nothing after 'service list'");
	if (maps_open_or_err(&m))
		return -1;
	if (json_output)
		c.arr = json_array();
	else
		c.t = table_new(6, hdr);
	ret = kanary_service_foreach(&m, list_one, &c, &e);
	kanary_maps_close(&m);
	if (ret) {
		json_decref(c.arr);
		if (c.t)
			table_free(c.t);
		return p_kerr(&e);
	}
	if (c.arr)
		return out_json(c.arr);
	table_print(c.t);
	return 0;
}

static int service_show(int argc, char **argv)
{
	struct kanary_service *s;

	s = service_arg_read(argc, argv);
	if (!s)
		return -1;
	if (json_output)
		out_json(service_json(s));
	else
		service_print(s);
	free(s);
	return 0;
}

int do_service(int argc, char **argv)
{
	static const struct cmd cmds[] = {
		{ "add",	service_add },
		{ "del",	service_del },
		{ "list",	service_list },
		{ "show",	service_show },
		{ "help",	service_help },
		{ NULL, NULL },
	};

	return cmd_select(cmds, argc, argv, "service command", "list");
}
