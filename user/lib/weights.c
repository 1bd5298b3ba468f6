// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Operator weights -> cumulative shares in parts per 10,000: the one rule for splits and rules. */
#include <string.h>
#include "internal.h"

/*
 * Largest remainder: every weight first gets floor(10000*w/sum); the parts
 * lost to flooring go one each to the largest fractions, lower index first
 * on ties, so the shares always add up to exactly 10,000.
 */
void kanary_weights_share(const __u32 *weight_milli, __u32 n, __u32 *cum)
{
	__u64 sum = 0, rem[KANARY_MAX_SUBSETS] = { 0 };
	__u32 parts[KANARY_MAX_SUBSETS] = { 0 }, given = 0, total = 0;
	bool got_extra[KANARY_MAX_SUBSETS] = { false };
	__u32 i;

	if (n > KANARY_MAX_SUBSETS)
		n = KANARY_MAX_SUBSETS;
	for (i = 0; i < n; i++)
		sum += weight_milli[i];
	for (i = 0; i < n && sum; i++) {
		__u64 scaled = (__u64)KANARY_WEIGHT_SCALE * weight_milli[i];

		parts[i] = (__u32)(scaled / sum);
		rem[i] = scaled % sum;
		given += parts[i];
	}
	/* At most n-1 parts are left over, so this loop is short. */
	while (sum && given < KANARY_WEIGHT_SCALE) {
		int best = -1;

		for (i = 0; i < n; i++) {
			if (!weight_milli[i] || got_extra[i])
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
		total += parts[i];
		cum[i] = total;
	}
}

/* A subset without backends, or of weight 0, takes no connection. */
void kanary_weights_normalize(struct kanary_svc_config *cfg)
{
	__u32 w[KANARY_MAX_SUBSETS] = { 0 };
	__u32 n = cfg->n_subsets > KANARY_MAX_SUBSETS ? KANARY_MAX_SUBSETS : cfg->n_subsets;

	memset(cfg->cum_weight, 0, sizeof(cfg->cum_weight));
	for (__u32 i = 0; i < n; i++)
		if (cfg->subsets[i].n_backends > 0)
			w[i] = cfg->subsets[i].weight_milli;
	kanary_weights_share(w, n, cfg->cum_weight);
}
