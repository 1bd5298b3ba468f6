// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bin/kanary_bpf_test: the datapath (bpf/kanary.bpf.c) loaded through
 * libkanary, run under BPF_PROG_TEST_RUN on crafted frames.
 *
 * KT_SUITES=a,b runs only those suites, KT_SKIP_SUITES=a,b all but those:
 * tests/run-bpf runs two such halves at once, since every test loads the
 * whole datapath and the verifier's single-threaded work is most of the
 * suite's time.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fixture.h"
#include "suites.h"

static const struct {
	const char *name;	/* as suite_create names it, for CK_RUN_SUITE too */
	Suite *(*make)(void);
} all[] = {
	{ "pkt", pkt_suite },		{ "dnat", dnat_suite },
	{ "untouched", untouched_suite }, { "conntrack", conntrack_suite },
	{ "maglev", maglev_suite },	{ "stats", stats_suite },
	{ "split", split_suite },	{ "handoff", handoff_suite },
	{ "http_frame_bpf", http_frame_bpf_suite }, { "http_stats", http_stats_suite },
	{ "per_request", per_request_suite }, { "mirror", mirror_suite },
	{ "spoof", spoof_suite },	{ "hairpin", hairpin_suite },
};
#define NSUITES (sizeof(all) / sizeof(all[0]))

/* Calls fn(name, len, arg) for each comma-separated name of list; stops at the first false. */
static bool each_name(const char *list, bool (*fn)(const char *, size_t, const void *), const void *arg)
{
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ",");

		if (!fn(p, len, arg))
			return false;
		p += len + (p[len] == ',');
	}
	return true;
}

static bool differs(const char *p, size_t len, const void *name)
{
	return strlen(name) != len || strncmp(p, name, len) != 0;
}

static bool in_list(const char *list, const char *name)
{
	return !each_name(list, differs, name);
}

/* A typo must not leave a suite unrun. */
static bool known(const char *p, size_t len, const void *var)
{
	for (size_t i = 0; i < NSUITES; i++)
		if (!differs(p, len, all[i].name))
			return true;
	fprintf(stderr, "kanary_bpf_test: %s: no suite '%.*s'\n", (const char *)var, (int)len, p);
	return false;
}

int main(void)
{
	const char *only = getenv("KT_SUITES"), *skip = getenv("KT_SKIP_SUITES");
	Suite *suites[NSUITES];
	size_t n = 0;

	if ((only && !each_name(only, known, "KT_SUITES")) ||
	    (skip && !each_name(skip, known, "KT_SKIP_SUITES")))
		return 2;
	for (size_t i = 0; i < NSUITES; i++) {
		if ((only && !in_list(only, all[i].name)) || (skip && in_list(skip, all[i].name)))
			continue;
		suites[n++] = all[i].make();
	}
	if (!n) {
		fprintf(stderr, "kanary_bpf_test: KT_SUITES and KT_SKIP_SUITES leave no suite\n");
		return 2;
	}
	return kt_main("kanary_bpf_test", suites, n);
}
