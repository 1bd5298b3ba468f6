// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The idle sweep of the plain path's conntrack (include/kanary/ct_expiry.h):
 * connections whose client has sent nothing for the timeout lose both
 * entries.  kanaryd runs it; the datapath keeps each forward entry's clock
 * byte (kanary_ct_entry.seen).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include "internal.h"
#include "kanary/ct_expiry.h"

#define BATCH	1024

/* The timeout in the clock byte's steps, rounded up. */
static __u32 timeout_steps(__u32 timeout_s)
{
	__u64 step = 1ull << KANARY_CT_SEEN_SHIFT;

	return (__u32)(((__u64)timeout_s * 1000000000ull + step - 1) / step);
}

__u32 kanary_ct_idle_timeout_max_s(void)
{
	return (__u32)(((__u64)KANARY_CT_IDLE_MAX_STEPS << KANARY_CT_SEEN_SHIFT) / 1000000000ull);
}

/* Whether the forward entry v, looked at when the clock byte read now, is idle past steps. */
static bool idle(const struct kanary_ct_key *k, const struct kanary_ct_entry *v, __u8 now,
		 __u32 steps)
{
	if (k->dir != KANARY_CT_FORWARD || (v->flags & KANARY_CT_F_HANDOFF) || !v->seen)
		return false;
	return (__u32)((now - v->seen + 255) % 255) > steps;
}

/* Appends k to the growing array *out of *n (capacity *cap). */
static int keep_key(struct kanary_ct_key **out, size_t *n, size_t *cap,
		    const struct kanary_ct_key *k)
{
	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 256;
		struct kanary_ct_key *more = realloc(*out, c * sizeof(*more));

		if (!more)
			return -ENOMEM;
		*out = more;
		*cap = c;
	}
	(*out)[(*n)++] = *k;
	return 0;
}

int kanary_ct_idle_sweep(struct kanary_maps *m, __u32 timeout_s, struct kanary_ct_idle *out,
			 struct kanary_err *e)
{
	struct kanary_ct_key *keys = calloc(BATCH, sizeof(*keys)), *gone = NULL, rk;
	struct kanary_ct_entry *vals = calloc(BATCH, sizeof(*vals));
	__u32 steps = timeout_steps(timeout_s), count, batch_in = 0, batch_out;
	void *in = NULL;
	size_t n = 0, cap = 0;
	struct timespec ts;
	int err = 0;
	__u8 now;

	memset(out, 0, sizeof(*out));
	if (!keys || !vals) {
		err = kanary_errf(e, ENOMEM, "out of memory");
		goto done;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = kanary_ct_seen_of((__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec);
	for (;;) {
		LIBBPF_OPTS(bpf_map_batch_opts, o);
		int rc;

		count = BATCH;
		rc = bpf_map_lookup_batch(m->ct, in, &batch_out, keys, vals, &count, &o);
		if (rc && errno != ENOENT) {
			err = kanary_errf(e, errno, "cannot read %s: %s", KANARY_MAP_CT, strerror(errno));
			goto done;
		}
		for (__u32 i = 0; i < count; i++) {
			out->entries++;
			if (idle(&keys[i], &vals[i], now, steps) && keep_key(&gone, &n, &cap, &keys[i])) {
				err = kanary_errf(e, ENOMEM, "out of memory");
				goto done;
			}
		}
		if (rc)
			break;		/* ENOENT: that was the last batch */
		batch_in = batch_out;
		in = &batch_in;
	}
	/* Each idle connection's two entries: the reverse key from the forward entry's backend. */
	for (size_t i = 0; i < n; i++) {
		struct kanary_ct_entry v;

		if (bpf_map_lookup_elem(m->ct, &gone[i], &v))
			continue;
		memset(&rk, 0, sizeof(rk));
		rk.src = v.addr;
		rk.dst = gone[i].src;
		rk.sport = v.port;
		rk.dport = gone[i].sport;
		rk.proto = gone[i].proto;
		rk.dir = KANARY_CT_REVERSE;
		if (!bpf_map_delete_elem(m->ct, &gone[i]))
			out->swept++;
		bpf_map_delete_elem(m->ct, &rk);
	}
done:
	free(keys);
	free(vals);
	free(gone);
	return err;
}
