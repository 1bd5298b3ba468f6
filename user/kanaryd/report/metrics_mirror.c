// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * /metrics' mirror families, from the relay's counts (kanary_mirrelay_v3)
 * and the datapath's copy counts (kanary_mircopy_v1): per service and
 * mirror subset, what was sent, the mirror's answers, the drops by reason,
 * the comparison with the live answers and both sides' latency as
 * histograms, so that "the mirror agreed on 99.3 % with a p99 1.4x the
 * live one" is a query away.  Only subsets that are mirrors have series.
 */
#include <stdio.h>
#include <string.h>
#include "kanary.h"
#include "report/metrics_text.h"

struct mirror_scrape {
	struct kd_text *t;
	struct kanary_maps *m;
	int family;
};

enum {
	FAM_COPIED, FAM_SENT, FAM_CONNECTS, FAM_RESPONSES, FAM_ERRORS, FAM_DROPPED, FAM_COMPARED,
	FAM_UNPAIRED, FAM_LATENCY, FAM__N,
};

static const struct {
	const char *name, *help, *type;
} fam[FAM__N] = {
	[FAM_COPIED] = { "kanary_mirror_copied_requests_total",
			 "Requests the datapath drew for the service's mirrors and copied.", "counter" },
	[FAM_SENT] = { "kanary_mirror_sent_requests_total",
		       "Requests the relay wrote whole to a pod of the mirror subset.", "counter" },
	[FAM_CONNECTS] = { "kanary_mirror_connections_total",
			   "Connections the relay opened to the mirror subset's pods (kept alive "
			   "between requests).", "counter" },
	[FAM_RESPONSES] = { "kanary_mirror_responses_total",
			    "The mirror's answers by status class.", "counter" },
	[FAM_ERRORS] = { "kanary_mirror_errors_total",
			 "Mirror connections refused, reset or silent, or answers without a status line.",
			 "counter" },
	[FAM_DROPPED] = { "kanary_mirror_dropped_requests_total",
			  "Mirrored requests never sent, by reason.", "counter" },
	[FAM_COMPARED] = { "kanary_mirror_compared_requests_total",
			   "Requests whose mirror answer was compared with the live one: result "
			   "agree (same status class) or differ.", "counter" },
	[FAM_UNPAIRED] = { "kanary_mirror_unpaired_requests_total",
			   "Requests sent whose live or mirror answer was not seen in time.", "counter" },
	[FAM_LATENCY] = { "kanary_mirror_latency_seconds",
			  "Over the requests the mirror answered: side live (request's first byte to "
			  "response's first byte, at tc) and side mirror (first byte sent to the answer's "
			  "head read, by the relay).", "histogram" },
};

static void bound(char *buf, size_t len, __u32 us)
{
	char *end;

	snprintf(buf, len, "%u.%06u", us / 1000000, us % 1000000);
	end = buf + strlen(buf) - 1;
	while (*end == '0')
		*end-- = '\0';
	if (*end == '.')
		*end = '\0';
}

static void latency_rows(struct kd_text *t, const char *labels, const char *side,
			 const __u64 *latency, __u64 sum_us)
{
	unsigned long long cum = 0;
	char le[24];

	for (int b = 0; b < KANARY_HTTP_BOUNDS; b++) {
		cum += latency[b];
		bound(le, sizeof(le), kanary_http_latency_bounds_us[b]);
		kd_text_printf(t, "%s_bucket{%s,side=\"%s\",le=\"%s\"} %llu\n", fam[FAM_LATENCY].name,
			       labels, side, le, cum);
	}
	cum += latency[KANARY_HTTP_BOUNDS];
	kd_text_printf(t, "%s_bucket{%s,side=\"%s\",le=\"+Inf\"} %llu\n"
		       "%s_sum{%s,side=\"%s\"} %.6f\n%s_count{%s,side=\"%s\"} %llu\n",
		       fam[FAM_LATENCY].name, labels, side, cum, fam[FAM_LATENCY].name, labels, side,
		       (double)sum_us / 1e6, fam[FAM_LATENCY].name, labels, side, cum);
}

static void subset_rows(struct kd_text *t, int f, const char *labels,
			const struct kanary_mirror_relay_stats *r)
{
	const char *name = fam[f].name;

	switch (f) {
	case FAM_SENT:
		kd_text_printf(t, "%s{%s} %llu\n", name, labels, (unsigned long long)r->sent);
		break;
	case FAM_CONNECTS:
		kd_text_printf(t, "%s{%s} %llu\n", name, labels, (unsigned long long)r->connects);
		break;
	case FAM_RESPONSES:
		for (int k = 0; k < 5; k++)
			kd_text_printf(t, "%s{%s,class=\"%dxx\"} %llu\n", name, labels, k + 1,
				       (unsigned long long)r->responses[k]);
		break;
	case FAM_ERRORS:
		kd_text_printf(t, "%s{%s} %llu\n", name, labels, (unsigned long long)r->errors);
		break;
	case FAM_DROPPED:
		for (int d = 0; d < KANARY_MIRROR_DROP__MAX; d++)
			kd_text_printf(t, "%s{%s,reason=\"%s\"} %llu\n", name, labels,
				       kanary_mirror_drop_names[d], (unsigned long long)r->dropped[d]);
		break;
	case FAM_COMPARED:
		kd_text_printf(t, "%s{%s,result=\"agree\"} %llu\n%s{%s,result=\"differ\"} %llu\n",
			       name, labels, (unsigned long long)r->agree, name, labels,
			       (unsigned long long)r->differ);
		break;
	case FAM_UNPAIRED:
		kd_text_printf(t, "%s{%s} %llu\n", name, labels, (unsigned long long)r->unpaired);
		break;
	case FAM_LATENCY:
		latency_rows(t, labels, "live", r->live_latency, r->live_latency_sum_us);
		latency_rows(t, labels, "mirror", r->mirror_latency, r->mirror_latency_sum_us);
		break;
	}
}

static int mirror_rows(const struct kanary_service *s, void *arg)
{
	struct mirror_scrape *x = arg;
	char ns[2 * KANARY_NAME_LEN], name[2 * KANARY_NAME_LEN], sub[2 * KANARY_SUBSET_NAME_LEN];
	char labels[8 * KANARY_NAME_LEN];
	struct kanary_mirror_copy_stats copy;
	struct kanary_mirror_cfg cfg;
	struct kanary_err e;

	if (kanary_mirror_get(x->m, s->id, &cfg, &e))
		return 0;
	kd_service_labels(s->cfg.name, ns, sizeof(ns), name, sizeof(name));
	if (x->family == FAM_COPIED) {
		bool any = false;

		for (int i = 0; i < KANARY_MAX_SUBSETS; i++)
			any |= kanary_mirror_share_max(&cfg, i) != 0;
		if (any && !kanary_mirror_copy_stats_read(x->m, s->id, &copy, &e))
			kd_text_printf(x->t, "%s{namespace=\"%s\",service=\"%s\"} %llu\n",
				       fam[FAM_COPIED].name, ns, name,
				       (unsigned long long)copy.requests);
		return 0;
	}
	for (__u32 i = 0; i < s->cfg.n_subsets && i < KANARY_MAX_SUBSETS; i++) {
		struct kanary_mirror_relay_stats r;

		if (!kanary_mirror_share_max(&cfg, (int)i) ||
		    kanary_mirror_relay_stats_read(x->m->mirror_relay, s->id, i, &r, &e))
			continue;
		kd_label_escape(s->cfg.subsets[i].name, sub, sizeof(sub));
		snprintf(labels, sizeof(labels), "namespace=\"%s\",service=\"%s\",subset=\"%s\"", ns,
			 name, sub);
		subset_rows(x->t, x->family, labels, &r);
	}
	return 0;
}

void kd_metrics_mirror_text(struct kd_text *t, struct kanary_maps *m)
{
	struct kanary_err e;

	for (int f = 0; f < FAM__N; f++) {
		struct mirror_scrape x = { .t = t, .m = m, .family = f };

		kd_text_printf(t, "# HELP %s %s\n# TYPE %s %s\n", fam[f].name, fam[f].help, fam[f].name,
			       fam[f].type);
		kanary_service_foreach(m, mirror_rows, &x, &e);
	}
}
