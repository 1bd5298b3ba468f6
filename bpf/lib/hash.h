/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Seeded flow hash (the final mix of Bob Jenkins' lookup3). */
#ifndef KANARY_BPF_HASH_H
#define KANARY_BPF_HASH_H

#include <linux/types.h>

#define KANARY_HASH_INIT	0xdeadbeef
/* Second seed for the backend pick, so it is independent of the subset pick. */
#define KANARY_HASH_BACKEND	0x9e3779b9
/* Salts of the handoff: the ISN of our SYN-ACK, and a rule's weighted destinations. */
#define KANARY_HASH_ISN		0x85ebca6b
#define KANARY_HASH_RULE	0xc2b2ae35

static __always_inline __u32 kanary_rol32(__u32 w, unsigned int s)
{
	return (w << s) | (w >> (32 - s));
}

static __always_inline __u32 kanary_hash3(__u32 a, __u32 b, __u32 c, __u32 seed)
{
	a += KANARY_HASH_INIT + seed;
	b += KANARY_HASH_INIT + seed;
	c += KANARY_HASH_INIT + seed;
	c ^= b; c -= kanary_rol32(b, 14);
	a ^= c; a -= kanary_rol32(c, 11);
	b ^= a; b -= kanary_rol32(a, 25);
	c ^= b; c -= kanary_rol32(b, 16);
	a ^= c; a -= kanary_rol32(c, 4);
	b ^= a; b -= kanary_rol32(a, 14);
	c ^= b; c -= kanary_rol32(b, 24);
	return c;
}

#endif /* KANARY_BPF_HASH_H */
