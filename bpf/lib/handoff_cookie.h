/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * SYN cookies for the rule path (docs/conntrack.md).  kanary answers a
 * client's SYN itself, with an ISN that is a keyed hash of the flow and
 * the client's ISN, its low bits the client's MSS rounded down to one of
 * eight sizes, as Linux's cookies keep it.  The client's first data then
 * proves its handshake (its ack is that ISN + 1, its seq the client's ISN
 * + 1) and carries all the handshake's state holds: a handshake whose
 * entry a flood evicted from kanary_hosyn_v1 is made again from it, rather
 * than reset.  The entry made at the SYN stays, as a cache: with it, data
 * that overtakes the first segment is dropped and sent again; without it,
 * such data cannot be told from an evicted connection's and is reset.
 * There is no time in the cookie: a pooled connection may send its first
 * request minutes after its handshake, and only the client of the flow
 * can answer our SYN-ACK anyway.
 */
#ifndef KANARY_BPF_HANDOFF_COOKIE_H
#define KANARY_BPF_HANDOFF_COOKIE_H

#include "hash.h"
#include "select.h"
#include "counters.h"

#define KANARY_COOKIE_MSS_MASK	7u

/* The eight MSS a cookie can hold: Ethernet, tunnels and overlays, jumbo frames. */
static __always_inline __u16 kanary_cookie_mss(__u32 isn)
{
	switch (isn & KANARY_COOKIE_MSS_MASK) {
	case 0:	return 536;
	case 1:	return 1200;
	case 2:	return 1360;
	case 3:	return 1400;
	case 4:	return 1440;
	case 5:	return 1460;
	case 6:	return 4096;
	default: return 8960;
	}
}

/* The largest of them not above mss. */
static __always_inline __u32 kanary_cookie_mss_index(__u16 mss)
{
	return mss >= 8960 ? 7 : mss >= 4096 ? 6 : mss >= 1460 ? 5 : mss >= 1440 ? 4 :
	       mss >= 1400 ? 3 : mss >= 1360 ? 2 : mss >= 1200 ? 1 : 0;
}

/* Our ISN for a client's SYN p with ISN client_isn and MSS mss. */
static __always_inline __u32 kanary_cookie(const struct kanary_pkt *p, __u32 client_isn,
					   __u16 mss)
{
	__u32 h = kanary_hash3(p->saddr ^ bpf_htonl(client_isn), p->daddr, kanary_flow_ports(p),
			       kanary_hash_seed() ^ KANARY_HASH_ISN);

	return (h & ~KANARY_COOKIE_MSS_MASK) | kanary_cookie_mss_index(mss);
}

/* Whether p, a client segment, is its first data after our SYN-ACK: the cookie checks out. */
static __always_inline int kanary_cookie_proves(const struct kanary_pkt *p)
{
	__u32 isn = p->ack_seq - 1;

	return p->ack && !p->syn && !p->rst && p->payload_len &&
	       kanary_cookie(p, p->seq - 1, kanary_cookie_mss(isn)) == isn;
}

#endif /* KANARY_BPF_HANDOFF_COOKIE_H */
