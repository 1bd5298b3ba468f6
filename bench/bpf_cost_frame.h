/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The cost bench's packets: Ethernet + IPv4 + TCP frames with valid
 * checksums, and the fields its checks read back from what the program
 * left.  Addresses and ports in host order.
 */
#ifndef KANARY_BENCH_FRAME_H
#define KANARY_BENCH_FRAME_H

#include <stddef.h>
#include <linux/types.h>

#define BF_SYN	0x02
#define BF_RST	0x04
#define BF_PSH	0x08
#define BF_ACK	0x10

#define BF_HDR_LEN	54	/* Ethernet + IPv4 + TCP, no options */
#define BF_MAX_LEN	(BF_HDR_LEN + 256)
/* Room for what the program leaves: a crafted segment may carry options. */
#define BF_OUT_CAP	(BF_MAX_LEN + 64)

struct bf_seg {
	__u32 saddr, daddr;
	__u16 sport, dport;
	__u8 flags;
	__u32 seq, ack;
	const void *data;	/* NULL: len zero bytes */
	size_t len;		/* at most BF_MAX_LEN - BF_HDR_LEN */
};

/* Writes s into buf (BF_MAX_LEN bytes); returns the frame's length. */
__u32 bf_build(__u8 *buf, const struct bf_seg *s);

/* Fields of a frame of at least BF_HDR_LEN bytes. */
__u32 bf_saddr(const __u8 *f);
__u32 bf_daddr(const __u8 *f);
__u16 bf_sport(const __u8 *f);
__u16 bf_dport(const __u8 *f);
__u8 bf_flags(const __u8 *f);
__u32 bf_seq(const __u8 *f);

#endif /* KANARY_BENCH_FRAME_H */
