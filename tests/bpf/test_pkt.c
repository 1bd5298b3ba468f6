// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The test's own checksum and frame builder, against known answers. */
#include <string.h>
#include "pkt.h"
#include "suites.h"

START_TEST(csum_rfc1071_example)
{
	/* RFC 1071 section 3: these words sum to ddf2. */
	const __u8 b[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

	ck_assert_uint_eq(csum_finish(csum_add(0, b, sizeof(b))), (__u16)~0xddf2);
}
END_TEST

START_TEST(csum_odd_length_pads_low_byte)
{
	const __u8 b[] = { 0x01, 0x02, 0x03 };	/* 0102 + 0300 */

	ck_assert_uint_eq(csum_finish(csum_add(0, b, sizeof(b))), (__u16)~0x0402);
}
END_TEST

START_TEST(csum_ipv4_header_known)
{
	/* A captured IPv4 header whose checksum field holds b861. */
	__u8 h[] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
		     0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };

	ck_assert_uint_eq(csum_finish(csum_add(0, h, sizeof(h))), 0);
	h[10] = h[11] = 0;
	ck_assert_uint_eq(csum_finish(csum_add(0, h, sizeof(h))), 0xb861);
}
END_TEST

/* Every byte after Ethernet is covered: a flipped one must fail the check. */
START_TEST(tcp_builder_checksums_cover_every_byte)
{
	const __u8 ip_opts[4] = { 0x94, 0x04, 0x00, 0x00 };		/* router alert */
	const __u8 tcp_opts[8] = { 0x02, 0x04, 0x05, 0xb4, 0x01, 0x03, 0x03, 0x07 };
	const char payload[] = "odd-length payload!";		/* 19 bytes */
	struct tcp4_spec s = {
		.saddr = 0x0a000002, .daddr = 0x0a60000a, .sport = 40000, .dport = 80,
		.flags = TF_ACK | TF_PSH, .seq = 7, .ack = 9,
		.ip_opts = ip_opts, .ip_opts_len = sizeof(ip_opts),
		.tcp_opts = tcp_opts, .tcp_opts_len = sizeof(tcp_opts),
		.payload = payload, .payload_len = strlen(payload),
	};
	struct pkt p, bad;
	unsigned i;

	pkt_tcp4(&p, &s);
	ck_assert_uint_eq(p.len, ETH_LEN + 24 + 28 + 19);
	ck_assert_uint_eq(pkt_l4_off(&p), ETH_LEN + 24);
	ck_assert_uint_eq(pkt_l4_dport(&p), 80);
	ck_assert(pkt_ip4_csum_ok(&p));
	ck_assert(pkt_tcp4_csum_ok(&p));
	for (i = ETH_LEN; i < p.len; i++) {
		bad = p;
		bad.data[i] ^= 0x40;
		ck_assert_msg(!pkt_tcp4_csum_ok(&bad), "flip at byte %u not detected", i);
	}
}
END_TEST

START_TEST(diff_skips_only_given_ranges)
{
	struct pkt a = { .len = 10 }, b;
	const unsigned skip[][2] = { { 2, 3 } };

	memset(a.data, 1, a.len);
	b = a;
	b.data[4] = 9;
	ck_assert_int_eq(pkt_diff(&a, &b, skip, 1), -1);
	b.data[5] = 9;
	ck_assert_int_eq(pkt_diff(&a, &b, skip, 1), 5);
}
END_TEST

Suite *pkt_suite(void)
{
	Suite *s = suite_create("pkt");
	TCase *tc = tcase_create("pkt");

	tcase_add_test(tc, csum_rfc1071_example);
	tcase_add_test(tc, csum_odd_length_pads_low_byte);
	tcase_add_test(tc, csum_ipv4_header_known);
	tcase_add_test(tc, tcp_builder_checksums_cover_every_byte);
	tcase_add_test(tc, diff_skips_only_given_ranges);
	suite_add_tcase(s, tc);
	return s;
}
