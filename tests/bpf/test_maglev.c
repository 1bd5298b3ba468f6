// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Maglev inside a subset: flows whose conntrack entries were evicted
 * re-derive their backend from the subset's table, so a pod added to or
 * removed from a subset of 10 moves about 1/11 of them (hash % n moved
 * about 9/10), and a commit of the same pods, in any order, moves none.
 * The measured shares are printed as TAP comments.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include "fixture.h"
#include "suites.h"

#define FLOWS	10000

static const __u32 w_all[] = { 100000 };

/* Deletes an entry from the table it is in: its handshake's (a SYN alone made it) or kanary_ct_v3. */
static bool evict(const struct kanary_ct_key *k)
{
	return bpf_map_delete_elem(kt.maps.ct, k) == 0 || bpf_map_delete_elem(kt.maps.ct_new, k) == 0;
}

/* Deletes both conntrack entries of flows 0..FLOWS-1, as an eviction would. */
static void evict_all(const struct kt_be *be)
{
	for (unsigned i = 0; i < FLOWS; i++) {
		struct kt_flow f = kt_flow_nth(i);
		struct kanary_ct_key fwd = kt_ct_fwd_key(&f), rev = kt_ct_rev_key(&f, &be[i]);

		ck_assert_msg(evict(&fwd), "deleting the forward entry of flow %u: %s", i, strerror(errno));
		ck_assert_msg(evict(&rev), "deleting the reverse entry of flow %u: %s", i, strerror(errno));
	}
}

/* A service of one subset of 10 pods; flows 0..FLOWS-1 opened into be[], then evicted. */
static void open_on_ten(struct kt_be *be)
{
	kt_service_create(KT_SVC, KT_VIP, KT_VPORT, 1, w_all, (const int[]){ 10 });
	for (unsigned i = 0; i < FLOWS; i++) {
		struct kt_flow f = kt_flow_nth(i);

		be[i] = kt_send(&f, TF_SYN);
	}
	evict_all(be);
}

/* Sends a mid-flow segment of every flow, asserting each was re-derived, into be[]. */
static void rederive_all(struct kt_be *be)
{
	__u64 before[KANARY_CNT__MAX], after[KANARY_CNT__MAX];

	kt_counters(before);
	for (unsigned i = 0; i < FLOWS; i++) {
		struct kt_flow f = kt_flow_nth(i);

		be[i] = kt_send(&f, TF_ACK | TF_PSH);
	}
	kt_counters(after);
	ck_assert_uint_eq(after[KANARY_CNT_CT_REDERIVED] - before[KANARY_CNT_CT_REDERIVED], FLOWS);
}

/* Flows whose backend differs between a and b. */
static unsigned moved(const struct kt_be *a, const struct kt_be *b)
{
	unsigned n = 0;

	for (unsigned i = 0; i < FLOWS; i++)
		n += a[i].index != b[i].index;
	return n;
}

START_TEST(one_pod_added_then_removed_moves_its_share)
{
	struct kt_be *ten = calloc(FLOWS, sizeof(*ten)), *eleven = calloc(FLOWS, sizeof(*eleven));
	struct kt_be *back = calloc(FLOWS, sizeof(*back));
	/* Each step moves at least the share of the pod added or removed: 1/11. */
	const unsigned limit = FLOWS * 15 / 110, floor = FLOWS * 5 / 110;
	static const int idx[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	unsigned up, down, to_new = 0, on_new = 0, home;

	ck_assert(ten && eleven && back);
	open_on_ten(ten);

	kt_service_set_backends(KT_SVC, 0, 11, idx);
	rederive_all(eleven);
	up = moved(ten, eleven);
	for (unsigned i = 0; i < FLOWS; i++) {
		to_new += ten[i].index != eleven[i].index && eleven[i].index == 10;
		on_new += eleven[i].index == 10;
	}
	evict_all(eleven);

	kt_service_set_backends(KT_SVC, 0, 10, idx);
	rederive_all(back);
	down = moved(eleven, back);
	home = FLOWS - moved(ten, back);

	fprintf(stderr, "# maglev 10 -> 11 pods: %u of %u re-derived flows moved (%.2f%%, 1/11 is %.2f%%), %u of them to the new pod\n",
		up, FLOWS, 100.0 * up / FLOWS, 100.0 / 11, to_new);
	fprintf(stderr, "# maglev 11 -> 10 pods: %u of %u moved (%.2f%%), %u had been on the removed pod; %u back on their first pod\n",
		down, FLOWS, 100.0 * down / FLOWS, on_new, home);
	ck_assert_msg(up >= floor && up <= limit,
		      "10 -> 11 pods moved %u of %u flows: expected %u to %u (about 1/11)", up, FLOWS,
		      floor, limit);
	ck_assert_msg(to_new * 10 >= up * 8,
		      "10 -> 11 pods: only %u of the %u flows that moved went to the new pod", to_new, up);
	ck_assert_msg(down >= floor && down <= limit,
		      "11 -> 10 pods moved %u of %u flows: expected %u to %u (about 1/11)", down,
		      FLOWS, floor, limit);
	/* The same 10 pods give the same table, so every flow is where it began. */
	ck_assert_msg(home == FLOWS, "after 10 -> 11 -> 10 pods only %u of %u flows are on their first pod",
		      home, FLOWS);
	free(ten);
	free(eleven);
	free(back);
}
END_TEST

/* The same pods committed again, listed backwards: a new slot, no flow moves. */
START_TEST(same_pods_in_another_order_move_none)
{
	struct kt_be *was = calloc(FLOWS, sizeof(*was)), *now = calloc(FLOWS, sizeof(*now));
	int idx[10];

	ck_assert(was && now);
	for (int j = 0; j < 10; j++)
		idx[j] = 9 - j;
	open_on_ten(was);
	kt_service_set_backends(KT_SVC, 0, 10, idx);
	rederive_all(now);
	fprintf(stderr, "# maglev 10 -> the same 10 pods reordered: %u of %u moved\n", moved(was, now),
		FLOWS);
	ck_assert_uint_eq(moved(was, now), 0);
	free(was);
	free(now);
}
END_TEST

/*
 * A subset without a table (pins of a kanary before Maglev, until load
 * has written it) still takes flows: by hash % n, spread over all.
 */
START_TEST(subset_without_table_still_picks_a_backend)
{
	const struct kt_flow f0 = kt_flow_nth(0);
	struct kanary_svc_key sk = { .vip = kt_ct_fwd_key(&f0).dst, .port = htons(KT_VPORT),
				     .proto = IPPROTO_TCP };
	struct kanary_maglev_key k = { 0 };
	struct kanary_svc_ref ref;
	unsigned count[4] = { 0 };

	kt_service_create(KT_SVC, KT_VIP, KT_VPORT, 1, w_all, (const int[]){ 4 });
	ck_assert_msg(bpf_map_lookup_elem(kt.maps.svc, &sk, &ref) == 0, "service not in %s: %s",
		      KANARY_MAP_SERVICES, strerror(errno));
	k.svc_id = ref.id;
	k.slot = (__u8)ref.slot;
	ck_assert_msg(bpf_map_delete_elem(kt.maps.mag, &k) == 0,
		      "no table for subset 0 of the live slot %u: %s", ref.slot, strerror(errno));
	for (unsigned i = 0; i < 4000; i++) {
		struct kt_flow f = kt_flow_nth(i);
		struct kt_be be = kt_send(&f, TF_SYN);

		ck_assert_msg(be.index >= 0 && be.index < 4, "flow %u went to backend %d", i, be.index);
		count[be.index]++;
	}
	for (int j = 0; j < 4; j++)
		ck_assert_msg(count[j] > 800, "backend %d got %u of 4000 flows", j, count[j]);
}
END_TEST

Suite *maglev_suite(void)
{
	Suite *s = suite_create("maglev");
	TCase *tc = kt_tcase("maglev", 120);

	tcase_add_test(tc, one_pod_added_then_removed_moves_its_share);
	tcase_add_test(tc, same_pods_in_another_order_move_none);
	tcase_add_test(tc, subset_without_table_still_picks_a_backend);
	suite_add_tcase(s, tc);
	return s;
}
