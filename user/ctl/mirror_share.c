// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A mirror subset's shares per route (include/kanary/mirror.h), as mirror
 * show and stats print them: the split's, then each rule's.
 */
#include <stdio.h>
#include "ctl.h"

/* Subset i's shares on the rules' routes: [{"route": INDEX, "percent": P}]. */
json_t *mirror_routes_json(const struct kanary_mirror_cfg *cfg, int i)
{
	json_t *routes = json_array();

	for (int r = 0; r < KANARY_RULES_MAX; r++)
		if (cfg->rule_ppm[r][i])
			json_array_append_new(routes, json_pack("{s:i, s:f}", "route", r + 1,
								"percent",
								kanary_percent_of(cfg->rule_ppm[r][i])));
	return routes;
}

/* Subset i's shares as SHARE prints them: "10%", "10%,r2:100%", "r1:5%". */
void mirror_shares_format(char *buf, size_t len, const struct kanary_mirror_cfg *cfg, int i)
{
	char pct[KANARY_PERCENT_STR_LEN];
	size_t at = 0;

	buf[0] = 0;
	if (cfg->ppm[i]) {
		kanary_percent_format(pct, sizeof(pct), cfg->ppm[i]);
		at += (size_t)snprintf(buf, len, "%s%%", pct);
	}
	for (int r = 0; r < KANARY_RULES_MAX && at < len; r++) {
		if (!cfg->rule_ppm[r][i])
			continue;
		kanary_percent_format(pct, sizeof(pct), cfg->rule_ppm[r][i]);
		at += (size_t)snprintf(buf + at, len - at, "%sr%d:%s%%", at ? "," : "", r + 1, pct);
	}
}
