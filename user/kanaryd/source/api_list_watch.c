// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * One kind's side of the list/watch protocol (api_watch.h says the rules):
 * Istio's API version by discovery, the list page by page into the kind's
 * store, and one watch stream whose events move the store and the
 * resourceVersion on.  The kind's thread (api_watch.c) calls these in turn
 * and does the waiting.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/arena.h"
#include "base/clock.h"
#include "base/log.h"
#include "source/api_http.h"
#include "source/api_list_watch.h"
#include "source/api_object.h"

#define WATCH_TIMEOUT_MIN_S	300	/* as client-go: 5 to 10 minutes, spread */
#define QUICK_CLOSE_MS		1000	/* a stream that ends sooner than this counts as a failure */

/* A failure, logged when it differs from the last one (a down server is said once). */
static void kind_error(struct kd_kube_kind *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void kind_error(struct kd_kube_kind *c, const char *fmt, ...)
{
	char msg[700];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	kd_kube_lock(c->k);
	c->st.errors++;
	if (!c->last_error || strcmp(c->last_error, msg) != 0)
		pr_err("%s: %s; the maps keep their state, retrying with backoff", c->resource, msg);
	free(c->last_error);
	c->last_error = kd_xstrdup(msg);
	kd_kube_unlock(c->k);
}

void kd_api_kind_ok(struct kd_kube_kind *c, const char *what)
{
	kd_kube_lock(c->k);
	if (c->last_error)
		pr_info("%s: %s again", c->resource, what);
	free(c->last_error);
	c->last_error = NULL;
	kd_kube_unlock(c->k);
}

static void log_diags(struct kd_diags *d)
{
	kd_diag_log(d);
	kd_diags_free(d);
}

/* Prefers v1, then v1beta1, then v1alpha3, the versions the decoder reads. */
int kd_api_discover(struct kd_kube_kind *c, struct kd_kube_http *h)
{
	static const char *const prefer[] = { "v1", "v1beta1", "v1alpha3" };
	struct kd_kube_resp r;
	char path[128];
	json_t *j, *vs;
	int ret = 0;

	snprintf(path, sizeof(path), "/apis/%s", c->group);
	if (kd_kube_get(h, path, &r)) {
		if (r.code == 404)
			return 0;
		kind_error(c, "GET %s: %s", path, r.err);
		return -EIO;
	}
	j = json_loads(r.body, 0, NULL);
	kd_kube_resp_free(&r);
	vs = json_object_get(j, "versions");
	for (size_t p = 0; p < 3 && ret == 0; p++)
		for (size_t i = 0; i < json_array_size(vs); i++) {
			const char *v = json_string_value(json_object_get(json_array_get(vs, i), "version"));

			if (v && strcmp(v, prefer[p]) == 0) {
				kd_kube_lock(c->k);
				snprintf(c->api, sizeof(c->api), "%s/%s", c->group, v);
				kd_kube_unlock(c->k);
				ret = 1;
				break;
			}
		}
	if (!j)
		kind_error(c, "GET %s: not a JSON APIGroup", path);
	json_decref(j);
	return j ? ret : -EIO;
}

static char *collection_path(struct kd_kube_kind *c)
{
	if (!c->group)
		return kd_xasprintf("/api/v1/%s", c->resource);
	return kd_xasprintf("/apis/%s/%s", c->api, c->resource);
}

int kd_api_list(struct kd_kube_kind *c, struct kd_kube_http *h, long *code)
{
	struct kd_store fresh = { 0 };
	struct kd_diags diags = { 0 };
	char *base = collection_path(c), *cont = NULL, rv[64] = "";
	unsigned pages = 0;
	size_t total = 0;

	*code = 0;
	for (;;) {
		struct kd_kube_resp r;
		char *path, *esc = cont ? curl_easy_escape(NULL, cont, 0) : NULL;
		json_t *j, *items, *meta;
		const char *v;

		path = esc ? kd_xasprintf("%s?limit=%u&continue=%s", base, c->k->page_size, esc)
			   : kd_xasprintf("%s?limit=%u", base, c->k->page_size);
		curl_free(esc);
		if (kd_kube_get(h, path, &r)) {
			*code = r.code;
			if (r.code != 404)
				kind_error(c, "LIST %s: %s", path, r.err);
			free(path);
			goto fail;
		}
		free(path);
		j = json_loads(r.body, 0, NULL);
		kd_kube_resp_free(&r);
		items = json_object_get(j, "items");
		meta = json_object_get(j, "metadata");
		if (!j || !json_is_array(items) || !json_is_object(meta)) {
			kind_error(c, "LIST %s: the answer is not a %sList", base, c->kind);
			json_decref(j);
			goto fail;
		}
		for (size_t i = 0; i < json_array_size(items); i++)
			kd_api_object_put(&fresh, c->kind, c->api, json_array_get(items, i), &diags);
		total += json_array_size(items);
		pages++;
		if (!rv[0] && (v = json_string_value(json_object_get(meta, "resourceVersion"))))
			snprintf(rv, sizeof(rv), "%s", v);	/* the snapshot's: the first page's */
		v = json_string_value(json_object_get(meta, "continue"));
		free(cont);
		cont = v && *v ? kd_xstrdup(v) : NULL;
		json_decref(j);
		if (!cont)
			break;
		if (atomic_load(&c->k->stop))
			goto fail;
	}
	log_diags(&diags);
	kd_kube_lock(c->k);
	kd_store_free(&c->store);
	c->store = fresh;
	c->synced = true;
	c->missing = false;
	c->held = false;
	snprintf(c->rv, sizeof(c->rv), "%s", rv);
	c->st.lists++;
	kd_kube_notify(c->k);
	kd_kube_unlock(c->k);
	pr_info("%s: listed %zu in %u page%s at resourceVersion %s", c->resource, total, pages,
		pages == 1 ? "" : "s", rv);
	free(base);
	return 1;
fail:
	log_diags(&diags);
	kd_store_free(&fresh);
	free(cont);
	free(base);
	return *code == 404 ? 0 : -EIO;
}

struct stream_ctx {
	struct kd_kube_kind *c;
	bool gone;		/* an ERROR event with code 410 */
	bool failed;		/* another ERROR event, or an undecodable line */
	unsigned long long n;
};

static void set_rv(struct kd_kube_kind *c, json_t *obj)
{
	const char *v = json_string_value(json_object_get(json_object_get(obj, "metadata"),
							   "resourceVersion"));

	if (v && *v)
		snprintf(c->rv, sizeof(c->rv), "%s", v);
}

static int on_event(void *arg, const char *line, size_t len)
{
	struct stream_ctx *x = arg;
	struct kd_kube_kind *c = x->c;
	struct kd_diags diags = { 0 };
	json_error_t je;
	json_t *ev = json_loadb(line, len, 0, &je), *obj;
	const char *type;

	type = json_string_value(json_object_get(ev, "type"));
	obj = json_object_get(ev, "object");
	if (!type || !json_is_object(obj)) {
		kind_error(c, "WATCH: not an event: %s", ev ? "no type or object" : je.text);
		json_decref(ev);
		x->failed = true;
		return 1;
	}
	if (x->n++ == 0)
		kd_api_kind_ok(c, "watching");	/* the server answers again after an outage */
	kd_kube_lock(c->k);
	if (strcmp(type, "ADDED") == 0 || strcmp(type, "MODIFIED") == 0) {
		kd_api_object_put(&c->store, c->kind, c->api, obj, &diags);
		set_rv(c, obj);
		c->st.events++;
		kd_kube_notify(c->k);
	} else if (strcmp(type, "DELETED") == 0) {
		kd_api_object_del(&c->store, c->kind, obj);
		set_rv(c, obj);
		c->st.events++;
		kd_kube_notify(c->k);
	} else if (strcmp(type, "BOOKMARK") == 0) {
		set_rv(c, obj);
		c->st.bookmarks++;
	} else if (strcmp(type, "ERROR") == 0) {
		json_int_t code = json_integer_value(json_object_get(obj, "code"));
		const char *msg = json_string_value(json_object_get(obj, "message"));

		kd_kube_unlock(c->k);
		if (code == 410) {
			pr_info("%s: watch: 410 Gone (%s): listing again", c->resource, msg ? msg : "");
			x->gone = true;
		} else {
			kind_error(c, "WATCH: ERROR event %lld: %s", (long long)code, msg ? msg : "");
			x->failed = true;
		}
		json_decref(ev);	/* msg points into it */
		return 1;
	} else {
		pr_debug("%s: watch: event type %s ignored", c->resource, type);
	}
	kd_kube_unlock(c->k);
	log_diags(&diags);
	json_decref(ev);
	return 0;
}

int kd_api_watch(struct kd_kube_kind *c, struct kd_kube_http *h, bool *relist, bool *missing)
{
	long timeout = WATCH_TIMEOUT_MIN_S + kd_jitter_below(WATCH_TIMEOUT_MIN_S);
	struct stream_ctx x = { .c = c };
	struct kd_kube_resp r;
	char *base = collection_path(c), *path, rv[64];
	long long t0 = kd_mono_ms();
	int ret;

	kd_kube_lock(c->k);
	snprintf(rv, sizeof(rv), "%s", c->rv);
	kd_kube_unlock(c->k);
	path = kd_xasprintf("%s?watch=1&resourceVersion=%s&allowWatchBookmarks=true&timeoutSeconds=%ld",
			    base, rv, timeout);
	pr_debug("%s: watching from resourceVersion %s", c->resource, rv);
	ret = kd_kube_stream(h, path, timeout + 30, on_event, &x, &r);
	free(base);
	free(path);
	if (x.gone || r.code == 410) {
		if (r.code == 410)
			pr_info("%s: watch: %s: listing again", c->resource, r.err);
		kd_kube_lock(c->k);
		c->st.relists_410++;
		kd_kube_unlock(c->k);
		*relist = true;
		return 0;
	}
	if (ret || x.failed) {
		if (r.code == 404)
			*missing = true;
		else if (!x.failed && !atomic_load(&c->k->stop))
			kind_error(c, "WATCH: %s", r.err);
		return -EIO;
	}
	kd_kube_lock(c->k);
	c->st.restarts++;
	kd_kube_unlock(c->k);
	pr_debug("%s: the server ended the watch after %llu events; resuming from %s", c->resource,
		 x.n, c->rv);
	if (x.n == 0 && kd_mono_ms() - t0 < QUICK_CLOSE_MS)
		return -EIO;	/* closed at once, again and again: back off */
	kd_api_kind_ok(c, "watching");
	return 0;
}

long long kd_api_missing_recheck_ms(const struct kd_kube *k)
{
	long long ms = k->gone_hold_ms / 4;

	return ms < 1000 ? 1000 : ms > KD_API_MISSING_RECHECK_MS ? KD_API_MISSING_RECHECK_MS : ms;
}

/*
 * The kind is not served.  One that was served with objects keeps them for
 * --api-gone-hold: the API server cannot say whether its CRD is being
 * reinstalled or removed, and dropping them would drop every dark-release
 * rule and canary weight at once.  When it is served again, a LIST says
 * what really exists; when the hold ends first, the objects are taken as
 * gone.  Said once per change.
 */
void kd_api_set_missing(struct kd_kube_kind *c, bool *said)
{
	struct kd_kube *k = c->k;
	long long now = kd_mono_ms(), held_s = 0;
	size_t n = 0;
	enum { NOTHING, HOLD, DROP, GONE } what = NOTHING;

	kd_kube_lock(k);
	if (c->synced && !c->missing && c->store.n && k->gone_hold_ms > 0) {
		c->held = true;
		c->held_since_ms = now;
		n = c->store.n;
		what = HOLD;
	} else if (c->held && now - c->held_since_ms >= k->gone_hold_ms) {
		c->held = false;
		held_s = (now - c->held_since_ms) / 1000;
		what = DROP;
	} else if (!c->held && !*said) {
		what = GONE;
	}
	if (what == DROP || (what == GONE && (!c->synced || c->store.n || !c->missing)))
		kd_store_free(&c->store);
	if (what != NOTHING)
		kd_kube_notify(k);	/* the maps, or at least the status, change */
	c->synced = true;
	c->missing = true;
	kd_kube_unlock(k);
	if (what == HOLD)
		pr_warn("%s: not served by the API server any more; its %zu object%s stay%s applied "
			"for up to %lld s (--api-gone-hold), until it is served and listed again",
			c->resource, n, n == 1 ? "" : "s", n == 1 ? "s" : "", k->gone_hold_ms / 1000);
	else if (what == DROP)
		pr_warn("%s: still not served after %lld s; its objects are taken as gone", c->resource,
			held_s);
	else if (what == GONE)
		pr_warn("%s: not served by the API server (are the Istio CRDs installed?); "
			"plain Services work without them; checking again every %lld s", c->resource,
			kd_api_missing_recheck_ms(k) / 1000);
	if (what != NOTHING)
		*said = true;
}
