// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The disagreements between mirrors and live answers, by method, path and
 * both statuses, for 'kanaryctl mirror show SERVICE --diff'.  Counted in
 * memory and added to kanary_mirdiff_v1 at each flush (the relay is its
 * only writer), so a mirror that fails every request costs a map update
 * per kind of disagreement and flush, not per request.  The map is an LRU
 * hash: the kinds not seen for longest go first when it is full.
 */
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include "relay.h"

#define DELTAS	256	/* kinds held between flushes; one more flushes early */

struct delta {
	struct kanary_mirror_diff_key key;
	__u64 n;
};

static int map_fd = -1;
static struct delta deltas[DELTAS];
static size_t n_deltas;

int diff_open(const char *pin_path)
{
	struct kanary_err e = {};

	map_fd = kanary_map_open(pin_path, KANARY_MAP_MIRROR_DIFF, &e);
	if (map_fd < 0) {
		fprintf(stderr, "kanary-mirror: %s\n", e.msg);
		return -1;
	}
	return 0;
}

void diff_count(uint32_t svc_id, int subset, const char *method, const char *path, int live,
		int mirror)
{
	struct kanary_mirror_diff_key k;

	memset(&k, 0, sizeof(k));	/* the padding is part of the key */
	k.svc_id = svc_id;
	k.subset = (__u8)subset;
	k.live_status = (__u16)live;
	k.mirror_status = (__u16)mirror;
	strncpy(k.method, method, sizeof(k.method) - 1);
	strncpy(k.path, path, sizeof(k.path) - 1);
	for (size_t i = 0; i < n_deltas; i++) {
		if (!memcmp(&deltas[i].key, &k, sizeof(k))) {
			deltas[i].n++;
			return;
		}
	}
	if (n_deltas == DELTAS)
		diff_flush();
	deltas[n_deltas].key = k;
	deltas[n_deltas++].n = 1;
}

void diff_flush(void)
{
	for (size_t i = 0; i < n_deltas; i++) {
		__u64 n = 0;

		bpf_map_lookup_elem(map_fd, &deltas[i].key, &n);	/* none yet: from 0 */
		n += deltas[i].n;
		bpf_map_update_elem(map_fd, &deltas[i].key, &n, BPF_ANY);
	}
	n_deltas = 0;
}
