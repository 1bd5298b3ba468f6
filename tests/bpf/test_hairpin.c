// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Hairpin on the plain path (bpf/lib/hairpin.h): a pod whose connection to
 * a VIP is steered to itself.  Its packets leave ingress from the hairpin
 * address to its own; its replies to that address, which come back to
 * ingress on the same veth, leave from the VIP to its own address; egress,
 * which both then cross, leaves them alone; and other clients' flows are
 * NATed as before.
 */
#include <string.h>
#include <bpf/bpf.h>
#include <linux/pkt_cls.h>
#include "fixture.h"
#include "suites.h"

static const __u32 w_100[] = { 100000 };
static const int nb_1[] = { 1 };

static const char get[] = "GET / HTTP/1.1\r\nHost: web\r\n\r\n";
static const char ok_200[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

/* SYN options as Linux sends them: MSS, SACK-permitted, timestamps, wscale. */
static const __u8 syn_opts[20] = {
	0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x01,
	0xe2, 0x40, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
};

/* A hairpin connection: the service's one backend dials the VIP itself. */
struct hp {
	struct kt_flow f;
	__u32 pod;
	__u16 pport;
	__u32 cnxt, snxt;	/* each side's next sequence */
	__u32 svc_id;
};

static struct hp hp_service(void)
{
	struct hp h = { .pod = kt_be_addr(0, 0), .pport = kt_be_port(0),
			.cnxt = 7000, .snxt = 90000 };

	h.svc_id = kt_service_create(KT_SVC, KT_VIP, KT_VPORT, 1, w_100, nb_1);
	h.f = (struct kt_flow){ .client = h.pod, .cport = 40000, .vip = KT_VIP, .vport = KT_VPORT };
	return h;
}

/* The pod sends to the VIP: it must leave from the hairpin address to the pod. */
static void pod_sends(struct hp *h, __u8 flags, const void *data, size_t len)
{
	struct tcp4_spec s = { .saddr = h->pod, .daddr = h->f.vip, .sport = h->f.cport,
			       .dport = h->f.vport, .flags = flags, .seq = h->cnxt,
			       .ack = flags & TF_ACK ? h->snxt : 0,
			       .tcp_opts = flags & TF_SYN ? syn_opts : NULL,
			       .tcp_opts_len = flags & TF_SYN ? sizeof(syn_opts) : 0,
			       .payload = data, .payload_len = len };
	struct pkt in, out;

	pkt_tcp4(&in, &s);
	ck_assert(pkt_tcp4_csum_ok(&in));
	kt_run(kt.prog_in, &in, &out);
	kt_expect_nat(&in, &out, KANARY_HAIRPIN_V4, h->f.cport, h->pod, h->pport);
	h->cnxt += len + !!(flags & TF_SYN) + !!(flags & TF_FIN);
}

/* The pod's reply to the hairpin address, at ingress: from seq, with flags. */
static void reply_pkt(const struct hp *h, struct pkt *in, __u8 flags, __u32 seq,
		      const void *data, size_t len)
{
	struct tcp4_spec s = { .saddr = h->pod, .daddr = KANARY_HAIRPIN_V4, .sport = h->pport,
			       .dport = h->f.cport, .flags = flags | TF_ACK, .seq = seq,
			       .ack = h->cnxt,
			       .tcp_opts = flags & TF_SYN ? syn_opts : NULL,
			       .tcp_opts_len = flags & TF_SYN ? sizeof(syn_opts) : 0,
			       .payload = data, .payload_len = len };

	pkt_tcp4(in, &s);
	ck_assert(pkt_tcp4_csum_ok(in));
}

/* The pod answers: it must leave from the VIP to the pod. */
static void pod_answers(struct hp *h, __u8 flags, const void *data, size_t len)
{
	struct pkt in, out;

	reply_pkt(h, &in, flags, h->snxt, data, len);
	kt_run(kt.prog_in, &in, &out);
	kt_expect_nat(&in, &out, h->f.vip, h->f.vport, h->pod, h->f.cport);
	h->snxt += len + !!(flags & TF_SYN) + !!(flags & TF_FIN);
}

static void hp_establish(struct hp *h)
{
	pod_sends(h, TF_SYN, NULL, 0);
	pod_answers(h, TF_SYN, NULL, 0);
	pod_sends(h, TF_ACK, NULL, 0);
}

static struct kanary_ct_key rev_key(const struct hp *h)
{
	struct kt_be be = { .subset = 0, .index = 0 };

	return kt_ct_rev_key(&h->f, &be);
}

/* The entry of k in the established table, or else in the handshakes'. */
static struct kanary_ct_entry ct_entry(const struct kanary_ct_key *k)
{
	struct kanary_ct_entry e;

	if (bpf_map_lookup_elem(kt.maps.ct, k, &e) && bpf_map_lookup_elem(kt.maps.ct_new, k, &e))
		ck_abort_msg("no conntrack entry for the key");
	return e;
}

static __u64 counter(enum kanary_counter c)
{
	__u64 v[KANARY_CNT__MAX];

	kt_counters(v);
	return v[c];
}

START_TEST(syn_to_itself_leaves_from_the_hairpin_address)
{
	struct hp h = hp_service();
	struct kanary_ct_key fk = kt_ct_fwd_key(&h.f), rk = rev_key(&h);

	pod_sends(&h, TF_SYN, NULL, 0);
	ck_assert_msg(ct_entry(&fk).flags & KANARY_CT_F_HAIRPIN, "forward entry not flagged hairpin");
	ck_assert_msg(ct_entry(&rk).flags & KANARY_CT_F_HAIRPIN, "reverse entry not flagged hairpin");
}
END_TEST

START_TEST(reply_to_the_hairpin_address_comes_from_the_vip)
{
	struct hp h = hp_service();

	pod_sends(&h, TF_SYN, NULL, 0);
	pod_answers(&h, TF_SYN, NULL, 0);
}
END_TEST

/* Odd lengths both ways, the handshake completed, counted as any connection's. */
START_TEST(data_both_ways)
{
	static __u8 data[1001];
	struct hp h = hp_service();
	struct kanary_subset_stats st;
	__u64 established = counter(KANARY_CNT_CT_ESTABLISHED);

	for (unsigned i = 0; i < sizeof(data); i++)
		data[i] = (__u8)(i * 7 + 3);
	hp_establish(&h);
	ck_assert_uint_eq(counter(KANARY_CNT_CT_ESTABLISHED), established + 1);
	pod_sends(&h, TF_ACK | TF_PSH, data, 333);
	pod_answers(&h, TF_PSH, data, sizeof(data));
	pod_sends(&h, TF_ACK, NULL, 0);
	pod_answers(&h, TF_PSH, data, 1);
	pod_sends(&h, TF_ACK | TF_FIN, NULL, 0);
	pod_answers(&h, TF_FIN, NULL, 0);
	pod_sends(&h, TF_ACK, NULL, 0);
	kt_stats(h.svc_id, kt_subset_idx(KT_SVC, 0), &st);
	ck_assert_uint_eq(st.connections, 1);
	ck_assert_uint_eq(st.packets_in, 6);
	ck_assert_uint_eq(st.packets_out, 4);
}
END_TEST

START_TEST(http_exchange_is_counted)
{
	struct hp h = hp_service();
	struct kanary_http_stats st;
	struct kanary_err e = { 0 };

	hp_establish(&h);
	pod_sends(&h, TF_ACK | TF_PSH, get, strlen(get));
	pod_answers(&h, TF_PSH, ok_200, strlen(ok_200));
	ck_assert_msg(kanary_http_stats_read(&kt.maps, h.svc_id, kt_subset_idx(KT_SVC, 0), &st,
					     &e) == 0, "kanary_http_stats_read: %s", e.msg);
	ck_assert_uint_eq(st.requests, 1);
	ck_assert_uint_eq(kanary_http_responses(&st), 1);
	ck_assert_uint_eq(kanary_http_class_count(&st, 2), 1);
}
END_TEST

/* RFC 5961 on the hairpin reply: a RST far from the pod's sequence is dropped, the exact one ends it. */
START_TEST(reply_rst_checked_as_at_egress)
{
	struct hp h = hp_service();
	struct kanary_ct_key fk = kt_ct_fwd_key(&h.f);
	struct pkt in, out;

	hp_establish(&h);
	reply_pkt(&h, &in, TF_RST, h.snxt + (1u << 31), NULL, 0);
	ck_assert_uint_eq(kt_run_verdict(kt.prog_in, &in, &out), TC_ACT_SHOT);
	ck_assert_uint_eq(ct_entry(&fk).flags & KANARY_CT_F_CLOSING, 0);
	pod_answers(&h, TF_RST, NULL, 0);
	ck_assert_msg(ct_entry(&fk).flags & KANARY_CT_F_CLOSING, "the exact RST did not end it");
}
END_TEST

/* What kanary_ingress sends on goes out the same veth, through egress: untouched there. */
START_TEST(egress_leaves_hairpin_packets_alone)
{
	struct hp h = hp_service();
	struct pkt in, mid, out;

	pod_sends(&h, TF_SYN, NULL, 0);
	reply_pkt(&h, &in, TF_SYN, h.snxt, NULL, 0);
	kt_run(kt.prog_in, &in, &mid);
	kt_run(kt.prog_out, &mid, &out);
	kt_expect_untouched(&mid, &out);
	h.snxt++;
	kt_pkt_fwd_seq(&in, &h.f, TF_ACK, h.cnxt, NULL, 0);
	kt_run(kt.prog_in, &in, &mid);
	kt_run(kt.prog_out, &mid, &out);
	kt_expect_untouched(&mid, &out);
}
END_TEST

/* Another client of the same backend: DNAT only, and its replies at egress as ever. */
START_TEST(other_clients_unchanged)
{
	struct hp h = hp_service();
	struct kt_flow other = kt_flow_nth(0);
	struct kanary_ct_key fk = kt_ct_fwd_key(&other);
	struct kt_be be = kt_establish(&other);

	ck_assert_uint_eq(kt_be_addr(be.subset, be.index), h.pod);
	ck_assert_uint_eq(ct_entry(&fk).flags & KANARY_CT_F_HAIRPIN, 0);
}
END_TEST

/* A packet to the hairpin address that answers no hairpin connection passes untouched. */
START_TEST(unknown_packet_to_the_hairpin_address_untouched)
{
	struct hp h = hp_service();
	struct kt_flow other = kt_flow_nth(0);
	/* Another client's connection on the same ports: its reverse entry is no hairpin's. */
	struct tcp4_spec s = { .saddr = h.pod, .daddr = KANARY_HAIRPIN_V4, .sport = h.pport,
			       .dport = other.cport, .flags = TF_SYN | TF_ACK, .seq = 1, .ack = 2 };
	struct pkt in, out;

	kt_send(&other, TF_SYN);
	pkt_tcp4(&in, &s);
	kt_run(kt.prog_in, &in, &out);
	kt_expect_untouched(&in, &out);
}
END_TEST

Suite *hairpin_suite(void)
{
	Suite *s = suite_create("hairpin");
	TCase *tc = kt_tcase("hairpin", 30);

	/* The rule path's crafted RSTs are clones re-injected at lo's ingress: it must be up. */
	tcase_add_checked_fixture(tc, kt_loopback_up, NULL);

	tcase_add_test(tc, syn_to_itself_leaves_from_the_hairpin_address);
	tcase_add_test(tc, reply_to_the_hairpin_address_comes_from_the_vip);
	tcase_add_test(tc, data_both_ways);
	tcase_add_test(tc, http_exchange_is_counted);
	tcase_add_test(tc, reply_rst_checked_as_at_egress);
	tcase_add_test(tc, egress_leaves_hairpin_packets_alone);
	tcase_add_test(tc, other_clients_unchanged);
	tcase_add_test(tc, unknown_packet_to_the_hairpin_address_untouched);
	ho_hairpin_tests(tc);
	suite_add_tcase(s, tc);
	return s;
}
