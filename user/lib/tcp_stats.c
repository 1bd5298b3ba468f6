// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* TCP health per subset (include/kanary/tcp_stats.h), summed over CPUs. */
#include <errno.h>
#include <stdio.h>
#include "internal.h"

int kanary_tcp_stats_read(struct kanary_maps *m, __u32 svc_id, __u32 subset,
			  struct kanary_tcp_stats *sum, struct kanary_err *e)
{
	__u32 key = KANARY_STATS_INDEX(svc_id, subset);
	char what[64];

	if (svc_id >= m->max_services || subset >= KANARY_MAX_SUBSETS)
		return kanary_errf(e, EINVAL, "no TCP health slot for service id %u subset %u",
				   svc_id, subset);
	snprintf(what, sizeof(what), "TCP health of service id %u", svc_id);
	return kanary_percpu_sum(m->tcp_stats, &key, sum, sizeof(*sum), what, e);
}

bool kanary_tcp_srtt_mean_us(const struct kanary_tcp_stats *s, double *us)
{
	if (!s->srtt_samples)
		return false;
	*us = (double)s->srtt_us_sum / (double)s->srtt_samples;
	return true;
}
