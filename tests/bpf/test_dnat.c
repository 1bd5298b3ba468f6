// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* DNAT of client packets and reverse NAT of replies: only the address and
 * port change, and both checksums of the output verify independently. */
#include "fixture.h"
#include "suites.h"

static const int n_be[] = { 2, 1 };
static const __u32 w_80_20[] = { 80000, 20000 };

/* SYN options as Linux sends them: MSS, SACK-permitted, timestamps, wscale. */
static const __u8 syn_opts[20] = {
	0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x01,
	0xe2, 0x40, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
};
static const __u8 ts_opts[12] = {
	0x01, 0x01, 0x08, 0x0a, 0x00, 0x01, 0xe2, 0x41, 0x00, 0x02, 0x33, 0x44,
};
static const __u8 router_alert[4] = { 0x94, 0x04, 0x00, 0x00 };
static __u8 payload[1460];

static const struct kt_flow client = {
	.client = 0x0a000002, .cport = 40000, .vip = KT_VIP, .vport = KT_VPORT,
};

static void web_service(void)
{
	unsigned i;

	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (__u8)(i * 7 + 3);
	kt_service_create(KT_SVC, KT_VIP, KT_VPORT, 2, w_80_20, n_be);
}

static struct tcp4_spec fwd(__u8 flags, const void *opts, size_t opts_len, size_t len)
{
	struct tcp4_spec s = {
		.saddr = client.client, .daddr = client.vip,
		.sport = client.cport, .dport = client.vport,
		.flags = flags, .seq = 100, .ack = flags & TF_ACK ? 200 : 0,
		.tcp_opts = opts, .tcp_opts_len = opts_len,
		.payload = payload, .payload_len = len,
	};
	return s;
}

static struct tcp4_spec rev(const struct kt_be *be, __u8 flags, const void *opts,
			    size_t opts_len, size_t len)
{
	struct tcp4_spec s = {
		.saddr = kt_be_addr(be->subset, be->index), .daddr = client.client,
		.sport = kt_be_port(be->subset), .dport = client.cport,
		.flags = flags, .seq = 200, .ack = 101,
		.tcp_opts = opts, .tcp_opts_len = opts_len,
		.payload = payload, .payload_len = len,
	};
	return s;
}

/* Runs s through ingress and returns the backend it was sent to. */
static struct kt_be ingress(const struct tcp4_spec *s)
{
	struct pkt in, out;
	struct kt_be be;

	pkt_tcp4(&in, s);
	ck_assert(pkt_tcp4_csum_ok(&in));
	kt_run(kt.prog_in, &in, &out);
	be = kt_expect_dnat(&in, &out);
	ck_assert_msg(be.subset < 2 && be.index < n_be[be.subset],
		      "backend %d of subset %d is not configured", be.index, be.subset);
	return be;
}

static void egress(const struct tcp4_spec *s)
{
	struct pkt in, out;

	pkt_tcp4(&in, s);
	ck_assert(pkt_tcp4_csum_ok(&in));
	kt_run(kt.prog_out, &in, &out);
	kt_expect_snat(&in, &out, KT_VIP, KT_VPORT);
}

static void ck_same_be(struct kt_be a, struct kt_be b)
{
	ck_assert_msg(a.subset == b.subset && a.index == b.index,
		      "flow moved from backend %d/%d to %d/%d", a.subset, a.index, b.subset, b.index);
}

START_TEST(syn_goes_to_a_backend)
{
	struct tcp4_spec s;

	web_service();
	s = fwd(TF_SYN, NULL, 0, 0);
	ingress(&s);
}
END_TEST

START_TEST(syn_with_tcp_options)
{
	struct tcp4_spec s;

	web_service();
	s = fwd(TF_SYN, syn_opts, sizeof(syn_opts), 0);
	ingress(&s);
}
END_TEST

START_TEST(data_with_odd_payload_follows_syn)
{
	struct tcp4_spec s;
	struct kt_be first;

	web_service();
	s = fwd(TF_SYN, NULL, 0, 0);
	first = ingress(&s);
	s = fwd(TF_ACK | TF_PSH, NULL, 0, 333);
	ck_same_be(first, ingress(&s));
	s = fwd(TF_ACK, NULL, 0, sizeof(payload));
	ck_same_be(first, ingress(&s));
}
END_TEST

START_TEST(data_with_options_and_odd_payload)
{
	struct tcp4_spec s;
	struct kt_be first;

	web_service();
	s = fwd(TF_SYN, syn_opts, sizeof(syn_opts), 0);
	first = ingress(&s);
	s = fwd(TF_ACK | TF_PSH, ts_opts, sizeof(ts_opts), 1);
	ck_same_be(first, ingress(&s));
	s = fwd(TF_ACK | TF_PSH, ts_opts, sizeof(ts_opts), 1001);
	ck_same_be(first, ingress(&s));
}
END_TEST

/* ihl > 5: the TCP header starts after the IP options, which stay as they were. */
START_TEST(ipv4_options_still_dnat)
{
	struct tcp4_spec s;
	struct kt_be first;

	web_service();
	s = fwd(TF_SYN, syn_opts, sizeof(syn_opts), 0);
	s.ip_opts = router_alert;
	s.ip_opts_len = sizeof(router_alert);
	first = ingress(&s);
	s = fwd(TF_ACK | TF_PSH, NULL, 0, 77);
	s.ip_opts = router_alert;
	s.ip_opts_len = sizeof(router_alert);
	ck_same_be(first, ingress(&s));
}
END_TEST

START_TEST(reply_gets_vip_as_source)
{
	struct tcp4_spec s;
	struct kt_be be;

	web_service();
	s = fwd(TF_SYN, syn_opts, sizeof(syn_opts), 0);
	be = ingress(&s);
	s = rev(&be, TF_SYN | TF_ACK, syn_opts, sizeof(syn_opts), 0);
	egress(&s);
	s = rev(&be, TF_ACK | TF_PSH, ts_opts, sizeof(ts_opts), 555);
	egress(&s);
	s = rev(&be, TF_ACK, NULL, 0, sizeof(payload));
	egress(&s);
	s = rev(&be, TF_ACK | TF_FIN, NULL, 0, 0);
	egress(&s);
}
END_TEST

Suite *dnat_suite(void)
{
	Suite *s = suite_create("dnat");
	TCase *tc = kt_tcase("dnat", 30);

	tcase_add_test(tc, syn_goes_to_a_backend);
	tcase_add_test(tc, syn_with_tcp_options);
	tcase_add_test(tc, data_with_odd_payload_follows_syn);
	tcase_add_test(tc, data_with_options_and_odd_payload);
	tcase_add_test(tc, ipv4_options_still_dnat);
	tcase_add_test(tc, reply_gets_vip_as_source);
	suite_add_tcase(s, tc);
	return s;
}
