// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The mirrors' disagreements with the live answers (kanary_mirdiff_v1,
 * written by the relay): read a service's, most frequent first, or forget
 * them when its id is freed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "internal.h"

static int by_count_desc(const void *a, const void *b)
{
	const struct kanary_mirror_diff *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return memcmp(&x->key, &y->key, sizeof(x->key));	/* a stable order for ties */
}

int kanary_mirror_diff_read(struct kanary_maps *m, __u32 svc_id, struct kanary_mirror_diff **out,
			    size_t *n, struct kanary_err *e)
{
	struct kanary_mirror_diff_key key, next, *prev = NULL;
	struct kanary_mirror_diff *all;
	size_t got = 0;

	all = calloc(KANARY_MIRROR_DIFF_ENTRIES, sizeof(*all));
	if (!all)
		return kanary_errf(e, ENOMEM, "out of memory");
	while (got < KANARY_MIRROR_DIFF_ENTRIES && !bpf_map_get_next_key(m->mirror_diff, prev, &next)) {
		key = next;
		prev = &key;
		if (key.svc_id != svc_id)
			continue;
		if (bpf_map_lookup_elem(m->mirror_diff, &key, &all[got].count))
			continue;	/* evicted since: the LRU map is the relay's to change */
		all[got].key = key;
		/* Never trust the map to hold terminated strings. */
		all[got].key.method[KANARY_MIRROR_DIFF_METHOD - 1] = 0;
		all[got].key.path[KANARY_MIRROR_DIFF_PATH - 1] = 0;
		got++;
	}
	qsort(all, got, sizeof(*all), by_count_desc);
	*out = all;
	*n = got;
	return 0;
}

int kanary_mirror_diff_clear(struct kanary_maps *m, __u32 svc_id, struct kanary_err *e)
{
	struct kanary_mirror_diff_key key, next;
	bool more = !bpf_map_get_next_key(m->mirror_diff, NULL, &next);

	/* Deleting the current key would restart the walk: take the next one first. */
	while (more) {
		key = next;
		more = !bpf_map_get_next_key(m->mirror_diff, &key, &next);
		if (key.svc_id == svc_id && bpf_map_delete_elem(m->mirror_diff, &key) &&
		    errno != ENOENT)
			return kanary_errf(e, errno, "cannot forget the mirror disagreements of "
					   "service id %u: %s", svc_id, strerror(errno));
	}
	return 0;
}
