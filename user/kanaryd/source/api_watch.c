// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* kanaryd --kube: the kinds' threads, their waiting and backoff; their start and stop. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <curl/curl.h>
#include "source/api_http.h"
#include "source/api_list_watch.h"
#include "source/api_source.h"
#include "source/api_watch.h"
#include "base/log.h"
#include "base/clock.h"

#define ISTIO_GROUP		"networking.istio.io"
#define BACKOFF_MIN_MS		500
#define BACKOFF_MAX_MS		30000

static const struct {
	const char *kind, *resource, *group;
} kinds[KD_KUBE_NKINDS] = {
	[KD_KUBE_SERVICES] = { "Service", "services", NULL },
	[KD_KUBE_PODS] = { "Pod", "pods", NULL },
	[KD_KUBE_DESTINATIONRULES] = { "DestinationRule", "destinationrules", ISTIO_GROUP },
	[KD_KUBE_VIRTUALSERVICES] = { "VirtualService", "virtualservices", ISTIO_GROUP },
};

/* Sleeps up to ms, waking early when stopping; false when stopping. */
static bool nap(struct kd_kube *k, long long ms)
{
	long long end = kd_mono_ms() + ms;

	while (!atomic_load(&k->stop)) {
		long long left = end - kd_mono_ms();
		struct timespec ts = { 0, 50 * 1000000L };

		if (left <= 0)
			return true;
		if (left < 50)
			ts.tv_nsec = left * 1000000L;
		nanosleep(&ts, NULL);
	}
	return false;
}

/* Next delay: doubled each failure up to the cap, then "equal jitter" (half fixed, half random). */
static long long backoff_next(long long *cur)
{
	*cur = *cur ? *cur * 2 : BACKOFF_MIN_MS;
	if (*cur > BACKOFF_MAX_MS)
		*cur = BACKOFF_MAX_MS;
	return *cur / 2 + kd_jitter_below((unsigned int)(*cur / 2) + 1);
}

static void *kind_thread(void *arg)
{
	struct kd_kube_kind *c = arg;
	struct kd_kube *k = c->k;
	bool relist = true, said_missing = false;
	long long delay = 0;
	struct kd_kube_http h;

	if (kd_kube_http_init(&h, &k->cfg, &k->stop)) {
		pr_err("%s: cannot initialise libcurl", c->resource);
		return NULL;
	}
	while (!atomic_load(&k->stop)) {
		bool missing = false;
		long code;
		int r;

		if (relist && c->group) {
			r = kd_api_discover(c, &h);
			if (r == 0) {
				kd_api_set_missing(c, &said_missing);
				nap(k, kd_api_missing_recheck_ms(k));
				continue;
			}
			if (r < 0) {
				nap(k, backoff_next(&delay));
				continue;
			}
		}
		if (relist) {
			r = kd_api_list(c, &h, &code);
			if (r == 0) {
				kd_api_set_missing(c, &said_missing);
				nap(k, kd_api_missing_recheck_ms(k));
				continue;
			}
			if (r < 0) {
				/* An expired continue token: the next list starts over at once. */
				if (!nap(k, code == 410 ? 0 : backoff_next(&delay)))
					break;
				continue;
			}
			if (said_missing)
				pr_info("%s: served now", c->resource);
			said_missing = false;
			kd_api_kind_ok(c, "listing");
			relist = false;
			delay = 0;
		}
		relist = false;
		if (kd_api_watch(c, &h, &relist, &missing)) {
			if (missing) {
				relist = true;
				continue;
			}
			nap(k, backoff_next(&delay));
			continue;
		}
		if (!relist)
			delay = 0;
	}
	kd_kube_http_free(&h);
	return NULL;
}

static void global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

int kd_kube_start(struct kd_kube *k, struct kd_kube_config *cfg, unsigned page_size,
		  unsigned gone_hold_s, struct kanary_err *e)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	memset(k, 0, sizeof(*k));
	k->source.ops = &kd_api_source_ops;
	k->cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg));
	pthread_mutex_init(&k->cfg.lock, NULL);
	k->page_size = page_size ? page_size : KD_KUBE_PAGE_SIZE;
	k->gone_hold_ms = gone_hold_s * 1000LL;
	pthread_mutex_init(&k->lock, NULL);
	atomic_init(&k->stop, false);
	k->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (k->efd < 0)
		return kanary_errf(e, errno, "eventfd: %s", strerror(errno));
	pthread_once(&once, global_init);
	for (int i = 0; i < KD_KUBE_NKINDS; i++) {
		struct kd_kube_kind *c = &k->kinds[i];

		c->k = k;
		c->kind = kinds[i].kind;
		c->resource = kinds[i].resource;
		c->group = kinds[i].group;
		snprintf(c->api, sizeof(c->api), "v1");
	}
	for (int i = 0; i < KD_KUBE_NKINDS; i++) {
		struct kd_kube_kind *c = &k->kinds[i];
		int err = pthread_create(&c->thread, NULL, kind_thread, c);

		if (err) {
			kd_kube_stop(k);
			return kanary_errf(e, err, "cannot start the %s watch: %s", c->resource,
					   strerror(err));
		}
		c->started = true;
	}
	return 0;
}

void kd_kube_stop(struct kd_kube *k)
{
	atomic_store(&k->stop, true);
	for (int i = 0; i < KD_KUBE_NKINDS; i++) {
		struct kd_kube_kind *c = &k->kinds[i];

		if (c->started)
			pthread_join(c->thread, NULL);
		c->started = false;
		kd_store_free(&c->store);
		free(c->last_error);
		c->last_error = NULL;
	}
	if (k->efd >= 0)
		close(k->efd);
	k->efd = -1;
	pthread_mutex_destroy(&k->lock);
	kd_kube_config_free(&k->cfg);
}
