/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Helpers of bin/kanaryd_unit: fixtures into objects, desired state, lookups. */
#ifndef KDT_H
#define KDT_H

#include <check.h>
#include <stdbool.h>
#include "kanary.h"
#include "desired/desired.h"
#include "base/diag.h"
#include "decode/manifest.h"
#include "decode/model.h"

#define KDT_FIXTURES_ENV	"KD_FIXTURES"
#define KDT_FIXTURES_DEFAULT	"tests/unit/kanaryd/fixtures"
#define KDT_BASE_ENV		"KDT_BASE"	/* temp dir for bpffs mounts, removed by main */
#define KDT_MAX_SETS		16

/* Several files' objects, and what the desired-state build made of them. */
struct kdt_world {
	struct kd_objects sets[KDT_MAX_SETS];
	struct kd_objects *ptr[KDT_MAX_SETS];
	size_t n;
	struct kd_diags diags;
	struct kd_desired desired;
	bool built;
};

/* Path of a fixture; fails the test, saying where it looked, when it is missing. */
const char *kdt_fixture(const char *name);
/* 1-based line of the first line of a fixture containing marker. */
int kdt_marker_line(const char *name, const char *marker);
char *kdt_read(const char *path, size_t *len);

/* Decodes a fixture into the world; returns kd_manifest_decode's result. */
int kdt_load(struct kdt_world *w, const char *fixture);
/* Decodes text, named as file in messages. */
int kdt_load_text(struct kdt_world *w, const char *file, const char *text);
void kdt_build(struct kdt_world *w);
/*
 * kdt_base_yaml: Service n/g (10.96.0.50, ports 80 and 9090, selector
 * app: g), its pods p1 (v: a, 10.1.0.1) and p2 (v: b, 10.1.0.2), and a
 * DestinationRule with subsets a and b.
 */
extern const char kdt_base_yaml[];
/* Loads kdt_base_yaml as base.yaml and a VirtualService n/g with vs_spec under spec: as vs.yaml. */
int kdt_load_vs(struct kdt_world *w, const char *vs_spec);
void kdt_free(struct kdt_world *w);

const struct kd_desired_service *kdt_service(struct kdt_world *w, const char *name);
const struct kd_desired_subset *kdt_subset(const struct kd_desired_service *s, const char *name);
bool kdt_has_backend(const struct kd_desired_subset *sub, const char *ipport);
/* A diagnostic of that level containing every needle (NULL-terminated). */
bool kdt_diag(const struct kd_diags *d, enum kd_level level, ...);
/* Prints every diagnostic, so a failing test shows what was said. */
void kdt_dump(const struct kd_diags *d);

/* Fails unless a diagnostic of level contains every one of the strings. */
#define KDT_ASSERT_DIAG(d, level, ...)						\
	do {									\
		if (!kdt_diag((d), (level), __VA_ARGS__, NULL)) {		\
			kdt_dump(d);						\
			ck_abort_msg("no %s diagnostic containing: %s",		\
				     kd_level_name(level), #__VA_ARGS__);	\
		}								\
	} while (0)

Suite *yamlnode_suite(void);
Suite *decode_suite(void);
Suite *desired_suite(void);
Suite *routes_suite(void);
Suite *rules_suite(void);
Suite *mirror_suite(void);
Suite *sources_suite(void);
Suite *watch_suite(void);
Suite *applied_suite(void);
Suite *name_index_suite(void);
Suite *reconcile_suite(void);
Suite *status_suite(void);
Suite *status_pace_suite(void);
Suite *status_files_suite(void);
Suite *partial_suite(void);
Suite *pod_index_suite(void);
Suite *kube_config_suite(void);
Suite *kube_cache_suite(void);
Suite *kube_watch_suite(void);
Suite *yaml_limits_suite(void);
Suite *health_suite(void);
Suite *istio_ids_suite(void);

#endif
