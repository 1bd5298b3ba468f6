// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* /metrics' text: the loop's part and the datapath's (see metrics_text.h). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>
#include <stdio.h>
#include <string.h>
#include "kanary.h"
#include "apply/reconcile.h"
#include "base/arena.h"
#include "report/metrics_text.h"
#include "source/api_watch.h"

void kd_text_printf(struct kd_text *t, const char *fmt, ...)
{
	va_list ap;
	int len;

	for (;;) {
		va_start(ap, fmt);
		len = vsnprintf(t->b ? t->b + t->n : NULL, t->b ? t->cap - t->n : 0, fmt, ap);
		va_end(ap);
		if (len >= 0 && t->b && t->n + (size_t)len < t->cap) {
			t->n += (size_t)len;
			return;
		}
		t->cap = (t->cap ? t->cap : 4096) * 2 + (size_t)(len > 0 ? len : 0);
		t->b = kd_xrealloc(t->b, t->cap, 1);
	}
}

const char *kd_label_escape(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	for (; *s && o + 3 < len; s++) {
		if (*s == '\\' || *s == '"' || *s == '\n') {
			buf[o++] = '\\';
			buf[o++] = *s == '\n' ? 'n' : *s;
		} else {
			buf[o++] = *s;
		}
	}
	buf[o] = '\0';
	return buf;
}

void kd_service_labels(const char *kname, char *ns, size_t nslen, char *svc, size_t svclen)
{
	const char *slash = strchr(kname, '/');
	char a[KANARY_NAME_LEN], b[KANARY_NAME_LEN];

	snprintf(a, sizeof(a), "%.*s", slash ? (int)(slash - kname) : 0, kname);
	snprintf(b, sizeof(b), "%s", slash ? slash + 1 : kname);
	kd_label_escape(a, ns, nslen);
	kd_label_escape(b, svc, svclen);
}

struct scrape {
	struct kd_text *t;
	struct kanary_maps *m;
	int pass;		/* which metric family this foreach prints */
};

/*
 * The per-subset families, in order.  A counter names its field of struct
 * kanary_subset_stats (in, and out when it has a direction); -1: the
 * family is not from the stats (weight, backends).
 */
#define SUB_F(f)	offsetof(struct kanary_subset_stats, f)
static const struct {
	const char *name, *help, *type;
	ssize_t in, out;
} subset_metrics[] = {
	{ "kanary_subset_connections_total", "New connections steered to the subset.", "counter",
	  SUB_F(connections), -1 },
	{ "kanary_subset_rule_connections_total", "Of them, those a dark-release rule routed.", "counter",
	  SUB_F(rule_connections), -1 },
	{ "kanary_subset_requests_total", "HTTP requests routed to the subset, each on its own (rule path).",
	  "counter", SUB_F(requests), -1 },
	{ "kanary_subset_rule_requests_total", "Of them, those a dark-release rule routed.", "counter",
	  SUB_F(rule_requests), -1 },
	{ "kanary_subset_packets_total", "Packets of the subset's connections.", "counter",
	  SUB_F(packets_in), SUB_F(packets_out) },
	{ "kanary_subset_bytes_total", "Bytes of the subset's connections.", "counter",
	  SUB_F(bytes_in), SUB_F(bytes_out) },
	{ "kanary_subset_weight", "The subset's weight as configured (before normalising).", "gauge", -1, -1 },
	{ "kanary_subset_backends", "Backends in the subset.", "gauge", -1, -1 },
};

static unsigned long long sub_field(const struct kanary_subset_stats *st, ssize_t off)
{
	return *(const __u64 *)((const char *)st + off);
}

static int subset_rows(const struct kanary_service *s, void *arg)
{
	struct scrape *x = arg;
	const struct kanary_svc_config *c = &s->cfg;
	char sv[2 * KANARY_NAME_LEN], sb[2 * KANARY_SUBSET_NAME_LEN], w[KANARY_WEIGHT_STR_LEN];
	const char *fam = subset_metrics[x->pass].name;
	ssize_t in = subset_metrics[x->pass].in, out = subset_metrics[x->pass].out;
	struct kanary_err e;

	for (__u32 i = 0; i < c->n_subsets && i < KANARY_MAX_SUBSETS; i++) {
		struct kanary_subset_stats st = { 0 };
		const char *l1 = kd_label_escape(c->name, sv, sizeof(sv)), *l2 = kd_label_escape(c->subsets[i].name, sb, sizeof(sb));

		if (in >= 0 && kanary_subset_stats_read(x->m, s->id, i, &st, &e))
			continue;
		if (in >= 0 && out < 0) {
			kd_text_printf(x->t, "%s{service=\"%s\",subset=\"%s\"} %llu\n", fam, l1, l2,
				sub_field(&st, in));
		} else if (in >= 0) {
			kd_text_printf(x->t, "%s{service=\"%s\",subset=\"%s\",direction=\"in\"} %llu\n"
				"%s{service=\"%s\",subset=\"%s\",direction=\"out\"} %llu\n",
				fam, l1, l2, sub_field(&st, in), fam, l1, l2, sub_field(&st, out));
		} else if (strcmp(fam, "kanary_subset_weight") == 0) {
			kanary_weight_format(w, sizeof(w), c->subsets[i].weight_milli);
			kd_text_printf(x->t, "%s{service=\"%s\",subset=\"%s\"} %s\n", fam, l1, l2, w);
		} else {
			kd_text_printf(x->t, "%s{service=\"%s\",subset=\"%s\"} %u\n", fam, l1, l2,
				c->subsets[i].n_backends);
		}
	}
	return 0;
}

/*
 * The handoff counters (kanary_ho_stat_fields, in struct kanary_ho_stats
 * order) as four families; a field belongs to the last family whose first
 * field is at or before it.
 */
static const struct {
	const char *name, *help;
	size_t first;		/* offset in struct kanary_ho_stats */
	const char *reason_prefix;	/* the field name less this is the reason; NULL: no label */
} ho_metrics[] = {
	{ "kanary_handoff_failures_total", "Dark-release handoffs that failed or fell back, by reason.",
	  offsetof(struct kanary_ho_stats, backend_refused), "" },
	{ "kanary_handoff_switches_total", "Requests moved to another backend (legs opened after the first).",
	  offsetof(struct kanary_ho_stats, switches), NULL },
	{ "kanary_handoff_switch_failures_total", "Later legs refused or silent: the client was reset.",
	  offsetof(struct kanary_ho_stats, switch_failed), NULL },
	{ "kanary_handoff_pinned_total", "Rule-path connections pinned to their backend, by reason.",
	  offsetof(struct kanary_ho_stats, pinned), "pinned_" },
};
#define HO_METRICS	(int)(sizeof(ho_metrics) / sizeof(ho_metrics[0]))

static int ho_metric_of(int field)
{
	int fam = 0;

	while (fam + 1 < HO_METRICS && kanary_ho_stat_fields[field].offset >= ho_metrics[fam + 1].first)
		fam++;
	return fam;
}

static int handoff_rows(const struct kanary_service *s, void *arg)
{
	struct scrape *x = arg;
	char sv[2 * KANARY_NAME_LEN];
	struct kanary_ho_stats ho;
	struct kanary_err e;
	const char *svc = kd_label_escape(s->cfg.name, sv, sizeof(sv));

	if (kanary_ho_stats_read(x->m, s->id, &ho, &e))
		return 0;
	for (int f = 0; f < KANARY_HO_STAT_FIELDS; f++) {
		const char *prefix = ho_metrics[x->pass].reason_prefix;
		unsigned long long v = kanary_ho_stat_get(&ho, f);

		if (ho_metric_of(f) != x->pass)
			continue;
		if (prefix)
			kd_text_printf(x->t, "%s{service=\"%s\",reason=\"%s\"} %llu\n", ho_metrics[x->pass].name,
				svc, kanary_ho_stat_fields[f].name + strlen(prefix), v);
		else
			kd_text_printf(x->t, "%s{service=\"%s\"} %llu\n", ho_metrics[x->pass].name, svc, v);
	}
	return 0;
}

/*
 * The clients' TCP health per subset (sockops: include/kanary/tcp_stats.h),
 * labelled namespace, service (kd_service_labels) and subset.
 */
static const struct {
	const char *name, *help, *type;
} tcp_metrics[] = {
	{ "kanary_tcp_connect_failures_total",
	  "Client connects to the subset that were refused, timed out or given up (SYN_SENT to CLOSE).", "counter" },
	{ "kanary_tcp_retransmits_total", "Segments the clients retransmitted to the subset.", "counter" },
	{ "kanary_tcp_srtt_seconds",
	  "Mean smoothed RTT of the clients' connections to the subset, one sample per connection as it ends; absent before the first.",
	  "gauge" },
};

static int tcp_rows(const struct kanary_service *s, void *arg)
{
	struct scrape *x = arg;
	char ns[2 * KANARY_NAME_LEN], sv[2 * KANARY_NAME_LEN];
	char sb[2 * KANARY_SUBSET_NAME_LEN], labels[8 * KANARY_NAME_LEN];

	kd_service_labels(s->cfg.name, ns, sizeof(ns), sv, sizeof(sv));
	for (__u32 i = 0; i < s->cfg.n_subsets && i < KANARY_MAX_SUBSETS; i++) {
		struct kanary_tcp_stats st;
		struct kanary_err e;
		double srtt_us;

		if (kanary_tcp_stats_read(x->m, s->id, i, &st, &e))
			continue;
		snprintf(labels, sizeof(labels), "namespace=\"%s\",service=\"%s\",subset=\"%s\"", ns, sv,
			 kd_label_escape(s->cfg.subsets[i].name, sb, sizeof(sb)));
		if (x->pass == 0)
			kd_text_printf(x->t, "%s{%s} %llu\n", tcp_metrics[0].name, labels,
				(unsigned long long)st.connect_failures);
		else if (x->pass == 1)
			kd_text_printf(x->t, "%s{%s} %llu\n", tcp_metrics[1].name, labels,
				(unsigned long long)st.retransmits);
		else if (kanary_tcp_srtt_mean_us(&st, &srtt_us))
			kd_text_printf(x->t, "%s{%s} %.9g\n", tcp_metrics[2].name, labels, srtt_us / 1e6);
	}
	return 0;
}

static void tcp_families(struct kd_text *t, struct kanary_maps *m)
{
	struct kanary_err e;

	for (int p = 0; p < (int)(sizeof(tcp_metrics) / sizeof(tcp_metrics[0])); p++) {
		struct scrape x = { .t = t, .m = m, .pass = p };

		kd_text_printf(t, "# HELP %s %s\n# TYPE %s %s\n", tcp_metrics[p].name, tcp_metrics[p].help,
			tcp_metrics[p].name, tcp_metrics[p].type);
		kanary_service_foreach(m, tcp_rows, &x, &e);
	}
}

/* The conntrack lifecycle: its timeouts in force and the sweeper's work (docs/conntrack.md). */
static void ct_lifecycle_families(struct kd_text *t, struct kanary_maps *m)
{
	struct kanary_ct_lifecycle lc;
	struct kanary_err e;

	if (kanary_ct_lifecycle_read(m, &lc, &e))
		return;
	kd_text_printf(t, "# HELP kanary_ct_timeout_seconds The plain path's conntrack timeouts in force, by state.\n"
		"# TYPE kanary_ct_timeout_seconds gauge\n"
		"kanary_ct_timeout_seconds{state=\"closed\"} %.3f\n"
		"kanary_ct_timeout_seconds{state=\"syn_sent\"} %.3f\n",
		lc.linger_ms / 1e3, lc.syn_timeout_ms / 1e3);
	kd_text_printf(t, "# HELP kanary_ct_sweeps_total Ticks of the conntrack sweeper.\n"
		"# TYPE kanary_ct_sweeps_total counter\nkanary_ct_sweeps_total %llu\n",
		(unsigned long long)lc.sweeps);
	kd_text_printf(t, "# HELP kanary_ct_sweep_max_seconds The conntrack sweeper's longest tick.\n"
		"# TYPE kanary_ct_sweep_max_seconds gauge\nkanary_ct_sweep_max_seconds %.6f\n",
		lc.sweep_max_ns / 1e9);
}

void kd_metrics_datapath_text(struct kd_text *t, const char *pin, const struct kd_istio_ids *ids)
{
	struct kanary_err e = { "" };
	__u64 cnt[KANARY_CNT__MAX];
	struct kanary_maps m;

	if (kanary_maps_open(&m, pin, &e)) {
		kd_text_printf(t, "# kanary maps unreadable: %s\n", e.msg);
		kd_text_printf(t, "# TYPE kanaryd_maps_readable gauge\nkanaryd_maps_readable 0\n");
		return;
	}
	kd_text_printf(t, "# TYPE kanaryd_maps_readable gauge\nkanaryd_maps_readable 1\n");
	for (int p = 0; p < (int)(sizeof(subset_metrics) / sizeof(subset_metrics[0])); p++) {
		struct scrape x = { .t = t, .m = &m, .pass = p };

		kd_text_printf(t, "# HELP %s %s\n# TYPE %s %s\n", subset_metrics[p].name, subset_metrics[p].help,
			subset_metrics[p].name, subset_metrics[p].type);
		kanary_service_foreach(&m, subset_rows, &x, &e);
	}
	for (int p = 0; p < HO_METRICS; p++) {
		struct scrape x = { .t = t, .m = &m, .pass = p };

		kd_text_printf(t, "# HELP %s %s\n# TYPE %s counter\n", ho_metrics[p].name, ho_metrics[p].help,
			ho_metrics[p].name);
		kanary_service_foreach(&m, handoff_rows, &x, &e);
	}
	kd_metrics_http_text(t, &m);
	kd_metrics_istio_text(t, &m, ids);
	tcp_families(t, &m);
	kd_metrics_mirror_text(t, &m);
	if (!kanary_counters_read(&m, cnt, &e)) {
		kd_text_printf(t, "# HELP kanary_datapath_events_total Datapath events by kind.\n"
			"# TYPE kanary_datapath_events_total counter\n");
		for (int i = 0; i < KANARY_CNT__MAX; i++)
			kd_text_printf(t, "kanary_datapath_events_total{event=\"%s\"} %llu\n",
				kanary_counter_names[i], (unsigned long long)cnt[i]);
	}
	ct_lifecycle_families(t, &m);
	kanary_maps_close(&m);
}

static void kube_text(struct kd_kube *k, struct kd_text *t)
{
	static const struct {
		const char *name, *help, *type;
		size_t off;	/* in kd_kube_stats; -1: objects; -2: synced; -3: held */
	} fam[] = {
		{ "kanaryd_kube_objects", "Objects of the kind in the cache.", "gauge", (size_t)-1 },
		{ "kanaryd_kube_synced", "1 once the kind was listed (or is known not served).", "gauge", (size_t)-2 },
		{ "kanaryd_kube_held", "1 while the kind is not served and its last objects are kept (--api-gone-hold).", "gauge", (size_t)-3 },
		{ "kanaryd_kube_lists_total", "Complete LISTs of the kind.", "counter", offsetof(struct kd_kube_stats, lists) },
		{ "kanaryd_kube_events_total", "ADDED, MODIFIED and DELETED watch events.", "counter", offsetof(struct kd_kube_stats, events) },
		{ "kanaryd_kube_bookmarks_total", "BOOKMARK watch events.", "counter", offsetof(struct kd_kube_stats, bookmarks) },
		{ "kanaryd_kube_watch_restarts_total", "Watches the server ended, resumed from the last resourceVersion.", "counter", offsetof(struct kd_kube_stats, restarts) },
		{ "kanaryd_kube_relists_410_total", "410 Gone answered by a new LIST.", "counter", offsetof(struct kd_kube_stats, relists_410) },
		{ "kanaryd_kube_errors_total", "Failed requests and broken streams.", "counter", offsetof(struct kd_kube_stats, errors) },
	};

	kd_kube_lock(k);
	for (size_t f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
		kd_text_printf(t, "# HELP %s %s\n# TYPE %s %s\n", fam[f].name, fam[f].help, fam[f].name, fam[f].type);
		for (int i = 0; i < KD_KUBE_NKINDS; i++) {
			const struct kd_kube_kind *c = &k->kinds[i];
			unsigned long long v;

			if (fam[f].off == (size_t)-1)
				v = c->store.n;
			else if (fam[f].off == (size_t)-2)
				v = c->synced;
			else if (fam[f].off == (size_t)-3)
				v = c->held;
			else
				v = *(const unsigned long long *)((const char *)&c->st + fam[f].off);
			kd_text_printf(t, "%s{resource=\"%s\"} %llu\n", fam[f].name, c->resource, v);
		}
	}
	kd_kube_unlock(k);
}

/* One row per service the last pass could not write: few, and each one an alert. */
static void not_applied_text(struct kd_text *t, const struct kd_results *r)
{
	kd_text_printf(t, "# HELP kanaryd_service_not_applied 1 for a service whose desired state is "
		       "not in the maps; reason map_full (a kanary map is full: the service keeps what "
		       "the maps hold), error, or held (its manifests cannot be applied as written).\n"
		       "# TYPE kanaryd_service_not_applied gauge\n");
	for (size_t i = 0; r && i < r->n; i++) {
		const struct kd_result *x = &r->v[i];
		char ns[KANARY_NAME_LEN], svc[KANARY_NAME_LEN];

		if (x->outcome != KD_OUT_FAILED && x->outcome != KD_OUT_HELD)
			continue;
		kd_service_labels(x->name, ns, sizeof(ns), svc, sizeof(svc));
		kd_text_printf(t, "kanaryd_service_not_applied{namespace=\"%s\",service=\"%s\",reason=\"%s\"} 1\n",
			       ns, svc, x->outcome == KD_OUT_HELD ? "held" :
			       x->err == -ENOSPC ? "map_full" : "error");
	}
}

void kd_metrics_loop_text(struct kd_text *t, const struct kd_health_state *st, struct kd_kube *kube)
{
	kd_text_printf(t, "# HELP kanaryd_ready 1 once the first full sync is in the kernel maps.\n"
		       "# TYPE kanaryd_ready gauge\nkanaryd_ready %d\n", st->ready);
	kd_text_printf(t, "# HELP kanaryd_services kanary services kanaryd manages.\n"
		       "# TYPE kanaryd_services gauge\nkanaryd_services %zu\n", st->services);
	kd_text_printf(t, "# HELP kanaryd_last_sync_timestamp_seconds When the maps were last made to match.\n"
		       "# TYPE kanaryd_last_sync_timestamp_seconds gauge\n"
		       "kanaryd_last_sync_timestamp_seconds %lld\n", (long long)st->last_sync);
	kd_text_printf(t, "# HELP kanaryd_syncs_total Passes that left the maps as desired.\n"
		       "# TYPE kanaryd_syncs_total counter\nkanaryd_syncs_total %llu\n", st->syncs);
	kd_text_printf(t, "# HELP kanaryd_sync_failures_total Passes that could not apply everything.\n"
		       "# TYPE kanaryd_sync_failures_total counter\nkanaryd_sync_failures_total %llu\n",
		       st->sync_failures);
	not_applied_text(t, st->results);
	if (kube)
		kube_text(kube, t);
}
