// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * mirror set / del / show: copies of a share of a service's requests to a
 * mirror subset, and their answers compared with the live ones.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ctl.h"
#include "help.h"

static int mirror_help(int argc, char **argv)
{
	return out_help(
		"Usage: kanaryctl [OPTIONS] mirror set SERVICE SUBSET PERCENT [ROUTE]\n"
		"       kanaryctl [OPTIONS] mirror del SERVICE [SUBSET [ROUTE]]\n"
		"       kanaryctl [OPTIONS] mirror show [SERVICE]\n"
		"       kanaryctl [OPTIONS] mirror show SERVICE --diff\n"
		"       kanaryctl [OPTIONS] mirror help\n"
		"\n"
		"set   copies PERCENT of SERVICE's HTTP/1.x requests to a pod of SUBSET, drawn\n"
		"      per request, with '-shadow' appended to their Host; the answers never\n"
		"      reach the client.  The client's own request is never held or changed.\n"
		"      The copies are sent by the relay, kanary-mirror, which must run on the\n"
		"      node.  ROUTE scopes the share to the requests one route took: the\n"
		"      weighted split (the default: the requests no rule routed, all of them\n"
		"      on a service without rules) or rule INDEX ('kanaryctl route list').\n"
		"del   stops mirroring to SUBSET on ROUTE, to SUBSET on every route, or to\n"
		"      every subset of SERVICE.\n"
		"show  each mirror's share and counts: requests copied, sent, the mirror's\n"
		"      answers by class, its errors, the requests dropped (by why in -j), and\n"
		"      the comparison with the live answers: AGREE% of the requests compared\n"
		"      answered in the same status class, and the p99 latency of the mirror\n"
		"      and of the live pods over the requests the mirror answered.  SHARE\n"
		"      is the split's share, then each rule's as rINDEX:SHARE.\n"
		"      --diff: the 20 most frequent disagreements (method, path without its\n"
		"      query, live status, mirror status, count; a mirror status 0 is an error).\n"
		"\n"
		HELP_SERVICE
		HELP_SUBSET
		"PERCENT := above 0 and at most 100, at most 4 decimals (10, 0.5)\n"
		"ROUTE   := { split | route INDEX }\n"
		HELP_INDEX
		HELP_OPTIONS);
}

struct mirror_view {
	const struct kanary_service *s;
	struct kanary_mirror_cfg cfg;
	struct kanary_mirror_copy_stats copy;
	struct kanary_mirror_relay_stats relay[KANARY_MAX_SUBSETS];
};

static int mirror_view_read(struct kanary_maps *m, const struct kanary_service *s,
			    struct mirror_view *v)
{
	struct kanary_err e = {};

	v->s = s;
	if (kanary_mirror_get(m, s->id, &v->cfg, &e) ||
	    kanary_mirror_copy_stats_read(m, s->id, &v->copy, &e))
		return p_kerr(&e);
	for (int i = 0; i < KANARY_MAX_SUBSETS; i++)
		if (kanary_mirror_share_max(&v->cfg, i) &&
		    kanary_mirror_relay_stats_read(m->mirror_relay, s->id, i, &v->relay[i], &e))
			return p_kerr(&e);
	return 0;
}

static bool mirror_view_any(const struct mirror_view *v)
{
	for (int i = 0; i < KANARY_MAX_SUBSETS; i++)
		if (kanary_mirror_share_max(&v->cfg, i))
			return true;
	return false;
}

static __u64 relay_dropped(const struct kanary_mirror_relay_stats *r)
{
	__u64 n = 0;

	for (int d = 0; d < KANARY_MIRROR_DROP__MAX; d++)
		n += r->dropped[d];
	return n;
}

static json_t *mirror_json(const struct mirror_view *v)
{
	const struct kanary_mirror_copy_stats *c = &v->copy;
	json_t *mirrors = json_array();

	for (__u32 i = 0; i < v->s->cfg.n_subsets && i < KANARY_MAX_SUBSETS; i++) {
		const struct kanary_mirror_relay_stats *r = &v->relay[i];
		json_t *resp = json_object(), *drop = json_object();
		struct mirror_compare cmp;

		if (!kanary_mirror_share_max(&v->cfg, i))
			continue;
		for (int k = 0; k < 5; k++) {
			char cls[4] = { (char)('1' + k), 'x', 'x', 0 };

			json_object_set_new(resp, cls, json_integer((json_int_t)r->responses[k]));
		}
		for (int d = 0; d < KANARY_MIRROR_DROP__MAX; d++)
			json_object_set_new(drop, kanary_mirror_drop_names[d],
					    json_integer((json_int_t)r->dropped[d]));
		mirror_compare_of(r, &cmp);
		json_array_append_new(mirrors,
			json_pack("{s:s, s:f, s:o, s:I, s:I, s:I, s:o, s:I, s:o, s:o}",
				  "subset", v->s->cfg.subsets[i].name,
				  "percent", kanary_percent_of(v->cfg.ppm[i]),
				  "routes", mirror_routes_json(&v->cfg, (int)i),
				  "backends", (json_int_t)v->s->cfg.subsets[i].n_backends,
				  "sent", (json_int_t)r->sent, "connects", (json_int_t)r->connects,
				  "responses", resp,
				  "errors", (json_int_t)r->errors, "dropped", drop,
				  "comparison", mirror_compare_json(&cmp)));
	}
	return json_pack("{s:s, s:{s:I, s:I, s:I, s:I, s:I}, s:o}", "service", v->s->cfg.name,
			 "copy", "requests", (json_int_t)c->requests, "events",
			 (json_int_t)c->events, "bytes", (json_int_t)c->bytes, "ring_full",
			 (json_int_t)c->ring_full, "too_big", (json_int_t)c->too_big,
			 "mirrors", mirrors);
}

static void mirror_print(const struct mirror_view *v, struct table *t)
{
	for (__u32 i = 0; i < v->s->cfg.n_subsets && i < KANARY_MAX_SUBSETS; i++) {
		const struct kanary_mirror_relay_stats *r = &v->relay[i];
		char pct[MIRROR_SHARES_LEN], copied[24], sent[24], ok[24], err[24], drop[24];
		char agree[24], p99m[24], p99l[24];
		struct mirror_compare cmp;

		if (!kanary_mirror_share_max(&v->cfg, i))
			continue;
		mirror_compare_of(r, &cmp);
		fmt_agree(agree, sizeof(agree), cmp.agree_percent);
		fmt_ms(p99m, sizeof(p99m), cmp.p99_mirror_ms);
		fmt_ms(p99l, sizeof(p99l), cmp.p99_live_ms);
		mirror_shares_format(pct, sizeof(pct), &v->cfg, (int)i);
		snprintf(copied, sizeof(copied), "%llu", (unsigned long long)v->copy.requests);
		snprintf(sent, sizeof(sent), "%llu", (unsigned long long)r->sent);
		snprintf(ok, sizeof(ok), "%llu/%llu/%llu", (unsigned long long)r->responses[1],
			 (unsigned long long)r->responses[3], (unsigned long long)r->responses[4]);
		snprintf(err, sizeof(err), "%llu", (unsigned long long)r->errors);
		snprintf(drop, sizeof(drop), "%llu", (unsigned long long)relay_dropped(r));
		table_add(t, v->s->cfg.name, v->s->cfg.subsets[i].name, pct, copied, sent, ok, err,
			  drop, agree, p99m, p99l);
	}
}

static struct table *mirror_table(void)
{
	static const char *const hdr[] = { "SERVICE", "MIRROR", "SHARE", "COPIED", "SENT",
					   "2XX/4XX/5XX", "ERRORS", "DROPPED", "AGREE%",
					   "P99MS_MIRROR", "P99MS_LIVE" };

	return table_new(11, hdr);
}

struct show_all {
	struct kanary_maps *m;
	json_t *arr;
	struct table *t;
	int err;
};

static int show_one(const struct kanary_service *s, void *ctx)
{
	struct show_all *a = ctx;
	struct mirror_view v;

	if (mirror_view_read(a->m, s, &v)) {
		a->err = -1;
		return 1;
	}
	if (!mirror_view_any(&v))
		return 0;
	if (a->arr)
		json_array_append_new(a->arr, mirror_json(&v));
	else
		mirror_print(&v, a->t);
	return 0;
}

#define DIFF_TOP	20

/* The service's most frequent disagreements with its mirrors. */
static int mirror_diff_show(struct kanary_maps *m, const struct kanary_service *s)
{
	static const char *const hdr[] = { "MIRROR", "METHOD", "PATH", "LIVE", "MIRROR_STATUS",
					   "COUNT" };
	struct kanary_mirror_diff *d;
	struct kanary_err e = {};
	json_t *arr = NULL;
	struct table *t = NULL;
	size_t n;

	if (kanary_mirror_diff_read(m, s->id, &d, &n, &e))
		return p_kerr(&e);
	if (n > DIFF_TOP)
		n = DIFF_TOP;
	if (json_output)
		arr = json_array();
	else if (n)
		t = table_new(6, hdr);
	else
		printf("service %s: no disagreement with its mirrors\n", s->cfg.name);
	for (size_t i = 0; i < n; i++) {
		const struct kanary_mirror_diff_key *k = &d[i].key;
		const char *sub = k->subset < s->cfg.n_subsets && k->subset < KANARY_MAX_SUBSETS ?
				  s->cfg.subsets[k->subset].name : "?";
		char live[8], mir[8], count[24];

		if (arr) {
			json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:i, s:i, s:I}",
				"subset", sub, "method", k->method, "path", k->path,
				"live_status", (int)k->live_status,
				"mirror_status", (int)k->mirror_status,
				"count", (json_int_t)d[i].count));
			continue;
		}
		snprintf(live, sizeof(live), "%u", k->live_status);
		snprintf(mir, sizeof(mir), "%u", k->mirror_status);
		snprintf(count, sizeof(count), "%llu", (unsigned long long)d[i].count);
		table_add(t, sub, k->method, k->path, live, mir, count);
	}
	free(d);
	if (arr)
		out_json(json_pack("{s:s, s:o}", "service", s->cfg.name, "disagreements", arr));
	else if (t)
		table_print(t);
	return 0;
}

static int mirror_show(int argc, char **argv)
{
	struct show_all a = {};
	struct kanary_err e = {};
	struct kanary_maps m;
	int ret = -1;

	if (argc == 2 && !strcmp(argv[1], "--diff")) {
		struct kanary_service *s;

		if (maps_open_or_err(&m))
			return -1;
		s = service_get_or_err(&m, argv[0]);
		if (s)
			ret = mirror_diff_show(&m, s);
		free(s);
		kanary_maps_close(&m);
		return ret;
	}
	if (argc >= 1 && !strcmp(argv[0], "--diff"))
		return p_err("--diff takes a SERVICE: mirror show SERVICE --diff");
	if (argc > 1)
		return p_err("what is '%s'? expected nothing after SERVICE but --diff", argv[1]);
	if (maps_open_or_err(&m))
		return -1;
	a.m = &m;
	if (argc == 1) {
		struct kanary_service *s = service_get_or_err(&m, argv[0]);
		struct mirror_view v;

		if (s && !mirror_view_read(&m, s, &v)) {
			if (json_output) {
				out_json(mirror_json(&v));
			} else if (!mirror_view_any(&v)) {
				printf("service %s has no mirror\n", s->cfg.name);
			} else {
				a.t = mirror_table();
				mirror_print(&v, a.t);
				table_print(a.t);
			}
			ret = 0;
		}
		free(s);
		goto out;
	}
	if (json_output)
		a.arr = json_array();
	else
		a.t = mirror_table();
	if (kanary_service_foreach(&m, show_one, &a, &e) || a.err) {
		if (!a.err)
			p_kerr(&e);
		json_decref(a.arr);
		table_free(a.t);
		goto out;
	}
	if (a.arr)
		out_json(a.arr);
	else
		table_print(a.t);
	ret = 0;
out:
	kanary_maps_close(&m);
	return ret;
}

/* ROUTE: "split", or "route INDEX" (a rule's index from 1) into *route; argc words at argv. */
static int mirror_route_arg(int argc, char **argv, int *route, const char *after)
{
	__u32 idx;

	if (argc >= 1 && !strcmp(argv[0], "split")) {
		*route = KANARY_MIRROR_SPLIT;
		argc--;
		argv++;
	} else if (argc >= 1 && !strcmp(argv[0], "route")) {
		if (argc < 2)
			return p_err("route takes an INDEX: a rule's position in 'kanaryctl route list'");
		if (parse_u32_arg(argv[1], "rule index", 1, KANARY_RULES_MAX, &idx))
			return -1;
		*route = (int)idx - 1;
		argc -= 2;
		argv += 2;
	} else if (argc >= 1) {
		return p_err("what is '%s'? expected split or route INDEX after %s", argv[0], after);
	}
	if (argc)
		return p_err("what is '%s'? expected nothing after ROUTE", argv[0]);
	return 0;
}

static int mirror_set(int argc, char **argv)
{
	struct kanary_err e = {};
	struct kanary_maps m;
	int ret, route = KANARY_MIRROR_SPLIT;
	__u32 ppm;

	REQ_ARGS(3, "SERVICE SUBSET PERCENT");
	if (mirror_route_arg(argc - 3, argv + 3, &route, "PERCENT"))
		return -1;
	if (kanary_parse_percent(argv[2], &ppm, &e))
		return p_kerr(&e);
	if (maps_open_or_err(&m))
		return -1;
	ret = kanary_mirror_set(&m, argv[0], argv[1], route, ppm, &e);
	kanary_maps_close(&m);
	if (ret)
		return p_kerr(&e);
	return 0;
}

static int mirror_del(int argc, char **argv)
{
	struct kanary_err e = {};
	struct kanary_maps m;
	int ret, route = KANARY_MIRROR_EVERY_ROUTE;

	REQ_ARGS(1, "SERVICE [SUBSET [ROUTE]]");
	if (argc > 2 && mirror_route_arg(argc - 2, argv + 2, &route, "SUBSET"))
		return -1;
	if (maps_open_or_err(&m))
		return -1;
	ret = kanary_mirror_del(&m, argv[0], argc > 1 ? argv[1] : NULL, route, &e);
	kanary_maps_close(&m);
	if (ret)
		return p_kerr(&e);
	return 0;
}

int do_mirror(int argc, char **argv)
{
	static const struct cmd cmds[] = {
		{ "set",	mirror_set },
		{ "del",	mirror_del },
		{ "show",	mirror_show },
		{ "help",	mirror_help },
		{ NULL, NULL },
	};

	return cmd_select(cmds, argc, argv, "mirror command", "show");
}
