// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Per-subset stats match what the test sent.  Bytes are frame lengths as tc
 * sees them (skb->len, Ethernet header included).
 */
#include <string.h>
#include "fixture.h"
#include "suites.h"

#define API_VIP		0x0a60000b	/* 10.96.0.11 */
#define API_PORT	443

struct expect {
	struct kanary_subset_stats st[KANARY_MAX_SUBSETS];	/* by test subset number */
	__u64 new_conns;
};

/* One connection: SYN, a request, SYN-ACK and a response; plus sizes seen. */
static void converse(const struct kt_flow *f, unsigned i, struct expect *x)
{
	struct pkt in, out;
	struct kt_be be;

	kt_pkt_fwd(&in, f, TF_SYN, NULL, 0);
	kt_run(kt.prog_in, &in, &out);
	be = kt_expect_dnat(&in, &out);
	x->st[be.subset].connections++;
	x->st[be.subset].packets_in++;
	x->st[be.subset].bytes_in += in.len;
	x->new_conns++;

	kt_pkt_rev(&in, f, &be, TF_SYN | TF_ACK, NULL, 0);
	kt_run(kt.prog_out, &in, &out);
	kt_expect_snat(&in, &out, f->vip, f->vport);
	x->st[be.subset].packets_out++;
	x->st[be.subset].bytes_out += in.len;

	kt_pkt_fwd(&in, f, TF_ACK | TF_PSH, NULL, i * 37 % 500 + 1);
	kt_run(kt.prog_in, &in, &out);
	kt_expect_dnat(&in, &out);
	x->st[be.subset].packets_in++;
	x->st[be.subset].bytes_in += in.len;

	kt_pkt_rev(&in, f, &be, TF_ACK | TF_PSH, NULL, i * 53 % 1400);
	kt_run(kt.prog_out, &in, &out);
	kt_expect_snat(&in, &out, f->vip, f->vport);
	x->st[be.subset].packets_out++;
	x->st[be.subset].bytes_out += in.len;

	/* A retransmitted SYN is traffic, not a new connection. */
	if (i % 5 == 0) {
		kt_pkt_fwd(&in, f, TF_SYN, NULL, 0);
		kt_run(kt.prog_in, &in, &out);
		kt_expect_dnat(&in, &out);
		x->st[be.subset].packets_in++;
		x->st[be.subset].bytes_in += in.len;
	}
}

static void ck_stats_eq(const char *svc, __u32 id, int subset, const struct kanary_subset_stats *want)
{
	struct kanary_subset_stats got, lib;
	struct kanary_err e = { 0 };
	int idx = kt_subset_idx(svc, subset);

	kt_stats(id, idx, &got);
#define CK_FIELD(f) ck_assert_msg(got.f == want->f, "%s subset %d: " #f " is %llu, sent %llu", \
				  svc, subset, (unsigned long long)got.f, (unsigned long long)want->f)
	CK_FIELD(connections);
	CK_FIELD(packets_in);
	CK_FIELD(bytes_in);
	CK_FIELD(packets_out);
	CK_FIELD(bytes_out);
#undef CK_FIELD
	ck_assert_msg(kanary_subset_stats_read(&kt.maps, id, idx, &lib, &e) == 0,
		      "kanary_subset_stats_read: %s", e.msg);
	ck_assert_msg(!memcmp(&lib, &got, sizeof(lib)),
		      "kanary_subset_stats_read disagrees with the per-CPU map");
}

START_TEST(subset_stats_match_traffic)
{
	static const __u32 w_web[] = { 80000, 20000 }, w_api[] = { 100000 };
	static const int nb_web[] = { 1, 1 }, nb_api[] = { 1 };
	struct expect web = { 0 }, api = { 0 };
	__u64 before[KANARY_CNT__MAX], after[KANARY_CNT__MAX];
	__u32 web_id, api_id;
	unsigned i;
	int s;

	web_id = kt_service_create(KT_SVC, KT_VIP, KT_VPORT, 2, w_web, nb_web);
	api_id = kt_service_create("api", API_VIP, API_PORT, 1, w_api, nb_api);
	ck_assert_uint_ne(web_id, api_id);
	kt_counters(before);
	for (i = 0; i < 100; i++) {
		struct kt_flow f = kt_flow_nth(i);

		converse(&f, i, &web);
		if (i % 4 == 0) {
			f = kt_flow_nth(1000000 + i);
			f.vip = API_VIP;
			f.vport = API_PORT;
			converse(&f, i, &api);
		}
	}
	kt_counters(after);
	ck_assert_msg(web.st[0].connections && web.st[1].connections,
		      "80/20 over 100 flows left a subset empty: nothing to tell apart");
	for (s = 0; s < 2; s++)
		ck_stats_eq(KT_SVC, web_id, s, &web.st[s]);
	ck_stats_eq("api", api_id, 0, &api.st[0]);
	ck_assert_uint_eq(after[KANARY_CNT_CT_NEW] - before[KANARY_CNT_CT_NEW],
			  web.new_conns + api.new_conns);
}
END_TEST

Suite *stats_suite(void)
{
	Suite *s = suite_create("stats");
	TCase *tc = kt_tcase("stats", 30);

	tcase_add_test(tc, subset_stats_match_traffic);
	suite_add_tcase(s, tc);
	return s;
}
