// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The pinned rules map: one rule set per service id, replaced in one update. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "internal.h"
#include "rule_set.h"

static void rules_empty(struct kanary_rules *rs, const char *service)
{
	memset(rs, 0, sizeof(*rs));
	snprintf(rs->service, sizeof(rs->service), "%s", service);
}

int kanary_rules_read(struct kanary_maps *m, const struct kanary_service *s,
		      struct kanary_rules *out, bool *stale, struct kanary_err *e)
{
	struct kanary_err why = {};
	__u32 key = s->id;
	int err = 0;

	if (stale)
		*stale = false;
	if (bpf_map_lookup_elem(m->rules, &key, out)) {
		err = errno;
		if (err != ENOENT)
			return kanary_errf(e, err, "cannot read the rules of service %s: %s",
					   s->cfg.name, strerror(err));
		rules_empty(out, s->cfg.name);
		return 0;
	}
	if (strncmp(out->service, s->cfg.name, sizeof(out->service))) {
		__u32 gen = out->generation;

		if (stale)
			*stale = true;
		rules_empty(out, s->cfg.name);
		out->generation = gen;
		return 0;
	}
	/* Structure only: a subset index is checked against the service on write. */
	err = kanary_rules_validate(out, KANARY_RULE_DESTS_MAX, &why);
	if (err)
		return kanary_errf(e, -err, "the rules of service %s in %s are damaged: %s",
				   s->cfg.name, KANARY_MAP_RULES, why.msg);
	return 0;
}

int kanary_rules_write(struct kanary_maps *m, const struct kanary_service *s,
		       struct kanary_rules *rs, struct kanary_err *e)
{
	struct kanary_rules *old = NULL;
	__u32 key = s->id;
	int err;

	memset(rs->service, 0, sizeof(rs->service));
	snprintf(rs->service, sizeof(rs->service), "%s", s->cfg.name);
	err = kanary_rules_validate(rs, s->cfg.n_subsets, e);
	if (err)
		return err;
	old = malloc(sizeof(*old));
	if (!old)
		return kanary_errf(e, ENOMEM, "out of memory");
	if (bpf_map_lookup_elem(m->rules, &key, old) == 0 && old->generation > rs->generation)
		rs->generation = old->generation;
	free(old);
	rs->generation++;
	if (rs->n_rules == 0 && !(rs->flags & KANARY_RULES_F_PER_REQUEST)) {
		err = bpf_map_delete_elem(m->rules, &key) && errno != ENOENT ? errno : 0;
		if (err)
			return kanary_errf(e, err, "cannot remove the rules of service %s: %s",
					   s->cfg.name, strerror(err));
		return 0;
	}
	/* One update of a no-prealloc hash: readers see the old set or the new one. */
	err = bpf_map_update_elem(m->rules, &key, rs, BPF_ANY) ? errno : 0;
	if (err == E2BIG || err == ENOMEM || err == ENOSPC)
		return kanary_errf(e, ENOSPC, "the rules map %s is full", KANARY_MAP_RULES);
	if (err)
		return kanary_errf(e, err, "cannot write the rules of service %s: %s", s->cfg.name,
				   strerror(err));
	return 0;
}

int kanary_rules_clear(struct kanary_maps *m, __u32 svc_id, struct kanary_err *e)
{
	int err = bpf_map_delete_elem(m->rules, &svc_id) && errno != ENOENT ? errno : 0;

	if (err)
		return kanary_errf(e, err, "cannot remove the rules of service id %u: %s", svc_id,
				   strerror(err));
	return 0;
}
