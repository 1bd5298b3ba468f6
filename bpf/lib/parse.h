/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Ethernet / IPv4 / TCP header parsing for tc programs. */
#ifndef KANARY_BPF_PARSE_H
#define KANARY_BPF_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define KANARY_PAYLOAD_UNKNOWN	0xffff

#define IP_MF		0x2000
#define IP_OFFSET	0x1fff

/* What the NAT and the handoff need of one IPv4 TCP packet; offsets are from skb->data. */
struct kanary_pkt {
	__be32	saddr;
	__be32	daddr;
	__be16	sport;
	__be16	dport;
	__u8	syn, ack, fin, rst;
	__u32	l4_off;
	__u32	seq, ack_seq;	/* host order */
	__be16	window;
	__u16	tcp_hlen;	/* header with options, bytes */
	__u16	ip_tot;		/* IPv4 total length, host order */
	__u16	payload_len;	/* TCP payload bytes (of all segments of a GSO skb) */
};

#define KANARY_IP_CSUM_OFF	(ETH_HLEN + offsetof(struct iphdr, check))
#define KANARY_IP_SADDR_OFF	(ETH_HLEN + offsetof(struct iphdr, saddr))
#define KANARY_IP_DADDR_OFF	(ETH_HLEN + offsetof(struct iphdr, daddr))
#define KANARY_TCP_CSUM_OFF(p)	((p)->l4_off + offsetof(struct tcphdr, check))
#define KANARY_TCP_SPORT_OFF(p)	((p)->l4_off + offsetof(struct tcphdr, source))
#define KANARY_TCP_DPORT_OFF(p)	((p)->l4_off + offsetof(struct tcphdr, dest))

/*
 * Fills p for an unfragmented IPv4 TCP packet with complete headers and
 * returns 0; anything else returns -1 and is none of kanary's business.
 * Fragments are left alone as a whole: only the first one carries ports, so
 * rewriting it alone would split the datagram between two destinations.
 */
static __always_inline int kanary_parse_tcp4(struct __sk_buff *skb, struct kanary_pkt *p)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	struct tcphdr *tcp;
	__u32 ihl_len;

	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return -1;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return -1;
	if (ip->version != 4 || ip->protocol != IPPROTO_TCP ||
	    (ip->frag_off & bpf_htons(IP_MF | IP_OFFSET)))
		return -1;
	ihl_len = ip->ihl * 4;
	if (ihl_len < sizeof(*ip))
		return -1;
	p->l4_off = ETH_HLEN + ihl_len;

	/* GSO and GRO skbs may hold only part of the headers linearly. */
	if (data + p->l4_off + sizeof(*tcp) > data_end) {
		if (bpf_skb_pull_data(skb, p->l4_off + sizeof(*tcp)))
			return -1;
		data = (void *)(long)skb->data;
		data_end = (void *)(long)skb->data_end;
		ip = data + ETH_HLEN;
		if ((void *)(ip + 1) > data_end)
			return -1;
	}
	tcp = data + ETH_HLEN + (ihl_len & 0x3c);
	if ((void *)(tcp + 1) > data_end)
		return -1;
	p->ip_tot = bpf_ntohs(ip->tot_len);
	p->tcp_hlen = tcp->doff * 4;
	if (p->tcp_hlen < sizeof(*tcp))
		return -1;
	/* BIG TCP's tot_len of 0 (or any short one): unknown, larger than any stash. */
	p->payload_len = p->ip_tot >= ihl_len + p->tcp_hlen ?
			 p->ip_tot - ihl_len - p->tcp_hlen : KANARY_PAYLOAD_UNKNOWN;
	p->seq = bpf_ntohl(tcp->seq);
	p->ack_seq = bpf_ntohl(tcp->ack_seq);
	p->window = tcp->window;

	p->saddr = ip->saddr;
	p->daddr = ip->daddr;
	p->sport = tcp->source;
	p->dport = tcp->dest;
	p->syn = tcp->syn;
	p->ack = tcp->ack;
	p->fin = tcp->fin;
	p->rst = tcp->rst;
	return 0;
}

/* a is b or after it in sequence space. */
static __always_inline int kanary_seq_geq(__u32 a, __u32 b)
{
	return (__s32)(a - b) >= 0;
}

/* a is after b in sequence space. */
static __always_inline int kanary_seq_gt(__u32 a, __u32 b)
{
	return (__s32)(a - b) > 0;
}

/* The sequence number after p: its payload, and its SYN and FIN, one each. */
static __always_inline __u32 kanary_seq_end(const struct kanary_pkt *p)
{
	return p->seq + p->payload_len + p->syn + p->fin;
}

/* p's payload holds the byte at sequence x. */
static __always_inline int kanary_seg_holds(const struct kanary_pkt *p, __u32 x)
{
	return kanary_seq_geq(x, p->seq) && kanary_seq_gt(p->seq + p->payload_len, x);
}

#endif /* KANARY_BPF_PARSE_H */
