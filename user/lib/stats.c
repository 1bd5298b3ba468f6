// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Per-CPU statistics and datapath counters, summed over CPUs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stddef.h>
#include "internal.h"

const char *const kanary_counter_names[KANARY_CNT__MAX] = {
	[KANARY_CNT_CT_NEW]		= "ct_new",
	[KANARY_CNT_CT_REDERIVED]	= "ct_rederived",
	[KANARY_CNT_CT_REUSED]		= "ct_reused",
	[KANARY_CNT_NO_BACKEND]		= "no_backend",
	[KANARY_CNT_CT_REV_REBUILT]	= "ct_rev_rebuilt",
	[KANARY_CNT_RST_INEXACT]	= "rst_inexact",
	[KANARY_CNT_RST_OUTSIDE]	= "rst_outside",
	[KANARY_CNT_SYN_ON_LIVE]	= "syn_on_live",
	[KANARY_CNT_DRAINING]		= "draining",
	[KANARY_CNT_CHALLENGE_LIMITED]	= "challenge_limited",
	[KANARY_CNT_CT_ENDED]		= "ct_ended",
	[KANARY_CNT_CT_HALF_OPEN]	= "ct_half_open",
	[KANARY_CNT_CT_EXPIRY_FULL]	= "ct_expiry_full",
	[KANARY_CNT_CT_SWEEPER_FAIL]	= "ct_sweeper_fail",
	[KANARY_CNT_HO_COOKIE]		= "ho_cookie",
	[KANARY_CNT_CT_ESTABLISHED]	= "ct_established",
	[KANARY_CNT_HO_SOURCE_LIMIT]	= "ho_source_limit",
	[KANARY_CNT_HO_SERVER_FIRST]	= "ho_server_first",
	[KANARY_CNT_HO_DETECT_FULL]	= "ho_detect_full",
	[KANARY_CNT_CT_EXPIRED_EARLY]	= "ct_expired_early",
};
/* A new counter in abi.h needs its name here. */
_Static_assert(KANARY_CNT__MAX == 20, "kanary_counter_names is out of date with abi.h");

static int ncpus(struct kanary_err *e)
{
	int n = libbpf_num_possible_cpus();

	if (n <= 0)
		return kanary_errf(e, n ? -n : EINVAL, "cannot count the possible CPUs");
	return n;
}

/* Every stats value is __u64 counters only, and the zero buffer below fits each. */
_Static_assert(sizeof(struct kanary_subset_stats) % sizeof(__u64) == 0, "stats: __u64 only");
_Static_assert(sizeof(struct kanary_tcp_stats) <= sizeof(struct kanary_subset_stats), "zero fits tcp stats");
int kanary_percpu_sum(int fd, const void *key, void *sum, size_t size, const char *what,
		      struct kanary_err *e)
{
	size_t words = size / sizeof(__u64);
	int n = ncpus(e), err = 0;
	__u64 *v, *out = sum;

	if (n < 0)
		return n;
	v = calloc((size_t)n, size);
	if (!v)
		return kanary_errf(e, ENOMEM, "out of memory");
	memset(sum, 0, size);
	if (bpf_map_lookup_elem(fd, key, v)) {
		err = kanary_errf(e, errno, "cannot read %s: %s", what, strerror(errno));
		goto out;
	}
	for (int c = 0; c < n; c++)
		for (size_t w = 0; w < words; w++)
			out[w] += v[(size_t)c * words + w];
out:
	free(v);
	return err;
}

int kanary_subset_stats_read(struct kanary_maps *m, __u32 svc_id, __u32 subset,
			     struct kanary_subset_stats *sum, struct kanary_err *e)
{
	__u32 key = KANARY_STATS_INDEX(svc_id, subset);
	char what[64];

	if (svc_id >= m->max_services || subset >= KANARY_MAX_SUBSETS)
		return kanary_errf(e, EINVAL, "no stats slot for service id %u subset %u", svc_id,
				   subset);
	snprintf(what, sizeof(what), "stats of service id %u", svc_id);
	return kanary_percpu_sum(m->stats, &key, sum, sizeof(*sum), what, e);
}

#define HO_STAT(f) { #f, offsetof(struct kanary_ho_stats, f) }
#define HO_PIN(name, reason) \
	{ "pinned_" #name, offsetof(struct kanary_ho_stats, pinned) + (reason) * sizeof(__u64) }
const struct kanary_ho_stat_field kanary_ho_stat_fields[KANARY_HO_STAT_FIELDS] = {
	HO_STAT(backend_refused),
	HO_STAT(backend_silent),
	HO_STAT(beyond_first_flight),
	HO_STAT(stash_lost),
	HO_STAT(no_backend),
	HO_STAT(state_lost),
	HO_STAT(switches),
	HO_STAT(switch_failed),
	HO_PIN(pipelined, KANARY_HO_PIN_PIPELINED),
	HO_PIN(head_split, KANARY_HO_PIN_HEAD_SPLIT),
	HO_PIN(large, KANARY_HO_PIN_LARGE),
	HO_PIN(chunked, KANARY_HO_PIN_CHUNKED),
	HO_PIN(http2, KANARY_HO_PIN_HTTP2),
	HO_PIN(not_http, KANARY_HO_PIN_NOT_HTTP),
	HO_PIN(unframed, KANARY_HO_PIN_UNFRAMED),
};
/* Every word but pinned[KANARY_HO_PIN_NONE], which is never counted. */
_Static_assert((KANARY_HO_STAT_FIELDS + 1) * sizeof(__u64) == sizeof(struct kanary_ho_stats),
	       "kanary_ho_stat_fields is out of date with handoff.h");

__u64 kanary_ho_stat_get(const struct kanary_ho_stats *ho, int f)
{
	return *(const __u64 *)((const char *)ho + kanary_ho_stat_fields[f].offset);
}

int kanary_ho_stats_read(struct kanary_maps *m, __u32 svc_id, struct kanary_ho_stats *sum,
			 struct kanary_err *e)
{
	char what[64];

	if (svc_id >= m->max_services)
		return kanary_errf(e, EINVAL, "no handoff stats slot for service id %u", svc_id);
	snprintf(what, sizeof(what), "handoff stats of service id %u", svc_id);
	return kanary_percpu_sum(m->ho_stats, &svc_id, sum, sizeof(*sum), what, e);
}

_Static_assert(sizeof(struct kanary_tcp_stats) <= sizeof(struct kanary_subset_stats),
	       "kanary_stats_zero's buffer covers the TCP health stats");

/* A new service in a reused id starts from zero: subset, TCP health, handoff and HTTP stats. */
int kanary_stats_zero(struct kanary_maps *m, __u32 svc_id, struct kanary_err *e)
{
	size_t size = sizeof(struct kanary_subset_stats) > sizeof(struct kanary_ho_stats) ?
		      sizeof(struct kanary_subset_stats) : sizeof(struct kanary_ho_stats);
	int n = ncpus(e), err = 0;
	void *zero;

	if (n < 0)
		return n;
	zero = calloc((size_t)n, size);
	if (!zero)
		return kanary_errf(e, ENOMEM, "out of memory");
	for (__u32 i = 0; i < KANARY_MAX_SUBSETS; i++) {
		struct kanary_http_stats http = {};	/* one copy, not per CPU */
		__u32 key = KANARY_STATS_INDEX(svc_id, i);

		if (bpf_map_update_elem(m->stats, &key, zero, BPF_ANY) ||
		    bpf_map_update_elem(m->tcp_stats, &key, zero, BPF_ANY) ||
		    bpf_map_update_elem(m->http_stats, &key, &http, BPF_ANY)) {
			err = kanary_errf(e, errno, "cannot reset stats of service id %u: %s",
					  svc_id, strerror(errno));
			goto out;
		}
	}
	if (bpf_map_update_elem(m->ho_stats, &svc_id, zero, BPF_ANY)) {
		err = kanary_errf(e, errno, "cannot reset handoff stats of service id %u: %s",
				  svc_id, strerror(errno));
		goto out;
	}
out:
	free(zero);
	return err;
}

int kanary_counters_read(struct kanary_maps *m, __u64 out[KANARY_CNT__MAX],
			 struct kanary_err *e)
{
	int n = ncpus(e), err = 0;
	__u64 *v;

	if (n < 0)
		return n;
	v = calloc((size_t)n, sizeof(*v));
	if (!v)
		return kanary_errf(e, ENOMEM, "out of memory");
	for (__u32 k = 0; k < KANARY_CNT__MAX; k++) {
		out[k] = 0;
		if (bpf_map_lookup_elem(m->counters, &k, v)) {
			err = kanary_errf(e, errno, "cannot read counter %s: %s",
					  kanary_counter_names[k], strerror(errno));
			break;
		}
		for (int c = 0; c < n; c++)
			out[k] += v[c];
	}
	free(v);
	return err;
}
