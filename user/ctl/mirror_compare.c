// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A mirror's comparison with the live answers, as mirror show and stats
 * print it: agreement among the requests compared, and both sides'
 * latency quantiles over the requests the mirror answered.
 */
#include <stdio.h>
#include "ctl.h"

void mirror_compare_of(const struct kanary_mirror_relay_stats *r, struct mirror_compare *c)
{
	c->compared = r->agree + r->differ;
	c->agree = r->agree;
	c->differ = r->differ;
	c->unpaired = r->unpaired;
	c->agree_percent = c->compared ? 100.0 * (double)r->agree / (double)c->compared : -1;
	c->p50_live_ms = kanary_latency_quantile_us(r->live_latency, 0.50) / 1000.0;
	c->p99_live_ms = kanary_latency_quantile_us(r->live_latency, 0.99) / 1000.0;
	c->p50_mirror_ms = kanary_latency_quantile_us(r->mirror_latency, 0.50) / 1000.0;
	c->p99_mirror_ms = kanary_latency_quantile_us(r->mirror_latency, 0.99) / 1000.0;
}

/* null for a figure with nothing under it. */
static json_t *num_or_null(double v)
{
	return v < 0 ? json_null() : json_real(v);
}

json_t *mirror_compare_json(const struct mirror_compare *c)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:o, s:{s:o, s:o}, s:{s:o, s:o}}",
			 "compared", (json_int_t)c->compared, "agree", (json_int_t)c->agree,
			 "differ", (json_int_t)c->differ, "unpaired", (json_int_t)c->unpaired,
			 "agree_percent", num_or_null(c->agree_percent),
			 "live_latency_ms", "p50", num_or_null(c->p50_live_ms),
			 "p99", num_or_null(c->p99_live_ms),
			 "mirror_latency_ms", "p50", num_or_null(c->p50_mirror_ms),
			 "p99", num_or_null(c->p99_mirror_ms));
}

void fmt_agree(char *buf, size_t len, double pct)
{
	/* Two decimals: 99.96 % must not read as 100. */
	if (pct < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.2f", pct);
}
