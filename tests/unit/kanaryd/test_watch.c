// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The manifest watch: which events are a change, and which files are still
 * being written.  inotify queues an event within the syscall that causes
 * it, so each step is read back at once, without waiting.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "kdt.h"
#include "source/file_watch.h"

/* Made in the parent, removed there after the test case, even when a test failed. */
static char base[64];
static char dir[128];
static struct kd_watch w;

static void make_base(void)
{
	snprintf(base, sizeof(base), "/tmp/kdt-watch.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(base));
}

static void remove_base(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	ck_assert_int_eq(system(cmd), 0);
}

/* dir/name; two at a time, for rename(). */
static const char *path_of(const char *name)
{
	static char p[2][256];
	static int k;

	k ^= 1;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
	return p[k];
}

/* A fresh directory (and w on it, or on its file name when not NULL). */
static void watch_new(const char *name)
{
	snprintf(dir, sizeof(dir), "%s/d.XXXXXX", base);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	if (name)
		ck_assert_int_eq(close(open(path_of(name), O_CREAT | O_WRONLY, 0644)), 0);
	ck_assert_int_eq(kd_watch_init(&w, name ? path_of(name) : dir), 0);
	ck_assert_int_ge(w.wd, 0);
	ck_assert(!kd_watch_read(&w));
}

/* Opens name for writing (creating or truncating it) and writes to it; returns the fd. */
static int start_writing(const char *name)
{
	int fd = open(path_of(name), O_CREAT | O_TRUNC | O_WRONLY, 0644);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "kind: Service\n", 14), 14);
	return fd;
}

START_TEST(a_file_written_in_place_is_incomplete_until_closed)
{
	int fd;

	watch_new(NULL);
	fd = start_writing("a.yaml");
	ck_assert(kd_watch_read(&w));
	ck_assert(kd_watch_writing(&w));
	ck_assert_int_eq(write(fd, "metadata: {name: a}\n", 20), 20);
	ck_assert(kd_watch_read(&w));
	ck_assert(kd_watch_writing(&w));
	close(fd);
	ck_assert(kd_watch_read(&w));
	ck_assert(!kd_watch_writing(&w));
	/* Rewritten in place: the truncation already counts as writing. */
	fd = open(path_of("a.yaml"), O_TRUNC | O_WRONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert(kd_watch_read(&w));
	ck_assert(kd_watch_writing(&w));
	close(fd);
	ck_assert(kd_watch_read(&w));
	ck_assert(!kd_watch_writing(&w));
	kd_watch_free(&w);
}
END_TEST

START_TEST(a_file_created_is_incomplete_before_its_first_write)
{
	int fd;

	watch_new(NULL);
	fd = open(path_of("b.yaml"), O_CREAT | O_WRONLY, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert(kd_watch_read(&w));
	ck_assert(kd_watch_writing(&w));
	close(fd);
	ck_assert(kd_watch_read(&w));
	ck_assert(!kd_watch_writing(&w));
	kd_watch_free(&w);
}
END_TEST

START_TEST(a_file_renamed_into_place_is_complete)
{
	int fd;

	watch_new(NULL);
	fd = start_writing("c.yaml.new");
	ck_assert(kd_watch_read(&w));
	ck_assert(kd_watch_writing(&w));
	close(fd);
	ck_assert_int_eq(rename(path_of("c.yaml.new"), path_of("c.yaml")), 0);
	ck_assert(kd_watch_read(&w));
	ck_assert(!kd_watch_writing(&w));
	kd_watch_free(&w);
}
END_TEST

START_TEST(one_open_file_among_closed_ones_still_holds_back)
{
	int a, b;

	watch_new(NULL);
	a = start_writing("a.yaml");
	b = start_writing("b.yaml");
	close(a);
	ck_assert(kd_watch_read(&w));
	ck_assert(kd_watch_writing(&w));
	close(b);
	ck_assert(kd_watch_read(&w));
	ck_assert(!kd_watch_writing(&w));
	kd_watch_free(&w);
}
END_TEST

START_TEST(a_file_removed_or_moved_away_while_written_is_no_longer_waited_for)
{
	int a = -1, b = -1;

	watch_new(NULL);
	a = start_writing("a.yaml");
	ck_assert(kd_watch_read(&w));
	ck_assert_int_eq(unlink(path_of("a.yaml")), 0);
	ck_assert(kd_watch_read(&w));
	ck_assert(!kd_watch_writing(&w));	/* its close will never be reported here */
	b = start_writing("b.yaml");
	ck_assert(kd_watch_read(&w));
	ck_assert_int_eq(rename(path_of("b.yaml"), path_of("../b-elsewhere.yaml")), 0);
	ck_assert(kd_watch_read(&w));
	ck_assert(!kd_watch_writing(&w));
	close(a);
	close(b);
	kd_watch_free(&w);
}
END_TEST

START_TEST(hidden_files_written_are_no_change)
{
	int fd;

	watch_new(NULL);
	fd = start_writing(".a.yaml.swp");	/* an editor's swap file, open for the whole session */
	ck_assert(!kd_watch_read(&w));
	ck_assert(!kd_watch_writing(&w));
	ck_assert_int_eq(write(fd, "more", 4), 4);
	ck_assert(!kd_watch_read(&w));
	/* Closed, it may be what a manifest links to. */
	close(fd);
	ck_assert(kd_watch_read(&w));
	ck_assert(!kd_watch_writing(&w));
	kd_watch_free(&w);
}
END_TEST

START_TEST(configmap_swap_is_complete_at_once)
{
	char target[160];

	watch_new(NULL);
	/* What the kubelet does: a new hidden dir, a new ..data link renamed over the old one. */
	snprintf(target, sizeof(target), "%s/..2026_11_26", dir);
	ck_assert_int_eq(mkdir(target, 0755), 0);
	ck_assert_int_eq(symlink("..2026_11_26", path_of("..data_tmp")), 0);
	ck_assert(!kd_watch_read(&w));
	ck_assert_int_eq(rename(path_of("..data_tmp"), path_of("..data")), 0);
	ck_assert(kd_watch_read(&w));
	ck_assert(!kd_watch_writing(&w));
	/* A visible link made in place is complete too: nothing writes to it. */
	ck_assert_int_eq(symlink("..data/g.yaml", path_of("g.yaml")), 0);
	ck_assert(kd_watch_read(&w));
	ck_assert(!kd_watch_writing(&w));
	kd_watch_free(&w);
}
END_TEST

START_TEST(watching_one_file_ignores_its_neighbours)
{
	int fd;

	watch_new("m.yaml");
	fd = start_writing("other.yaml");
	close(fd);
	ck_assert(!kd_watch_read(&w));
	fd = start_writing("m.yaml");
	ck_assert(kd_watch_read(&w));
	ck_assert(kd_watch_writing(&w));
	close(fd);
	ck_assert(kd_watch_read(&w));
	ck_assert(!kd_watch_writing(&w));
	kd_watch_free(&w);
}
END_TEST

START_TEST(the_directory_moving_away_forgets_open_files)
{
	char moved[160];
	int fd;

	watch_new(NULL);
	fd = start_writing("a.yaml");
	ck_assert(kd_watch_read(&w));
	ck_assert(kd_watch_writing(&w));
	snprintf(moved, sizeof(moved), "%s.moved", dir);
	ck_assert_int_eq(rename(dir, moved), 0);
	ck_assert(kd_watch_read(&w));
	ck_assert_int_eq(w.wd, -1);
	ck_assert(!kd_watch_writing(&w));
	close(fd);
	kd_watch_free(&w);
}
END_TEST

Suite *watch_suite(void)
{
	Suite *s = suite_create("watch");
	TCase *tc = tcase_create("events");

	tcase_add_unchecked_fixture(tc, make_base, remove_base);
	tcase_add_test(tc, a_file_written_in_place_is_incomplete_until_closed);
	tcase_add_test(tc, a_file_created_is_incomplete_before_its_first_write);
	tcase_add_test(tc, a_file_renamed_into_place_is_complete);
	tcase_add_test(tc, one_open_file_among_closed_ones_still_holds_back);
	tcase_add_test(tc, a_file_removed_or_moved_away_while_written_is_no_longer_waited_for);
	tcase_add_test(tc, hidden_files_written_are_no_change);
	tcase_add_test(tc, configmap_swap_is_complete_at_once);
	tcase_add_test(tc, watching_one_file_ignores_its_neighbours);
	tcase_add_test(tc, the_directory_moving_away_forgets_open_files);
	suite_add_tcase(s, tc);
	return s;
}
