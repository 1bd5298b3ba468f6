// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bin/kanaryd_unit: kanaryd's Check suites.  Run from the repository root
 * (fixtures are read from tests/unit/kanaryd/fixtures, or $KD_FIXTURES).  The
 * reconcile suite needs root: it mounts bpffs under one temp dir that main
 * removes at the end.  TAP: CK_TAP_LOG_FILE_NAME=-.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include "kdt.h"

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
		umount2(path, MNT_DETACH);	/* a test that died kept its mount */
		if (rmdir(path))
			fprintf(stderr, "kanaryd_unit: cannot remove %s: %s\n", path, strerror(errno));
	}
	closedir(dir);
	if (rmdir(base))
		fprintf(stderr, "kanaryd_unit: cannot remove %s: %s\n", base, strerror(errno));
}

int main(void)
{
	char base[] = "/tmp/kanaryd-unit.XXXXXX";
	SRunner *sr;
	int failed;

	if (!mkdtemp(base)) {
		fprintf(stderr, "kanaryd_unit: mkdtemp %s: %s\n", base, strerror(errno));
		return 2;
	}
	setenv(KDT_BASE_ENV, base, 1);
	sr = srunner_create(yamlnode_suite());
	srunner_add_suite(sr, yaml_limits_suite());
	srunner_add_suite(sr, decode_suite());
	srunner_add_suite(sr, desired_suite());
	srunner_add_suite(sr, routes_suite());
	srunner_add_suite(sr, rules_suite());
	srunner_add_suite(sr, mirror_suite());
	srunner_add_suite(sr, sources_suite());
	srunner_add_suite(sr, watch_suite());
	srunner_add_suite(sr, name_index_suite());
	srunner_add_suite(sr, applied_suite());
	srunner_add_suite(sr, status_suite());
	srunner_add_suite(sr, status_pace_suite());
	srunner_add_suite(sr, status_files_suite());
	srunner_add_suite(sr, reconcile_suite());
	srunner_add_suite(sr, partial_suite());
	srunner_add_suite(sr, pod_index_suite());
	srunner_add_suite(sr, kube_config_suite());
	srunner_add_suite(sr, kube_cache_suite());
	srunner_add_suite(sr, kube_watch_suite());
	srunner_add_suite(sr, health_suite());
	srunner_add_suite(sr, istio_ids_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	remove_base(base);
	return failed ? 1 : 0;
}
