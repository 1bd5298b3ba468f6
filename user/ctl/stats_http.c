// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The HTTP side of stats: a subset's exchanges summed up (rate, 5xx share,
 * latency quantiles), as JSON and as the line that sets a canary beside
 * its baseline.
 */
#include <stdio.h>
#include <string.h>
#include "ctl.h"

void http_summarise(const struct kanary_http_stats *st, double secs, struct http_summary *s)
{
	__u64 answered = kanary_http_responses(st);

	memset(s, 0, sizeof(*s));
	s->requests = st->requests;
	s->rate = secs > 0 ? (double)st->requests / secs : -1;
	/* Errors as Flagger counts them: 5xx among the responses. */
	s->error_percent = answered ? 100.0 * (double)kanary_http_class_count(st, 5) /
				      (double)answered : -1;
	s->p50_ms = kanary_http_quantile_us(st, 0.50) / 1000.0;
	s->p90_ms = kanary_http_quantile_us(st, 0.90) / 1000.0;
	s->p99_ms = kanary_http_quantile_us(st, 0.99) / 1000.0;
	if (!answered)
		s->p50_ms = s->p90_ms = s->p99_ms = -1;
}

static json_t *real_or_null(double v)
{
	return v < 0 ? json_null() : json_real(v);
}

json_t *http_json(const struct kanary_http_stats *st)
{
	struct http_summary s;
	json_t *o = json_object(), *resp = json_object(), *codes = json_object();
	char name[KANARY_HTTP_SLOT_NAME_LEN];

	http_summarise(st, 0, &s);
	for (int cls = 1; cls <= 5; cls++) {
		snprintf(name, sizeof(name), "%dxx", cls);
		json_object_set_new(resp, name, json_integer((json_int_t)kanary_http_class_count(st, cls)));
	}
	/* The exact codes seen; the others are in their class only. */
	for (int slot = 0; slot < KANARY_HTTP_SLOT_1XX; slot++)
		if (st->codes[slot] && !kanary_http_slot_name(slot, name))
			json_object_set_new(codes, name, json_integer((json_int_t)st->codes[slot]));
	json_object_set_new(resp, "codes", codes);
	json_object_set_new(o, "requests", json_integer((json_int_t)st->requests));
	json_object_set_new(o, "responses", resp);
	json_object_set_new(o, "no_response", json_integer((json_int_t)st->no_response));
	json_object_set_new(o, "other_connections", json_integer((json_int_t)st->other_conns));
	json_object_set_new(o, "error_percent", real_or_null(s.error_percent));
	json_object_set_new(o, "latency_ms", json_pack("{s:o, s:o, s:o}",
						       "p50", real_or_null(s.p50_ms),
						       "p90", real_or_null(s.p90_ms),
						       "p99", real_or_null(s.p99_ms)));
	return o;
}

void fmt_ms(char *buf, size_t len, double ms)
{
	if (ms < 0)
		snprintf(buf, len, "-");
	else if (ms < 10)
		snprintf(buf, len, "%.2f", ms);
	else
		snprintf(buf, len, "%.0f", ms);
}

void fmt_percent(char *buf, size_t len, double pct)
{
	if (pct < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.1f", pct);
}

/* Worse than the baseline by more than noise: 1 point of errors, or 1.2x its p99. */
static bool worse_errors(const struct http_summary *c, const struct http_summary *b)
{
	return c->error_percent >= 0 && b->error_percent >= 0 &&
	       c->error_percent - b->error_percent > 1.0;
}

static bool worse_latency(const struct http_summary *c, const struct http_summary *b)
{
	return c->p99_ms > 0 && b->p99_ms > 0 && c->p99_ms > 1.2 * b->p99_ms;
}

void http_print_compare(const char *service, const char *canary, const struct http_summary *c,
			const char *baseline, const struct http_summary *b, bool color)
{
	const char *on = color ? "\033[1;31m" : "", *off = color ? "\033[0m" : "";
	bool we = worse_errors(c, b), wl = worse_latency(c, b);
	char ce[16], be[16], cp[16], bp[16];

	fmt_percent(ce, sizeof(ce), c->error_percent);
	fmt_percent(be, sizeof(be), b->error_percent);
	fmt_ms(cp, sizeof(cp), c->p99_ms);
	fmt_ms(bp, sizeof(bp), b->p99_ms);
	printf("%s: %s vs %s:  5xx %s%s%%%s vs %s%%", service, canary, baseline,
	       we ? on : "", ce, we ? off : "", be);
	if (c->error_percent >= 0 && b->error_percent >= 0)
		printf(" (%s%+.1f pts%s)", we ? on : "", c->error_percent - b->error_percent,
		       we ? off : "");
	printf("   p99 %s%s ms%s vs %s ms", wl ? on : "", cp, wl ? off : "", bp);
	if (c->p99_ms > 0 && b->p99_ms > 0)
		printf(" (%sx%.2f%s)", wl ? on : "", c->p99_ms / b->p99_ms, wl ? off : "");
	printf("%s\n", we || wl ? (color ? "  \033[1;31mWORSE\033[0m" : "  WORSE") : "");
}
