// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * One kanary per test binary.  A load is mostly the verifier's work, about
 * 1.5 s, and was most of the bpf suite's time when every test loaded its
 * own.  kt_main loads one instance before the tests (in a mount and net
 * namespace of its own) and keeps a copy of everything it holds; each
 * test's setup puts it back as it was just after that load:
 *
 *  - every pin in its directory is the loaded object again (a test may
 *    have unloaded it, loaded over it or reloaded it with other options),
 *    and no other pin is left there;
 *  - every map's contents are the loaded ones: arrays written back whole,
 *    hash and LRU maps emptied and refilled, queues popped, the mirror
 *    ring consumed; the programs' .bss too.
 *
 * So a test starts as on a fresh load, but for what no map holds: the
 * hash seed is the same for every test, and an LRU map keeps the free
 * lists of its earlier entries.
 */
#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <check.h>
#include "fixture.h"
#include "fixture_shared.h"
#include "kanary/tcp_stats.h"

#define MAX_OBJS	64

/* A pinned map or program, or the .bss, with the map's contents at load. */
struct saved {
	char name[NAME_MAX + 1];	/* its pin's name; "" for the .bss */
	int fd;
	bool prog;
	struct bpf_map_info info;
	__u32 value_size;		/* per-CPU maps: one value for every CPU */
	__u32 n;			/* entries kept */
	void *keys, *values;
};

static struct {
	char dir[PATH_MAX];
	struct saved obj[MAX_OBJS];
	int n;
} shared;

static bool per_cpu(__u32 type)
{
	return type == BPF_MAP_TYPE_PERCPU_ARRAY || type == BPF_MAP_TYPE_PERCPU_HASH ||
	       type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

static bool is_array(__u32 type)
{
	return type == BPF_MAP_TYPE_ARRAY || type == BPF_MAP_TYPE_PERCPU_ARRAY;
}

static bool is_hash(__u32 type)
{
	return type == BPF_MAP_TYPE_HASH || type == BPF_MAP_TYPE_LRU_HASH ||
	       type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

/* Every entry of an array or hash map, by batches; -errno on failure. */
static int read_all(struct saved *s)
{
	__u32 cap = s->info.max_entries, batch, count;
	void *in = NULL;
	__u32 token;
	int err = 0;

	s->keys = calloc(cap, s->info.key_size);
	s->values = calloc(cap, s->value_size);
	if (!s->keys || !s->values)
		return -ENOMEM;
	s->n = 0;
	for (;;) {
		count = cap - s->n;
		if (!count)
			break;
		err = bpf_map_lookup_batch(s->fd, in, &batch, (char *)s->keys + (size_t)s->n * s->info.key_size,
					   (char *)s->values + (size_t)s->n * s->value_size, &count, NULL);
		if (err && errno != ENOENT)
			return -errno;
		s->n += count;
		if (err)
			break;	/* ENOENT: that was the last batch */
		token = batch;
		in = &token;
	}
	return 0;
}

static int save(const char *name, int fd, bool prog)
{
	struct saved *s;
	__u32 len;
	int err;

	if (shared.n == MAX_OBJS)
		return -E2BIG;
	s = &shared.obj[shared.n++];
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->fd = fd;
	s->prog = prog;
	if (prog)
		return 0;
	len = sizeof(s->info);
	err = bpf_obj_get_info_by_fd(fd, &s->info, &len);
	if (err)
		return err;
	s->value_size = s->info.value_size;
	if (per_cpu(s->info.type))
		s->value_size = ((s->info.value_size + 7) & ~7u) * (__u32)libbpf_num_possible_cpus();
	if (is_array(s->info.type) || is_hash(s->info.type))
		return read_all(s);
	/* Queues and the ring are empty after a load; nothing else is expected. */
	if (s->info.type == BPF_MAP_TYPE_QUEUE || s->info.type == BPF_MAP_TYPE_RINGBUF)
		return 0;
	fprintf(stderr, "kt_shared: map %s of type %u: no way to restore it\n", name, s->info.type);
	return -ENOTSUP;
}

/* The .bss of the programs (kanary_ct_seen_now): not pinned, found through the ingress program. */
static int save_bss(int prog_fd)
{
	struct bpf_prog_info info = {};
	__u32 ids[32], len = sizeof(info);
	int err;

	info.nr_map_ids = 32;
	info.map_ids = (__u64)(unsigned long)ids;
	err = bpf_obj_get_info_by_fd(prog_fd, &info, &len);
	if (err)
		return err;
	for (__u32 i = 0; i < info.nr_map_ids && i < 32; i++) {
		struct bpf_map_info mi = {};
		__u32 mlen = sizeof(mi);
		int fd = bpf_map_get_fd_by_id(ids[i]);

		if (fd < 0)
			return -errno;
		if (!bpf_obj_get_info_by_fd(fd, &mi, &mlen) && strstr(mi.name, ".bss"))
			return save("", fd, false);
		close(fd);
	}
	return 0;
}

int kt_shared_load(const char *base)
{
	struct kanary_load_opts lo = { .cgroup = KANARY_CGROUP_NONE };
	struct kanary_err e = { 0 };
	char path[PATH_MAX + NAME_MAX + 2];
	struct dirent *d;
	int err = 0, fd, ingress = -1;
	DIR *dir;

	snprintf(shared.dir, sizeof(shared.dir), "%s/shared", base);
	if (mkdir(shared.dir, 0700) || mount("bpf", shared.dir, "bpf", 0, NULL)) {
		fprintf(stderr, "kt_shared: bpffs at %s: %s\n", shared.dir, strerror(errno));
		return -errno;
	}
	if (kanary_load(shared.dir, &lo, &e)) {
		fprintf(stderr, "kt_shared: kanary_load(%s): %s\n", shared.dir, e.msg);
		return -EIO;
	}
	dir = opendir(shared.dir);
	if (!dir)
		return -errno;
	while (!err && (d = readdir(dir))) {
		snprintf(path, sizeof(path), "%s/%s", shared.dir, d->d_name);
		fd = d->d_name[0] == '.' ? -1 : bpf_obj_get(path);
		if (fd < 0)
			continue;	/* ., .., and bpffs's own maps.debug and progs.debug */
		if (!strcmp(d->d_name, KANARY_PROG_INGRESS))
			ingress = fd;
		err = save(d->d_name, fd, !strcmp(d->d_name, KANARY_PROG_INGRESS) ||
				   !strcmp(d->d_name, KANARY_PROG_EGRESS) ||
				   !strcmp(d->d_name, KANARY_PROG_SOCKOPS));
	}
	closedir(dir);
	if (!err)
		err = ingress < 0 ? -ENOENT : save_bss(ingress);
	if (err)
		fprintf(stderr, "kt_shared: keeping a copy of %s: %s\n", shared.dir, strerror(-err));
	return err;
}

const char *kt_shared_dir(void)
{
	return shared.n ? shared.dir : NULL;
}

static const struct saved *saved_named(const char *name)
{
	for (int i = 0; i < shared.n; i++)
		if (shared.obj[i].name[0] && !strcmp(shared.obj[i].name, name))
			return &shared.obj[i];
	return NULL;
}

/* The directory holds the loaded objects under their names, and no other pin. */
static void restore_pins(void)
{
	char path[PATH_MAX + NAME_MAX + 2];
	struct dirent *d;
	DIR *dir = opendir(shared.dir);
	int fd;

	ck_assert_msg(dir, "opendir %s: %s", shared.dir, strerror(errno));
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.' || saved_named(d->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", shared.dir, d->d_name);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		close(fd);
		ck_assert_msg(unlink(path) == 0, "unlink %s: %s", path, strerror(errno));
	}
	closedir(dir);
	for (int i = 0; i < shared.n; i++) {
		const struct saved *s = &shared.obj[i];

		if (!s->name[0])
			continue;
		snprintf(path, sizeof(path), "%s/%s", shared.dir, s->name);
		ck_assert_msg(!unlink(path) || errno == ENOENT, "unlink %s: %s", path, strerror(errno));
		ck_assert_msg(bpf_obj_pin(s->fd, path) == 0, "pin %s: %s", path, strerror(errno));
	}
}

/* Deletes every entry, by batches (a conntrack test leaves 100,000s). */
static void empty_hash(const struct saved *s)
{
	__u32 chunk = 4096, count, batch, token;
	void *keys = calloc(chunk, s->info.key_size), *values = calloc(chunk, s->value_size);
	void *in = NULL;
	int err;

	ck_assert(keys && values);
	do {
		count = chunk;
		err = bpf_map_lookup_and_delete_batch(s->fd, in, &batch, keys, values, &count, NULL);
		ck_assert_msg(!err || errno == ENOENT, "emptying %s: %s", s->name, strerror(errno));
		token = batch;
		in = &token;
	} while (!err);
	/* What a timer added behind the batches (the sweeper runs on its own): one by one. */
	while (!bpf_map_get_next_key(s->fd, NULL, keys))
		ck_assert_msg(!bpf_map_delete_elem(s->fd, keys) || errno == ENOENT,
			      "delete in %s: %s", s->name, strerror(errno));
	free(keys);
	free(values);
}

static int discard(void *ctx, void *data, size_t size)
{
	(void)ctx, (void)data, (void)size;
	return 0;
}

static void restore_map(const struct saved *s)
{
	__u32 n = s->n;
	void *value;

	if (is_hash(s->info.type))
		empty_hash(s);
	if (is_array(s->info.type) || is_hash(s->info.type)) {
		if (n)
			ck_assert_msg(bpf_map_update_batch(s->fd, s->keys, s->values, &n, NULL) == 0 &&
					      n == s->n,
				      "writing %s back: %s (%u of %u)", s->name, strerror(errno), n, s->n);
		return;
	}
	if (s->info.type == BPF_MAP_TYPE_QUEUE) {
		value = malloc(s->value_size);
		ck_assert(value);
		while (!bpf_map_lookup_and_delete_elem(s->fd, NULL, value))
			;
		free(value);
	} else if (s->info.type == BPF_MAP_TYPE_RINGBUF) {
		struct ring_buffer *rb = ring_buffer__new(s->fd, discard, NULL, NULL);

		ck_assert_msg(rb, "ring %s: %s", s->name, strerror(errno));
		ring_buffer__consume(rb);
		ring_buffer__free(rb);
	}
}

void kt_shared_restore(void)
{
	restore_pins();
	for (int i = 0; i < shared.n; i++)
		if (!shared.obj[i].prog)
			restore_map(&shared.obj[i]);
}
