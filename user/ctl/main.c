// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* kanaryctl: global options, then one command table per level. */
#include <getopt.h>
#include <stdio.h>
#include <stdarg.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "ctl.h"
#include "help.h"

bool json_output;
bool pretty_output;
bool verbose;
const char *pin_path;
const char *bin_name = "kanaryctl";

int match_word(const char *arg, const char *const *words)
{
	int found = -1;
	size_t n = strlen(arg);

	if (!n)
		return -1;
	for (int i = 0; words[i]; i++) {
		if (!strcmp(arg, words[i]))
			return i;	/* an exact name beats longer names it prefixes */
		if (!strncmp(arg, words[i], n))
			found = found == -1 ? i : -2;
	}
	return found;
}

static void list_names(char *buf, size_t len, const struct cmd *cmds)
{
	buf[0] = '\0';
	for (int i = 0; cmds[i].name; i++) {
		size_t used = strlen(buf);

		snprintf(buf + used, len - used, "%s%s", i ? (cmds[i + 1].name ? ", " : " or ") : "",
			 cmds[i].name);
	}
}

int cmd_select(const struct cmd *cmds, int argc, char **argv, const char *what,
	       const char *dflt)
{
	const char *words[32];
	char names[512], amb[512] = "";
	int n = 0, i;

	for (; n < 31 && cmds[n].name; n++)
		words[n] = cmds[n].name;
	words[n] = NULL;
	list_names(names, sizeof(names), cmds);
	if (argc < 1) {
		if (dflt) {
			i = match_word(dflt, words);
			return cmds[i].func(0, argv);
		}
		return p_err("missing %s: expected %s", what, names);
	}
	i = match_word(argv[0], words);
	if (i >= 0)
		return cmds[i].func(argc - 1, argv + 1);
	if (i == -2) {
		for (int k = 0; k < n; k++) {
			if (strncmp(argv[0], words[k], strlen(argv[0])))
				continue;
			snprintf(amb + strlen(amb), sizeof(amb) - strlen(amb), "%s%s",
				 amb[0] ? ", " : "", words[k]);
		}
		return p_err("'%s' is ambiguous: it could be %s", argv[0], amb);
	}
	return p_err("what is '%s'? expected a %s: %s", argv[0], what, names);
}

static int do_help(int argc, char **argv)
{
	return out_help(
		"Usage: kanaryctl [OPTIONS] OBJECT { COMMAND | help }\n"
		"       kanaryctl [OPTIONS] load [ct-size N] [max-services N] [max-backends N]\n"
		"       kanaryctl [OPTIONS] unload\n"
		"       kanaryctl [OPTIONS] attach IFACE...\n"
		"       kanaryctl [OPTIONS] detach IFACE...\n"
		"       kanaryctl [OPTIONS] iface { list | help }\n"
		"       kanaryctl [OPTIONS] service { add | del | list | show | help }\n"
		"       kanaryctl [OPTIONS] backend { add | del | list | help }\n"
		"       kanaryctl [OPTIONS] weight { set | show | help }\n"
		"       kanaryctl [OPTIONS] route { add | del | list | per-request | help }\n"
		"       kanaryctl [OPTIONS] mirror { set | del | show | help }\n"
		"       kanaryctl [OPTIONS] stats [SERVICE] [--watch SECONDS]\n"
		"       kanaryctl [OPTIONS] counters\n"
		"       kanaryctl [OPTIONS] status\n"
		"       kanaryctl [OPTIONS] version\n"
		"\n"
		HELP_OPTIONS
		"\n"
		"Commands and objects may be shortened to any unique prefix (serv ad = service add).\n"
		HELP_PIN);
}

static int do_version(int argc, char **argv)
{
	NO_MORE_ARGS("nothing after 'version'");
	if (json_output)
		return out_json(json_pack("{s:s, s:s}", "version", KANARYCTL_VERSION, "libbpf",
					  libbpf_version_string()));
	printf("kanaryctl v%s\nusing libbpf %s\n", KANARYCTL_VERSION, libbpf_version_string());
	return 0;
}

static const struct cmd top_cmds[] = {
	{ "load",	do_load },
	{ "unload",	do_unload },
	{ "attach",	do_attach },
	{ "detach",	do_detach },
	{ "iface",	do_iface },
	{ "service",	do_service },
	{ "backend",	do_backend },
	{ "weight",	do_weight },
	{ "route",	do_route },
	{ "mirror",	do_mirror },
	{ "stats",	do_stats },
	{ "counters",	do_counters },
	{ "status",	do_status },
	{ "version",	do_version },
	{ "help",	do_help },
	{ NULL, NULL },
};

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return verbose ? vfprintf(stderr, fmt, ap) : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json",	no_argument,		NULL, 'j' },
		{ "pretty",	no_argument,		NULL, 'p' },
		{ "pin-path",	required_argument,	NULL, 'P' },
		{ "verbose",	no_argument,		NULL, 'v' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pin_flag = NULL;
	bool want_help = false, want_version = false;
	const char *bad_opt = NULL;
	int opt, ret;

	opterr = 0;	/* our own message, in JSON when asked */
	/* '+': options end at the object, so command arguments stay untouched. */
	while ((opt = getopt_long(argc, argv, "+jpvhV", opts, NULL)) >= 0) {
		switch (opt) {
		case 'j': json_output = true; break;
		case 'p': json_output = pretty_output = true; break;
		case 'P': pin_flag = optarg; break;
		case 'v': verbose = true; break;
		case 'h': want_help = true; break;
		case 'V': want_version = true; break;
		default:
			if (!bad_opt)
				bad_opt = optopt == 'P' ? "--pin-path" : argv[optind - 1];
			break;	/* read the rest first, so a later -j applies to this error */
		}
	}
	if (bad_opt && !strcmp(bad_opt, "--pin-path"))
		return -p_err("--pin-path needs a directory: expected --pin-path DIR");
	if (bad_opt)
		return -p_err("unknown option '%s': expected -j, -p, --pin-path DIR, -v, -h or -V",
			      bad_opt);
	argc -= optind;
	argv += optind;
	pin_path = kanary_pin_path(pin_flag);
	libbpf_set_print(print_libbpf);

	if (want_version)
		ret = do_version(0, argv);
	else if (want_help)
		ret = do_help(0, argv);
	else if (argc < 1)
		ret = p_err("missing command: expected an object or command, see '%s help'", bin_name);
	else
		ret = cmd_select(top_cmds, argc, argv, "command or object", NULL);

	if (ret && !out_done())
		p_err("command failed");
	if (!ret && json_output && !out_done())
		out_json(json_null());
	return ret ? 1 : 0;
}
