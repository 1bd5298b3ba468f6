// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * /metrics' HTTP families, from kanary_http_v1: exchanges by subset and
 * status code, and their latency as a Prometheus histogram.  The label set
 * stays bounded: codes outside the exact list are their class ("4xx"),
 * and an exchange without a response is code "0", as Istio reports it.
 */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include "kanary.h"
#include "base/arena.h"
#include "report/istio_ids.h"
#include "report/metrics_text.h"

struct http_scrape {
	struct kd_text *t;
	struct kanary_maps *m;
	int family;
};

/* A bucket bound in unit_us units (seconds: 1000000), shortest exact decimal: 0.00005, 1.5, 60. */
static void fmt_bound(char *buf, size_t len, __u32 us, __u32 unit_us)
{
	char *end;

	snprintf(buf, len, "%u.%0*u", us / unit_us, unit_us == 1000 ? 3 : 6, us % unit_us);
	end = buf + strlen(buf) - 1;
	while (*end == '0')
		*end-- = '\0';
	if (*end == '.')
		*end = '\0';
}

/* FAMILY{LABELS,CODE_LABEL="..."} per code seen, and "0" for no response. */
static void requests_rows(struct kd_text *t, const char *family, const char *code_label,
			  const char *labels, const struct kanary_http_stats *st)
{
	char code[KANARY_HTTP_SLOT_NAME_LEN];

	for (int s = 0; s < KANARY_HTTP_SLOT_CLASSES_END; s++)
		if (st->codes[s] && !kanary_http_slot_name(s, code))
			kd_text_printf(t, "%s{%s,%s=\"%s\"} %llu\n", family, labels, code_label, code,
				       (unsigned long long)st->codes[s]);
	kd_text_printf(t, "%s{%s,%s=\"0\"} %llu\n", family, labels, code_label,
		       (unsigned long long)st->no_response);
}

/* FAMILY_bucket, _sum and _count of the latency, in unit_us units. */
static void duration_rows(struct kd_text *t, const char *family, __u32 unit_us, const char *labels,
			  const struct kanary_http_stats *st)
{
	unsigned long long cum = 0;
	char le[24];

	for (int b = 0; b < KANARY_HTTP_BOUNDS; b++) {
		cum += st->latency[b];
		fmt_bound(le, sizeof(le), kanary_http_latency_bounds_us[b], unit_us);
		kd_text_printf(t, "%s_bucket{%s,le=\"%s\"} %llu\n", family, labels, le, cum);
	}
	cum += st->latency[KANARY_HTTP_BOUNDS];
	kd_text_printf(t, "%s_bucket{%s,le=\"+Inf\"} %llu\n%s_sum{%s} %.6f\n%s_count{%s} %llu\n",
		       family, labels, cum, family, labels, (double)st->latency_sum_us / unit_us,
		       family, labels, cum);
}

static int http_rows(const struct kanary_service *s, void *arg)
{
	struct http_scrape *x = arg;
	char ns[2 * KANARY_NAME_LEN], name[2 * KANARY_NAME_LEN], sub[2 * KANARY_SUBSET_NAME_LEN];
	char labels[8 * KANARY_NAME_LEN];
	struct kanary_err e;

	kd_service_labels(s->cfg.name, ns, sizeof(ns), name, sizeof(name));
	for (__u32 i = 0; i < s->cfg.n_subsets && i < KANARY_MAX_SUBSETS; i++) {
		struct kanary_http_stats st;

		if (kanary_http_stats_read(x->m, s->id, i, &st, &e))
			continue;
		kd_label_escape(s->cfg.subsets[i].name, sub, sizeof(sub));
		snprintf(labels, sizeof(labels), "namespace=\"%s\",service=\"%s\",subset=\"%s\"", ns, name,
			 sub);
		if (x->family == 0)
			requests_rows(x->t, "kanary_http_requests_total", "code", labels, &st);
		else if (x->family == 1)
			duration_rows(x->t, "kanary_http_request_duration_seconds", 1000000, labels, &st);
		else
			kd_text_printf(x->t, "kanary_http_other_connections_total{%s} %llu\n", labels,
				       (unsigned long long)st.other_conns);
	}
	return 0;
}

void kd_metrics_http_text(struct kd_text *t, struct kanary_maps *m)
{
	static const struct {
		const char *name, *help, *type;
	} fam[] = {
		{ "kanary_http_requests_total",
		  "HTTP/1.x exchanges by status code (a class for the rare ones; 0: no response).",
		  "counter" },
		{ "kanary_http_request_duration_seconds",
		  "From a request's first byte to its response's first byte, at tc.", "histogram" },
		{ "kanary_http_other_connections_total",
		  "Connections whose first data was not an HTTP/1.x request: TCP-level counts only.",
		  "counter" },
	};
	struct kanary_err e;

	for (int f = 0; f < (int)(sizeof(fam) / sizeof(fam[0])); f++) {
		struct http_scrape x = { .t = t, .m = m, .family = f };

		kd_text_printf(t, "# HELP %s %s\n# TYPE %s %s\n", fam[f].name, fam[f].help, fam[f].name,
			       fam[f].type);
		kanary_service_foreach(m, http_rows, &x, &e);
	}
}

/* ---- Istio's families, for tools written for Istio (istio_ids.h) ---- */

struct istio_scrape {
	const struct kd_istio_ids *ids;
	struct kanary_maps *m;
	struct kanary_http_stats *sum;	/* by group */
};

static int istio_sum(const struct kanary_service *s, void *arg)
{
	struct istio_scrape *x = arg;
	struct kanary_err e;

	for (__u32 i = 0; i < s->cfg.n_subsets && i < KANARY_MAX_SUBSETS; i++) {
		char sub[KANARY_SUBSET_NAME_LEN + 1];
		const struct kd_istio_id *id;
		struct kanary_http_stats st;
		__u64 *to, *from = (__u64 *)&st;

		snprintf(sub, sizeof(sub), "%.*s", KANARY_SUBSET_NAME_LEN, s->cfg.subsets[i].name);
		id = kd_istio_ids_find(x->ids, s->cfg.name, sub);
		if (!id || kanary_http_stats_read(x->m, s->id, i, &st, &e))
			continue;
		to = (__u64 *)&x->sum[id->group];
		for (size_t w = 0; w < sizeof(st) / sizeof(__u64); w++)
			to[w] += from[w];
	}
	return 0;
}

void kd_metrics_istio_text(struct kd_text *t, struct kanary_maps *m, const struct kd_istio_ids *ids)
{
	struct istio_scrape x = { .ids = ids, .m = m };
	struct kanary_err e;

	if (!ids)
		return;
	x.sum = kd_xcalloc(ids->ngroups ? ids->ngroups : 1, sizeof(*x.sum));
	kanary_service_foreach(m, istio_sum, &x, &e);
	kd_text_printf(t, "# HELP istio_requests_total Requests, as Istio's destination reporter "
		       "counts them (from kanary's datapath).\n# TYPE istio_requests_total counter\n");
	for (size_t g = 0; g < ids->ngroups; g++)
		requests_rows(t, "istio_requests_total", "response_code", ids->labels[g], &x.sum[g]);
	kd_text_printf(t, "# HELP istio_request_duration_milliseconds Request to response's first "
		       "byte (from kanary's datapath).\n"
		       "# TYPE istio_request_duration_milliseconds histogram\n");
	for (size_t g = 0; g < ids->ngroups; g++)
		duration_rows(t, "istio_request_duration_milliseconds", 1000, ids->labels[g], &x.sum[g]);
	free(x.sum);
}
