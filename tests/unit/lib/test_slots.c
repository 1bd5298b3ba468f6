// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The backend map holds each committed service once: the slot a commit
 * switched away from is freed (kanary_slots_release) after a grace period.
 * Before, both slots stayed filled, so a map sized for the live backends
 * refused the second of two commits.  On a kanary of its own, loaded with
 * a small backend map, inside the fixture's private mount namespace.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "fixture.h"
#include "internal.h"

#define SMALL_BACKENDS	64
#define PER_SERVICE	20	/* two services: 40 live backends, 80 if both slots stay */

static char small_dir[PATH_MAX + 16];
static struct kanary_maps small;

static void small_load(void)
{
	struct kanary_load_opts lo = { .ct_size = 1024, .max_services = 8,
				       .max_backends = SMALL_BACKENDS, .cgroup = KANARY_CGROUP_NONE };
	struct kanary_err e = { 0 };

	snprintf(small_dir, sizeof(small_dir), "%s.small", kt.dir);
	ck_assert_msg(mkdir(small_dir, 0700) == 0, "mkdir %s: %s", small_dir, strerror(errno));
	ck_assert_msg(mount("bpf", small_dir, "bpf", 0, NULL) == 0, "mount bpffs: %s", strerror(errno));
	ck_assert_msg(kanary_load(small_dir, &lo, &e) == 0, "load: %s", e.msg);
	ck_assert_msg(kanary_maps_open(&small, small_dir, &e) == 0, "open: %s", e.msg);
}

static void small_unload(void)
{
	kanary_maps_close(&small);
	umount2(small_dir, MNT_DETACH);
	rmdir(small_dir);
}

/* Entries of the backend map, counted by walking its keys. */
static __u32 backends_in_map(int fd)
{
	struct kanary_backend_key k, next;
	__u32 n = 0;
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		k = next;
		prev = &k;
		n++;
	}
	return n;
}

/* Service name at 10.96.0.(10+i):80 with PER_SERVICE backends numbered from base. */
static void commit_service(struct kanary_service *s, const char *name, __u32 i, __u32 base,
			   bool create)
{
	struct kanary_err e = { 0 };
	struct kanary_svc_key key = { .port = htons(80), .proto = IPPROTO_TCP };

	if (create) {
		kanary_addr_from_v4(&key.vip, htonl(0x0a60000a + i));
		ck_assert_msg(kanary_service_add(&small, name, &key, &e) == 0, "add: %s", e.msg);
	}
	ck_assert_msg(kanary_service_get(&small, name, s, &e) == 0, "get: %s", e.msg);
	if (create)
		ck_assert_int_eq(kanary_subset_find(s, "stable", true, &e), 0);
	s->cfg.subsets[0].n_backends = PER_SERVICE;
	for (__u32 j = 0; j < PER_SERVICE; j++) {
		memset(&s->backends[0][j], 0, sizeof(s->backends[0][j]));
		kanary_addr_from_v4(&s->backends[0][j].addr, htonl(0x0a010000 + base + j));
		s->backends[0][j].port = htons(8080);
	}
	ck_assert_msg(kanary_service_commit(&small, s, &e) == 0,
		      "commit of %s with %u backends (map of %u, %u in it): %s", name, PER_SERVICE,
		      SMALL_BACKENDS, backends_in_map(small.be), e.msg);
}

/* Two services filling most of the map; each changed twice; both commits must fit. */
START_TEST(second_commit_fits_a_map_sized_for_live_backends)
{
	struct kanary_service *s = calloc(1, sizeof(*s));
	struct kanary_err e = { 0 };

	ck_assert_ptr_nonnull(s);
	small_load();
	commit_service(s, "a", 0, 0, true);
	commit_service(s, "b", 1, 100, true);
	ck_assert_uint_eq(backends_in_map(small.be), 2 * PER_SERVICE);
	for (__u32 round = 1; round <= 2; round++) {
		commit_service(s, "a", 0, 1000 * round, false);
		commit_service(s, "b", 1, 1000 * round + 100, false);
	}
	/* After the batch, only the live slots are left. */
	ck_assert_int_eq(kanary_slots_release(&small, &e), 0);
	ck_assert_uint_eq(backends_in_map(small.be), 2 * PER_SERVICE);
	/* And the live slot holds what the last commit wrote. */
	ck_assert_msg(kanary_service_get(&small, "b", s, &e) == 0, "get: %s", e.msg);
	ck_assert_uint_eq(s->cfg.subsets[0].n_backends, PER_SERVICE);
	ck_assert_uint_eq(ntohl(s->backends[0][0].addr.w[3]), 0x0a010000 + 2100);
	free(s);
	small_unload();
}
END_TEST

/* One service committed back and forth in one batch: its live slot is never released. */
START_TEST(release_keeps_a_slot_that_is_live_again)
{
	struct kanary_service *s = calloc(1, sizeof(*s));
	struct kanary_err e = { 0 };

	ck_assert_ptr_nonnull(s);
	small_load();
	commit_service(s, "a", 0, 0, true);
	for (__u32 round = 1; round <= 4; round++)
		commit_service(s, "a", 0, 1000 * round, false);
	ck_assert_int_eq(kanary_slots_release(&small, &e), 0);
	ck_assert_uint_eq(backends_in_map(small.be), PER_SERVICE);
	ck_assert_msg(kanary_service_get(&small, "a", s, &e) == 0, "get: %s", e.msg);
	ck_assert_uint_eq(ntohl(s->backends[0][PER_SERVICE - 1].addr.w[3]),
			  0x0a010000 + 4000 + PER_SERVICE - 1);
	free(s);
	small_unload();
}
END_TEST

static struct kanary_svc_key key_of(__u32 i)
{
	struct kanary_svc_key key = { .port = htons(80), .proto = IPPROTO_TCP };

	kanary_addr_from_v4(&key.vip, htonl(0x0a60000a + i));
	return key;
}

/* name, read at its VIP:port without the name index, committed with PER_SERVICE backends from base. */
static void commit_at(struct kanary_service *s, const char *name, __u32 i, __u32 base)
{
	struct kanary_svc_key key = key_of(i);
	struct kanary_err e = { 0 };

	ck_assert_msg(kanary_service_get_at(&small, name, &key, s, &e) == 0, "get at: %s", e.msg);
	ck_assert_str_eq(s->cfg.name, name);
	for (__u32 j = 0; j < PER_SERVICE; j++)
		kanary_addr_from_v4(&s->backends[0][j].addr, htonl(0x0a010000 + base + j));
	ck_assert_msg(kanary_service_commit(&small, s, &e) == 0, "commit of %s: %s", name, e.msg);
}

static void reopen_small(void)
{
	struct kanary_err e = { 0 };

	kanary_maps_close(&small);
	ck_assert_msg(kanary_maps_open(&small, small_dir, &e) == 0, "open: %s", e.msg);
}

/*
 * kanaryd's partial pass: services read at their VIP:port, committed back
 * and forth, released, and not one of them costs the index of every
 * service; the live slots stay, the others go.
 */
START_TEST(read_at_key_and_release_without_the_index)
{
	struct kanary_service *s = calloc(1, sizeof(*s));
	struct kanary_svc_key elsewhere = key_of(1);
	struct kanary_err e = { 0 };

	ck_assert_ptr_nonnull(s);
	small_load();
	commit_service(s, "a", 0, 0, true);
	commit_service(s, "b", 1, 100, true);
	reopen_small();
	for (__u32 round = 1; round <= 3; round++) {
		commit_at(s, "a", 0, 1000 * round);
		commit_at(s, "b", 1, 1000 * round + 100);
	}
	ck_assert_ptr_null(small.index);
	ck_assert_int_eq(kanary_slots_release(&small, &e), 0);
	ck_assert_ptr_null(small.index);
	ck_assert_uint_eq(backends_in_map(small.be), 2 * PER_SERVICE);
	/* Not at the key given: found by name all the same (with the index). */
	ck_assert_msg(kanary_service_get_at(&small, "a", &elsewhere, s, &e) == 0, "get: %s", e.msg);
	ck_assert_str_eq(s->cfg.name, "a");
	ck_assert_uint_eq(ntohl(s->backends[0][0].addr.w[3]), 0x0a010000 + 3000);
	ck_assert_int_eq(kanary_service_get_at(&small, "gone", &elsewhere, s, &e), -ENOENT);
	free(s);
	small_unload();
}
END_TEST

/*
 * A service deleted and its id taken by a new one within one open: the
 * new service is created in slot 0, which the old one's commit retired.
 * Released without the index, the slot is judged by what it holds now,
 * and kept.
 */
START_TEST(release_without_the_index_keeps_a_reused_ids_live_slot)
{
	struct kanary_service *s = calloc(1, sizeof(*s));
	struct kanary_err e = { 0 };
	__u32 id;

	ck_assert_ptr_nonnull(s);
	small_load();
	commit_service(s, "a", 0, 0, true);		/* added in slot 0, committed to 1: 0 retired */
	id = s->id;
	ck_assert_int_eq(kanary_service_del(&small, "a", &e), 0);
	/* c, created whole with its backends: commit_new writes slot 0 of a's id. */
	memset(s, 0, sizeof(*s));
	strcpy(s->cfg.name, "c");
	s->cfg.key = key_of(2);
	ck_assert_int_eq(kanary_subset_find(s, "stable", true, &e), 0);
	s->cfg.subsets[0].n_backends = PER_SERVICE;
	for (__u32 j = 0; j < PER_SERVICE; j++) {
		kanary_addr_from_v4(&s->backends[0][j].addr, htonl(0x0a010000 + 3000 + j));
		s->backends[0][j].port = htons(8080);
	}
	ck_assert_msg(kanary_service_commit(&small, s, &e) == 0, "create c: %s", e.msg);
	ck_assert_uint_eq(s->id, id);
	ck_assert_uint_eq(s->slot, 0);
	ck_assert(kanary_slot_retired(&small, id, 0));
	kanary_index_drop(&small);
	ck_assert_int_eq(kanary_slots_release(&small, &e), 0);
	ck_assert_ptr_null(small.index);
	ck_assert_uint_eq(backends_in_map(small.be), PER_SERVICE);
	ck_assert_msg(kanary_service_get(&small, "c", s, &e) == 0, "get: %s", e.msg);
	ck_assert_uint_eq(ntohl(s->backends[0][0].addr.w[3]), 0x0a010000 + 3000);
	free(s);
	small_unload();
}
END_TEST

Suite *slots_suite(void)
{
	Suite *s = suite_create("slots");
	TCase *t = kt_tcase("release", 60);

	tcase_add_test(t, second_commit_fits_a_map_sized_for_live_backends);
	tcase_add_test(t, release_keeps_a_slot_that_is_live_again);
	tcase_add_test(t, read_at_key_and_release_without_the_index);
	tcase_add_test(t, release_without_the_index_keeps_a_reused_ids_live_slot);
	suite_add_tcase(s, t);
	return s;
}
