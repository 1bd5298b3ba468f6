// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The rule path's per-source bound (bpf/lib/handoff_source.h) on crafted
 * segments: a client address holds at most its bound of bound
 * connections; the next first data is reset and counted, whichever way it
 * binds (its handshake's entry, or its cookie), while other addresses bind
 * as before; a connection that ends gives its slot back; and the counts
 * the LRU leaves wrong are righted by the recount (user/lib/ho_sources.c).
 * kt_flow_nth(i) and kt_flow_nth(i + 1000) share a client address.
 */
#include <arpa/inet.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include "handoff_conn.h"
#include "suites.h"

static const int n_be[] = { 2, 1 };
static const __u32 w_100_0[] = { 100000, 0 };
static const char req[] = "GET /x HTTP/1.1\r\nHost: web\r\n\r\n";

/* Loads kanary with per_source, and a service with a rule (so, the rule path). */
static void rule_service_bound(__u32 per_source)
{
	struct kanary_load_opts lo = { .ho_per_source = per_source };

	kt_reload(&lo);
	hc_service(2, w_100_0, n_be);
	kt_rule_add(KT_SVC, "header", "x-my-header=dark", 1);
}

/* The count the datapath keeps for c's client address (0: none). */
static __u64 held(const struct hc_conn *c)
{
	__be32 addr = htonl(c->f.client);
	__u64 n = 0;

	bpf_map_lookup_elem(kt.maps.ho_sources, &addr, &n);
	return n;
}

static __u64 limited(void)
{
	__u64 cnt[KANARY_CNT__MAX];

	kt_counters(cnt);
	return cnt[KANARY_CNT_HO_SOURCE_LIMIT];
}

/* c's first data, refused: reset at the sequence it expects, nothing kept. */
static void expect_refused(struct hc_conn *c, const char *what)
{
	struct tcp4_spec s = hc_first_data_seg(c);
	struct pkt out;

	ck_verdict(hc_ingress(&s, &out), TC_ACT_REDIRECT, what);
	hc_expect_rst_to_client(c, &out, c->our_isn + 1, what);
	ck_assert_msg(!hc_ho_tracked(c), "%s: state kept", what);
}

START_TEST(an_address_at_its_bound_is_reset_and_others_bind)
{
	struct hc_conn c[4], other = hc_conn_http(1, req), late = hc_conn_http(4000, req);
	struct tcp4_spec s;
	struct pkt out;
	__u64 before;

	rule_service_bound(3);
	before = limited();
	for (int i = 0; i < 3; i++) {
		c[i] = hc_conn_http(1000 * i, req);
		hc_establish(&c[i], 0);
	}
	ck_assert_uint_eq(held(&c[0]), 3);
	c[3] = hc_conn_http(3000, req);
	hc_handshake(&c[3]);
	expect_refused(&c[3], "the fourth connection from one address");
	ck_assert_uint_eq(limited() - before, 1);
	ck_assert_uint_eq(held(&c[0]), 3);
	hc_establish(&other, 0);
	ck_assert_uint_eq(held(&other), 1);
	/* An exact RST ends one: its slot is free again. */
	s = hc_from_client(&c[1], TF_RST | TF_ACK, c[1].cisn + 1 + c[1].req_len, c[1].our_isn + 1,
			   NULL, 0);
	ck_verdict(hc_ingress(&s, &out), TC_ACT_OK, "client RST");
	ck_assert_uint_eq(held(&c[0]), 2);
	hc_establish(&late, 0);
	ck_assert_uint_eq(held(&c[0]), 3);
	ck_assert_uint_eq(limited() - before, 1);
}
END_TEST

/* A handshake the flood evicted binds by its cookie (handoff_cookie.h): the bound holds there too. */
START_TEST(the_cookie_path_keeps_the_bound)
{
	struct hc_conn a = hc_conn_http(0, req), b = hc_conn_http(1000, req);
	struct kanary_ct_key k;
	__u64 before;

	rule_service_bound(1);
	before = limited();
	hc_establish(&a, 0);
	hc_handshake(&b);
	k = kt_ct_fwd_key(&b.f);
	ck_assert_int_eq(bpf_map_delete_elem(kt.maps.handshake, &k), 0);
	expect_refused(&b, "first data by its cookie, over the bound");
	ck_assert_uint_eq(limited() - before, 1);
	ck_assert_uint_eq(held(&a), 1);
}
END_TEST

START_TEST(off_means_no_bound)
{
	struct hc_conn c;
	__u64 before;

	rule_service_bound(KANARY_HO_PER_SOURCE_OFF);
	before = limited();
	for (int i = 0; i < 5; i++) {
		c = hc_conn_http(1000 * i, req);
		hc_establish(&c, 0);
	}
	ck_assert_uint_eq(limited(), before);
}
END_TEST

/* The default is an eighth of the handoff table, and a load that names none keeps what is set. */
START_TEST(default_bound_and_kept_by_a_load_that_names_none)
{
	struct kanary_load_opts none = { 0 };
	struct kanary_err e = { "" };
	__u32 bound;

	rule_service_bound(0);
	ck_assert_int_eq(kanary_ho_bound_read(&kt.maps, &bound, &e), 0);
	ck_assert_uint_eq(bound, kanary_ho_per_source_default(kanary_handoff_size(KANARY_DEFAULT_CT_SIZE)));
	rule_service_bound(7);
	kt_load_again(&none);
	ck_assert_int_eq(kanary_ho_bound_read(&kt.maps, &bound, &e), 0);
	ck_assert_uint_eq(bound, 7);
}
END_TEST

/*
 * The LRU evicts bound entries unseen (here deleted by hand, as it would):
 * the count stays, and the address is refused though it holds nothing,
 * until the recount rights it.  A count evicted while its address holds
 * connections is made again.
 */
START_TEST(the_recount_rights_what_the_lru_left_wrong)
{
	struct hc_conn a = hc_conn_http(0, req), b = hc_conn_http(1000, req);
	struct hc_conn c = hc_conn_http(2000, req), d = hc_conn_http(1, req);
	struct kanary_ho_recount rc;
	struct kanary_err e = { "" };
	struct kanary_ct_key k;
	__be32 addr = htonl(d.f.client);

	rule_service_bound(2);
	hc_establish(&a, 0);
	hc_establish(&b, 0);
	hc_establish(&d, 0);
	k = kt_ct_fwd_key(&a.f);
	ck_assert_int_eq(bpf_map_delete_elem(kt.maps.handoff, &k), 0);
	k = kt_ct_fwd_key(&b.f);
	ck_assert_int_eq(bpf_map_delete_elem(kt.maps.handoff, &k), 0);
	ck_assert_int_eq(bpf_map_delete_elem(kt.maps.ho_sources, &addr), 0);
	hc_handshake(&c);
	expect_refused(&c, "an address whose connections the LRU took, before the recount");

	ck_assert_int_eq(kanary_ho_sources_recount(&kt.maps, &rc, &e), 0);
	ck_assert_uint_eq(rc.corrected, 2);
	ck_assert_uint_eq(rc.connections, 1);
	ck_assert_uint_eq(rc.sources, 1);
	ck_assert_uint_eq(held(&a), 0);
	ck_assert_uint_eq(held(&d), 1);
	c = hc_conn_http(3000, req);
	hc_establish(&c, 0);
	ck_assert_uint_eq(held(&a), 1);
	ck_assert_int_eq(kanary_ho_sources_recount(&kt.maps, &rc, &e), 0);
	ck_assert_uint_eq(rc.corrected, 0);
}
END_TEST

void ho_source_tests(TCase *tc)
{
	tcase_add_test(tc, an_address_at_its_bound_is_reset_and_others_bind);
	tcase_add_test(tc, the_cookie_path_keeps_the_bound);
	tcase_add_test(tc, off_means_no_bound);
	tcase_add_test(tc, default_bound_and_kept_by_a_load_that_names_none);
	tcase_add_test(tc, the_recount_rights_what_the_lru_left_wrong);
}
