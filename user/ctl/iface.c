// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* attach / detach / iface list: kanary's tc filters on this netns's interfaces. */
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ctl.h"
#include "help.h"

#define MAX_IFACES	4096

static int iface_help(int argc, char **argv)
{
	return out_help(
		"Usage: kanaryctl [OPTIONS] attach IFACE...\n"
		"       kanaryctl [OPTIONS] detach IFACE...\n"
		"       kanaryctl [OPTIONS] iface { list | help }\n"
		"\n"
		"attach  puts kanary at clsact ingress and egress of each IFACE (replacing\n"
		"        an older kanary filter there).  Needs 'kanaryctl load' first.\n"
		"detach  removes kanary's filters; the clsact qdisc and other filters stay.\n"
		"list    interfaces with a kanary filter, and whether it runs the programs\n"
		"        pinned now ('current'; if not, run 'kanaryctl load' in this netns).\n"
		"\n"
		HELP_IFACE
		HELP_OPTIONS);
}

static bool is_help(int argc, char **argv)
{
	return argc == 1 && match_word(*argv, (const char *const[]){ "help", NULL }) == 0;
}

/* Every name must exist before anything changes, so a typo changes nothing. */
static int check_names(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		if (strlen(argv[i]) >= IF_NAMESIZE || !if_nametoindex(argv[i]))
			return p_err("no interface '%s' in this network namespace: expected an interface name as in 'ip link'",
				     argv[i]);
	}
	return 0;
}

static struct kanary_iface *list_or_err(int *n)
{
	struct kanary_iface *ifs = calloc(MAX_IFACES, sizeof(*ifs));
	struct kanary_err e = {};

	*n = MAX_IFACES;
	if (!ifs) {
		p_err("out of memory");
		return NULL;
	}
	if (kanary_iface_list(pin_path, ifs, n, &e)) {
		free(ifs);
		p_kerr(&e);
		return NULL;
	}
	return ifs;
}

static int report(const char *verb, int argc, char **argv)
{
	json_t *arr;

	if (!json_output) {
		for (int i = 0; i < argc; i++)
			printf("%s %s (ingress and egress)\n", verb, argv[i]);
		return 0;
	}
	arr = json_array();
	for (int i = 0; i < argc; i++)
		json_array_append_new(arr, json_string(argv[i]));
	return out_json(json_pack("{s:o}", verb, arr));
}

int do_attach(int argc, char **argv)
{
	struct kanary_err e = {};

	if (is_help(argc, argv))
		return iface_help(0, NULL);
	REQ_ARGS(1, "IFACE...");
	if (check_names(argc, argv))
		return -1;
	for (int i = 0; i < argc; i++) {
		if (kanary_attach(pin_path, argv[i], &e)) {
			if (i)
				return p_err("%s (already attached in this run: %d interface(s) before %s)",
					     e.msg, i, argv[i]);
			return p_kerr(&e);
		}
	}
	return report("attached", argc, argv);
}

int do_detach(int argc, char **argv)
{
	struct kanary_iface *ifs;
	struct kanary_err e = {};
	int n;

	if (is_help(argc, argv))
		return iface_help(0, NULL);
	REQ_ARGS(1, "IFACE...");
	if (check_names(argc, argv))
		return -1;
	ifs = list_or_err(&n);
	if (!ifs)
		return -1;
	for (int i = 0; i < argc; i++) {
		bool found = false;

		for (int k = 0; k < n; k++)
			found |= !strcmp(ifs[k].name, argv[i]);
		if (!found) {
			free(ifs);
			return p_err("kanary is not attached to %s: see 'kanaryctl iface list'", argv[i]);
		}
	}
	free(ifs);
	for (int i = 0; i < argc; i++)
		if (kanary_detach(pin_path, argv[i], &e))
			return p_kerr(&e);
	return report("detached", argc, argv);
}

static int iface_list(int argc, char **argv)
{
	static const char *const hdr[] = { "IFACE", "IFINDEX", "INGRESS", "EGRESS", "CURRENT" };
	struct kanary_iface *ifs;
	struct table *t;
	json_t *arr;
	int n;

	NO_MORE_ARGS("nothing after 'iface list'");
	ifs = list_or_err(&n);
	if (!ifs)
		return -1;
	if (json_output) {
		arr = json_array();
		for (int i = 0; i < n; i++)
			json_array_append_new(arr, json_pack("{s:s, s:i, s:b, s:b, s:b}", "name",
							     ifs[i].name, "ifindex", ifs[i].ifindex,
							     "ingress", ifs[i].ingress, "egress",
							     ifs[i].egress, "current", ifs[i].current));
		free(ifs);
		return out_json(arr);
	}
	t = table_new(5, hdr);
	for (int i = 0; i < n; i++) {
		char idx[16];

		snprintf(idx, sizeof(idx), "%d", ifs[i].ifindex);
		table_add(t, ifs[i].name, idx, ifs[i].ingress ? "yes" : "no",
			  ifs[i].egress ? "yes" : "no",
			  ifs[i].current ? "yes" : "no (run 'kanaryctl load' here)");
	}
	free(ifs);
	table_print(t);
	return 0;
}

int do_iface(int argc, char **argv)
{
	static const struct cmd cmds[] = {
		{ "list", iface_list },
		{ "help", iface_help },
		{ NULL, NULL },
	};

	return cmd_select(cmds, argc, argv, "iface command", "list");
}
