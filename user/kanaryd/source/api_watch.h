/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * kanaryd --kube: one thread per kind (Services, Pods, DestinationRules,
 * VirtualServices) lists it page by page, then watches it from the list's
 * resourceVersion, as client-go's reflector does:
 *   - every event moves the resourceVersion on, bookmarks included;
 *   - a stream the server ends is resumed from that version;
 *   - 410 Gone (an HTTP status, or an ERROR event in the stream) means the
 *     version is too old: list again and replace the cache;
 *   - an unreachable or failing server is retried with exponential backoff
 *     and jitter, while the maps keep the last good state;
 *   - a kind the server does not serve (no Istio CRDs) is logged once and
 *     looked for again every minute.
 * The main loop is woken through an eventfd and reads the stores under lock,
 * through k->source (api_source.c); api_cache.h holds what they share.
 */
#ifndef KD_KUBE_WATCH_H
#define KD_KUBE_WATCH_H

#include "kanary.h"
#include "source/api_cache.h"
#include "source/api_config.h"

#define KD_KUBE_PAGE_SIZE	500
#define KD_KUBE_GONE_HOLD_S	300

/*
 * Takes cfg (moved in), starts the threads; a kind no longer served keeps
 * its objects gone_hold_s seconds (0: none).  -errno with e when they
 * cannot start.
 */
int kd_kube_start(struct kd_kube *k, struct kd_kube_config *cfg, unsigned page_size,
		  unsigned gone_hold_s, struct kanary_err *e);
void kd_kube_stop(struct kd_kube *k);

#endif
