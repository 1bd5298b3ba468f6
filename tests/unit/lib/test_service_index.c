// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libkanary's service index: the in-memory name -> id table and free-id
 * allocator on its own (no BPF), then through kanary_service_* on real
 * maps: id reuse, a full instance, name and address collisions, an index
 * rebuilt from the maps, and maps changed behind the index's back.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include "fixture.h"
#include "internal.h"

Suite *service_index_suite(void);

static struct kanary_svc_key key_n(__u32 n)
{
	struct kanary_svc_key k;

	memset(&k, 0, sizeof(k));
	kanary_addr_from_v4(&k.vip, htonl(0x0a600000 + n));	/* 10.96.x.y */
	k.port = htons(80);
	k.proto = IPPROTO_TCP;
	return k;
}

static const char *name_n(char *buf, size_t len, __u32 n)
{
	snprintf(buf, len, "ns/svc-%u", n);
	return buf;
}

/* ---- the table alone ---- */

START_TEST(index_add_find_del)
{
	struct kanary_name_index *x = kanary_name_index_new(16, 0);
	struct kanary_svc_key k = key_n(1);
	__u32 id = 99;

	ck_assert_ptr_nonnull(x);
	ck_assert_int_eq(kanary_name_index_find(x, "web", &id), -ENOENT);
	ck_assert_int_eq(kanary_name_index_add(x, 5, "web", &k), 0);
	ck_assert_int_eq(kanary_name_index_find(x, "web", &id), 0);
	ck_assert_uint_eq(id, 5);
	ck_assert_mem_eq(kanary_name_index_key(x, 5), &k, sizeof(k));
	ck_assert(kanary_name_index_used(x, 5));
	ck_assert_uint_eq(kanary_name_index_count(x), 1);
	/* A prefix or an extension of a name is another name. */
	ck_assert_int_eq(kanary_name_index_find(x, "we", &id), -ENOENT);
	ck_assert_int_eq(kanary_name_index_find(x, "web2", &id), -ENOENT);

	ck_assert_int_eq(kanary_name_index_del(x, 5), 0);
	ck_assert_int_eq(kanary_name_index_find(x, "web", &id), -ENOENT);
	ck_assert(!kanary_name_index_used(x, 5));
	ck_assert_ptr_null(kanary_name_index_key(x, 5));
	ck_assert_int_eq(kanary_name_index_del(x, 5), -ENOENT);
	ck_assert_uint_eq(kanary_name_index_count(x), 0);
	/* The name is free again, under another id. */
	ck_assert_int_eq(kanary_name_index_add(x, 7, "web", &k), 0);
	ck_assert_int_eq(kanary_name_index_find(x, "web", &id), 0);
	ck_assert_uint_eq(id, 7);
	free(x);
}
END_TEST

START_TEST(index_rejects)
{
	struct kanary_name_index *x = kanary_name_index_new(4, 0);
	struct kanary_svc_key k = key_n(1);
	char longest[KANARY_NAME_LEN], too_long[KANARY_NAME_LEN + 1];
	__u32 id;

	ck_assert_ptr_nonnull(x);
	memset(longest, 'a', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	memset(too_long, 'a', sizeof(too_long) - 1);
	too_long[sizeof(too_long) - 1] = '\0';

	ck_assert_int_eq(kanary_name_index_add(x, 0, "web", &k), 0);
	ck_assert_int_eq(kanary_name_index_add(x, 1, "web", &k), -EEXIST);
	ck_assert_int_eq(kanary_name_index_add(x, 0, "other", &k), -EBUSY);
	ck_assert_int_eq(kanary_name_index_add(x, 4, "other", &k), -ERANGE);
	ck_assert_int_eq(kanary_name_index_add(x, 1, "", &k), -EINVAL);
	ck_assert_int_eq(kanary_name_index_add(x, 1, too_long, &k), -EINVAL);
	ck_assert_int_eq(kanary_name_index_find(x, too_long, &id), -ENOENT);
	/* Failed adds took nothing. */
	ck_assert(!kanary_name_index_used(x, 1));
	ck_assert_uint_eq(kanary_name_index_count(x), 1);
	ck_assert_int_eq(kanary_name_index_add(x, 1, longest, &k), 0);
	ck_assert_int_eq(kanary_name_index_find(x, longest, &id), 0);
	ck_assert_uint_eq(id, 1);
	ck_assert_int_eq(kanary_name_index_take(x, 1), -EBUSY);
	ck_assert_int_eq(kanary_name_index_take(x, 9), -ERANGE);
	free(x);
	ck_assert_ptr_null(kanary_name_index_new(0, 0));
	ck_assert_ptr_null(kanary_name_index_new(KANARY_NAME_INDEX_MAX_IDS + 1, 0));
}
END_TEST

START_TEST(index_lowest_free_id)
{
	struct kanary_name_index *x = kanary_name_index_new(8, 0);
	__u32 id;

	ck_assert_ptr_nonnull(x);
	for (__u32 i = 0; i < 8; i++) {
		ck_assert_int_eq(kanary_name_index_free_id(x, &id), 0);
		ck_assert_uint_eq(id, i);
		/* Asking again without taking it gives the same id. */
		ck_assert_int_eq(kanary_name_index_free_id(x, &id), 0);
		ck_assert_uint_eq(id, i);
		ck_assert_int_eq(kanary_name_index_take(x, id), 0);
	}
	ck_assert_int_eq(kanary_name_index_free_id(x, &id), -ENOSPC);
	ck_assert_int_eq(kanary_name_index_del(x, 6), 0);
	ck_assert_int_eq(kanary_name_index_del(x, 2), 0);
	ck_assert_int_eq(kanary_name_index_free_id(x, &id), 0);
	ck_assert_uint_eq(id, 2);
	ck_assert_int_eq(kanary_name_index_take(x, 2), 0);
	ck_assert_int_eq(kanary_name_index_free_id(x, &id), 0);
	ck_assert_uint_eq(id, 6);
	ck_assert_int_eq(kanary_name_index_take(x, 6), 0);
	ck_assert_int_eq(kanary_name_index_free_id(x, &id), -ENOSPC);
	free(x);
}
END_TEST

/* One bucket: every name collides, so chains are long and unlinked in the middle. */
START_TEST(index_collisions)
{
	struct kanary_name_index *x = kanary_name_index_new(64, 1);
	struct kanary_svc_key k;
	char name[32];
	__u32 id;

	ck_assert_ptr_nonnull(x);
	for (__u32 i = 0; i < 64; i++) {
		k = key_n(i);
		ck_assert_int_eq(kanary_name_index_add(x, i, name_n(name, sizeof(name), i), &k), 0);
	}
	/* Head, tail and middle of the chain. */
	for (__u32 i = 0; i < 64; i += 3)
		ck_assert_int_eq(kanary_name_index_del(x, i), 0);
	ck_assert_int_eq(kanary_name_index_del(x, 62), 0);
	for (__u32 i = 0; i < 64; i++) {
		bool gone = i % 3 == 0 || i == 62;
		int rc = kanary_name_index_find(x, name_n(name, sizeof(name), i), &id);

		if (gone) {
			ck_assert_msg(rc == -ENOENT, "%s found after its delete", name);
			continue;
		}
		ck_assert_msg(rc == 0, "%s lost from the chain", name);
		ck_assert_uint_eq(id, i);
		k = key_n(i);
		ck_assert_mem_eq(kanary_name_index_key(x, i), &k, sizeof(k));
	}
	free(x);
}
END_TEST

/*
 * Random adds and deletes against a plain array, with few buckets so chains
 * form: every name resolves to the id the array has, and the free id is the
 * lowest one the array has free.
 */
START_TEST(index_matches_a_plain_array)
{
	enum { IDS = 200, NAMES = 300, OPS = 20000 };
	struct kanary_name_index *x = kanary_name_index_new(IDS, 16);
	int owner[IDS];		/* name number held by each id, or -1 */
	struct kanary_svc_key k = key_n(0);
	unsigned seed = 12345;
	char name[32];
	__u32 id;

	ck_assert_ptr_nonnull(x);
	for (int i = 0; i < IDS; i++)
		owner[i] = -1;
	for (int op = 0; op < OPS; op++) {
		int n = rand_r(&seed) % NAMES, at = -1, lowest = -1;

		for (int i = 0; i < IDS; i++) {
			if (owner[i] == n)
				at = i;
			if (owner[i] < 0 && lowest < 0)
				lowest = i;
		}
		name_n(name, sizeof(name), (__u32)n);
		if (at >= 0) {
			ck_assert_int_eq(kanary_name_index_find(x, name, &id), 0);
			ck_assert_uint_eq(id, (__u32)at);
			ck_assert_int_eq(kanary_name_index_del(x, id), 0);
			owner[at] = -1;
			continue;
		}
		ck_assert_int_eq(kanary_name_index_find(x, name, &id), -ENOENT);
		if (lowest < 0) {
			ck_assert_int_eq(kanary_name_index_free_id(x, &id), -ENOSPC);
			continue;
		}
		ck_assert_int_eq(kanary_name_index_free_id(x, &id), 0);
		ck_assert_uint_eq(id, (__u32)lowest);
		ck_assert_int_eq(kanary_name_index_add(x, id, name, &k), 0);
		owner[id] = n;
	}
	free(x);
}
END_TEST

/* ---- through libkanary, on maps ---- */

static int add(struct kanary_maps *m, const char *name, __u32 n, struct kanary_err *e)
{
	struct kanary_svc_key k = key_n(n);

	return kanary_service_add(m, name, &k, e);
}

static __u32 id_of(struct kanary_maps *m, const char *name)
{
	struct kanary_service *s = calloc(1, sizeof(*s));
	struct kanary_err e = {};
	__u32 id;

	ck_assert_ptr_nonnull(s);
	ck_assert_msg(kanary_service_get(m, name, s, &e) == 0, "get %s: %s", name, e.msg);
	ck_assert_str_eq(s->cfg.name, name);
	id = s->id;
	free(s);
	return id;
}

static int get_rc(struct kanary_maps *m, const char *name)
{
	struct kanary_service *s = calloc(1, sizeof(*s));
	struct kanary_err e = {};
	int rc;

	ck_assert_ptr_nonnull(s);
	rc = kanary_service_get(m, name, s, &e);
	free(s);
	return rc;
}

static void must(int rc, const char *what, const struct kanary_err *e)
{
	ck_assert_msg(rc == 0, "%s: %s", what, e->msg);
}

START_TEST(service_ids_reused_lowest_first)
{
	struct kanary_err e = {};

	must(add(&kt.maps, "a", 1, &e), "add a", &e);
	must(add(&kt.maps, "b", 2, &e), "add b", &e);
	must(add(&kt.maps, "c", 3, &e), "add c", &e);
	ck_assert_uint_eq(id_of(&kt.maps, "a"), 0);
	ck_assert_uint_eq(id_of(&kt.maps, "b"), 1);
	ck_assert_uint_eq(id_of(&kt.maps, "c"), 2);
	must(kanary_service_del(&kt.maps, "b", &e), "del b", &e);
	ck_assert_int_eq(get_rc(&kt.maps, "b"), -ENOENT);
	must(add(&kt.maps, "d", 4, &e), "add d", &e);
	ck_assert_uint_eq(id_of(&kt.maps, "d"), 1);
	must(add(&kt.maps, "e", 5, &e), "add e", &e);
	ck_assert_uint_eq(id_of(&kt.maps, "e"), 3);
	/* A deleted name can come back, at the lowest free id. */
	must(kanary_service_del(&kt.maps, "a", &e), "del a", &e);
	must(add(&kt.maps, "b", 2, &e), "add b again", &e);
	ck_assert_uint_eq(id_of(&kt.maps, "b"), 0);
}
END_TEST

START_TEST(service_name_and_address_collisions)
{
	struct kanary_err e = {};

	must(add(&kt.maps, "web", 1, &e), "add web", &e);
	ck_assert_int_eq(add(&kt.maps, "web", 2, &e), -EEXIST);
	ck_assert_ptr_nonnull(strstr(e.msg, "service 'web' already exists"));
	ck_assert_int_eq(add(&kt.maps, "web2", 1, &e), -EEXIST);
	ck_assert_msg(strstr(e.msg, "is already service 'web'"), "message: %s", e.msg);
	/* The failed adds used no id. */
	must(add(&kt.maps, "web2", 2, &e), "add web2", &e);
	ck_assert_uint_eq(id_of(&kt.maps, "web2"), 1);
	must(kanary_service_del(&kt.maps, "web", &e), "del web", &e);
	ck_assert_int_eq(kanary_service_del(&kt.maps, "web", &e), -ENOENT);
	must(add(&kt.maps, "web", 3, &e), "add web again", &e);
	ck_assert_uint_eq(id_of(&kt.maps, "web"), 0);
}
END_TEST

struct visit {
	__u32 n, last_id;
	bool in_order;
};

static int visit_one(const struct kanary_service *s, void *ctx)
{
	struct visit *v = ctx;
	char want[32];

	if (v->n && s->id <= v->last_id)
		v->in_order = false;
	ck_assert_str_eq(s->cfg.name, name_n(want, sizeof(want), s->id));
	v->last_id = s->id;
	v->n++;
	return 0;
}

/* Every id of the default instance, then holes, then an index rebuilt from the maps. */
START_TEST(service_many_to_the_limit)
{
	__u32 max = kt.maps.max_services;
	struct visit v = { .in_order = true };
	struct kanary_err e = {};
	char name[32];
	__u32 freed = 0;

	ck_assert_uint_ge(max, 1000);
	for (__u32 i = 0; i < max; i++)
		must(add(&kt.maps, name_n(name, sizeof(name), i), i, &e), name, &e);
	ck_assert_int_eq(add(&kt.maps, "one-too-many", max, &e), -ENOSPC);
	ck_assert_ptr_nonnull(strstr(e.msg, "service ids are in use"));
	for (__u32 i = 0; i < max; i += 97)
		ck_assert_uint_eq(id_of(&kt.maps, name_n(name, sizeof(name), i)), i);
	must(kanary_service_foreach(&kt.maps, visit_one, &v, &e), "foreach", &e);
	ck_assert_uint_eq(v.n, max);
	ck_assert(v.in_order);

	/* Holes, refilled lowest first. */
	for (__u32 i = 5; i < max; i += 301, freed++)
		must(kanary_service_del(&kt.maps, name_n(name, sizeof(name), i), &e), name, &e);
	for (__u32 i = 5; i < max; i += 301) {
		must(add(&kt.maps, name_n(name, sizeof(name), i), i, &e), name, &e);
		ck_assert_uint_eq(id_of(&kt.maps, name), i);
	}
	ck_assert_uint_gt(freed, 10);

	/* A fresh open builds the index from the maps alone. */
	kanary_maps_close(&kt.maps);
	must(kanary_maps_open(&kt.maps, kt.dir, &e), "reopen", &e);
	for (__u32 i = 0; i < max; i++)
		ck_assert_uint_eq(id_of(&kt.maps, name_n(name, sizeof(name), i)), i);
	ck_assert_int_eq(add(&kt.maps, "one-too-many", max, &e), -ENOSPC);
	must(kanary_service_del(&kt.maps, name_n(name, sizeof(name), max / 2), &e), "del", &e);
	must(add(&kt.maps, "one-more", max, &e), "add one-more", &e);
	ck_assert_uint_eq(id_of(&kt.maps, "one-more"), max / 2);
}
END_TEST

struct same {
	__u32 n;
	struct kanary_service *got;
};

static int same_as_get(const struct kanary_service *s, void *ctx)
{
	struct same *x = ctx;
	struct kanary_err e = {};

	ck_assert_msg(kanary_service_get(&kt.maps, s->cfg.name, x->got, &e) == 0, "get %s: %s",
		      s->cfg.name, e.msg);
	ck_assert_msg(memcmp(s, x->got, sizeof(*s)) == 0,
		      "foreach gave service %s other bytes than kanary_service_get", s->cfg.name);
	x->n++;
	return 0;
}

/*
 * foreach reuses one buffer and clears only what the previous service
 * used: a service after a bigger one must not inherit its backends.
 */
START_TEST(service_foreach_equals_get)
{
	const __u32 w[] = { 60000, 30000, 10000 };
	const int big[] = { 5, 3, 2 }, small[] = { 1 }, none[] = { 0, 0 };
	struct same x = { .got = calloc(1, sizeof(*x.got)) };
	struct kanary_err e = {};

	ck_assert_ptr_nonnull(x.got);
	kt_service_create("big", KT_VIP, 80, 3, w, big);
	kt_service_create("small", KT_VIP + 1, 80, 1, w, small);
	kt_service_create("empty", KT_VIP + 2, 80, 2, w, none);
	kt_service_create("big2", KT_VIP + 3, 80, 3, w, big);
	must(kanary_service_foreach(&kt.maps, same_as_get, &x, &e), "foreach", &e);
	ck_assert_uint_eq(x.n, 4);
	free(x.got);
}
END_TEST

/* What another opener changed is seen by the next open: nothing outlives a close. */
START_TEST(service_changes_seen_across_opens)
{
	struct kanary_maps other;
	struct kanary_err e = {};

	must(add(&kt.maps, "a", 1, &e), "add a", &e);
	must(add(&kt.maps, "b", 2, &e), "add b", &e);
	ck_assert_uint_eq(id_of(&kt.maps, "b"), 1);
	kanary_maps_close(&kt.maps);

	must(kanary_maps_open(&other, kt.dir, &e), "open other", &e);
	must(kanary_service_del(&other, "a", &e), "del a", &e);
	must(add(&other, "c", 3, &e), "add c", &e);
	kanary_maps_close(&other);

	must(kanary_maps_open(&kt.maps, kt.dir, &e), "reopen", &e);
	ck_assert_int_eq(get_rc(&kt.maps, "a"), -ENOENT);
	ck_assert_uint_eq(id_of(&kt.maps, "c"), 0);
	ck_assert_uint_eq(id_of(&kt.maps, "b"), 1);
	must(add(&kt.maps, "d", 4, &e), "add d", &e);
	ck_assert_uint_eq(id_of(&kt.maps, "d"), 2);
}
END_TEST

/*
 * A program that writes the maps without libkanary: a name found in the
 * index is checked against the maps, and the index is rebuilt when they
 * disagree.
 */
START_TEST(service_index_rebuilt_when_maps_disagree)
{
	struct kanary_svc_config cfg;
	struct kanary_svc_key k = key_n(2);
	struct kanary_err e = {};
	__u32 id, cfg_key;

	must(add(&kt.maps, "a", 1, &e), "add a", &e);
	must(add(&kt.maps, "b", 2, &e), "add b", &e);
	id = id_of(&kt.maps, "b");

	/* Renamed in its live config slot (slot 0 after an add). */
	cfg_key = id * 2;
	ck_assert_int_eq(bpf_map_lookup_elem(kt.maps.cfg, &cfg_key, &cfg), 0);
	strcpy(cfg.name, "renamed");
	ck_assert_int_eq(bpf_map_update_elem(kt.maps.cfg, &cfg_key, &cfg, BPF_ANY), 0);
	ck_assert_int_eq(get_rc(&kt.maps, "b"), -ENOENT);
	ck_assert_uint_eq(id_of(&kt.maps, "renamed"), id);

	/* Unhooked from the service map. */
	ck_assert_int_eq(bpf_map_delete_elem(kt.maps.svc, &k), 0);
	ck_assert_int_eq(get_rc(&kt.maps, "renamed"), -ENOENT);
	/* Its id is free again once the index has seen the maps. */
	must(add(&kt.maps, "c", 3, &e), "add c", &e);
	ck_assert_uint_eq(id_of(&kt.maps, "c"), id);
	ck_assert_uint_eq(id_of(&kt.maps, "a"), 0);
}
END_TEST

Suite *service_index_suite(void)
{
	Suite *s = suite_create("service_index");
	TCase *mem = tcase_create("index"), *maps = kt_tcase("service_ids", 120);

	tcase_add_test(mem, index_add_find_del);
	tcase_add_test(mem, index_rejects);
	tcase_add_test(mem, index_lowest_free_id);
	tcase_add_test(mem, index_collisions);
	tcase_add_test(mem, index_matches_a_plain_array);
	suite_add_tcase(s, mem);
	tcase_add_test(maps, service_ids_reused_lowest_first);
	tcase_add_test(maps, service_name_and_address_collisions);
	tcase_add_test(maps, service_many_to_the_limit);
	tcase_add_test(maps, service_foreach_equals_get);
	tcase_add_test(maps, service_changes_seen_across_opens);
	tcase_add_test(maps, service_index_rebuilt_when_maps_disagree);
	suite_add_tcase(s, maps);
	return s;
}
