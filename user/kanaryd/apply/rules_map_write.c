// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/arena.h"
#include "rule_set.h"
#include "apply/rules_map_write.h"
#include "apply/service_write.h"

bool kd_rules_committed(const struct kd_desired_service *d, const struct kanary_svc_config *cfg,
			struct kanary_rules *out)
{
	memset(out, 0, sizeof(*out));
	if (d->rules)
		*out = *d->rules;
	out->flags = d->per_request ? KANARY_RULES_F_PER_REQUEST : 0;
	for (__u32 r = 0; r < out->n_rules; r++) {
		struct kanary_rule *ru = &out->rules[r];

		for (__u32 k = 0; k < ru->n_dests; k++) {
			int j = ru->dest_subset[k] < d->nsub ?
				kd_committed_subset(cfg, d->sub[ru->dest_subset[k]].name) : -1;

			if (j < 0)
				return false;
			ru->dest_subset[k] = (__u8)j;
		}
	}
	return true;
}

static bool same_rules(const struct kanary_rules *a, const struct kanary_rules *b)
{
	return a->n_rules == b->n_rules && a->n_conds == b->n_conds && a->flags == b->flags &&
	       a->n_rules <= KANARY_RULES_MAX && a->n_conds <= KANARY_CONDS_MAX &&
	       memcmp(a->conds, b->conds, a->n_conds * sizeof(a->conds[0])) == 0 &&
	       memcmp(a->rules, b->rules, a->n_rules * sizeof(a->rules[0])) == 0;
}

bool kd_rules_in_maps(struct kanary_maps *m, const struct kd_desired_service *d,
		      const struct kanary_service *s, bool *stale)
{
	struct kanary_rules *have = kd_xcalloc(1, sizeof(*have)), *want = kd_xcalloc(1, sizeof(*want));
	struct kanary_err e = { "" };
	bool equal = false;
	int err;

	*stale = false;
	err = kanary_rules_read(m, s, have, stale, &e);
	/* kanary_maps_open requires the rules map: a missing entry reads as no rules. */
	equal = !err && !*stale && kd_rules_committed(d, &s->cfg, want) && same_rules(want, have);
	free(have);
	free(want);
	return equal;
}

int kd_rules_apply(struct kanary_maps *m, const struct kd_desired_service *d,
		   const struct kanary_service *s, struct kanary_err *e)
{
	struct kanary_rules *rs;
	int err;

	if ((!d->rules || !d->rules->n_rules) && !d->per_request)
		return kanary_rules_clear(m, s->id, e);
	rs = kd_xcalloc(1, sizeof(*rs));
	if (!kd_rules_committed(d, &s->cfg, rs))
		err = kanary_errf(e, EINVAL, "a rule of %s names a subset the committed service lacks",
				  d->name);
	else
		err = kanary_rules_write(m, s, rs, e);
	free(rs);
	return err;
}

const char *kd_rules_count_text(const struct kd_desired_service *d, char *buf, size_t len)
{
	__u32 n = d->rules ? d->rules->n_rules : 0;
	const char *pr = d->per_request ? "; per-request" : "";

	if (!n)
		snprintf(buf, len, "%s", pr);
	else
		snprintf(buf, len, "; %u rule%s%s", n, n == 1 ? "" : "s", pr);
	return buf;
}
