// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* load / unload: the BPF programs and pinned maps of one kanary instance. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "ctl.h"
#include "help.h"
#include "kanary/ct_expiry.h"
#include "kanary/handoff.h"

#define MAX_IFACES	4096

static int load_help(void)
{
	return out_help(
		"Usage: kanaryctl [OPTIONS] load [ct-size N] [max-services N] [max-backends N]\n"
		"                                [ct-linger MS] [ct-syn-timeout MS]\n"
		"                                [cgroup DIR|none] [http-stats on|off]\n"
		"                                [ho-per-source N|off]\n"
		"       kanaryctl [OPTIONS] unload\n"
		"\n"
		"load    loads the programs and pins them with the maps under the pin path,\n"
		"        mounting bpffs when needed.  Running it again keeps the maps (and\n"
		"        their sizes), replaces the programs and moves every attached\n"
		"        interface of this network namespace to the new ones.\n"
		"        ct-size N       connections tracked (default 262144)\n"
		"        max-services N  services (default 4096)\n"
		"        max-backends N  backend entries, all services' live slots (default 65536)\n"
		"        ct-linger MS    how long a closed plain-path connection stays tracked\n"
		"                        (default 10000; kept as it is on a reload)\n"
		"        ct-syn-timeout MS  how long a SYN sent again may go unanswered before\n"
		"                        its connection is forgotten (default 60000; kept)\n"
		"        cgroup DIR      where the TCP health program (sockops) goes (default: the\n"
		"                        cgroup v2 root; kept where it is on a reload); none: no\n"
		"                        TCP health\n"
		"        http-stats on|off  HTTP requests, codes and latency per subset\n"
		"                        (default on; kept as it is on a reload)\n"
		"        ho-per-source N|off  bound rule-path connections one client address\n"
		"                        may hold (default an eighth of the handoff table,\n"
		"                        ct-size / 32; kept); beyond it, first data is reset\n"
		"unload  detaches from every interface of this network namespace and from the\n"
		"        cgroup, and removes the pins.  Interfaces in other namespaces must be\n"
		"        detached there first.\n"
		"\n"
		HELP_PIN);
}

static __u32 map_entries(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.max_entries;
}

/* What the instance now is: sizes in force and the interfaces it runs on. */
static void warn_kept(const char *what, __u32 asked, __u32 kept)
{
	if (asked && asked != kept)
		p_warn("%s %u not applied: the pinned maps keep their size (%u); unload first to resize",
		       what, asked, kept);
}

static int report_loaded(const struct kanary_load_opts *o)
{
	struct kanary_iface *ifs = calloc(MAX_IFACES, sizeof(*ifs));
	struct kanary_err e = {};
	struct kanary_maps m;
	struct kanary_globals g = {};
	struct kanary_ct_lifecycle lc;
	__u32 ct, svc, be, per_source, zero = 0;
	bool http;
	int n = MAX_IFACES;
	json_t *names;

	if (!ifs)
		return p_err("out of memory");
	if (maps_open_or_err(&m)) {
		free(ifs);
		return -1;
	}
	ct = map_entries(m.ct);
	svc = m.max_services;
	be = map_entries(m.be);
	bpf_map_lookup_elem(m.globals, &zero, &g);
	http = !(g.flags & KANARY_GLOBAL_F_NO_HTTP);
	if (kanary_ct_lifecycle_read(&m, &lc, &e) || kanary_ho_bound_read(&m, &per_source, &e)) {
		kanary_maps_close(&m);
		free(ifs);
		return p_kerr(&e);
	}
	kanary_maps_close(&m);
	warn_kept("ct-size", o->ct_size, ct);
	warn_kept("max-services", o->max_services, svc);
	warn_kept("max-backends", o->max_backends, be);
	if (kanary_iface_list(pin_path, ifs, &n, &e)) {
		free(ifs);
		return p_kerr(&e);
	}
	names = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(names, json_string(ifs[i].name));
	if (json_output) {
		free(ifs);
		return out_json(json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:b, s:b}",
					  "pin_path", pin_path,
					  "ct_size", (json_int_t)ct, "max_services", (json_int_t)svc,
					  "max_backends", (json_int_t)be,
					  "ct_linger_ms", (json_int_t)lc.linger_ms,
					  "ct_syn_timeout_ms", (json_int_t)lc.syn_timeout_ms,
					  "ho_per_source", per_source == KANARY_HO_PER_SOURCE_OFF ?
					  json_null() : json_integer(per_source),
					  "interfaces", names,
					  "tcp_health", kanary_sockops_attached(pin_path),
					  "http_stats", http));
	}
	printf("kanary loaded at %s (ct-size %u, max-services %u, max-backends %u)\n", pin_path,
	       ct, svc, be);
	printf("closed connections tracked for %u ms, unanswered SYNs for %u ms\n", lc.linger_ms,
	       lc.syn_timeout_ms);
	if (per_source == KANARY_HO_PER_SOURCE_OFF)
		printf("rule-path connections one client address may hold: no bound\n");
	else
		printf("rule-path connections one client address may hold: %u\n", per_source);
	printf("TCP health (sockops on a cgroup): %s\n",
	       kanary_sockops_attached(pin_path) ? "attached" : "off");
	printf("HTTP accounting (requests, codes, latency per subset): %s\n", http ? "on" : "off");
	for (int i = 0; i < n; i++)
		printf("attached here, now running these programs: %s\n", ifs[i].name);
	json_decref(names);
	free(ifs);
	return 0;
}

int do_load(int argc, char **argv)
{
	enum { KW_CT, KW_SERVICES, KW_BACKENDS, KW_LINGER, KW_SYN, KW_CGROUP, KW_HTTP,
	       KW_PER_SOURCE, KW_HELP };
	static const char *const kws[] = { "ct-size", "max-services", "max-backends", "ct-linger",
					   "ct-syn-timeout", "cgroup", "http-stats", "ho-per-source",
					   "help", NULL };
	const char *usage = "ct-size N, max-services N, max-backends N, ct-linger MS, "
			    "ct-syn-timeout MS, cgroup DIR|none, http-stats on|off or "
			    "ho-per-source N|off";
	struct kanary_load_opts o = { .verbose = verbose };
	__u32 *dst[] = { &o.ct_size, &o.max_services, &o.max_backends, &o.ct_linger_ms,
			 &o.ct_syn_timeout_ms };
	const __u32 max[] = { 0xffffffffu, 0xffffffffu, 0xffffffffu, KANARY_CT_TIMEOUT_MAX_MS,
			      KANARY_CT_TIMEOUT_MAX_MS };
	struct kanary_err e = {};

	while (argc > 0) {
		int k = match_word(*argv, kws);

		if (k == -2)
			return p_err("'%s' is ambiguous: expected %s", *argv, usage);
		if (k < 0)
			return BAD_ARG(usage);
		if (k == KW_HELP)
			return load_help();
		NEXT_ARG();
		if (k == KW_HTTP) {
			int v = argc < 1 ? -1 : match_word(*argv, (const char *const[]){ "on", "off", NULL });

			if (v < 0)
				return p_err("http-stats: expected http-stats on or http-stats off");
			o.http_stats = v == 0 ? 1 : -1;
			NEXT_ARG();
			continue;
		}
		if (k == KW_PER_SOURCE && argc > 0 &&
		    match_word(*argv, (const char *const[]){ "off", NULL }) == 0) {
			o.ho_per_source = KANARY_HO_PER_SOURCE_OFF;
			NEXT_ARG();
			continue;
		}
		if (k == KW_PER_SOURCE) {
			if (argc < 1)
				return p_err("ho-per-source needs a number: expected ho-per-source N or ho-per-source off");
			if (parse_u32_arg(*argv, kws[k], 1, KANARY_HO_PER_SOURCE_OFF - 1, &o.ho_per_source))
				return -1;
			NEXT_ARG();
			continue;
		}
		if (k == KW_CGROUP) {
			if (argc < 1)
				return p_err("cgroup needs a directory: expected cgroup DIR or cgroup none");
			o.cgroup = *argv;
			NEXT_ARG();
			continue;
		}
		if (argc < 1)
			return p_err("%s needs a number: expected %s %s", kws[k], kws[k],
				     k == KW_LINGER || k == KW_SYN ? "MS" : "N");
		if (parse_u32_arg(*argv, kws[k], 1, max[k], dst[k]))
			return -1;
		NEXT_ARG();
	}
	if (kanary_load(pin_path, &o, &e))
		return p_kerr(&e);
	return report_loaded(&o);
}

int do_unload(int argc, char **argv)
{
	struct kanary_err e = {};

	if (argc > 0 && match_word(*argv, (const char *const[]){ "help", NULL }) == 0)
		return load_help();
	NO_MORE_ARGS("nothing after 'unload'");
	if (kanary_unload(pin_path, &e))
		return p_kerr(&e);
	if (json_output)
		return out_json(json_pack("{s:s, s:b}", "pin_path", pin_path, "unloaded", 1));
	printf("kanary unloaded from %s\n", pin_path);
	return 0;
}
