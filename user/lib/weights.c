// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Operator weights -> cumulative shares in parts per 10,000. */
#include <string.h>
#include "internal.h"

static bool subset_eligible(const struct kanary_subset *s)
{
	return s->n_backends > 0 && s->weight_milli > 0;
}

/*
 * Largest remainder: every eligible subset first gets floor(10000*w/sum);
 * the parts lost to flooring go one each to the largest fractions, lower
 * index first on ties, so the shares always add up to exactly 10,000.
 */
void kanary_weights_normalize(struct kanary_svc_config *cfg)
{
	__u64 sum = 0, rem[KANARY_MAX_SUBSETS] = { 0 };
	__u32 parts[KANARY_MAX_SUBSETS] = { 0 }, given = 0, cum = 0;
	bool got_extra[KANARY_MAX_SUBSETS] = { false };
	__u32 n = cfg->n_subsets > KANARY_MAX_SUBSETS ? KANARY_MAX_SUBSETS : cfg->n_subsets;
	__u32 i;

	memset(cfg->cum_weight, 0, sizeof(cfg->cum_weight));
	for (i = 0; i < n; i++)
		if (subset_eligible(&cfg->subsets[i]))
			sum += cfg->subsets[i].weight_milli;
	if (sum == 0)
		return;	/* nothing can take a connection: all ranges empty */

	for (i = 0; i < n; i++) {
		__u64 scaled;

		if (!subset_eligible(&cfg->subsets[i]))
			continue;
		scaled = (__u64)KANARY_WEIGHT_SCALE * cfg->subsets[i].weight_milli;
		parts[i] = (__u32)(scaled / sum);
		rem[i] = scaled % sum;
		given += parts[i];
	}
	/* At most n-1 parts are left over, so this loop is short. */
	while (given < KANARY_WEIGHT_SCALE) {
		int best = -1;

		for (i = 0; i < n; i++) {
			if (!subset_eligible(&cfg->subsets[i]) || got_extra[i])
				continue;
			if (best < 0 || rem[i] > rem[best])
				best = (int)i;
		}
		if (best < 0)
			break;
		got_extra[best] = true;
		parts[best]++;
		given++;
	}
	for (i = 0; i < n; i++) {
		cum += parts[i];
		cfg->cum_weight[i] = cum;
	}
}
