// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* stats [SERVICE] [--watch [SECONDS]] and counters: what the datapath did. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include "ctl.h"
#include "help.h"

static int stats_help(void)
{
	return out_help(
		"Usage: kanaryctl [OPTIONS] stats [SERVICE] [--watch [SECONDS]]\n"
		"       kanaryctl [OPTIONS] counters\n"
		"\n"
		"stats     one row per service and subset: configured share of new\n"
		"          connections, observed share, connections (and of them, those a\n"
		"          dark-release rule routed), HTTP requests (and those a rule\n"
		"          routed), the 5xx share of responses, p50 and p99 latency in ms\n"
		"          (request's first byte to response's first byte), packets and\n"
		"          bytes (in + out; -j splits them and adds responses by code); each\n"
		"          canary beside its service's heaviest subset, worse ones marked;\n"
		"          a line per mirror: requests compared with the live answers, the\n"
		"          share in the same status class, the mirror's p99 beside the live\n"
		"          one (totals, also under --watch); then each service's rule-path counters (handoff failures,\n"
		"          switches, pinned connections by reason), when any is not zero,\n"
		"          and the datapath counters.\n"
		"          --watch redraws every SECONDS (1-3600, default 1) with rates and\n"
		"          the last interval's errors and latency until Ctrl-C; with -j it\n"
		"          prints one JSON document per line per sample.\n"
		"counters  the datapath's event counters (conntrack, pass-through), and the\n"
		"          conntrack sweeper's ticks and longest tick (ct_sweeps, ct_sweep_max_us).\n"
		"\n"
		HELP_SERVICE
		HELP_OPTIONS);
}

struct svc_sample {
	__u32 id, n;
	char name[KANARY_NAME_LEN], vip[ADDR_STR_LEN];
	char subset[KANARY_MAX_SUBSETS][KANARY_SUBSET_NAME_LEN];
	__u32 parts[KANARY_MAX_SUBSETS];
	struct kanary_subset_stats st[KANARY_MAX_SUBSETS];
	struct kanary_http_stats http[KANARY_MAX_SUBSETS];
	struct kanary_tcp_stats tcp[KANARY_MAX_SUBSETS];
	struct kanary_ho_stats ho;
	struct kanary_mirror_cfg mirror;	/* subset i is a mirror on some route or none */
	struct kanary_mirror_relay_stats mirror_relay[KANARY_MAX_SUBSETS];
};

struct sample {
	struct svc_sample *svcs;
	int n, cap;
	double t;	/* CLOCK_MONOTONIC seconds */
	struct kanary_maps *m;	/* during take_sample only */
	int err;		/* add_service's failure, which stops the walk */
	struct kanary_err e;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int add_service(const struct kanary_service *s, void *ctx)
{
	struct sample *smp = ctx;
	struct svc_sample *v;

	if (smp->n == smp->cap) {
		int cap = smp->cap ? smp->cap * 2 : 16;
		void *p = realloc(smp->svcs, sizeof(*smp->svcs) * (size_t)cap);

		if (!p) {
			smp->err = kanary_errf(&smp->e, ENOMEM, "out of memory");
			return 1;
		}
		smp->svcs = p;
		smp->cap = cap;
	}
	v = &smp->svcs[smp->n];
	memset(v, 0, sizeof(*v));
	v->id = s->id;
	v->n = s->cfg.n_subsets;
	snprintf(v->name, sizeof(v->name), "%.*s", KANARY_NAME_LEN - 1, s->cfg.name);
	fmt_vip(v->vip, &s->cfg);
	for (__u32 i = 0; i < v->n; i++) {
		snprintf(v->subset[i], sizeof(v->subset[i]), "%.*s", KANARY_SUBSET_NAME_LEN - 1,
			 s->cfg.subsets[i].name);
		v->parts[i] = subset_parts(&s->cfg, i);
		smp->err = kanary_subset_stats_read(smp->m, s->id, i, &v->st[i], &smp->e);
		if (!smp->err)
			smp->err = kanary_http_stats_read(smp->m, s->id, i, &v->http[i], &smp->e);
		if (!smp->err)
			smp->err = kanary_tcp_stats_read(smp->m, s->id, i, &v->tcp[i], &smp->e);
		if (smp->err)
			return 1;
	}
	smp->err = kanary_ho_stats_read(smp->m, s->id, &v->ho, &smp->e);
	if (!smp->err)
		smp->err = kanary_mirror_get(smp->m, s->id, &v->mirror, &smp->e);
	for (__u32 i = 0; i < v->n && !smp->err; i++)
		if (kanary_mirror_share_max(&v->mirror, (int)i))
			smp->err = kanary_mirror_relay_stats_read(smp->m->mirror_relay, s->id, i,
								  &v->mirror_relay[i], &smp->e);
	if (smp->err)
		return 1;
	smp->n++;
	return 0;
}

/* Reads every service (or the one named); the lock is dropped at once: reads need none. */
static int take_sample(struct sample *smp, const char *only)
{
	struct kanary_service *s = NULL;
	struct kanary_maps m;
	int err;

	smp->n = 0;
	smp->err = 0;
	if (maps_open_or_err(&m))
		return -1;
	flock(m.lock_fd, LOCK_UN);
	smp->m = &m;
	smp->t = now();
	if (only) {
		s = service_get_or_err(&m, only);
		err = s ? 0 : -1;
		if (s)
			add_service(s, smp);
		free(s);
	} else {
		err = kanary_service_foreach(&m, add_service, smp, &smp->e);
	}
	kanary_maps_close(&m);
	smp->m = NULL;
	if (err < 0 && only)
		return -1;	/* service_get_or_err reported it */
	if (err || smp->err)
		return p_kerr(&smp->e);
	return 0;
}

static double observed(const struct svc_sample *v, __u32 i)
{
	__u64 total = 0;

	for (__u32 k = 0; k < v->n; k++)
		total += v->st[k].connections;
	return total ? 100.0 * (double)v->st[i].connections / (double)total : 0.0;
}

/* The same subset in the previous sample, if the service is still the same one. */
static const struct svc_sample *prev_of(const struct sample *prev, const struct svc_sample *v,
					__u32 i)
{
	if (!prev)
		return NULL;
	for (int k = 0; k < prev->n; k++) {
		const struct svc_sample *p = &prev->svcs[k];

		if (p->id != v->id || strcmp(p->name, v->name) || i >= p->n ||
		    strcmp(p->subset[i], v->subset[i]))
			continue;
		if (p->st[i].connections > v->st[i].connections ||
		    p->http[i].requests > v->http[i].requests)
			return NULL;	/* counters were reset */
		return p;
	}
	return NULL;
}

struct rates {
	double conn, pkt, bytes;
	struct http_summary http;	/* over the interval */
	struct kanary_http_stats http_delta;
};

static bool rates_of(const struct sample *prev, const struct sample *cur,
		     const struct svc_sample *v, __u32 i, struct rates *r)
{
	const struct svc_sample *pv = prev_of(prev, v, i);
	const struct kanary_subset_stats *c = &v->st[i], *p;
	double dt = prev ? cur->t - prev->t : 0;

	if (!pv || dt <= 0)
		return false;
	p = &pv->st[i];
	r->conn = (double)(c->connections - p->connections) / dt;
	r->pkt = (double)((c->packets_in + c->packets_out) - (p->packets_in + p->packets_out)) / dt;
	r->bytes = (double)((c->bytes_in + c->bytes_out) - (p->bytes_in + p->bytes_out)) / dt;
	r->http_delta = v->http[i];
	kanary_http_stats_sub(&r->http_delta, &pv->http[i]);
	http_summarise(&r->http_delta, dt, &r->http);
	return true;
}

/*
 * The subset a canary is judged against: the heaviest by weight, the first
 * of equals.  -1 when the service has fewer than two.
 */
static int baseline_of(const struct svc_sample *v)
{
	int b = 0;

	if (v->n < 2)
		return -1;
	for (__u32 i = 1; i < v->n; i++)
		if (v->parts[i] > v->parts[b])
			b = (int)i;
	return b;
}

/* Each other subset that answered beside the baseline, over the interval when watching. */
static void print_compare(const struct sample *cur, const struct sample *prev)
{
	bool color = isatty(STDOUT_FILENO), first = true;

	for (int k = 0; k < cur->n; k++) {
		const struct svc_sample *v = &cur->svcs[k];
		struct http_summary sum[KANARY_MAX_SUBSETS];
		int b = baseline_of(v);

		if (b < 0)
			continue;
		for (__u32 i = 0; i < v->n; i++) {
			struct rates r;

			if (prev) {
				if (!rates_of(prev, cur, v, i, &r))
					memset(&r.http, 0, sizeof(r.http));
				sum[i] = r.http;
			} else {
				http_summarise(&v->http[i], 0, &sum[i]);
			}
		}
		for (__u32 i = 0; i < v->n; i++) {
			if ((int)i == b || !sum[i].requests || !sum[b].requests)
				continue;
			if (first)
				putchar('\n');
			first = false;
			http_print_compare(v->name, v->subset[i], &sum[i], v->subset[b], &sum[b],
					   color);
		}
	}
}

static json_t *ho_json(const struct kanary_ho_stats *ho)
{
	json_t *o = json_object();

	for (int f = 0; f < KANARY_HO_STAT_FIELDS; f++)
		json_object_set_new(o, kanary_ho_stat_fields[f].name,
				    json_integer((json_int_t)kanary_ho_stat_get(ho, f)));
	return o;
}

/* The clients' TCP health (sockops); srtt_us is the mean over sampled connections, or null. */
static json_t *tcp_json(const struct kanary_tcp_stats *t)
{
	double srtt;

	return json_pack("{s:I, s:I, s:o}",
			 "connect_failures", (json_int_t)t->connect_failures,
			 "retransmits", (json_int_t)t->retransmits,
			 "srtt_us", kanary_tcp_srtt_mean_us(t, &srtt) ?
				    json_integer((json_int_t)(srtt + 0.5)) : json_null());
}

#define LINE_WIDTH	100

/* "  name value" at column *col, on a new line under indent if it would pass LINE_WIDTH. */
static void print_wrapped_pair(int *col, int indent, const char *name, __u64 v)
{
	char pair[64];
	int len = snprintf(pair, sizeof(pair), "  %s %llu", name, (unsigned long long)v);

	if (*col + len > LINE_WIDTH && *col > indent) {
		printf("\n%*s", indent, "");
		*col = indent;
	}
	*col += printf("%s", pair);
}

/*
 * "handoff SERVICE:" then every counter as "name value", wrapped under the
 * first at LINE_WIDTH; silence for a service whose counters are all zero.
 */
static void print_ho_counters(const struct sample *cur)
{
	for (int k = 0; k < cur->n; k++) {
		const struct svc_sample *v = &cur->svcs[k];
		bool any = false;
		int indent, col;

		for (int f = 0; f < KANARY_HO_STAT_FIELDS; f++)
			any |= kanary_ho_stat_get(&v->ho, f) != 0;
		if (!any)
			continue;
		indent = col = printf("\nhandoff %s:", v->name) - 1;
		for (int f = 0; f < KANARY_HO_STAT_FIELDS; f++)
			print_wrapped_pair(&col, indent, kanary_ho_stat_fields[f].name,
					   kanary_ho_stat_get(&v->ho, f));
	}
}

/* Each mirror beside the subsets: its comparison with the live answers, since the start. */
static void print_mirrors(const struct sample *cur)
{
	bool first = true;

	for (int k = 0; k < cur->n; k++) {
		const struct svc_sample *v = &cur->svcs[k];

		for (__u32 i = 0; i < v->n; i++) {
			char pct[MIRROR_SHARES_LEN], agree[24], p99m[24], p99l[24];
			struct mirror_compare c;

			if (!kanary_mirror_share_max(&v->mirror, (int)i))
				continue;
			if (first)
				putchar('\n');
			first = false;
			mirror_compare_of(&v->mirror_relay[i], &c);
			mirror_shares_format(pct, sizeof(pct), &v->mirror, (int)i);
			fmt_agree(agree, sizeof(agree), c.agree_percent);
			fmt_ms(p99m, sizeof(p99m), c.p99_mirror_ms);
			fmt_ms(p99l, sizeof(p99l), c.p99_live_ms);
			printf("mirror %s/%s (%s): %llu compared, agree %s%%, p99 %s ms vs live %s ms",
			       v->name, v->subset[i], pct, (unsigned long long)c.compared, agree,
			       p99m, p99l);
			if (c.p99_mirror_ms > 0 && c.p99_live_ms > 0)
				printf(" (%.2fx)", c.p99_mirror_ms / c.p99_live_ms);
			printf(", %llu unpaired\n", (unsigned long long)c.unpaired);
		}
	}
}

/* The service's mirrors as in mirror show -j: share, sent, comparison. */
static json_t *mirrors_json(const struct svc_sample *v)
{
	json_t *arr = json_array();

	for (__u32 i = 0; i < v->n; i++) {
		struct mirror_compare c;

		if (!kanary_mirror_share_max(&v->mirror, (int)i))
			continue;
		mirror_compare_of(&v->mirror_relay[i], &c);
		json_array_append_new(arr, json_pack("{s:s, s:f, s:o, s:I, s:o}", "subset", v->subset[i],
						     "percent", kanary_percent_of(v->mirror.ppm[i]),
						     "routes", mirror_routes_json(&v->mirror, (int)i),
						     "sent", (json_int_t)v->mirror_relay[i].sent,
						     "comparison", mirror_compare_json(&c)));
	}
	return arr;
}

static json_t *sample_json(const struct sample *cur, const struct sample *prev)
{
	json_t *arr = json_array();

	for (int k = 0; k < cur->n; k++) {
		const struct svc_sample *v = &cur->svcs[k];
		json_t *subs = json_array();

		for (__u32 i = 0; i < v->n; i++) {
			const struct kanary_subset_stats *st = &v->st[i];
			struct rates r;
			json_t *o = json_pack("{s:s, s:f, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
					      "name", v->subset[i],
					      "weight_percent", v->parts[i] / 100.0,
					      "observed_percent", observed(v, i),
					      "connections", (json_int_t)st->connections,
					      "rule_connections", (json_int_t)st->rule_connections,
					      "routed_requests", (json_int_t)st->requests,
					      "rule_requests", (json_int_t)st->rule_requests,
					      "packets_in", (json_int_t)st->packets_in,
					      "packets_out", (json_int_t)st->packets_out,
					      "bytes_in", (json_int_t)st->bytes_in,
					      "bytes_out", (json_int_t)st->bytes_out);

			json_object_update_new(o, http_json(&v->http[i]));
			json_object_set_new(o, "tcp", tcp_json(&v->tcp[i]));
			if (rates_of(prev, cur, v, i, &r)) {
				json_object_set_new(o, "connections_per_sec", json_real(r.conn));
				json_object_set_new(o, "packets_per_sec", json_real(r.pkt));
				json_object_set_new(o, "bytes_per_sec", json_real(r.bytes));
				json_object_set_new(o, "requests_per_sec", json_real(r.http.rate));
				json_object_set_new(o, "interval", http_json(&r.http_delta));
			}
			json_array_append_new(subs, o);
		}
		json_array_append_new(arr, json_pack("{s:s, s:s, s:o, s:o, s:o}", "service", v->name,
						     "vip", v->vip, "subsets", subs,
						     "handoff", ho_json(&v->ho),
						     "mirrors", mirrors_json(v)));
	}
	return arr;
}

static void print_counters(void)
{
	__u64 c[KANARY_CNT__MAX];
	struct kanary_err e = {};
	struct kanary_maps m;

	if (kanary_maps_open(&m, pin_path, &e))
		return;
	flock(m.lock_fd, LOCK_UN);
	if (!kanary_counters_read(&m, c, &e)) {
		int indent, col;

		indent = col = printf("\ndatapath:") - 1;
		for (int i = 0; i < KANARY_CNT__MAX; i++)
			print_wrapped_pair(&col, indent, kanary_counter_names[i], c[i]);
		printf("\n");
	}
	kanary_maps_close(&m);
}

static void fmt_u64(char *buf, __u64 v)
{
	snprintf(buf, 24, "%llu", (unsigned long long)v);
}

static void fmt_rate(char *buf, bool ok, double v)
{
	if (ok)
		snprintf(buf, 24, "%.1f", v);
	else
		strcpy(buf, "-");
}

/*
 * Plain table, 12 columns either way to stay within 100: BY_RULE counts
 * the requests a rule routed, bytes are in + out; -j has the rest (rule
 * connections, packets, in and out apart, responses by code).  In watch
 * mode rates replace totals, and the errors and latency are the last
 * interval's, not since the start.
 */
static void sample_print(const struct sample *cur, const struct sample *prev, bool watch)
{
	static const char *const hdr[] = { "SERVICE", "VIP", "SUBSET", "WEIGHT%", "OBSERVED%",
					   "CONNS", "REQS", "BY_RULE", "5XX%", "P50MS", "P99MS",
					   "BYTES" };
	static const char *const whdr[] = { "SERVICE", "VIP", "SUBSET", "WEIGHT%", "OBSERVED%",
					    "CONN/S", "REQS", "REQ/S", "5XX%", "P50MS", "P99MS",
					    "BYTES/S" };
	struct table *t = table_new(12, watch ? whdr : hdr);

	for (int k = 0; k < cur->n; k++) {
		const struct svc_sample *v = &cur->svcs[k];

		if (!v->n)
			table_add(t, v->name, v->vip, "(none)", "-", "-", "-", "-", "-", "-", "-",
				  "-", "-");
		for (__u32 i = 0; i < v->n; i++) {
			const struct kanary_subset_stats *st = &v->st[i];
			char c[9][24];
			struct rates r = {};
			struct http_summary h;
			bool ok = rates_of(prev, cur, v, i, &r);

			if (watch)
				h = ok ? r.http : (struct http_summary){ .error_percent = -1,
									  .p50_ms = -1,
									  .p99_ms = -1 };
			else
				http_summarise(&v->http[i], 0, &h);
			snprintf(c[0], sizeof(c[0]), "%.2f", v->parts[i] / 100.0);
			snprintf(c[1], sizeof(c[1]), "%.2f", observed(v, i));
			fmt_u64(c[3], v->http[i].requests);
			fmt_percent(c[5], sizeof(c[5]), h.error_percent);
			fmt_ms(c[6], sizeof(c[6]), h.p50_ms);
			fmt_ms(c[7], sizeof(c[7]), h.p99_ms);
			if (watch) {
				fmt_rate(c[2], ok, r.conn);
				fmt_rate(c[4], ok, r.http.rate);
				fmt_rate(c[8], ok, r.bytes);
			} else {
				fmt_u64(c[2], st->connections);
				fmt_u64(c[4], st->rule_requests);
				fmt_u64(c[8], st->bytes_in + st->bytes_out);
			}
			table_add(t, v->name, v->vip, v->subset[i], c[0], c[1], c[2], c[3], c[4],
				  c[5], c[6], c[7], c[8]);
		}
	}
	table_print(t);
	print_compare(cur, watch ? prev : NULL);
	print_mirrors(cur);
	print_ho_counters(cur);
	print_counters();
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static int watch_loop(const char *only, __u32 secs)
{
	struct sample a = {}, b = {}, *cur = &a, *prev = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	bool tty = isatty(STDOUT_FILENO);
	int ret = 0;

	sigaction(SIGINT, &sa, NULL);	/* no SA_RESTART: Ctrl-C cuts the sleep short */
	sigaction(SIGTERM, &sa, NULL);
	while (!stop) {
		struct timespec left = { .tv_sec = secs };

		if (take_sample(cur, only)) {
			ret = -1;
			break;
		}
		if (json_output) {
			out_json_line(sample_json(cur, prev));
		} else {
			if (tty)
				fputs("\033[H\033[2J", stdout);
			printf("kanary stats every %us (Ctrl-C to stop)\n\n", secs);
			sample_print(cur, prev, true);
			if (!tty)
				putchar('\n');
			fflush(stdout);
		}
		prev = cur;
		cur = cur == &a ? &b : &a;
		while (!stop && nanosleep(&left, &left) && errno == EINTR)
			;
	}
	free(a.svcs);
	free(b.svcs);
	return ret;
}

int do_stats(int argc, char **argv)
{
	const char *only = NULL;
	__u32 watch = 0;
	struct sample s = {};
	int ret;

	while (argc > 0) {
		if (!strcmp(*argv, "help") && !only && argc == 1)
			return stats_help();
		if (!strcmp(*argv, "--watch") || !strcmp(*argv, "-w")) {
			watch = 1;
			/* SECONDS is optional: a service name never starts with a digit. */
			if (argc > 1 && argv[1][0] >= '0' && argv[1][0] <= '9') {
				NEXT_ARG();
				if (parse_u32_arg(*argv, "--watch interval", 1, 3600, &watch))
					return -1;
			}
		} else if (!only && **argv != '-') {
			only = *argv;
		} else {
			return BAD_ARG(only ? "--watch [SECONDS]" : "SERVICE or --watch [SECONDS]");
		}
		NEXT_ARG();
	}
	if (watch)
		return watch_loop(only, watch);
	ret = take_sample(&s, only);
	if (!ret) {
		if (json_output)
			out_json(sample_json(&s, NULL));
		else
			sample_print(&s, NULL, false);
	}
	free(s.svcs);
	return ret;
}

int do_counters(int argc, char **argv)
{
	struct kanary_ct_lifecycle lc;
	__u64 c[KANARY_CNT__MAX];
	struct kanary_err e = {};
	struct kanary_maps m;
	json_t *o;
	int ret;

	if (argc == 1 && match_word(*argv, (const char *const[]){ "help", NULL }) == 0)
		return stats_help();
	NO_MORE_ARGS("nothing after 'counters'");
	if (maps_open_or_err(&m))
		return -1;
	ret = kanary_counters_read(&m, c, &e);
	if (!ret)
		ret = kanary_ct_lifecycle_read(&m, &lc, &e);
	kanary_maps_close(&m);
	if (ret)
		return p_kerr(&e);
	if (json_output) {
		o = json_object();
		for (int i = 0; i < KANARY_CNT__MAX; i++)
			json_object_set_new(o, kanary_counter_names[i], json_integer((json_int_t)c[i]));
		json_object_set_new(o, "ct_sweeps", json_integer((json_int_t)lc.sweeps));
		json_object_set_new(o, "ct_sweep_max_us", json_integer((json_int_t)(lc.sweep_max_ns / 1000)));
		return out_json(o);
	}
	for (int i = 0; i < KANARY_CNT__MAX; i++)
		printf("%-17s %llu\n", kanary_counter_names[i], (unsigned long long)c[i]);
	/* The conntrack sweeper's ticks and its longest one (docs/conntrack.md). */
	printf("%-17s %llu\n", "ct_sweeps", (unsigned long long)lc.sweeps);
	printf("%-17s %llu\n", "ct_sweep_max_us", (unsigned long long)(lc.sweep_max_ns / 1000));
	return 0;
}
