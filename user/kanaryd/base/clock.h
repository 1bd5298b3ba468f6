/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Milliseconds on CLOCK_MONOTONIC: timers and latencies that a clock step must not move. */
#ifndef KD_CLOCK_H
#define KD_CLOCK_H

#include <time.h>

static inline long long kd_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
