// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bin/kanary_unit: every Check suite.  Each datapath test forks (CK_FORK),
 * mounts its own bpffs under one temp dir and loads kanary there; main
 * removes that dir at the end.  TAP: CK_TAP_LOG_FILE_NAME=- (tests/run).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include "fixture.h"
#include "suites.h"

TCase *kt_tcase(const char *name, double timeout)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, kt_setup, kt_teardown);
	tcase_set_timeout(tc, timeout);
	return tc;
}

/* Leftovers of tests that died before teardown; their mounts died with them. */
static void remove_base(const char *base)
{
	char path[PATH_MAX];
	struct dirent *d;
	DIR *dir = opendir(base);

	if (!dir)
		return;
	while ((d = readdir(dir))) {
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", base, d->d_name);
		umount2(path, MNT_DETACH);
		if (rmdir(path))
			fprintf(stderr, "kanary_unit: cannot remove %s: %s\n", path, strerror(errno));
	}
	closedir(dir);
	if (rmdir(base))
		fprintf(stderr, "kanary_unit: cannot remove %s: %s\n", base, strerror(errno));
}

int main(void)
{
	char base[] = "/tmp/kanary-unit.XXXXXX";
	SRunner *sr;
	int failed;

	if (geteuid() != 0) {
		fprintf(stderr, "kanary_unit: must run as root (BPF, bpffs mounts, namespaces)\n");
		return 2;
	}
	if (!mkdtemp(base)) {
		fprintf(stderr, "kanary_unit: mkdtemp %s: %s\n", base, strerror(errno));
		return 2;
	}
	setenv(KT_BASE_ENV, base, 1);

	sr = srunner_create(lib_suite());
	srunner_add_suite(sr, pkt_suite());
	srunner_add_suite(sr, dnat_suite());
	srunner_add_suite(sr, untouched_suite());
	srunner_add_suite(sr, conntrack_suite());
	srunner_add_suite(sr, stats_suite());
	srunner_add_suite(sr, split_suite());
	srunner_add_suite(sr, http_match_suite());
	srunner_add_suite(sr, service_index_suite());
	srunner_add_suite(sr, handoff_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	remove_base(base);
	return failed ? 1 : 0;
}
