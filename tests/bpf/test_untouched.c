// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * What is not a service flow, or cannot be parsed safely, leaves both
 * programs byte for byte as it came, and no counter moves.  A service with
 * no eligible subset passes traffic through and counts KANARY_CNT_NO_BACKEND.
 */
#include <stdio.h>
#include <string.h>
#include "fixture.h"
#include "suites.h"
#include "wire.h"

static const struct kt_flow client = {
	.client = 0x0a000002, .cport = 40000, .vip = KT_VIP, .vport = KT_VPORT,
};

struct snapshot {
	__u64 cnt[KANARY_CNT__MAX];
	struct kanary_subset_stats st[KANARY_MAX_SUBSETS];
};

static __u32 svc_id;

static void snap(struct snapshot *s)
{
	int i;

	memset(s, 0, sizeof(*s));
	kt_counters(s->cnt);
	for (i = 0; i < KANARY_MAX_SUBSETS; i++)
		kt_stats(svc_id, i, &s->st[i]);
}

/* A live connection on the same tuple, so the conntrack path is exercised too. */
static void web_service_with_connection(void)
{
	static const __u32 w[] = { 80000, 20000 };
	static const int nb[] = { 1, 1 };

	svc_id = kt_service_create(KT_SVC, KT_VIP, KT_VPORT, 2, w, nb);
	kt_send(&client, TF_SYN);
}

typedef void run_fn(int prog_fd, const struct pkt *in, struct pkt *out);

/* Both programs, run by run, leave p alone and count nothing. */
static void expect_ignored_by(run_fn *run, const struct pkt *p, const char *what)
{
	struct snapshot before, after;
	struct pkt out;

	snap(&before);
	run(kt.prog_in, p, &out);
	ck_assert_msg(pkt_diff(p, &out, NULL, 0) < 0, "ingress changed %s", what);
	run(kt.prog_out, p, &out);
	ck_assert_msg(pkt_diff(p, &out, NULL, 0) < 0, "egress changed %s", what);
	snap(&after);
	ck_assert_msg(!memcmp(before.cnt, after.cnt, sizeof(before.cnt)), "%s moved a counter", what);
	ck_assert_msg(!memcmp(before.st, after.st, sizeof(before.st)), "%s moved subset stats", what);
}

static void expect_ignored(const struct pkt *p, const char *what)
{
	expect_ignored_by(kt_run, p, what);
}

static void syn_to(struct pkt *p, __u32 daddr, __u16 dport)
{
	struct kt_flow f = client;

	f.vip = daddr;
	f.vport = dport;
	kt_pkt_fwd(p, &f, TF_SYN, NULL, 0);
}

START_TEST(other_destination)
{
	struct pkt p;

	web_service_with_connection();
	syn_to(&p, KT_VIP + 1, KT_VPORT);
	expect_ignored(&p, "a SYN to another address");
}
END_TEST

START_TEST(vip_on_other_port)
{
	struct pkt p;

	web_service_with_connection();
	syn_to(&p, KT_VIP, KT_VPORT + 1);
	expect_ignored(&p, "a SYN to the VIP on another port");
}
END_TEST

START_TEST(udp_to_service_port)
{
	struct pkt p;

	web_service_with_connection();
	pkt_udp4(&p, client.client, KT_VIP, client.cport, KT_VPORT, 31);
	expect_ignored(&p, "UDP to VIP:port");
}
END_TEST

START_TEST(icmp_to_vip)
{
	struct pkt p;

	web_service_with_connection();
	pkt_icmp4_echo(&p, client.client, KT_VIP);
	expect_ignored(&p, "an ICMP echo to the VIP");
}
END_TEST

START_TEST(arp_for_vip)
{
	struct pkt p;

	web_service_with_connection();
	pkt_arp_request(&p, client.client, KT_VIP);
	expect_ignored(&p, "an ARP request for the VIP");
}
END_TEST

/* The service key is v4-mapped: an IPv6 packet to ::ffff:VIP must not match it. */
START_TEST(ipv6_to_mapped_vip)
{
	struct pkt p;

	web_service_with_connection();
	pkt_tcp6_syn(&p, client.client, KT_VIP, client.cport, KT_VPORT);
	expect_ignored(&p, "an IPv6 SYN to ::ffff:VIP");
}
END_TEST

/* The wire path must be seen to run the program, or passing proves nothing. */
static void wire_runs_the_program(void)
{
	struct kt_flow f = client;
	struct pkt in, out;

	f.cport++;
	kt_pkt_fwd(&in, &f, TF_SYN, NULL, 0);
	kt_wire_run(kt.prog_in, &in, &out);
	kt_expect_dnat(&in, &out);
}

START_TEST(ethernet_header_only)
{
	struct pkt p;

	web_service_with_connection();
	wire_runs_the_program();
	syn_to(&p, KT_VIP, KT_VPORT);
	p.len = ETH_LEN;
	expect_ignored_by(kt_wire_run, &p, "a bare Ethernet header of type IPv4");
}
END_TEST

START_TEST(ipv4_header_cut_short)
{
	struct pkt p;

	web_service_with_connection();
	wire_runs_the_program();
	syn_to(&p, KT_VIP, KT_VPORT);
	p.len = ETH_LEN + 19;
	expect_ignored_by(kt_wire_run, &p, "an IPv4 header cut at 19 bytes");
}
END_TEST

START_TEST(ihl_beyond_packet)
{
	struct pkt p;

	web_service_with_connection();
	syn_to(&p, KT_VIP, KT_VPORT);
	p.data[ETH_LEN] = 0x4f;		/* 60-byte header claimed, 40 bytes follow */
	expect_ignored(&p, "an IPv4 header whose ihl runs past the packet");
}
END_TEST

/*
 * Total length 80 (the service port) makes a parser that trusts ihl 0 read
 * the IP header as a TCP header to VIP:80, so accepting ihl < 5 shows.
 */
START_TEST(ihl_below_minimum)
{
	char what[64];
	struct pkt p;
	int ihl;

	web_service_with_connection();
	for (ihl = 0; ihl < 5; ihl++) {
		syn_to(&p, KT_VIP, KT_VPORT);
		p.data[ETH_LEN] = 0x40 | ihl;
		p.data[ETH_LEN + 2] = 0;
		p.data[ETH_LEN + 3] = KT_VPORT;
		snprintf(what, sizeof(what), "an IPv4 header with ihl %d", ihl);
		expect_ignored(&p, what);
	}
}
END_TEST

START_TEST(tcp_header_cut_short)
{
	struct pkt p;

	web_service_with_connection();
	syn_to(&p, KT_VIP, KT_VPORT);
	p.len = ETH_LEN + IP4_LEN + 12;	/* ports present, flags and checksum not */
	expect_ignored(&p, "a TCP header cut at 12 bytes");
}
END_TEST

START_TEST(non_first_fragment)
{
	struct tcp4_spec s = {
		.saddr = client.client, .daddr = KT_VIP, .sport = client.cport,
		.dport = KT_VPORT, .flags = TF_ACK, .frag_off = 185,	/* byte 1480 */
	};
	struct pkt p;

	web_service_with_connection();
	pkt_tcp4(&p, &s);
	expect_ignored(&p, "a non-first fragment whose bytes look like TCP to VIP:port");
}
END_TEST

START_TEST(reply_without_connection)
{
	struct kt_flow other = client;
	struct kt_be be = { 0, 0 };
	struct pkt p;

	web_service_with_connection();
	other.cport++;
	kt_pkt_rev(&p, &other, &be, TF_SYN | TF_ACK, NULL, 0);
	expect_ignored(&p, "a backend's packet to a client port with no connection");
}
END_TEST

/* No eligible subset: the packet goes on as sent, KANARY_CNT_NO_BACKEND counts it. */
static void expect_no_backend(void)
{
	struct snapshot before, after;
	struct pkt in, out;
	int i;

	snap(&before);
	kt_pkt_fwd(&in, &client, TF_SYN, NULL, 0);
	kt_run(kt.prog_in, &in, &out);
	kt_expect_untouched(&in, &out);
	kt_pkt_fwd(&in, &client, TF_ACK | TF_PSH, NULL, 99);
	kt_run(kt.prog_in, &in, &out);
	kt_expect_untouched(&in, &out);
	snap(&after);
	ck_assert_uint_eq(after.cnt[KANARY_CNT_NO_BACKEND], before.cnt[KANARY_CNT_NO_BACKEND] + 2);
	ck_assert_uint_eq(after.cnt[KANARY_CNT_CT_NEW], before.cnt[KANARY_CNT_CT_NEW]);
	for (i = 0; i < KANARY_MAX_SUBSETS; i++)
		ck_assert_uint_eq(after.st[i].connections, 0);
}

START_TEST(service_without_subsets)
{
	svc_id = kt_service_create(KT_SVC, KT_VIP, KT_VPORT, 0, NULL, NULL);
	expect_no_backend();
}
END_TEST

START_TEST(all_weights_zero)
{
	static const __u32 w[] = { 0, 0 };
	static const int nb[] = { 2, 1 };

	svc_id = kt_service_create(KT_SVC, KT_VIP, KT_VPORT, 2, w, nb);
	expect_no_backend();
}
END_TEST

START_TEST(weighted_subsets_without_backends)
{
	static const __u32 w[] = { 80000, 20000 };
	static const int nb[] = { 0, 0 };

	svc_id = kt_service_create(KT_SVC, KT_VIP, KT_VPORT, 2, w, nb);
	expect_no_backend();
}
END_TEST

Suite *untouched_suite(void)
{
	Suite *s = suite_create("untouched");
	TCase *tc = kt_tcase("not_a_service_flow", 30);
	TCase *nb = kt_tcase("no_backend", 30);

	tcase_add_test(tc, other_destination);
	tcase_add_test(tc, vip_on_other_port);
	tcase_add_test(tc, udp_to_service_port);
	tcase_add_test(tc, icmp_to_vip);
	tcase_add_test(tc, arp_for_vip);
	tcase_add_test(tc, ipv6_to_mapped_vip);
	tcase_add_test(tc, ethernet_header_only);
	tcase_add_test(tc, ipv4_header_cut_short);
	tcase_add_test(tc, ihl_beyond_packet);
	tcase_add_test(tc, ihl_below_minimum);
	tcase_add_test(tc, tcp_header_cut_short);
	tcase_add_test(tc, non_first_fragment);
	tcase_add_test(tc, reply_without_connection);
	suite_add_tcase(s, tc);
	tcase_add_test(nb, service_without_subsets);
	tcase_add_test(nb, all_weights_zero);
	tcase_add_test(nb, weighted_subsets_without_backends);
	suite_add_tcase(s, nb);
	return s;
}
