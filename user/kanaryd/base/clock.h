/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Milliseconds on CLOCK_MONOTONIC, for timers and latencies that a clock
 * step must not move, and jitter for spreading them.
 */
#ifndef KD_CLOCK_H
#define KD_CLOCK_H

#include <sys/random.h>
#include <time.h>

static inline long long kd_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A random number below n, to spread retries and timeouts (no secret rides on it). */
static inline unsigned int kd_jitter_below(unsigned int n)
{
	unsigned int r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (unsigned int)kd_mono_ms() * 2654435761u;
	return n ? r % n : 0;
}

#endif
