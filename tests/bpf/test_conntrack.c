// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Conntrack pins a connection to its first choice: config changes move only
 * new connections, an evicted entry re-derives the same backend, and only a
 * closed tuple (FIN/RST) is chosen afresh by a later SYN.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "fixture.h"
#include "suites.h"

static const __u32 w_80_20[] = { 80000, 20000 };
static const __u32 w_0_100[] = { 0, 100000 };

static void ck_same_be(unsigned flow, struct kt_be was, struct kt_be now)
{
	ck_assert_msg(was.subset == now.subset && was.index == now.index,
		      "flow %u moved from backend %d/%d to %d/%d",
		      flow, was.subset, was.index, now.subset, now.index);
}

static struct kt_be *open_flows(unsigned first, unsigned n)
{
	struct kt_be *be = calloc(n, sizeof(*be));
	unsigned i;

	ck_assert(be);
	for (i = 0; i < n; i++) {
		struct kt_flow f = kt_flow_nth(first + i);

		be[i] = kt_send(&f, TF_SYN);
	}
	return be;
}

/*
 * Flows with their handshakes completed (the backend's SYN-ACK, the
 * client's ACK): in kanary_ct_v3, where new flows do not evict them.
 */
static struct kt_be *establish_flows(unsigned first, unsigned n)
{
	struct kt_be *be = open_flows(first, n);
	struct pkt in, out;

	for (unsigned i = 0; i < n; i++) {
		struct kt_flow f = kt_flow_nth(first + i);

		kt_pkt_rev(&in, &f, &be[i], TF_SYN | TF_ACK, NULL, 0);
		kt_run(kt.prog_out, &in, &out);
		kt_pkt_fwd_seq(&in, &f, TF_ACK, KT_CLIENT_ISN + 1, NULL, 0);
		kt_run(kt.prog_in, &in, &out);
	}
	return be;
}

/* The client's RST at the sequence its SYN leaves it at: one that counts (RFC 5961). */
static struct kt_be send_exact_rst(const struct kt_flow *f)
{
	struct pkt in, out;

	kt_pkt_fwd_seq(&in, f, TF_RST, KT_CLIENT_ISN + 1, NULL, 0);
	kt_run(kt.prog_in, &in, &out);
	return kt_expect_dnat(&in, &out);
}

static bool v4_mapped_is(const union kanary_addr *a, __u32 v4)
{
	static const __u8 prefix[12] = { [10] = 0xff, [11] = 0xff };

	return !memcmp(a->b, prefix, sizeof(prefix)) && a->w[3] == htonl(v4);
}

/* A SYN's entries wait in the handshakes' table (kanary_ctnew_v1) until the handshake completes. */
START_TEST(syn_creates_forward_and_reverse_entries)
{
	static const int nb[] = { 1, 1 };
	const struct kt_flow f = kt_flow_nth(7);
	struct kanary_ct_key k = kt_ct_fwd_key(&f);
	struct kanary_ct_entry ent;
	struct kt_be be;
	__u32 id;

	id = kt_service_create(KT_SVC, KT_VIP, KT_VPORT, 2, w_80_20, nb);
	be = kt_send(&f, TF_SYN);

	ck_assert_msg(bpf_map_lookup_elem(kt.maps.ct_new, &k, &ent) == 0, "no forward entry: %s",
		      strerror(errno));
	ck_assert_msg(v4_mapped_is(&ent.addr, kt_be_addr(be.subset, be.index)) &&
		      ent.port == htons(kt_be_port(be.subset)),
		      "forward entry does not hold the backend the SYN went to");
	ck_assert_uint_eq(ent.svc_id, id);
	ck_assert_int_eq(ent.subset, kt_subset_idx(KT_SVC, be.subset));
	ck_assert_uint_eq(ent.flags & KANARY_CT_F_CLOSING, 0);

	memset(&k, 0, sizeof(k));
	k.src = ent.addr;
	k.dst = kt_ct_fwd_key(&f).src;
	k.sport = ent.port;
	k.dport = htons(f.cport);
	k.proto = IPPROTO_TCP;
	k.dir = KANARY_CT_REVERSE;
	ck_assert_msg(bpf_map_lookup_elem(kt.maps.ct_new, &k, &ent) == 0, "no reverse entry: %s",
		      strerror(errno));
	ck_assert_msg(v4_mapped_is(&ent.addr, KT_VIP) && ent.port == htons(KT_VPORT),
		      "reverse entry does not hold the VIP");
	ck_assert_uint_eq(ent.svc_id, id);
	ck_assert_int_eq(ent.subset, kt_subset_idx(KT_SVC, be.subset));
}
END_TEST

START_TEST(weight_change_moves_no_existing_flow)
{
	static const int nb[] = { 2, 2 };
	const unsigned n = 10000;
	struct kt_be *was;
	unsigned i, on_first = 0;

	kt_service_create(KT_SVC, KT_VIP, KT_VPORT, 2, w_80_20, nb);
	was = open_flows(0, n);
	for (i = 0; i < n; i++)
		on_first += was[i].subset == 0;
	ck_assert_msg(on_first > 0, "no flow went to subset 0 at 80/20: nothing to test");

	kt_service_set_weights(KT_SVC, 2, w_0_100);
	for (i = 0; i < n; i++) {
		struct kt_flow f = kt_flow_nth(i);

		ck_same_be(i, was[i], kt_send(&f, TF_ACK | TF_PSH));
	}
	for (i = n; i < 2 * n; i++) {
		struct kt_flow f = kt_flow_nth(i);

		ck_assert_msg(kt_send(&f, TF_SYN).subset == 1,
			      "new flow %u went to subset 0, whose weight is 0", i);
	}
	free(was);
}
END_TEST

START_TEST(removed_backend_only_drains)
{
	static const int nb[] = { 2, 1 };
	const unsigned n = 2000;
	struct kt_be *was;
	unsigned i, on_removed = 0, to_first = 0;

	kt_service_create(KT_SVC, KT_VIP, KT_VPORT, 2, w_80_20, nb);
	was = establish_flows(0, n);
	for (i = 0; i < n; i++)
		on_removed += was[i].subset == 0 && was[i].index == 1;
	ck_assert_msg(on_removed > 0, "no flow went to backend 0/1: nothing to drain");

	kt_service_remove_backend(KT_SVC, 0, 1);
	for (i = n; i < n + 20000; i++) {
		struct kt_flow f = kt_flow_nth(i);
		struct kt_be be = kt_send(&f, TF_SYN);

		ck_assert_msg(!(be.subset == 0 && be.index == 1),
			      "new flow %u went to the removed backend", i);
		to_first += be.subset == 0;
	}
	ck_assert_msg(to_first > 0, "subset 0 got no new flow with its remaining backend");
	for (i = 0; i < n; i++) {
		struct kt_flow f = kt_flow_nth(i);

		ck_same_be(i, was[i], kt_send(&f, TF_ACK));
	}
	free(was);
}
END_TEST

START_TEST(emptied_subset_gives_its_share_away)
{
	static const int nb[] = { 1, 1 };
	unsigned i;

	kt_service_create(KT_SVC, KT_VIP, KT_VPORT, 2, w_80_20, nb);
	kt_service_remove_backend(KT_SVC, 1, 0);
	for (i = 0; i < 5000; i++) {
		struct kt_flow f = kt_flow_nth(i);

		ck_assert_msg(kt_send(&f, TF_SYN).subset == 0,
			      "flow %u went to subset 1, which has no backend left", i);
	}
}
END_TEST

START_TEST(evicted_entry_rederives_same_backend)
{
	static const int nb[] = { 2, 2 };
	const unsigned n = 1000;
	__u64 before[KANARY_CNT__MAX], after[KANARY_CNT__MAX];
	struct kt_be *was;
	unsigned i;

	kt_service_create(KT_SVC, KT_VIP, KT_VPORT, 2, w_80_20, nb);
	was = establish_flows(0, n);
	for (i = 0; i < n; i++) {
		struct kt_flow f = kt_flow_nth(i);
		struct kanary_ct_key k = kt_ct_fwd_key(&f);

		ck_assert_msg(bpf_map_delete_elem(kt.maps.ct, &k) == 0,
			      "deleting the forward entry of flow %u: %s", i, strerror(errno));
	}
	kt_counters(before);
	for (i = 0; i < n; i++) {
		struct kt_flow f = kt_flow_nth(i);

		ck_same_be(i, was[i], kt_send(&f, TF_ACK | TF_PSH));
	}
	kt_counters(after);
	ck_assert_uint_eq(after[KANARY_CNT_CT_REDERIVED] - before[KANARY_CNT_CT_REDERIVED], n);
	free(was);
}
END_TEST

/*
 * Flows on subset 0 at 80/20; weights then go to 0/100.  Closed ones (FIN
 * or RST) reopened with a SYN must follow the new weights; open ones whose
 * SYN is retransmitted must stay.
 */
START_TEST(closed_tuple_is_chosen_afresh)
{
	static const int nb[] = { 1, 1 };
	const unsigned n = 400;
	__u64 before[KANARY_CNT__MAX], after[KANARY_CNT__MAX];
	unsigned i, closed = 0, open = 0;
	bool *is_closed = calloc(n, sizeof(bool));
	struct kt_be *was;

	ck_assert(is_closed);
	kt_service_create(KT_SVC, KT_VIP, KT_VPORT, 2, w_80_20, nb);
	was = open_flows(0, n);
	for (i = 0; i < n; i++) {
		struct kt_flow f = kt_flow_nth(i);

		if (was[i].subset != 0 || i % 2)
			continue;
		/* The closing packet itself still goes to the flow's backend. */
		ck_same_be(i, was[i], i % 4 ? send_exact_rst(&f) : kt_send(&f, TF_FIN | TF_ACK));
		is_closed[i] = true;
		closed++;
	}
	ck_assert_msg(closed > 0, "no flow on subset 0 to close");

	kt_service_set_weights(KT_SVC, 2, w_0_100);
	kt_counters(before);
	for (i = 0; i < n; i++) {
		struct kt_flow f = kt_flow_nth(i);
		struct kt_be now;

		if (was[i].subset != 0)
			continue;
		now = kt_send(&f, TF_SYN);
		if (is_closed[i]) {
			ck_assert_msg(now.subset == 1, "reopened flow %u kept subset 0 of weight 0", i);
		} else {
			ck_same_be(i, was[i], now);
			open++;
		}
	}
	kt_counters(after);
	ck_assert_msg(open > 0, "no open flow on subset 0 to retransmit a SYN on");
	ck_assert_uint_eq(after[KANARY_CNT_CT_REUSED] - before[KANARY_CNT_CT_REUSED], closed);
	free(was);
	free(is_closed);
}
END_TEST

/* abi.h: a backend's RST closes the connection too. */
START_TEST(backend_rst_closes_tuple)
{
	static const int nb[] = { 1, 1 };
	const unsigned n = 200;
	__u64 before[KANARY_CNT__MAX], after[KANARY_CNT__MAX];
	unsigned i, closed = 0;
	struct pkt in, out;
	struct kt_be *was;

	kt_service_create(KT_SVC, KT_VIP, KT_VPORT, 2, w_80_20, nb);
	was = open_flows(0, n);
	for (i = 0; i < n; i++) {
		struct kt_flow f = kt_flow_nth(i);

		if (was[i].subset != 0)
			continue;
		kt_pkt_rev(&in, &f, &was[i], TF_RST | TF_ACK, NULL, 0);
		kt_run(kt.prog_out, &in, &out);
		kt_expect_snat(&in, &out, KT_VIP, KT_VPORT);
		closed++;
	}
	ck_assert_msg(closed > 0, "no flow on subset 0 to reset");

	kt_service_set_weights(KT_SVC, 2, w_0_100);
	kt_counters(before);
	for (i = 0; i < n; i++) {
		struct kt_flow f = kt_flow_nth(i);

		if (was[i].subset == 0)
			ck_assert_msg(kt_send(&f, TF_SYN).subset == 1,
				      "flow %u reset by its backend kept subset 0 of weight 0", i);
	}
	kt_counters(after);
	ck_assert_uint_eq(after[KANARY_CNT_CT_REUSED] - before[KANARY_CNT_CT_REUSED], closed);
	free(was);
}
END_TEST

/*
 * A direct connection (not to the VIP) that reuses the tuple of an earlier
 * service connection to the same pod, once that one has ended: its replies
 * must reach the client untranslated, so its SYN drops the stale reverse
 * entry.  (While the service connection lives, the entry stays: test_spoof.c.)
 */
START_TEST(direct_syn_forgets_stale_reverse_entry)
{
	static const int nb[] = { 1, 1 };
	const struct kt_flow f = kt_flow_nth(3);
	struct pkt in, out;
	struct kt_be be;

	kt_service_create(KT_SVC, KT_VIP, KT_VPORT, 2, w_80_20, nb);
	be = kt_send(&f, TF_SYN);

	/* Until then, the backend's replies are still the service's. */
	kt_pkt_rev(&in, &f, &be, TF_ACK, NULL, 0);
	kt_run(kt.prog_out, &in, &out);
	kt_expect_snat(&in, &out, KT_VIP, KT_VPORT);
	send_exact_rst(&f);

	pkt_tcp4(&in, &(struct tcp4_spec){
		.saddr = f.client, .daddr = kt_be_addr(be.subset, be.index),
		.sport = f.cport, .dport = kt_be_port(be.subset), .flags = TF_SYN });
	kt_run(kt.prog_in, &in, &out);
	kt_expect_untouched(&in, &out);

	kt_pkt_rev(&in, &f, &be, TF_SYN | TF_ACK, NULL, 0);
	kt_run(kt.prog_out, &in, &out);
	kt_expect_untouched(&in, &out);
}
END_TEST

/*
 * A deleted service's connections go on to their backends (netfilter keeps
 * NAT for established flows), counted as draining; no new one is made, and
 * the service made again takes new connections while the old ones stay.
 */
START_TEST(deleted_service_drains_its_connections)
{
	static const int nb[] = { 2, 1 };
	const unsigned n = 200;
	__u64 before[KANARY_CNT__MAX], after[KANARY_CNT__MAX];
	struct kt_flow fresh = kt_flow_nth(n);
	struct pkt in, out;
	struct kt_be *was;
	unsigned i;

	kt_service_create(KT_SVC, KT_VIP, KT_VPORT, 2, w_80_20, nb);
	was = establish_flows(0, n);
	kt_service_delete(KT_SVC);
	kt_counters(before);
	for (i = 0; i < n; i++) {
		struct kt_flow f = kt_flow_nth(i);

		ck_same_be(i, was[i], kt_send(&f, TF_ACK | TF_PSH));
	}
	kt_counters(after);
	ck_assert_uint_eq(after[KANARY_CNT_DRAINING] - before[KANARY_CNT_DRAINING], n);
	/* A new connection to the deleted service is not made. */
	kt_pkt_fwd(&in, &fresh, TF_SYN, NULL, 0);
	kt_run(kt.prog_in, &in, &out);
	kt_expect_untouched(&in, &out);
	/* Made again (other weights): the old flows stay where they were. */
	kt_service_create(KT_SVC, KT_VIP, KT_VPORT, 2, w_80_20, nb);
	for (i = 0; i < n; i++) {
		struct kt_flow f = kt_flow_nth(i);

		ck_same_be(i, was[i], kt_send(&f, TF_ACK));
	}
	kt_send(&fresh, TF_SYN);
	free(was);
}
END_TEST

Suite *conntrack_suite(void)
{
	Suite *s = suite_create("conntrack");
	TCase *tc = kt_tcase("conntrack", 60);

	tcase_add_test(tc, syn_creates_forward_and_reverse_entries);
	tcase_add_test(tc, weight_change_moves_no_existing_flow);
	tcase_add_test(tc, removed_backend_only_drains);
	tcase_add_test(tc, emptied_subset_gives_its_share_away);
	tcase_add_test(tc, evicted_entry_rederives_same_backend);
	tcase_add_test(tc, closed_tuple_is_chosen_afresh);
	tcase_add_test(tc, backend_rst_closes_tuple);
	tcase_add_test(tc, direct_syn_forgets_stale_reverse_entry);
	tcase_add_test(tc, deleted_service_drains_its_connections);
	ct_lifecycle_tests(tc);
	ct_handshake_tests(tc);
	ct_idle_tests(tc);
	suite_add_tcase(s, tc);
	return s;
}
