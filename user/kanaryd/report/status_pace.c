// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* At most one status file write a second, the last one never lost (status_pace.h). */
#include "report/status_pace.h"

bool kd_pace_ask(struct kd_pace *p, long long now_ms)
{
	if (p->last_ms && now_ms - p->last_ms < KD_STATUS_PACE_MS) {
		p->pending = true;
		return false;
	}
	p->last_ms = now_ms;
	p->pending = false;
	return true;
}

long long kd_pace_due(const struct kd_pace *p)
{
	return p->pending ? p->last_ms + KD_STATUS_PACE_MS : 0;
}
