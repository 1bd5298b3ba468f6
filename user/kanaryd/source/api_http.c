// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "base/arena.h"
#include "source/api_http.h"

#define CONNECT_TIMEOUT_S	5
#define GET_TIMEOUT_S		60
#define MAX_LINE		(64u << 20)	/* one watch event */

struct sink {
	struct kd_kube_resp *r;
	char *buf;
	size_t len, cap;
	kd_kube_line_fn fn;	/* NULL: keep the whole body */
	void *ctx;
	bool stopped;		/* fn asked to stop */
	bool too_big;
	CURL *curl;
};

int kd_kube_http_init(struct kd_kube_http *h, struct kd_kube_config *cfg, atomic_bool *stop)
{
	memset(h, 0, sizeof(*h));
	h->cfg = cfg;
	h->stop = stop;
	h->curl = curl_easy_init();
	return h->curl ? 0 : -1;
}

void kd_kube_http_free(struct kd_kube_http *h)
{
	if (h->curl)
		curl_easy_cleanup(h->curl);
	h->curl = NULL;
}

void kd_kube_resp_free(struct kd_kube_resp *r)
{
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t add = size * n, start = 0;

	if (s->len + add + 1 > s->cap) {
		if (s->len + add + 1 > (s->fn ? MAX_LINE : KD_KUBE_MAX_BODY)) {
			s->too_big = true;
			return 0;	/* aborts the transfer */
		}
		while (s->len + add + 1 > s->cap)
			s->cap = s->cap ? s->cap * 2 : 16384;
		s->buf = kd_xrealloc(s->buf, s->cap, 1);
	}
	memcpy(s->buf + s->len, p, add);
	s->len += add;
	s->buf[s->len] = '\0';
	if (!s->fn)
		return add;
	{
		long code = 0;

		/* An error's body is a Status, not events: keep it whole for the message. */
		curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);
		if (code != 200)
			return add;
	}
	for (size_t i = 0; i < s->len; i++) {
		if (s->buf[i] != '\n')
			continue;
		if (i > start && s->fn(s->ctx, s->buf + start, i - start)) {
			s->stopped = true;
			return 0;
		}
		start = i + 1;
	}
	memmove(s->buf, s->buf + start, s->len - start);
	s->len -= start;
	return add;
}

static int on_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	struct kd_kube_http *h = arg;

	return h->stop && atomic_load(h->stop) ? 1 : 0;
}

/* "410 Expired: too old resource version" from a Status body, else the start of the body. */
static void status_message(long code, const char *body, char *out, size_t len)
{
	json_t *j = body ? json_loads(body, JSON_DISABLE_EOF_CHECK, NULL) : NULL;
	const char *reason = j ? json_string_value(json_object_get(j, "reason")) : NULL;
	const char *msg = j ? json_string_value(json_object_get(j, "message")) : NULL;

	if (msg)
		snprintf(out, len, "HTTP %ld %s: %s", code, reason ? reason : "", msg);
	else
		snprintf(out, len, "HTTP %ld: %.200s", code, body && *body ? body : "(no body)");
	out[strcspn(out, "\n")] = '\0';
	json_decref(j);
}

static void setup(struct kd_kube_http *h, const char *url, struct curl_slist *hdrs, struct sink *s,
		  long timeout_s)
{
	struct kd_kube_config *c = h->cfg;
	CURL *k = h->curl;

	curl_easy_reset(k);
	curl_easy_setopt(k, CURLOPT_URL, url);
	curl_easy_setopt(k, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(k, CURLOPT_USERAGENT, "kanaryd");
	curl_easy_setopt(k, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(k, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT_S);
	curl_easy_setopt(k, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(k, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(k, CURLOPT_TCP_KEEPIDLE, 30L);
	curl_easy_setopt(k, CURLOPT_TCP_KEEPINTVL, 10L);
	curl_easy_setopt(k, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(k, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(k, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(k, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(k, CURLOPT_XFERINFODATA, h);
	if (c->ca_pem) {
		struct curl_blob b = { .data = c->ca_pem, .len = c->ca_len, .flags = CURL_BLOB_COPY };

		curl_easy_setopt(k, CURLOPT_CAINFO_BLOB, &b);
	} else if (c->ca_file) {
		curl_easy_setopt(k, CURLOPT_CAINFO, c->ca_file);
	}
	if (c->insecure) {
		curl_easy_setopt(k, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(k, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (c->cert_pem) {
		struct curl_blob b = { .data = c->cert_pem, .len = c->cert_len, .flags = CURL_BLOB_COPY };

		curl_easy_setopt(k, CURLOPT_SSLCERT_BLOB, &b);
	} else if (c->cert_file) {
		curl_easy_setopt(k, CURLOPT_SSLCERT, c->cert_file);
	}
	if (c->key_pem) {
		struct curl_blob b = { .data = c->key_pem, .len = c->key_len, .flags = CURL_BLOB_COPY };

		curl_easy_setopt(k, CURLOPT_SSLKEY_BLOB, &b);
	} else if (c->key_file) {
		curl_easy_setopt(k, CURLOPT_SSLKEY, c->key_file);
	}
}

static int do_get(struct kd_kube_http *h, const char *path, long timeout_s, kd_kube_line_fn fn,
		  void *ctx, struct kd_kube_resp *r)
{
	char *url = kd_xasprintf("%s%s", h->cfg->server, path);
	bool retried = false;
	int ret = -1;

again:
	memset(r, 0, sizeof(*r));
	{
		struct sink s = { .r = r, .fn = fn, .ctx = ctx, .curl = h->curl };
		struct curl_slist *hdrs = curl_slist_append(NULL, "Accept: application/json");
		char *tok = kd_kube_config_token(h->cfg, retried);
		CURLcode rc;

		if (tok) {
			char *a = kd_xasprintf("Authorization: Bearer %s", tok);

			hdrs = curl_slist_append(hdrs, a);
			free(a);
			free(tok);
		}
		setup(h, url, hdrs, &s, timeout_s);
		rc = curl_easy_perform(h->curl);
		curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &r->code);
		curl_slist_free_all(hdrs);
		if (r->code == 401 && !retried) {
			/* The token may have rotated since it was last read. */
			free(s.buf);
			retried = true;
			goto again;
		}
		if (s.stopped || (rc == CURLE_OK && r->code == 200)) {
			if (!fn) {
				r->body = s.buf ? s.buf : kd_xstrdup("");
				r->len = s.len;
				s.buf = NULL;
			}
			ret = 0;
		} else if (rc == CURLE_ABORTED_BY_CALLBACK) {
			snprintf(r->err, sizeof(r->err), "stopped");
		} else if (s.too_big) {
			snprintf(r->err, sizeof(r->err), "response larger than %u MiB",
				 (fn ? MAX_LINE : KD_KUBE_MAX_BODY) >> 20);
		} else if (rc != CURLE_OK && (r->code == 0 || r->code == 200)) {
			snprintf(r->err, sizeof(r->err), "%s", curl_easy_strerror(rc));
		} else {
			status_message(r->code, s.buf, r->err, sizeof(r->err));
		}
		free(s.buf);
	}
	free(url);
	return ret;
}

int kd_kube_get(struct kd_kube_http *h, const char *path, struct kd_kube_resp *r)
{
	return do_get(h, path, GET_TIMEOUT_S, NULL, NULL, r);
}

int kd_kube_stream(struct kd_kube_http *h, const char *path, long timeout_s, kd_kube_line_fn fn,
		   void *ctx, struct kd_kube_resp *r)
{
	return do_get(h, path, timeout_s, fn, ctx, r);
}
