// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The Maglev table builder (user/lib/maglev.c) on its own: every point
 * filled, every backend within one point of the others, each backend's
 * permutation a walk over every point, the same table for the same set of
 * backends in any order, and about 1/(n+1) of the points moved by one
 * backend more.  Then through the commit on real maps: the live slot holds
 * the table of each subset's backends, nothing is left of an emptied
 * subset or a deleted service, and a load over pins without tables writes
 * them.
 */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include "fixture.h"
#include "internal.h"

Suite *maglev_unit_suite(void);

/* Backend j of a set: 10.244.(j/250).(j%250+1):8080. */
static struct kanary_backend backend_n(__u32 j)
{
	struct kanary_backend b;

	memset(&b, 0, sizeof(b));
	kanary_addr_from_v4(&b.addr, htonl(0x0af40000 | (j / 250) << 8 | (j % 250 + 1)));
	b.port = htons(8080);
	return b;
}

static void set_of(struct kanary_backend *be, __u32 n)
{
	for (__u32 j = 0; j < n; j++)
		be[j] = backend_n(j);
}

static const __u32 sizes[] = { 1, 2, 3, 10, 11, 100, 255, KANARY_MAX_BACKENDS };

START_TEST(every_point_filled_evenly)
{
	static struct kanary_backend be[KANARY_MAX_BACKENDS];
	static struct kanary_maglev t;
	__u32 n = sizes[_i], count[KANARY_MAX_BACKENDS] = { 0 }, lo = ~0u, hi = 0;

	set_of(be, n);
	kanary_maglev_build(be, n, &t);
	for (__u32 i = 0; i < KANARY_MAGLEV_SIZE; i++) {
		ck_assert_msg(t.backend[i] < n, "point %u holds backend %u of %u", i, t.backend[i], n);
		count[t.backend[i]]++;
	}
	for (__u32 j = 0; j < n; j++) {
		lo = count[j] < lo ? count[j] : lo;
		hi = count[j] > hi ? count[j] : hi;
	}
	/* Each round of turns gives every backend one point; the last round is cut short. */
	ck_assert_msg(lo == KANARY_MAGLEV_SIZE / n && hi - lo <= 1,
		      "%u backends hold %u to %u points each: expected %u or %u", n, lo, hi,
		      KANARY_MAGLEV_SIZE / n, KANARY_MAGLEV_SIZE / n + 1);
	for (__u32 i = 0; i < sizeof(t.pad); i++)
		ck_assert_uint_eq(t.pad[i], 0);
}
END_TEST

START_TEST(permutation_walks_every_point)
{
	static bool seen[KANARY_MAGLEV_SIZE];

	for (__u32 j = 0; j < 300; j++) {
		struct kanary_backend b = backend_n(j);
		__u32 offset, skip, p;

		kanary_maglev_perm(&b, &offset, &skip);
		ck_assert_msg(offset < KANARY_MAGLEV_SIZE && skip >= 1 && skip < KANARY_MAGLEV_SIZE,
			      "backend %u: offset %u, skip %u", j, offset, skip);
		memset(seen, 0, sizeof(seen));
		p = offset;
		for (__u32 i = 0; i < KANARY_MAGLEV_SIZE; i++) {
			if (seen[p])	/* not ck_assert: Check marks each call, a million here */
				ck_abort_msg("backend %u meets point %u twice", j, p);
			seen[p] = true;
			p = (p + skip) % KANARY_MAGLEV_SIZE;
		}
	}
}
END_TEST

/* The first backend in turn (the lowest address) gets the first point it prefers. */
START_TEST(first_in_turn_gets_its_first_choice)
{
	struct kanary_backend be[10];
	struct kanary_maglev t;
	__u32 offset, skip;

	set_of(be, 10);
	kanary_maglev_build(be, 10, &t);
	kanary_maglev_perm(&be[0], &offset, &skip);
	ck_assert_uint_eq(t.backend[offset], 0);
}
END_TEST

START_TEST(same_set_in_any_order_same_table)
{
	struct kanary_backend be[50], shuffled[50];
	struct kanary_maglev a, b, again;

	set_of(be, 50);
	/* A fixed shuffle: 17 is prime to 50. */
	for (__u32 j = 0; j < 50; j++)
		shuffled[j] = be[(j * 17 + 3) % 50];
	kanary_maglev_build(be, 50, &a);
	kanary_maglev_build(be, 50, &again);
	kanary_maglev_build(shuffled, 50, &b);
	ck_assert_mem_eq(&a, &again, sizeof(a));
	for (__u32 i = 0; i < KANARY_MAGLEV_SIZE; i++)
		ck_assert_msg(!memcmp(&be[a.backend[i]], &shuffled[b.backend[i]], sizeof(be[0])),
			      "point %u names backend %u in one order and another backend in the other",
			      i, a.backend[i]);
}
END_TEST

/* Another port is another backend: the table is made of the set, not of a constant. */
START_TEST(another_set_another_table)
{
	struct kanary_backend be[10];
	struct kanary_maglev a, b;

	set_of(be, 10);
	kanary_maglev_build(be, 10, &a);
	be[4].port = htons(8081);
	kanary_maglev_build(be, 10, &b);
	ck_assert_msg(memcmp(&a, &b, sizeof(a)), "a changed backend left the table unchanged");
}
END_TEST

/* Points whose backend (by address) differs between the tables of be[0..na) and be[0..nb). */
static __u32 points_moved(const struct kanary_backend *be, __u32 na, __u32 nb, __u32 *to_last)
{
	struct kanary_maglev a, b;
	__u32 moved = 0;

	kanary_maglev_build(be, na, &a);
	kanary_maglev_build(be, nb, &b);
	*to_last = 0;
	for (__u32 i = 0; i < KANARY_MAGLEV_SIZE; i++) {
		if (a.backend[i] == b.backend[i])
			continue;
		moved++;
		*to_last += b.backend[i] == nb - 1;
	}
	return moved;
}

/*
 * One backend added to a small set moves about 1/(n+1) of the points,
 * nearly all to it.  (With 250 points a backend or fewer, Maglev moves
 * more than that: docs/datapath.md has the figures.)
 */
START_TEST(one_more_backend_moves_its_share)
{
	static const __u32 ns[] = { 2, 5, 10 };

	for (__u32 k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
		struct kanary_backend be[11];
		__u32 n = ns[k], to_new, moved, share = KANARY_MAGLEV_SIZE / (n + 1);

		set_of(be, n + 1);
		moved = points_moved(be, n, n + 1, &to_new);
		ck_assert_msg(moved <= share * 3 / 2 + 1,
			      "%u -> %u backends moved %u of %u points: expected about %u", n, n + 1,
			      moved, KANARY_MAGLEV_SIZE, share);
		ck_assert_msg(to_new >= share, "%u -> %u backends: the new one got %u points, share %u",
			      n, n + 1, to_new, share);
	}
}
END_TEST

/* ---- through the commit, on real maps ---- */

static struct kanary_service *service_of(const char *name, __u32 n0, __u32 n1)
{
	struct kanary_service *s = calloc(1, sizeof(*s));
	struct kanary_svc_key key = { .port = htons(80), .proto = IPPROTO_TCP };
	struct kanary_err e = { 0 };

	ck_assert(s);
	kanary_addr_from_v4(&key.vip, htonl(0x0a60000a));
	ck_assert_msg(kanary_service_add(&kt.maps, name, &key, &e) == 0, "add: %s", e.msg);
	ck_assert_msg(kanary_service_get(&kt.maps, name, s, &e) == 0, "get: %s", e.msg);
	ck_assert_int_eq(kanary_subset_find(s, "stable", true, &e), 0);
	ck_assert_int_eq(kanary_subset_find(s, "canary", true, &e), 1);
	s->cfg.subsets[1].weight_milli = 10 * KANARY_WEIGHT_MILLI;
	s->cfg.subsets[0].n_backends = n0;
	s->cfg.subsets[1].n_backends = n1;
	set_of(s->backends[0], n0);
	for (__u32 j = 0; j < n1; j++)
		s->backends[1][j] = backend_n(100 + j);
	ck_assert_msg(kanary_service_commit(&kt.maps, s, &e) == 0, "commit: %s", e.msg);
	return s;
}

/* -ENOENT when slot has no table for subset, else 0 with it in t. */
static int table_read(__u32 id, __u32 slot, __u32 subset, struct kanary_maglev *t)
{
	struct kanary_maglev_key k = { .svc_id = id, .slot = (__u8)slot, .subset = (__u8)subset };

	if (bpf_map_lookup_elem(kt.maps.mag, &k, t) == 0)
		return 0;
	ck_assert_msg(errno == ENOENT, "lookup in %s: %s", KANARY_MAP_MAGLEV, strerror(errno));
	return -ENOENT;
}

START_TEST(commit_writes_the_live_slots_tables)
{
	struct kanary_service *s = service_of("web", 10, 3);
	struct kanary_maglev got, want;
	struct kanary_err e = { 0 };

	for (__u32 i = 0; i < 2; i++) {
		ck_assert_int_eq(table_read(s->id, s->slot, i, &got), 0);
		kanary_maglev_build(s->backends[i], s->cfg.subsets[i].n_backends, &want);
		ck_assert_mem_eq(&got, &want, sizeof(got));
		/* The slot the commit left keeps none. */
		ck_assert_int_eq(table_read(s->id, !s->slot, i, &got), -ENOENT);
	}
	/* The canary emptied: the new live slot has no table for it. */
	s->cfg.subsets[1].n_backends = 0;
	ck_assert_msg(kanary_service_commit(&kt.maps, s, &e) == 0, "commit: %s", e.msg);
	ck_assert_int_eq(table_read(s->id, s->slot, 0, &got), 0);
	ck_assert_int_eq(table_read(s->id, s->slot, 1, &got), -ENOENT);

	ck_assert_msg(kanary_service_del(&kt.maps, "web", &e) == 0, "del: %s", e.msg);
	for (__u32 slot = 0; slot < 2; slot++)
		for (__u32 i = 0; i < KANARY_MAX_SUBSETS; i++)
			ck_assert_int_eq(table_read(s->id, slot, i, &got), -ENOENT);
	free(s);
}
END_TEST

/* An upgrade: the services' pins are there, the tables' map is not; load writes the live ones. */
START_TEST(load_over_pins_without_tables_writes_them)
{
	struct kanary_service *s = service_of("web", 10, 3);
	struct kanary_load_opts lo = { 0 };
	struct kanary_maglev got, want;
	struct kanary_err e = { 0 };
	char path[PATH_MAX + 32];

	kanary_maps_close(&kt.maps);	/* it holds the lock load takes */
	kt.maps_open = false;
	snprintf(path, sizeof(path), "%s/%s", kt.dir, KANARY_MAP_MAGLEV);
	ck_assert_msg(unlink(path) == 0, "unlink %s: %s", path, strerror(errno));
	ck_assert_msg(kanary_load(kt.dir, &lo, &e) == 0, "load: %s", e.msg);
	ck_assert_msg(kanary_maps_open(&kt.maps, kt.dir, &e) == 0, "open: %s", e.msg);
	kt.maps_open = true;
	for (__u32 i = 0; i < 2; i++) {
		ck_assert_int_eq(table_read(s->id, s->slot, i, &got), 0);
		kanary_maglev_build(s->backends[i], s->cfg.subsets[i].n_backends, &want);
		ck_assert_mem_eq(&got, &want, sizeof(got));
		ck_assert_int_eq(table_read(s->id, !s->slot, i, &got), -ENOENT);
	}
	free(s);
}
END_TEST

Suite *maglev_unit_suite(void)
{
	Suite *s = suite_create("maglev");
	TCase *t = tcase_create("table"), *maps = kt_tcase("commit", 60);

	tcase_add_loop_test(t, every_point_filled_evenly, 0, sizeof(sizes) / sizeof(sizes[0]));
	tcase_add_test(t, permutation_walks_every_point);
	tcase_add_test(t, first_in_turn_gets_its_first_choice);
	tcase_add_test(t, same_set_in_any_order_same_table);
	tcase_add_test(t, another_set_another_table);
	tcase_add_test(t, one_more_backend_moves_its_share);
	suite_add_tcase(s, t);
	tcase_add_test(maps, commit_writes_the_live_slots_tables);
	tcase_add_test(maps, load_over_pins_without_tables_writes_them);
	suite_add_tcase(s, maps);
	return s;
}
