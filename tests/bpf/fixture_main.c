// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The main of both Check binaries (bin/kanary_unit, bin/kanary_bpf_test).
 * It loads the binary's one kanary under a temp dir (fixture_shared.c);
 * each fixture test forks (CK_FORK) and starts from that instance put
 * back as loaded; kt_main removes the dir at the end.
 * TAP: CK_TAP_LOG_FILE_NAME=- (tests/run).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sched.h>
#include <sys/mount.h>
#include "fixture.h"
#include "fixture_shared.h"

TCase *kt_tcase(const char *name, double timeout)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, kt_setup, kt_teardown);
	tcase_set_timeout(tc, timeout);
	return tc;
}

/* Leftovers of tests that died before teardown; their mounts died with them. */
static void remove_base(const char *prog, const char *base)
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
			fprintf(stderr, "%s: cannot remove %s: %s\n", prog, path, strerror(errno));
	}
	closedir(dir);
	if (rmdir(base))
		fprintf(stderr, "%s: cannot remove %s: %s\n", prog, base, strerror(errno));
}

int kt_main(const char *prog, Suite *const suites[], size_t n)
{
	char base[] = "/tmp/kanary-unit.XXXXXX";
	SRunner *sr;
	int failed;

	if (geteuid() != 0) {
		fprintf(stderr, "%s: must run as root (BPF, bpffs mounts, namespaces)\n", prog);
		return 2;
	}
	if (!mkdtemp(base)) {
		fprintf(stderr, "%s: mkdtemp %s: %s\n", prog, base, strerror(errno));
		return 2;
	}
	setenv(KT_BASE_ENV, base, 1);
	/* The shared kanary's mount, and its load's interface scan, kept off the host. */
	if (unshare(CLONE_NEWNS | CLONE_NEWNET) || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL)) {
		fprintf(stderr, "%s: mount+net namespaces: %s\n", prog, strerror(errno));
		remove_base(prog, base);
		return 2;
	}
	if (kt_shared_load(base)) {
		remove_base(prog, base);
		return 2;
	}

	sr = srunner_create(suites[0]);
	for (size_t i = 1; i < n; i++)
		srunner_add_suite(sr, suites[i]);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	remove_base(prog, base);
	return failed ? 1 : 0;
}
