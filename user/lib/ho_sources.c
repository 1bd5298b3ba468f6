// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The rule path's per-source bound: the bound in force, and the recount of what each address holds. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "internal.h"
#include "kanary/handoff.h"

int kanary_ho_bound_read(struct kanary_maps *m, __u32 *per_source, struct kanary_err *e)
{
	struct kanary_ho_settings hs;
	__u32 key = 0;

	if (bpf_map_lookup_elem(m->ho_settings, &key, &hs))
		return kanary_errf(e, errno, "cannot read %s: %s", KANARY_MAP_HO_SETTINGS,
				   strerror(errno));
	*per_source = hs.per_source ? hs.per_source : KANARY_HO_PER_SOURCE_OFF;
	return 0;
}

static int cmp_addr(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/* How many times addr is in the sorted srcs[0..n). */
static __u32 held_by(const __u32 *srcs, __u32 n, __u32 addr)
{
	const __u32 *hit = bsearch(&addr, srcs, n, sizeof(*srcs), cmp_addr);
	__u32 c = 0;

	if (!hit)
		return 0;
	while (hit > srcs && hit[-1] == addr)
		hit--;
	while (hit + c < srcs + n && hit[c] == addr)
		c++;
	return c;
}

/* The client address of every bound connection, sorted; *n of them. */
static int bound_sources(struct kanary_maps *m, __u32 **out, __u32 *n, struct kanary_err *e)
{
	struct kanary_ct_key key, next;
	size_t cap = 1024;
	__u32 *srcs = malloc(cap * sizeof(*srcs));
	void *prev = NULL;

	*n = 0;
	if (!srcs)
		return kanary_errf(e, ENOMEM, "out of memory");
	while (!bpf_map_get_next_key(m->handoff, prev, &next)) {
		if (*n == cap) {
			__u32 *more = realloc(srcs, 2 * cap * sizeof(*srcs));

			if (!more) {
				free(srcs);
				return kanary_errf(e, ENOMEM, "out of memory");
			}
			srcs = more;
			cap *= 2;
		}
		srcs[(*n)++] = next.src.w[3];
		key = next;
		prev = &key;
	}
	if (errno != ENOENT) {
		int err = errno;

		free(srcs);
		return kanary_errf(e, err, "cannot walk %s: %s", KANARY_MAP_HANDOFF, strerror(err));
	}
	qsort(srcs, *n, sizeof(*srcs), cmp_addr);
	*out = srcs;
	return 0;
}

int kanary_ho_sources_recount(struct kanary_maps *m, struct kanary_ho_recount *out,
			      struct kanary_err *e)
{
	__u32 *srcs = NULL, n, addr, next, *prev = NULL;
	__u64 held, want;
	int err;

	memset(out, 0, sizeof(*out));
	err = bound_sources(m, &srcs, &n, e);
	if (err)
		return err;
	out->connections = n;
	/* Counts the datapath keeps: right them, or drop those of addresses that hold none. */
	while (!bpf_map_get_next_key(m->ho_sources, prev, &next)) {
		addr = next;
		prev = &addr;
		if (bpf_map_lookup_elem(m->ho_sources, &addr, &held))
			continue;	/* gone since: nothing to right */
		want = held_by(srcs, n, addr);
		if (held == want)
			continue;
		out->corrected++;
		if (want)
			bpf_map_update_elem(m->ho_sources, &addr, &want, BPF_EXIST);
		else
			bpf_map_delete_elem(m->ho_sources, &addr);
	}
	/* Addresses whose count was evicted while they hold connections. */
	for (__u32 i = 0; i < n; i += (__u32)want) {
		for (want = 1; i + want < n && srcs[i + want] == srcs[i]; want++)
			;
		out->sources++;
		if (want > out->max_held)
			out->max_held = (__u32)want;
		if (bpf_map_lookup_elem(m->ho_sources, &srcs[i], &held) &&
		    !bpf_map_update_elem(m->ho_sources, &srcs[i], &want, BPF_NOEXIST))
			out->corrected++;
	}
	free(srcs);
	return 0;
}
