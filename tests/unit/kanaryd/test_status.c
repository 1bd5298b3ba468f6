// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* libkanary's side of the status file: where it is, and reading it back. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "kdt.h"
#include "status.h"

static char run[64], pin[64];

static void setup(void)
{
	snprintf(run, sizeof(run), "/tmp/kdt-run.XXXXXX");
	snprintf(pin, sizeof(pin), "/tmp/kdt-pin.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(run));
	ck_assert_ptr_nonnull(mkdtemp(pin));
	setenv(KANARY_RUN_DIR_ENV, run, 1);
}

static void teardown(void)
{
	char cmd[200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", run, pin);
	ck_assert_int_eq(system(cmd), 0);
	unsetenv(KANARY_RUN_DIR_ENV);
}

START_TEST(one_pin_path_however_spelled_one_file)
{
	char a[512], b[512], c[512], other[80];
	struct kanary_err e = { "" };

	ck_assert_int_eq(kanary_run_file(pin, "status.json", a, sizeof(a), &e), 0);
	snprintf(other, sizeof(other), "%s/", pin);
	ck_assert_int_eq(kanary_run_file(other, "status.json", b, sizeof(b), &e), 0);
	ck_assert_str_eq(a, b);
	ck_assert_int_eq(strncmp(a, run, strlen(run)), 0);
	ck_assert_ptr_nonnull(strstr(a, ".status.json"));
	ck_assert_int_eq(kanary_run_file("/tmp/some-other-pin", "status.json", c, sizeof(c), &e), 0);
	ck_assert_str_ne(a, c);
}
END_TEST

START_TEST(missing_status_says_why)
{
	struct kanary_err e = { "" };
	json_t *st = NULL;

	ck_assert_int_eq(kanary_status_read(pin, &st, &e), -ENOENT);
	ck_assert_ptr_nonnull(strstr(e.msg, "no kanaryd status"));
	ck_assert_ptr_nonnull(strstr(e.msg, pin));
}
END_TEST

START_TEST(status_of_a_process_that_is_not_kanaryd_is_not_running)
{
	struct kanary_err e = { "" };
	char path[512];
	json_t *st;
	FILE *f;

	ck_assert_int_eq(kanary_run_file(pin, "status.json", path, sizeof(path), &e), 0);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	/* Our own pid is alive, but it is kanaryd_unit, not kanaryd. */
	fprintf(f, "{\"version\": 1, \"pid\": %d, \"manifests\": \"/m\", \"services\": [], \"problems\": []}\n",
		getpid());
	fclose(f);
	ck_assert_int_eq(kanary_status_read(pin, &st, &e), 0);
	ck_assert(json_is_false(json_object_get(st, "running")));
	ck_assert_str_eq(json_string_value(json_object_get(st, "manifests")), "/m");
	ck_assert_str_eq(json_string_value(json_object_get(st, "status_file")), path);
	json_decref(st);

	f = fopen(path, "w");
	fputs("{\"pid\": ", f);
	fclose(f);
	ck_assert_int_eq(kanary_status_read(pin, &st, &e), -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, path));
}
END_TEST

Suite *status_suite(void)
{
	Suite *s = suite_create("status");
	TCase *tc = tcase_create("file");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, one_pin_path_however_spelled_one_file);
	tcase_add_test(tc, missing_status_says_why);
	tcase_add_test(tc, status_of_a_process_that_is_not_kanaryd_is_not_running);
	suite_add_tcase(s, tc);
	return s;
}
