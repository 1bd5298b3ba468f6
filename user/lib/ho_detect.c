// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Server-first detection, kanaryd's side (include/kanary/handoff.h): the
 * marked ACK it sends back for a queued handshake, and whether a queued
 * connection still wants it.
 */
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "internal.h"
#include "kanary/handoff.h"

static __u32 sum16(const void *p, size_t len, __u32 acc)
{
	const __u8 *b = p;

	for (size_t i = 0; i + 1 < len; i += 2)
		acc += (__u32)b[i] << 8 | b[i + 1];
	if (len & 1)
		acc += (__u32)b[len - 1] << 8;
	return acc;
}

static __u16 fold(__u32 acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return htons((__u16)~acc);
}

void kanary_ho_detect_frame(const struct kanary_ho_detect *d, __u8 f[KANARY_HO_DETECT_FRAME])
{
	__u8 *ip = f + 14, *tcp = ip + 20;
	__u32 seq = htonl(d->seq), ack = htonl(d->ack_seq), acc;
	__u16 len = htons(20), c;

	memset(f, 0, KANARY_HO_DETECT_FRAME);
	memcpy(f, d->dmac, 6);
	memcpy(f + 6, d->smac, 6);
	f[12] = 0x08;				/* IPv4 */
	ip[0] = 0x45;
	ip[3] = 40;				/* total length */
	ip[6] = 0x40;				/* don't fragment */
	ip[8] = 64;				/* TTL */
	ip[9] = IPPROTO_TCP;
	memcpy(ip + 12, &d->key.src.w[3], 4);
	memcpy(ip + 16, &d->key.dst.w[3], 4);
	c = fold(sum16(ip, 20, 0));
	memcpy(ip + 10, &c, 2);
	memcpy(tcp, &d->key.sport, 2);
	memcpy(tcp + 2, &d->key.dport, 2);
	memcpy(tcp + 4, &seq, 4);
	memcpy(tcp + 8, &ack, 4);
	tcp[12] = 5 << 4;
	tcp[13] = 0x10;				/* ACK */
	tcp[14] = d->window >> 8;
	tcp[15] = d->window & 0xff;
	/* The pseudo-header: addresses, protocol, TCP length. */
	acc = sum16(ip + 12, 8, 0) + IPPROTO_TCP + ntohs(len);
	c = fold(sum16(tcp, 20, acc));
	memcpy(tcp + 16, &c, 2);
}

enum kanary_ho_detect_want kanary_ho_detect_want(int handshake_fd, int handoff_fd,
						 const struct kanary_ho_detect *d)
{
	struct kanary_ho_entry ho;

	if (!bpf_map_lookup_elem(handshake_fd, &d->key, &ho))
		return ho.state == KANARY_HO_SYN_RCVD && ho.cli_nxt == ho.client_isn + 1 &&
		       d->seq == ho.client_isn + 1 ? KANARY_HO_DETECT_BIND : KANARY_HO_DETECT_NONE;
	if (!bpf_map_lookup_elem(handoff_fd, &d->key, &ho))
		return ho.state == KANARY_HO_SYN_SENT && !ho.stash_len && ho.legs == 1 &&
		       d->seq == ho.leg_isn + 1 ? KANARY_HO_DETECT_RESEND : KANARY_HO_DETECT_NONE;
	return KANARY_HO_DETECT_NONE;
}
