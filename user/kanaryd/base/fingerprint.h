/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Fingerprints of what a cached text shows, to tell a changed input from
 * a kept one (the status file's parts).  Eight bytes at a time: fnv over
 * single bytes of 10,000 entries' strings was half of an update.  Only
 * ever compared with the last one in the same process, never stored.
 */
#ifndef KD_FINGERPRINT_H
#define KD_FINGERPRINT_H

#include <string.h>
#include <linux/types.h>

#define KD_FP_INIT	14695981039346656037ull

static inline void kd_fp_mix(__u64 *h, const void *p, size_t n)
{
	const unsigned char *b = p;
	__u64 w;

	for (; n >= 8; b += 8, n -= 8) {
		memcpy(&w, b, 8);
		*h = (*h ^ w) * 0x9e3779b97f4a7c15ull;
		*h ^= *h >> 29;
	}
	w = 0;
	memcpy(&w, b, n);
	*h = (*h ^ w ^ (__u64)n << 56) * 0x9e3779b97f4a7c15ull;
	*h ^= *h >> 29;
}

/* A string, or its absence, told apart from an empty one. */
static inline void kd_fp_str(__u64 *h, const char *s)
{
	static const unsigned char none = 0xff;

	if (s)
		kd_fp_mix(h, s, strlen(s) + 1);
	else
		kd_fp_mix(h, &none, 1);
}

#endif
