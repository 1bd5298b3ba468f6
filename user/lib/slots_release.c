// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The old config slot of a committed service, freed.  A commit writes the
 * inactive slot and switches the service map entry to it; a packet that
 * read the entry just before the switch may still read the old slot's
 * backends.  tc programs run inside an RCU read-side section, so once one
 * grace period has passed after the switch none can: membarrier's GLOBAL
 * command waits for exactly that (synchronize_rcu in the kernel).  One
 * grace period covers every slot retired before it, so a writer of many
 * services pays it once per batch, not per service.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include "internal.h"

int kanary_slot_retire(struct kanary_maps *m, __u32 id, __u32 slot)
{
	if (m->n_retired == m->cap_retired) {
		size_t cap = m->cap_retired ? m->cap_retired * 2 : 64;
		__u32 *v = realloc(m->retired, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;	/* the slot stays filled until its next commit */
		m->retired = v;
		m->cap_retired = cap;
	}
	m->retired[m->n_retired++] = id * 2 + slot;
	return 0;
}

bool kanary_slot_retired(const struct kanary_maps *m, __u32 id, __u32 slot)
{
	for (size_t i = 0; i < m->n_retired; i++)
		if (m->retired[i] == id * 2 + slot)
			return true;
	return false;
}

/* Every datapath program that started before this call has finished. */
static int grace_period(struct kanary_err *e)
{
	if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) == 0)
		return 0;
	return kanary_errf(e, errno, "cannot wait for the datapath to leave the old config slots "
			   "(membarrier): %s", strerror(errno));
}

/*
 * Without the index: a live slot's own config holds the key whose service
 * map entry points to it (a commit writes the config, then switches that
 * entry), so two lookups tell, where building the index reads every
 * service.  A retired slot another commit wrote again is judged by what it
 * holds now, as it must.
 */
static bool slot_live_by_config(struct kanary_maps *m, __u32 id, __u32 slot)
{
	struct kanary_svc_config cfg;
	struct kanary_svc_ref ref;

	if (kanary_cfg_read(m, id, slot, &cfg, NULL))
		return true;	/* cannot tell: keep it */
	if (bpf_map_lookup_elem(m->svc, &cfg.key, &ref))
		return false;
	return ref.id == id && ref.slot == slot;
}

/* Whether slot is (again) the live one of id: a later commit may have switched back. */
static bool slot_live(struct kanary_maps *m, __u32 id, __u32 slot)
{
	const struct kanary_svc_key *key;
	struct kanary_svc_ref ref;

	if (!m->index)
		return slot_live_by_config(m, id, slot);
	key = kanary_name_index_key(m->index, id);
	if (!key)
		return kanary_name_index_used(m->index, id);	/* taken, name unusable: keep */
	if (bpf_map_lookup_elem(m->svc, key, &ref))
		return false;
	return ref.id == id && ref.slot == slot;
}

int kanary_slots_release(struct kanary_maps *m, struct kanary_err *e)
{
	int err = 0;

	if (!m->n_retired)
		return 0;
	err = grace_period(e);
	if (err)
		return err;	/* kept for the next call */
	for (size_t i = 0; i < m->n_retired && !err; i++) {
		__u32 id = m->retired[i] / 2, slot = m->retired[i] % 2;

		if (!slot_live(m, id, slot))
			err = kanary_slot_clear(m, id, slot, e);
	}
	m->n_retired = 0;
	return err;
}
