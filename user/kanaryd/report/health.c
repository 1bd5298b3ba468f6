// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include "kanary.h"
#include "base/arena.h"
#include "report/health.h"
#include "source/api_watch.h"
#include "base/log.h"

/* The loop wakes at least every 30 s; twice that without a word means it is stuck. */
#define STALL_S		90

struct kd_health {
	struct MHD_Daemon *mhd;
	char *pin;
	struct kd_kube *kube;
	pthread_mutex_t lock;
	struct kd_health_state st;
	struct timespec beat;	/* CLOCK_MONOTONIC of the last update */
};

/* A growing text buffer for the metrics page. */
struct text {
	char *b;
	size_t n, cap;
};

static void tprintf(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tprintf(struct text *t, const char *fmt, ...)
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

/* A label value as the exposition format wants it: \, " and newline escaped. */
static const char *esc(const char *s, char *buf, size_t len)
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

struct scrape {
	struct text *t;
	struct kanary_maps *m;
	int pass;		/* which metric family this foreach prints */
};

static const struct {
	const char *name, *help, *type;
} subset_metrics[] = {
	{ "kanary_subset_connections_total", "New connections steered to the subset.", "counter" },
	{ "kanary_subset_rule_connections_total", "Of them, those a dark-release rule routed.", "counter" },
	{ "kanary_subset_requests_total", "HTTP requests routed to the subset, each on its own (rule path).", "counter" },
	{ "kanary_subset_rule_requests_total", "Of them, those a dark-release rule routed.", "counter" },
	{ "kanary_subset_packets_total", "Packets of the subset's connections.", "counter" },
	{ "kanary_subset_bytes_total", "Bytes of the subset's connections.", "counter" },
	{ "kanary_subset_weight", "The subset's weight as configured (before normalising).", "gauge" },
	{ "kanary_subset_backends", "Backends in the subset.", "gauge" },
};

static int subset_rows(const struct kanary_service *s, void *arg)
{
	struct scrape *x = arg;
	const struct kanary_svc_config *c = &s->cfg;
	char sv[2 * KANARY_NAME_LEN], sb[2 * KANARY_SUBSET_NAME_LEN], w[KANARY_WEIGHT_STR_LEN];
	struct kanary_err e;

	for (__u32 i = 0; i < c->n_subsets && i < KANARY_MAX_SUBSETS; i++) {
		struct kanary_subset_stats st = { 0 };
		const char *l1 = esc(c->name, sv, sizeof(sv)), *l2 = esc(c->subsets[i].name, sb, sizeof(sb));

		if (x->pass < 6 && kanary_subset_stats_read(x->m, s->id, i, &st, &e))
			continue;
		switch (x->pass) {
		case 0:
			tprintf(x->t, "kanary_subset_connections_total{service=\"%s\",subset=\"%s\"} %llu\n",
				l1, l2, (unsigned long long)st.connections);
			break;
		case 1:
			tprintf(x->t, "kanary_subset_rule_connections_total{service=\"%s\",subset=\"%s\"} %llu\n",
				l1, l2, (unsigned long long)st.rule_connections);
			break;
		case 2:
			tprintf(x->t, "kanary_subset_requests_total{service=\"%s\",subset=\"%s\"} %llu\n",
				l1, l2, (unsigned long long)st.requests);
			break;
		case 3:
			tprintf(x->t, "kanary_subset_rule_requests_total{service=\"%s\",subset=\"%s\"} %llu\n",
				l1, l2, (unsigned long long)st.rule_requests);
			break;
		case 4:
			tprintf(x->t, "kanary_subset_packets_total{service=\"%s\",subset=\"%s\",direction=\"in\"} %llu\n"
				"kanary_subset_packets_total{service=\"%s\",subset=\"%s\",direction=\"out\"} %llu\n",
				l1, l2, (unsigned long long)st.packets_in, l1, l2,
				(unsigned long long)st.packets_out);
			break;
		case 5:
			tprintf(x->t, "kanary_subset_bytes_total{service=\"%s\",subset=\"%s\",direction=\"in\"} %llu\n"
				"kanary_subset_bytes_total{service=\"%s\",subset=\"%s\",direction=\"out\"} %llu\n",
				l1, l2, (unsigned long long)st.bytes_in, l1, l2,
				(unsigned long long)st.bytes_out);
			break;
		case 6:
			kanary_weight_format(w, sizeof(w), c->subsets[i].weight_milli);
			tprintf(x->t, "kanary_subset_weight{service=\"%s\",subset=\"%s\"} %s\n", l1, l2, w);
			break;
		case 7:
			tprintf(x->t, "kanary_subset_backends{service=\"%s\",subset=\"%s\"} %u\n", l1, l2,
				c->subsets[i].n_backends);
			break;
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
	const char *svc = esc(s->cfg.name, sv, sizeof(sv));

	if (kanary_ho_stats_read(x->m, s->id, &ho, &e))
		return 0;
	for (int f = 0; f < KANARY_HO_STAT_FIELDS; f++) {
		const char *prefix = ho_metrics[x->pass].reason_prefix;
		unsigned long long v = kanary_ho_stat_get(&ho, f);

		if (ho_metric_of(f) != x->pass)
			continue;
		if (prefix)
			tprintf(x->t, "%s{service=\"%s\",reason=\"%s\"} %llu\n", ho_metrics[x->pass].name,
				svc, kanary_ho_stat_fields[f].name + strlen(prefix), v);
		else
			tprintf(x->t, "%s{service=\"%s\"} %llu\n", ho_metrics[x->pass].name, svc, v);
	}
	return 0;
}

static void datapath_metrics(struct kd_health *h, struct text *t)
{
	struct kanary_err e = { "" };
	__u64 cnt[KANARY_CNT__MAX];
	struct kanary_maps m;

	if (kanary_maps_open(&m, h->pin, &e)) {
		tprintf(t, "# kanary maps unreadable: %s\n", e.msg);
		tprintf(t, "# TYPE kanaryd_maps_readable gauge\nkanaryd_maps_readable 0\n");
		return;
	}
	tprintf(t, "# TYPE kanaryd_maps_readable gauge\nkanaryd_maps_readable 1\n");
	for (int p = 0; p < (int)(sizeof(subset_metrics) / sizeof(subset_metrics[0])); p++) {
		struct scrape x = { .t = t, .m = &m, .pass = p };

		tprintf(t, "# HELP %s %s\n# TYPE %s %s\n", subset_metrics[p].name, subset_metrics[p].help,
			subset_metrics[p].name, subset_metrics[p].type);
		kanary_service_foreach(&m, subset_rows, &x, &e);
	}
	for (int p = 0; p < HO_METRICS; p++) {
		struct scrape x = { .t = t, .m = &m, .pass = p };

		tprintf(t, "# HELP %s %s\n# TYPE %s counter\n", ho_metrics[p].name, ho_metrics[p].help,
			ho_metrics[p].name);
		kanary_service_foreach(&m, handoff_rows, &x, &e);
	}
	if (!kanary_counters_read(&m, cnt, &e)) {
		tprintf(t, "# HELP kanary_datapath_events_total Datapath events by kind.\n"
			"# TYPE kanary_datapath_events_total counter\n");
		for (int i = 0; i < KANARY_CNT__MAX; i++)
			tprintf(t, "kanary_datapath_events_total{event=\"%s\"} %llu\n",
				kanary_counter_names[i], (unsigned long long)cnt[i]);
	}
	kanary_maps_close(&m);
}

static void kube_metrics(struct kd_kube *k, struct text *t)
{
	static const struct {
		const char *name, *help, *type;
		size_t off;	/* in kd_kube_stats; -1: objects; -2: synced */
	} fam[] = {
		{ "kanaryd_kube_objects", "Objects of the kind in the cache.", "gauge", (size_t)-1 },
		{ "kanaryd_kube_synced", "1 once the kind was listed (or is known not served).", "gauge", (size_t)-2 },
		{ "kanaryd_kube_lists_total", "Complete LISTs of the kind.", "counter", offsetof(struct kd_kube_stats, lists) },
		{ "kanaryd_kube_events_total", "ADDED, MODIFIED and DELETED watch events.", "counter", offsetof(struct kd_kube_stats, events) },
		{ "kanaryd_kube_bookmarks_total", "BOOKMARK watch events.", "counter", offsetof(struct kd_kube_stats, bookmarks) },
		{ "kanaryd_kube_watch_restarts_total", "Watches the server ended, resumed from the last resourceVersion.", "counter", offsetof(struct kd_kube_stats, restarts) },
		{ "kanaryd_kube_relists_410_total", "410 Gone answered by a new LIST.", "counter", offsetof(struct kd_kube_stats, relists_410) },
		{ "kanaryd_kube_errors_total", "Failed requests and broken streams.", "counter", offsetof(struct kd_kube_stats, errors) },
	};

	kd_kube_lock(k);
	for (size_t f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
		tprintf(t, "# HELP %s %s\n# TYPE %s %s\n", fam[f].name, fam[f].help, fam[f].name, fam[f].type);
		for (int i = 0; i < KD_KUBE_NKINDS; i++) {
			const struct kd_kube_kind *c = &k->kinds[i];
			unsigned long long v;

			if (fam[f].off == (size_t)-1)
				v = c->store.n;
			else if (fam[f].off == (size_t)-2)
				v = c->synced;
			else
				v = *(const unsigned long long *)((const char *)&c->st + fam[f].off);
			tprintf(t, "%s{resource=\"%s\"} %llu\n", fam[f].name, c->resource, v);
		}
	}
	kd_kube_unlock(k);
}

static char *metrics_page(struct kd_health *h)
{
	struct kd_health_state st;
	struct text t = { 0 };

	pthread_mutex_lock(&h->lock);
	st = h->st;
	pthread_mutex_unlock(&h->lock);
	tprintf(&t, "# HELP kanaryd_ready 1 once the first full sync is in the kernel maps.\n"
		"# TYPE kanaryd_ready gauge\nkanaryd_ready %d\n", st.ready);
	tprintf(&t, "# HELP kanaryd_services kanary services kanaryd manages.\n"
		"# TYPE kanaryd_services gauge\nkanaryd_services %zu\n", st.services);
	tprintf(&t, "# HELP kanaryd_last_sync_timestamp_seconds When the maps were last made to match.\n"
		"# TYPE kanaryd_last_sync_timestamp_seconds gauge\nkanaryd_last_sync_timestamp_seconds %lld\n",
		(long long)st.last_sync);
	tprintf(&t, "# HELP kanaryd_syncs_total Passes that left the maps as desired.\n"
		"# TYPE kanaryd_syncs_total counter\nkanaryd_syncs_total %llu\n", st.syncs);
	tprintf(&t, "# HELP kanaryd_sync_failures_total Passes that could not apply everything.\n"
		"# TYPE kanaryd_sync_failures_total counter\nkanaryd_sync_failures_total %llu\n",
		st.sync_failures);
	if (h->kube)
		kube_metrics(h->kube, &t);
	datapath_metrics(h, &t);
	return t.b;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int code, char *body,
			     const char *type)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body,
								 MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *arg, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *data_len, void **state)
{
	struct kd_health *h = arg;
	struct kd_health_state st;
	struct timespec now;
	long stalled;

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply(c, 405, kd_xstrdup("only GET\n"), "text/plain");
	pthread_mutex_lock(&h->lock);
	st = h->st;
	clock_gettime(CLOCK_MONOTONIC, &now);
	stalled = (long)(now.tv_sec - h->beat.tv_sec);
	pthread_mutex_unlock(&h->lock);
	if (strcmp(url, "/healthz") == 0) {
		if (stalled > STALL_S)
			return reply(c, 503, kd_xasprintf("the loop has not run for %ld s\n", stalled),
				     "text/plain");
		return reply(c, 200, kd_xstrdup("ok\n"), "text/plain");
	}
	if (strcmp(url, "/readyz") == 0) {
		if (!st.ready)
			return reply(c, 503, kd_xasprintf("not ready: %s\n", st.why[0] ? st.why :
							    "the first sync is not in the maps yet"),
				     "text/plain");
		return reply(c, 200, kd_xstrdup("ok\n"), "text/plain");
	}
	if (strcmp(url, "/metrics") == 0)
		return reply(c, 200, metrics_page(h), "text/plain; version=0.0.4; charset=utf-8");
	return reply(c, 404, kd_xstrdup("not found: try /healthz, /readyz or /metrics\n"), "text/plain");
}

int kd_health_parse_listen(const char *listen, void *ss, unsigned *len)
{
	char host[128];
	const char *colon = strrchr(listen, ':');
	char *end;
	long port;

	if (!colon || colon == listen || (size_t)(colon - listen) >= sizeof(host))
		return -EINVAL;
	port = strtol(colon + 1, &end, 10);
	if (*end || end == colon + 1 || port < 1 || port > 65535)
		return -EINVAL;
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	memset(ss, 0, sizeof(struct sockaddr_storage));
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		struct sockaddr_in6 *a = ss;

		host[strlen(host) - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1)
			return -EINVAL;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((unsigned short)port);
		*len = sizeof(*a);
		return 0;
	}
	{
		struct sockaddr_in *a = ss;

		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return -EINVAL;
		a->sin_family = AF_INET;
		a->sin_port = htons((unsigned short)port);
		*len = sizeof(*a);
	}
	return 0;
}

int kd_health_start(struct kd_health **out, const char *listen, const char *pin_path,
		    struct kd_kube *kube, struct kanary_err *e)
{
	struct sockaddr_storage ss;
	struct kd_health *h;
	unsigned len;

	*out = NULL;
	if (kd_health_parse_listen(listen, &ss, &len))
		return kanary_errf(e, EINVAL, "--health-listen: expected ADDR:PORT (10.0.0.5:9808, "
				   "[::1]:9808), got '%s'", listen);
	h = kd_xcalloc(1, sizeof(*h));
	pthread_mutex_init(&h->lock, NULL);
	clock_gettime(CLOCK_MONOTONIC, &h->beat);
	h->pin = kd_xstrdup(pin_path);
	h->kube = kube;
	h->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
				  (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
				  0, NULL, NULL, on_request, h,
				  MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned int)16,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
				  MHD_OPTION_END);
	if (!h->mhd) {
		pthread_mutex_destroy(&h->lock);
		free(h->pin);
		free(h);
		return kanary_errf(e, EADDRNOTAVAIL, "--health-listen %s: cannot listen (address in "
				   "use, or not an address of this host?)", listen);
	}
	*out = h;
	return 0;
}

void kd_health_update(struct kd_health *h, const struct kd_health_state *st)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	h->st = *st;
	clock_gettime(CLOCK_MONOTONIC, &h->beat);
	pthread_mutex_unlock(&h->lock);
}

void kd_health_stop(struct kd_health *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->mhd);
	pthread_mutex_destroy(&h->lock);
	free(h->pin);
	free(h);
}
