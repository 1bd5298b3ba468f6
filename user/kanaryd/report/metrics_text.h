/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The Prometheus text of /metrics, in two parts: what the loop knows
 * (rendered by the loop after each pass, under the kube cache's lock it
 * already takes), and the datapath's counters (read from the pinned maps
 * at each scrape, which takes no lock of kanaryd's).
 */
#ifndef KD_METRICS_TEXT_H
#define KD_METRICS_TEXT_H

#include <stddef.h>
#include "report/health.h"

struct kd_kube;

/* A growing text buffer; b is NUL-terminated once anything is printed. */
struct kd_text {
	char *b;
	size_t n, cap;
};

void kd_text_printf(struct kd_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* kanaryd_* from st, and kanaryd_kube_* when kube is set (takes its lock). */
void kd_metrics_loop_text(struct kd_text *t, const struct kd_health_state *st, struct kd_kube *kube);
struct kd_istio_ids;
/*
 * kanary_* from the maps pinned at pin, and Istio's families when ids is
 * set (--istio-metrics); says so when the maps cannot be opened.
 */
void kd_metrics_datapath_text(struct kd_text *t, const char *pin, const struct kd_istio_ids *ids);
/* kanary_http_* (metrics_http.c), from open maps. */
struct kanary_maps;
void kd_metrics_http_text(struct kd_text *t, struct kanary_maps *m);
/* kanary_mirror_* (metrics_mirror.c): the mirrors' counts and comparison, from open maps. */
void kd_metrics_mirror_text(struct kd_text *t, struct kanary_maps *m);
/* istio_requests_total and istio_request_duration_milliseconds, summed by ids' groups. */
void kd_metrics_istio_text(struct kd_text *t, struct kanary_maps *m, const struct kd_istio_ids *ids);
/*
 * The namespace and service labels of a kanary service name, escaped:
 * NAMESPACE/NAME, or NAMESPACE/NAME/PORT (service NAME/PORT); a name
 * without '/' (a kanaryctl service) has an empty namespace.
 */
void kd_service_labels(const char *kname, char *ns, size_t nslen, char *svc, size_t svclen);
/* A label value as the exposition format wants it: \, " and newline escaped, into buf. */
const char *kd_label_escape(const char *s, char *buf, size_t len);

#endif
