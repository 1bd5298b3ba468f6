/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Crafted Ethernet frames for BPF_PROG_TEST_RUN, and an RFC 1071 checksum
 * written here independently of the datapath, so a checksum bug in the
 * programs cannot hide behind the same bug in the test.
 */
#ifndef KT_PKT_H
#define KT_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define PKT_MAX		2048
#define ETH_LEN		14
#define IP4_LEN		20	/* without options */
#define TCP_LEN		20	/* without options */

/* TCP flags byte (offset 13 of the TCP header). */
#define TF_FIN	0x01
#define TF_SYN	0x02
#define TF_RST	0x04
#define TF_PSH	0x08
#define TF_ACK	0x10

/* IPv4 frag_off field (host order). */
#define IP4_MF		0x2000
#define IP4_OFFMASK	0x1fff

struct pkt {
	__u8	data[PKT_MAX];
	__u32	len;
};

/* An IPv4 TCP segment; addresses in host order (10.0.0.2 = 0x0a000002). */
struct tcp4_spec {
	__u32		saddr, daddr;
	__u16		sport, dport;
	__u8		flags;
	__u32		seq, ack;
	const void	*tcp_opts;	/* length a multiple of 4, <= 40 */
	size_t		tcp_opts_len;
	const void	*ip_opts;	/* length a multiple of 4, <= 40 */
	size_t		ip_opts_len;
	const void	*payload;
	size_t		payload_len;
	__u16		frag_off;	/* flags + offset, as in the header */
	__u16		window;		/* 0: 64240 */
};

void pkt_tcp4(struct pkt *p, const struct tcp4_spec *s);
void pkt_udp4(struct pkt *p, __u32 saddr, __u32 daddr, __u16 sport, __u16 dport,
	      size_t payload_len);
void pkt_icmp4_echo(struct pkt *p, __u32 saddr, __u32 daddr);
void pkt_arp_request(struct pkt *p, __u32 sender, __u32 target);
/* IPv6 TCP SYN; the addresses are ::ffff:a.b.c.d of the given IPv4 ones. */
void pkt_tcp6_syn(struct pkt *p, __u32 saddr4, __u32 daddr4, __u16 sport, __u16 dport);

/* One's-complement sum of len bytes (odd tail padded with zero), unfolded. */
__u32 csum_add(__u32 sum, const void *buf, size_t len);
/* Folds and complements: the value a checksum field must hold. */
__u16 csum_finish(__u32 sum);

/* Accessors for an Ethernet + IPv4 frame; multi-byte results in host order. */
unsigned pkt_ihl_bytes(const struct pkt *p);
unsigned pkt_l4_off(const struct pkt *p);
__u32 pkt_ip4_saddr(const struct pkt *p);
__u32 pkt_ip4_daddr(const struct pkt *p);
__u16 pkt_l4_sport(const struct pkt *p);
__u16 pkt_l4_dport(const struct pkt *p);
__u32 pkt_tcp_seq(const struct pkt *p);
__u32 pkt_tcp_ack(const struct pkt *p);
__u8 pkt_tcp_flags(const struct pkt *p);
unsigned pkt_tcp_hlen(const struct pkt *p);
/* TCP payload bytes, by the IPv4 total length. */
unsigned pkt_tcp_payload_len(const struct pkt *p);

/* Swaps the Ethernet addresses: a frame towards the client, not from it. */
void pkt_swap_macs(struct pkt *p);

/* Verify the IPv4 header checksum / the TCP checksum over pseudo-header + segment. */
bool pkt_ip4_csum_ok(const struct pkt *p);
bool pkt_tcp4_csum_ok(const struct pkt *p);

/*
 * First offset where a and b differ, ignoring the byte ranges [off, off+len)
 * given as pairs in skip[]; -1 when they are equal (lengths must match).
 */
long pkt_diff(const struct pkt *a, const struct pkt *b, const unsigned skip[][2], int nskip);

#endif /* KT_PKT_H */
