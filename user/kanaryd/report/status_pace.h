/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The status file is written at most once a second.  At 10,000 services
 * it is megabytes of JSON, and writing it after every event cost more
 * than applying the event.  A write asked for within the second is held,
 * not dropped: the loop writes it when the second is over, and kanaryd
 * writes it once more on exit, so the last state is always in the file.
 */
#ifndef KD_STATUS_PACE_H
#define KD_STATUS_PACE_H

#include <stdbool.h>

#define KD_STATUS_PACE_MS	1000

struct kd_pace {
	long long last_ms;	/* of the last write; 0: none yet */
	bool pending;		/* a write was asked for since */
};

/* A write is wanted at now_ms: true when it is to happen now (then counted as done). */
bool kd_pace_ask(struct kd_pace *p, long long now_ms);
/* When the held write is due (monotonic ms), or 0 when none is held. */
long long kd_pace_due(const struct kd_pace *p);

#endif
