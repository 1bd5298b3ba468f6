/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The desired state: from all good manifest files, one kanary service per
 * TCP port of each Service, with its subsets, weights and backends, as
 * Istio would route the traffic of a pod in the mesh.
 */
#ifndef KD_DESIRED_H
#define KD_DESIRED_H

#include <stdbool.h>
#include <stddef.h>
#include "kanary/abi.h"
#include "kanary/rules.h"
#include "base/diag.h"
#include "decode/model.h"

#define KD_DEFAULT_DOMAIN	"cluster.local"
#define KD_DEFAULT_SUBSET	"default"

struct kd_desired_opts {
	const char *domain;	/* cluster DNS domain; NULL: cluster.local */
};

struct kd_desired_subset {
	char name[KANARY_SUBSET_NAME_LEN];
	__u32 weight_milli;
	__u32 n;
	struct kanary_backend *be;	/* sorted by address then port, no duplicates; NULL when n is 0 */
	bool filled;			/* backends computed (while building) */
	/*
	 * For the metrics only, never written to the maps: the workload,
	 * version and app of the subset's first pod by name (workload.c);
	 * empty when it has none.
	 */
	char workload[KANARY_NAME_LEN], version[KANARY_NAME_LEN], app[KANARY_NAME_LEN];
};

struct kd_desired_service {
	char name[KANARY_NAME_LEN];	/* NAMESPACE/NAME, or NAMESPACE/NAME/PORT */
	struct kanary_svc_key key;
	char *origin;		/* "Service ns/name port 80 (file:line)" */
	char *route;		/* which VirtualService route decided, or why none did */
	char *dr;		/* "DestinationRule ns/name (file:line)" or NULL */
	/*
	 * The manifests describe this service but it cannot be computed
	 * (problem says why): reconcile leaves the maps as they are.
	 */
	bool hold;
	char *problem;
	__u32 nsub;
	struct kd_desired_subset sub[KANARY_MAX_SUBSETS];
	/*
	 * Dark-release rules from the VirtualService's http[] routes with a
	 * match, in order; NULL when there are none.  Their destinations are
	 * indexes into sub[] (reconcile maps them to the committed subsets).
	 */
	struct kanary_rules *rules;
	char rule_route[KANARY_RULES_MAX][24];	/* "spec.http[N]" each rule comes from */
	int rule_http[KANARY_RULES_MAX];	/* that N, the route's index in spec.http */
	/* The Service's kanary.io/per-request: the rule path even without rules. */
	bool per_request;
	/*
	 * Traffic mirroring (desired_mirror.c): the share of requests, in
	 * parts per million, each subset of sub[] gets a copy of; 0: none.
	 * mirror_ppm of the requests the split routes, rule_mirror_ppm[k] of
	 * those rule k routes.
	 */
	__u32 mirror_ppm[KANARY_MAX_SUBSETS];
	__u32 rule_mirror_ppm[KANARY_RULES_MAX][KANARY_MAX_SUBSETS];
	__u64 hash;		/* of name, key, subsets, weights, backends, rules, per_request, mirrors */
	/*
	 * What a partial build (desired_partial.h) needs to know which
	 * services an event touches: the FQDN hash of the Service it is a
	 * port of, and of every Service it looked up (itself, route and
	 * mirror destinations).
	 */
	__u64 owner;
	__u32 ndeps, capdeps;
	__u64 *deps;
};

struct kd_desired {
	size_t n, cap;
	struct kd_desired_service *v;	/* sorted by name */
};

/* Builds out from the objects of every good file, in file order; warnings go to diags. */
void kd_desired_build(struct kd_objects *const *sets, size_t nsets,
		      const struct kd_desired_opts *opts, struct kd_desired *out,
		      struct kd_diags *diags);
void kd_desired_free(struct kd_desired *d);
void kd_desired_service_free(struct kd_desired_service *s);
const struct kd_desired_service *kd_desired_find(const struct kd_desired *d, const char *name);
/* The index in d->sub of the subset named name (as the maps hold it: no NUL at full length), or -1. */
int kd_desired_subset_index(const struct kd_desired_service *d, const char *name);
/* The order of a subset's backends: address, then port (qsort comparator). */
int kd_backend_cmp(const void *a, const void *b);
/* A pod's workload as Istio names it: its Deployment, else its owner, else itself. */
struct kd_pod;
void kd_pod_workload(const struct kd_pod *p, char *buf, size_t len);
/* sub's workload, version and app, from pod p. */
void kd_subset_identity(struct kd_desired_subset *sub, const struct kd_pod *p);
/* The hash kd_desired_build stores, over the fields reconcile writes. */
__u64 kd_desired_service_hash(const struct kd_desired_service *s);

#endif
