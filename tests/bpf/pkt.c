// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Frames are written byte by byte at RFC offsets, not through kernel structs. */
#include <assert.h>
#include <string.h>
#include "pkt.h"

#define ETHERTYPE_IP4	0x0800
#define ETHERTYPE_ARP	0x0806
#define ETHERTYPE_IP6	0x86dd
#define PROTO_ICMP	1
#define PROTO_TCP	6
#define PROTO_UDP	17

static const __u8 client_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
static const __u8 host_mac[6]   = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

static void put16(__u8 *b, __u16 v) { b[0] = v >> 8; b[1] = v; }
static void put32(__u8 *b, __u32 v) { put16(b, v >> 16); put16(b + 2, v); }
static __u16 get16(const __u8 *b) { return (__u16)(b[0] << 8 | b[1]); }
static __u32 get32(const __u8 *b) { return (__u32)get16(b) << 16 | get16(b + 2); }

__u32 csum_add(__u32 sum, const void *buf, size_t len)
{
	const __u8 *b = buf;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += get16(b + i);
	if (len & 1)
		sum += (__u32)b[len - 1] << 8;
	return sum;
}

__u16 csum_finish(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

static void put_eth(struct pkt *p, __u16 ethertype)
{
	memset(p->data, 0, sizeof(p->data));
	memcpy(p->data, host_mac, 6);
	memcpy(p->data + 6, client_mac, 6);
	put16(p->data + 12, ethertype);
}

/* Writes an IPv4 header at ETH_LEN; returns its length. */
static unsigned put_ip4(struct pkt *p, __u32 saddr, __u32 daddr, __u8 proto,
			const void *opts, size_t opts_len, size_t l4_len, __u16 frag_off)
{
	__u8 *ip = p->data + ETH_LEN;
	unsigned hl = IP4_LEN + opts_len;

	assert(opts_len % 4 == 0 && opts_len <= 40);
	ip[0] = 0x40 | (hl / 4);
	ip[1] = 0;				/* DSCP/ECN */
	put16(ip + 2, hl + l4_len);
	put16(ip + 4, 0x1234);			/* id */
	put16(ip + 6, frag_off);
	ip[8] = 64;
	ip[9] = proto;
	put32(ip + 12, saddr);
	put32(ip + 16, daddr);
	if (opts_len)
		memcpy(ip + IP4_LEN, opts, opts_len);
	put16(ip + 10, csum_finish(csum_add(0, ip, hl)));
	return hl;
}

static __u32 pseudo_sum(__u32 saddr, __u32 daddr, __u8 proto, size_t l4_len)
{
	__u8 ph[12];

	put32(ph, saddr);
	put32(ph + 4, daddr);
	ph[8] = 0;
	ph[9] = proto;
	put16(ph + 10, l4_len);
	return csum_add(0, ph, sizeof(ph));
}

void pkt_tcp4(struct pkt *p, const struct tcp4_spec *s)
{
	size_t thl = TCP_LEN + s->tcp_opts_len, l4_len = thl + s->payload_len;
	unsigned l4;
	__u8 *t;

	assert(s->tcp_opts_len % 4 == 0 && s->tcp_opts_len <= 40);
	assert(ETH_LEN + IP4_LEN + s->ip_opts_len + l4_len <= PKT_MAX);
	put_eth(p, ETHERTYPE_IP4);
	l4 = ETH_LEN + put_ip4(p, s->saddr, s->daddr, PROTO_TCP, s->ip_opts,
			       s->ip_opts_len, l4_len, s->frag_off);
	t = p->data + l4;
	put16(t, s->sport);
	put16(t + 2, s->dport);
	put32(t + 4, s->seq);
	put32(t + 8, s->ack);
	t[12] = (thl / 4) << 4;
	t[13] = s->flags;
	put16(t + 14, s->window ? s->window : 64240);
	if (s->tcp_opts_len)
		memcpy(t + TCP_LEN, s->tcp_opts, s->tcp_opts_len);
	if (s->payload_len)
		memcpy(t + thl, s->payload, s->payload_len);
	put16(t + 16, csum_finish(csum_add(pseudo_sum(s->saddr, s->daddr, PROTO_TCP, l4_len),
					   t, l4_len)));
	p->len = l4 + l4_len;
}

void pkt_udp4(struct pkt *p, __u32 saddr, __u32 daddr, __u16 sport, __u16 dport,
	      size_t payload_len)
{
	size_t l4_len = 8 + payload_len;
	unsigned l4;
	__u8 *u;

	assert(ETH_LEN + IP4_LEN + l4_len <= PKT_MAX);
	put_eth(p, ETHERTYPE_IP4);
	l4 = ETH_LEN + put_ip4(p, saddr, daddr, PROTO_UDP, NULL, 0, l4_len, 0);
	u = p->data + l4;
	put16(u, sport);
	put16(u + 2, dport);
	put16(u + 4, l4_len);
	memset(u + 8, 'u', payload_len);
	put16(u + 6, csum_finish(csum_add(pseudo_sum(saddr, daddr, PROTO_UDP, l4_len), u, l4_len)));
	p->len = l4 + l4_len;
}

void pkt_icmp4_echo(struct pkt *p, __u32 saddr, __u32 daddr)
{
	unsigned l4;
	__u8 *ic;

	put_eth(p, ETHERTYPE_IP4);
	l4 = ETH_LEN + put_ip4(p, saddr, daddr, PROTO_ICMP, NULL, 0, 16, 0);
	ic = p->data + l4;
	ic[0] = 8;				/* echo request */
	put16(ic + 4, 0x4b41);			/* id */
	put16(ic + 6, 1);			/* seq */
	memset(ic + 8, 'p', 8);
	put16(ic + 2, csum_finish(csum_add(0, ic, 16)));
	p->len = l4 + 16;
}

void pkt_arp_request(struct pkt *p, __u32 sender, __u32 target)
{
	__u8 *a;

	put_eth(p, ETHERTYPE_ARP);
	memset(p->data, 0xff, 6);		/* broadcast */
	a = p->data + ETH_LEN;
	put16(a, 1);				/* Ethernet */
	put16(a + 2, ETHERTYPE_IP4);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, 1);			/* request */
	memcpy(a + 8, client_mac, 6);
	put32(a + 14, sender);
	put32(a + 24, target);
	p->len = ETH_LEN + 28;
}

void pkt_tcp6_syn(struct pkt *p, __u32 saddr4, __u32 daddr4, __u16 sport, __u16 dport)
{
	__u8 *ip6, *t;
	__u32 sum;

	put_eth(p, ETHERTYPE_IP6);
	ip6 = p->data + ETH_LEN;
	ip6[0] = 0x60;
	put16(ip6 + 4, TCP_LEN);
	ip6[6] = PROTO_TCP;
	ip6[7] = 64;
	put16(ip6 + 8 + 10, 0xffff);
	put32(ip6 + 8 + 12, saddr4);
	put16(ip6 + 24 + 10, 0xffff);
	put32(ip6 + 24 + 12, daddr4);
	t = ip6 + 40;
	put16(t, sport);
	put16(t + 2, dport);
	put32(t + 4, 1);
	t[12] = (TCP_LEN / 4) << 4;
	t[13] = TF_SYN;
	put16(t + 14, 64240);
	sum = csum_add(0, ip6 + 8, 32);		/* pseudo-header: addresses, length, next header */
	sum += TCP_LEN + PROTO_TCP;
	put16(t + 16, csum_finish(csum_add(sum, t, TCP_LEN)));
	p->len = ETH_LEN + 40 + TCP_LEN;
}

unsigned pkt_ihl_bytes(const struct pkt *p) { return (p->data[ETH_LEN] & 0x0f) * 4; }
unsigned pkt_l4_off(const struct pkt *p) { return ETH_LEN + pkt_ihl_bytes(p); }
__u32 pkt_ip4_saddr(const struct pkt *p) { return get32(p->data + ETH_LEN + 12); }
__u32 pkt_ip4_daddr(const struct pkt *p) { return get32(p->data + ETH_LEN + 16); }
__u16 pkt_l4_sport(const struct pkt *p) { return get16(p->data + pkt_l4_off(p)); }
__u16 pkt_l4_dport(const struct pkt *p) { return get16(p->data + pkt_l4_off(p) + 2); }
__u32 pkt_tcp_seq(const struct pkt *p) { return get32(p->data + pkt_l4_off(p) + 4); }
__u32 pkt_tcp_ack(const struct pkt *p) { return get32(p->data + pkt_l4_off(p) + 8); }
__u8 pkt_tcp_flags(const struct pkt *p) { return p->data[pkt_l4_off(p) + 13]; }
unsigned pkt_tcp_hlen(const struct pkt *p) { return (p->data[pkt_l4_off(p) + 12] >> 4) * 4; }

unsigned pkt_tcp_payload_len(const struct pkt *p)
{
	return get16(p->data + ETH_LEN + 2) - pkt_ihl_bytes(p) - pkt_tcp_hlen(p);
}

void pkt_swap_macs(struct pkt *p)
{
	__u8 mac[6];

	memcpy(mac, p->data, 6);
	memmove(p->data, p->data + 6, 6);
	memcpy(p->data + 6, mac, 6);
}

bool pkt_ip4_csum_ok(const struct pkt *p)
{
	unsigned hl = pkt_ihl_bytes(p);

	if (p->len < ETH_LEN + IP4_LEN || hl < IP4_LEN || ETH_LEN + hl > p->len)
		return false;
	return csum_finish(csum_add(0, p->data + ETH_LEN, hl)) == 0;
}

bool pkt_tcp4_csum_ok(const struct pkt *p)
{
	unsigned l4 = pkt_l4_off(p);
	size_t l4_len;

	if (!pkt_ip4_csum_ok(p) || p->data[ETH_LEN + 9] != PROTO_TCP)
		return false;
	l4_len = ETH_LEN + get16(p->data + ETH_LEN + 2) - l4;
	if (l4 + l4_len > p->len || l4_len < TCP_LEN)
		return false;
	return csum_finish(csum_add(pseudo_sum(pkt_ip4_saddr(p), pkt_ip4_daddr(p), PROTO_TCP,
					       l4_len), p->data + l4, l4_len)) == 0;
}

long pkt_diff(const struct pkt *a, const struct pkt *b, const unsigned skip[][2], int nskip)
{
	unsigned i;
	int k;

	if (a->len != b->len)
		return (long)(a->len < b->len ? a->len : b->len);
	for (i = 0; i < a->len; i++) {
		bool skipped = false;

		for (k = 0; k < nskip; k++)
			if (i >= skip[k][0] && i < skip[k][0] + skip[k][1])
				skipped = true;
		if (!skipped && a->data[i] != b->data[i])
			return i;
	}
	return -1;
}
