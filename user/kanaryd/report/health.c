// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The two listeners and the snapshot they serve (see health.h).
 *
 * Each listener is one libmicrohttpd thread polling with epoll, not a
 * thread per connection: a client that sends half a request and waits
 * costs a file descriptor and a little memory, never a thread, and the
 * thread answers every complete request at once because no handler blocks
 * (they copy a snapshot, or read the maps).  What bounds the slow clients
 * is the connection limit, the per-address limit and the idle timeout of
 * each listener (struct listener_limits); threads per connection would
 * bound them by memory and the pid limit instead, and answer no faster.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include "kanary.h"
#include "base/arena.h"
#include "base/clock.h"
#include "base/log.h"
#include "report/health.h"
#include "report/istio_ids.h"
#include "report/metrics_text.h"

/* The loop passes at least every 30 s; three times that without a word means it is stuck. */
#define STALL_MS	90000
/* MHD's complaints (a full listener, mostly) come in floods: one line per listener this often. */
#define LOG_EVERY_MS	10000

/*
 * Probes: the kubelet opens a connection per probe, sends its request at
 * once and waits at most timeoutSeconds (1 s by default), so 5 s of silence
 * is never a probe.  Hundreds of held connections cost nothing in epoll.
 * Per address: a remote client is held to a few; on loopback every client
 * is 127.0.0.1, the kubelet included, so a per-address limit there would
 * only let a local client lock the kubelet out: none.
 * Metrics: one scraper per address (Prometheus keeps one connection),
 * scraping for up to 10 s.
 */
struct listener_limits {
	const char *flag;
	unsigned conns, per_ip, per_ip_loopback, timeout_s;
};
static const struct listener_limits probe_limits = { "--health-listen", 512, 16, 0, 5 };
static const struct listener_limits metrics_limits = { "--metrics-listen", 64, 4, 4, 10 };

/* What the loop published: never changed once swapped in; freed by its last holder. */
struct snap {
	atomic_uint refs;
	struct kd_health_state st;
	struct kd_istio_ids *ids;	/* owned; NULL without --istio-metrics */
	size_t len;
	char text[];	/* the loop's part of /metrics */
};

struct listener {
	struct MHD_Daemon *mhd;
	struct kd_health *h;
	const struct listener_limits *lim;
	atomic_llong logged_ms;	/* the last MHD line logged */
};

struct kd_health {
	struct listener probes, metrics;
	char *pin;
	/*
	 * Held only to copy the pointer and take a reference, or to swap it:
	 * never while rendering or serving, so no reader waits on the loop's
	 * work, and the loop never waits on a reader.
	 */
	pthread_mutex_t swap;
	struct snap *cur;
	atomic_llong beat_ms;	/* kd_mono_ms() of the last publish */
};

static struct snap *snap_new(const struct kd_health_state *st, const struct kd_text *t,
			     struct kd_istio_ids *ids)
{
	struct snap *s = kd_xcalloc(1, sizeof(*s) + t->n + 1);

	atomic_init(&s->refs, 1);
	s->st = *st;
	s->ids = ids;
	s->len = t->n;
	if (t->n)
		memcpy(s->text, t->b, t->n);
	return s;
}

static void snap_put(struct snap *s)
{
	if (s && atomic_fetch_sub(&s->refs, 1) == 1) {
		kd_istio_ids_free(s->ids);
		free(s);
	}
}

static struct snap *snap_get(struct kd_health *h)
{
	struct snap *s;

	pthread_mutex_lock(&h->swap);
	s = h->cur;
	atomic_fetch_add(&s->refs, 1);
	pthread_mutex_unlock(&h->swap);
	return s;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int code, char *body,
			     size_t len, const char *type)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned int code, char *body)
{
	return reply(c, code, body, strlen(body), "text/plain");
}

/* /healthz, /readyz: answered from the heartbeat and the snapshot, nothing else. */
static enum MHD_Result on_probe(void *arg, struct MHD_Connection *c, const char *url,
				const char *method, const char *version, const char *data,
				size_t *data_len, void **state)
{
	struct kd_health *h = arg;
	long long stalled = kd_mono_ms() - atomic_load(&h->beat_ms);
	enum MHD_Result ret;
	struct snap *s;

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply_text(c, 405, kd_xstrdup("only GET\n"));
	if (strcmp(url, "/healthz") == 0) {
		if (stalled > STALL_MS)
			return reply_text(c, 503, kd_xasprintf("the loop has not run for %lld s\n",
							       stalled / 1000));
		return reply_text(c, 200, kd_xstrdup("ok\n"));
	}
	if (strcmp(url, "/readyz") == 0) {
		s = snap_get(h);
		if (!s->st.ready)
			ret = reply_text(c, 503, kd_xasprintf("not ready: %s\n", s->st.why[0] ? s->st.why :
							      "the first sync is not in the maps yet"));
		else
			ret = reply_text(c, 200, kd_xstrdup("ok\n"));
		snap_put(s);
		return ret;
	}
	if (strcmp(url, "/metrics") == 0)
		return reply_text(c, 404, kd_xstrdup("/metrics is served on --metrics-listen\n"));
	return reply_text(c, 404, kd_xstrdup("not found: try /healthz or /readyz\n"));
}

/* /metrics: the loop's part as published, then the maps' counters as they are now. */
static enum MHD_Result on_metrics(void *arg, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *data_len, void **state)
{
	struct kd_health *h = arg;
	struct kd_text t = { 0 };
	struct snap *s;

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply_text(c, 405, kd_xstrdup("only GET\n"));
	if (strcmp(url, "/metrics") != 0)
		return reply_text(c, 404, kd_xstrdup("not found: try /metrics\n"));
	s = snap_get(h);
	kd_text_printf(&t, "%.*s", (int)s->len, s->text);
	kd_metrics_datapath_text(&t, h->pin, s->ids);
	snap_put(s);
	return reply(c, 200, t.b, t.n, "text/plain; version=0.0.4; charset=utf-8");
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

static bool is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

static void mhd_log(void *arg, const char *fmt, va_list ap)
{
	struct listener *l = arg;
	long long now = kd_mono_ms(), last = atomic_load(&l->logged_ms);
	char msg[256];

	if (last && now - last < LOG_EVERY_MS)
		return;
	if (!atomic_compare_exchange_strong(&l->logged_ms, &last, now))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	pr_warn("%s: %s (said at most every %d s)", l->lim->flag, msg, LOG_EVERY_MS / 1000);
}

static int listener_start(struct listener *l, struct kd_health *h, const char *listen,
			  const struct listener_limits *lim, MHD_AccessHandlerCallback fn,
			  struct kanary_err *e)
{
	struct sockaddr_storage ss;
	unsigned len;

	l->h = h;
	l->lim = lim;
	if (kd_health_parse_listen(listen, &ss, &len))
		return kanary_errf(e, EINVAL, "%s: expected ADDR:PORT (10.0.0.5:9808, [::1]:9808), "
				   "got '%s'", lim->flag, listen);
	l->mhd = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG |
				  (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
				  0, NULL, NULL, fn, h,
				  MHD_OPTION_EXTERNAL_LOGGER, mhd_log, l,	/* first, or MHD says so */
				  MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				  MHD_OPTION_CONNECTION_LIMIT, lim->conns,
				  MHD_OPTION_PER_IP_CONNECTION_LIMIT,
				  is_loopback(&ss) ? lim->per_ip_loopback : lim->per_ip,
				  MHD_OPTION_CONNECTION_TIMEOUT, lim->timeout_s,
				  MHD_OPTION_END);
	if (!l->mhd)
		return kanary_errf(e, EADDRNOTAVAIL, "%s %s: cannot listen (address in use, or not "
				   "an address of this host?)", lim->flag, listen);
	return 0;
}

int kd_health_start(struct kd_health **out, const struct kd_health_opts *o, struct kanary_err *e)
{
	struct kd_health_state none = { .why = "kanaryd is starting" };
	struct kd_text empty = { 0 };
	struct kd_health *h;
	int ret = 0;

	*out = NULL;
	h = kd_xcalloc(1, sizeof(*h));
	pthread_mutex_init(&h->swap, NULL);
	atomic_init(&h->beat_ms, kd_mono_ms());
	h->cur = snap_new(&none, &empty, NULL);
	h->pin = kd_xstrdup(o->pin_path);
	if (o->health_listen)
		ret = listener_start(&h->probes, h, o->health_listen, &probe_limits, on_probe, e);
	if (!ret && o->metrics_listen)
		ret = listener_start(&h->metrics, h, o->metrics_listen, &metrics_limits, on_metrics, e);
	if (ret) {
		kd_health_stop(h);
		return ret;
	}
	*out = h;
	return 0;
}

void kd_health_publish(struct kd_health *h, const struct kd_health_state *st, struct kd_kube *kube,
		       struct kd_istio_ids *ids)
{
	struct kd_text t = { 0 };
	struct snap *s, *old;

	if (!h) {
		kd_istio_ids_free(ids);
		return;
	}
	if (h->metrics.mhd)
		kd_metrics_loop_text(&t, st, kube);
	s = snap_new(st, &t, ids);
	free(t.b);
	pthread_mutex_lock(&h->swap);
	old = h->cur;
	h->cur = s;
	pthread_mutex_unlock(&h->swap);
	snap_put(old);
	atomic_store(&h->beat_ms, kd_mono_ms());
}

void kd_health_stop(struct kd_health *h)
{
	if (!h)
		return;
	if (h->probes.mhd)
		MHD_stop_daemon(h->probes.mhd);
	if (h->metrics.mhd)
		MHD_stop_daemon(h->metrics.mhd);
	snap_put(h->cur);
	pthread_mutex_destroy(&h->swap);
	free(h->pin);
	free(h);
}
