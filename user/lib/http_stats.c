// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The per-subset HTTP figures (include/kanary/http_stats.h): reading and summarising. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include "internal.h"

const __u32 kanary_http_latency_bounds_us[KANARY_HTTP_BOUNDS] = {
#define BOUND(b) b,
	KANARY_HTTP_LATENCY_BOUNDS_US(BOUND)
#undef BOUND
};

static const __u16 slot_code[KANARY_HTTP_SLOT_1XX] = {
#define CODE(c) c,
	KANARY_HTTP_CODES(CODE)
#undef CODE
};

int kanary_http_slot_name(int slot, char buf[KANARY_HTTP_SLOT_NAME_LEN])
{
	if (slot >= 0 && slot < KANARY_HTTP_SLOT_1XX)
		return snprintf(buf, KANARY_HTTP_SLOT_NAME_LEN, "%u", slot_code[slot]) < 0 ? -1 : 0;
	if (slot >= KANARY_HTTP_SLOT_1XX && slot < KANARY_HTTP_SLOT_CLASSES_END)
		return snprintf(buf, KANARY_HTTP_SLOT_NAME_LEN, "%dxx",
				slot - KANARY_HTTP_SLOT_1XX + 1) < 0 ? -1 : 0;
	return -1;
}

int kanary_http_slot_class(int slot)
{
	if (slot >= 0 && slot < KANARY_HTTP_SLOT_1XX)
		return slot_code[slot] / 100;
	if (slot >= KANARY_HTTP_SLOT_1XX && slot < KANARY_HTTP_SLOT_CLASSES_END)
		return slot - KANARY_HTTP_SLOT_1XX + 1;
	return 0;
}

__u64 kanary_http_class_count(const struct kanary_http_stats *st, int cls)
{
	__u64 n = 0;

	for (int s = 0; s < KANARY_HTTP_SLOT_CLASSES_END; s++)
		if (kanary_http_slot_class(s) == cls)
			n += st->codes[s];
	return n;
}

__u64 kanary_http_responses(const struct kanary_http_stats *st)
{
	__u64 n = 0;

	for (int s = 0; s < KANARY_HTTP_SLOT_CLASSES_END; s++)
		n += st->codes[s];
	return n;
}

/*
 * As Prometheus's histogram_quantile: linear within the bucket that holds
 * the rank, from 0 for the first; the rank in the last (+Inf) bucket gives
 * the highest finite bound.  -1 with no response.
 */
double kanary_http_quantile_us(const struct kanary_http_stats *st, double q)
{
	return kanary_latency_quantile_us(st->latency, q);
}

/* The same, on any histogram of KANARY_HTTP_BUCKETS (the mirrors' comparison too). */
double kanary_latency_quantile_us(const __u64 *latency, double q)
{
	__u64 total = 0, seen = 0;
	double rank;

	for (int b = 0; b <= KANARY_HTTP_BOUNDS; b++)
		total += latency[b];
	if (!total)
		return -1;
	rank = q * (double)total;
	for (int b = 0; b < KANARY_HTTP_BOUNDS; b++) {
		__u64 n = latency[b];
		double lo = b ? kanary_http_latency_bounds_us[b - 1] : 0;
		double hi = kanary_http_latency_bounds_us[b];

		if (n && (double)(seen + n) >= rank)
			return lo + (hi - lo) * (rank - (double)seen) / (double)n;
		seen += n;
	}
	return kanary_http_latency_bounds_us[KANARY_HTTP_BOUNDS - 1];
}

void kanary_http_stats_sub(struct kanary_http_stats *now, const struct kanary_http_stats *before)
{
	__u64 *a = (__u64 *)now;
	const __u64 *b = (const __u64 *)before;

	for (size_t w = 0; w < sizeof(*now) / sizeof(__u64); w++)
		a[w] = a[w] >= b[w] ? a[w] - b[w] : 0;
}

int kanary_http_stats_read(struct kanary_maps *m, __u32 svc_id, __u32 subset,
			   struct kanary_http_stats *out, struct kanary_err *e)
{
	__u32 key = KANARY_STATS_INDEX(svc_id, subset);

	if (svc_id >= m->max_services || subset >= KANARY_MAX_SUBSETS)
		return kanary_errf(e, EINVAL, "no HTTP stats slot for service id %u subset %u",
				   svc_id, subset);
	if (bpf_map_lookup_elem(m->http_stats, &key, out))
		return kanary_errf(e, errno, "cannot read HTTP stats of service id %u: %s", svc_id,
				   strerror(errno));
	return 0;
}
