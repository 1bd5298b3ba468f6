/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The API source: objects from the API server, kept in one store per kind
 * (struct kd_kube, api_cache.h), each decoded by the same decoder as a
 * manifest file (api_object.h), so --kube and --manifests mean the same.
 * Like a file, an object whose new version is bad keeps its last good
 * version.
 */
#ifndef KD_API_SOURCE_H
#define KD_API_SOURCE_H

#include "source/source.h"

/* struct kd_kube's interface for the loop (kd_kube_start sets it). */
extern const struct kd_source_ops kd_api_source_ops;

#endif
