/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * GETs to the API server with libcurl: a whole response (a list page, a
 * discovery document), or a stream of lines (a watch).  One kd_kube_http
 * per thread; the configuration is shared.
 */
#ifndef KD_KUBE_HTTP_H
#define KD_KUBE_HTTP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <curl/curl.h>
#include "source/api_config.h"

#define KD_KUBE_MAX_BODY	(256u << 20)

struct kd_kube_http {
	struct kd_kube_config *cfg;
	CURL *curl;
	atomic_bool *stop;	/* set by another thread: abort the transfer in progress */
};

struct kd_kube_resp {
	long code;		/* HTTP status; 0 when no response */
	char *body;		/* NUL-terminated; NULL for a stream */
	size_t len;
	char err[512];		/* what went wrong: transport, or the Status message */
};

/* Returns 0 when a line callback asks to stop the stream (it returned nonzero). */
typedef int (*kd_kube_line_fn)(void *ctx, const char *line, size_t len);

int kd_kube_http_init(struct kd_kube_http *h, struct kd_kube_config *cfg, atomic_bool *stop);
void kd_kube_http_free(struct kd_kube_http *h);
/*
 * GET server+path.  Returns 0 with r->code 200 and the body; -1 otherwise
 * with r->err saying why (for a Kubernetes Status, its code, reason and
 * message).  A 401 is retried once with the token read again.
 */
int kd_kube_get(struct kd_kube_http *h, const char *path, struct kd_kube_resp *r);
/*
 * A streaming GET: each complete line goes to fn as it arrives.  Returns 0
 * when the server ended the stream (or fn stopped it), -1 otherwise with
 * r->code and r->err.  timeout_s bounds the whole transfer.
 */
int kd_kube_stream(struct kd_kube_http *h, const char *path, long timeout_s, kd_kube_line_fn fn,
		   void *ctx, struct kd_kube_resp *r);
void kd_kube_resp_free(struct kd_kube_resp *r);

#endif
