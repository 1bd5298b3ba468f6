// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The relay's counts.  Counted in memory, then added to the pinned map
 * kanary_mirrelay_v3 (read, add, write back: the relay is its only
 * writer) at each flush, so a restarted relay goes on from the totals.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "relay.h"

struct delta {
	__u32 key;		/* KANARY_STATS_INDEX(svc_id, subset) */
	struct kanary_mirror_relay_stats d;
};

static int map_fd = -1;
static struct delta *deltas;	/* one per mirror subset seen; few */
static size_t n_deltas, cap_deltas;

int stats_open(const char *pin_path)
{
	struct kanary_err e = {};

	map_fd = kanary_map_open(pin_path, KANARY_MAP_MIRROR_RELAY, &e);
	if (map_fd < 0) {
		fprintf(stderr, "kanary-mirror: %s\n", e.msg);
		return -1;
	}
	return 0;
}

/* The counts of (svc_id, subset) since the last flush; NULL when out of memory. */
static struct kanary_mirror_relay_stats *delta_of(uint32_t svc_id, int subset)
{
	__u32 key = KANARY_STATS_INDEX(svc_id, (__u32)subset);

	for (size_t i = 0; i < n_deltas; i++)
		if (deltas[i].key == key)
			return &deltas[i].d;
	if (n_deltas == cap_deltas) {
		size_t cap = cap_deltas ? 2 * cap_deltas : 8;
		struct delta *nd = realloc(deltas, cap * sizeof(*nd));

		if (!nd)
			return NULL;
		deltas = nd;
		cap_deltas = cap;
	}
	memset(&deltas[n_deltas], 0, sizeof(deltas[0]));
	deltas[n_deltas].key = key;
	return &deltas[n_deltas++].d;
}

void stats_drop(uint32_t svc_id, uint8_t subsets, int why)
{
	for (int i = 0; i < KANARY_MAX_SUBSETS; i++) {
		struct kanary_mirror_relay_stats *d;

		if ((subsets & (1u << i)) && (d = delta_of(svc_id, i)))
			d->dropped[why]++;
	}
}

void stats_sent(uint32_t svc_id, int subset)
{
	struct kanary_mirror_relay_stats *d = delta_of(svc_id, subset);

	if (d)
		d->sent++;
}

void stats_connect(uint32_t svc_id, int subset)
{
	struct kanary_mirror_relay_stats *d = delta_of(svc_id, subset);

	if (d)
		d->connects++;
}

void stats_response(uint32_t svc_id, int subset, int status)
{
	struct kanary_mirror_relay_stats *d = delta_of(svc_id, subset);

	if (!d)
		return;
	if (status >= 100 && status <= 599)
		d->responses[status / 100 - 1]++;
	else
		d->errors++;
}

/* The latency histogram's bucket of us (KANARY_HTTP_LATENCY_BOUNDS_US, as the datapath's). */
static int bucket_of(uint32_t us)
{
	int b = 0;

	while (b < KANARY_HTTP_BOUNDS && us > kanary_http_latency_bounds_us[b])
		b++;
	return b;
}

void stats_compare(uint32_t svc_id, int subset, bool agree, int mirror_status, uint32_t live_us,
		   uint32_t mirror_us)
{
	struct kanary_mirror_relay_stats *d = delta_of(svc_id, subset);

	if (!d)
		return;
	if (agree)
		d->agree++;
	else
		d->differ++;
	/* Both sides' latency over the same requests: those the mirror answered. */
	if (mirror_status) {
		d->live_latency[bucket_of(live_us)]++;
		d->mirror_latency[bucket_of(mirror_us)]++;
		d->live_latency_sum_us += live_us;
		d->mirror_latency_sum_us += mirror_us;
	}
}

void stats_unpaired(uint32_t svc_id, uint8_t subsets)
{
	for (int i = 0; i < KANARY_MAX_SUBSETS; i++) {
		struct kanary_mirror_relay_stats *d;

		if ((subsets & (1u << i)) && (d = delta_of(svc_id, i)))
			d->unpaired++;
	}
}

void stats_flush(void)
{
	for (size_t i = 0; i < n_deltas; i++) {
		struct kanary_mirror_relay_stats cur = {};
		__u64 *c = (__u64 *)&cur;
		const __u64 *d = (const __u64 *)&deltas[i].d;

		if (bpf_map_lookup_elem(map_fd, &deltas[i].key, &cur))
			continue;	/* past the map's end: a service id that cannot be */
		for (size_t w = 0; w < sizeof(cur) / sizeof(__u64); w++)
			c[w] += d[w];
		if (bpf_map_update_elem(map_fd, &deltas[i].key, &cur, BPF_ANY) == 0)
			memset(&deltas[i].d, 0, sizeof(deltas[i].d));
	}
}
