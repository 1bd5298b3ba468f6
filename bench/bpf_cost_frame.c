// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The cost bench's packets; see bpf_cost_frame.h. */
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include "bpf_cost_frame.h"

#define IP_OFF	ETH_HLEN
#define TCP_OFF	(ETH_HLEN + sizeof(struct iphdr))

static __u32 sum16(__u32 sum, const void *p, size_t len)
{
	const __u8 *b = p;

	for (; len > 1; len -= 2, b += 2)
		sum += (__u32)b[0] << 8 | b[1];
	if (len)
		sum += (__u32)b[0] << 8;
	return sum;
}

static __u16 fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((__u16)~sum);
}

__u32 bf_build(__u8 *buf, const struct bf_seg *s)
{
	struct ethhdr *eth = (void *)buf;
	struct iphdr *ip = (void *)(buf + IP_OFF);
	struct tcphdr *tcp = (void *)(buf + TCP_OFF);
	__u16 l4_len = sizeof(*tcp) + s->len;
	__u32 sum;

	memset(buf, 0, BF_HDR_LEN + s->len);
	memcpy(eth->h_dest, "\x02\0\0\0\0\x01", ETH_ALEN);
	memcpy(eth->h_source, "\x02\0\0\0\0\x02", ETH_ALEN);
	eth->h_proto = htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_TCP;
	ip->tot_len = htons(sizeof(*ip) + l4_len);
	ip->saddr = htonl(s->saddr);
	ip->daddr = htonl(s->daddr);
	ip->check = fold(sum16(0, ip, sizeof(*ip)));
	tcp->source = htons(s->sport);
	tcp->dest = htons(s->dport);
	tcp->seq = htonl(s->seq);
	tcp->ack_seq = htonl(s->flags & BF_ACK ? s->ack : 0);
	tcp->doff = 5;
	((__u8 *)tcp)[13] = s->flags;
	tcp->window = htons(65535);
	if (s->data)
		memcpy(tcp + 1, s->data, s->len);
	/* Pseudo-header, then the segment. */
	sum = sum16(0, &ip->saddr, 8) + IPPROTO_TCP + l4_len;
	tcp->check = fold(sum16(sum, tcp, l4_len));
	return BF_HDR_LEN + s->len;
}

static __u32 be32_at(const __u8 *f, size_t off)
{
	__u32 v;

	memcpy(&v, f + off, sizeof(v));
	return ntohl(v);
}

static __u16 be16_at(const __u8 *f, size_t off)
{
	__u16 v;

	memcpy(&v, f + off, sizeof(v));
	return ntohs(v);
}

__u32 bf_saddr(const __u8 *f) { return be32_at(f, IP_OFF + 12); }
__u32 bf_daddr(const __u8 *f) { return be32_at(f, IP_OFF + 16); }
__u16 bf_sport(const __u8 *f) { return be16_at(f, TCP_OFF); }
__u16 bf_dport(const __u8 *f) { return be16_at(f, TCP_OFF + 2); }
__u32 bf_seq(const __u8 *f) { return be32_at(f, TCP_OFF + 4); }
__u8 bf_flags(const __u8 *f) { return f[TCP_OFF + 13]; }
