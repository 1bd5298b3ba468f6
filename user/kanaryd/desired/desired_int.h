/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Private to the files of desired/: the build of the desired state in layers, each
 * calling only those below it:
 * desired.c -> desired_route.c -> desired_rules.c, desired_mirror.c -> desired_subset.c
 * -> desired_index.c.  desired_partial.c rebuilds some services with the same layers
 * (its own files: partial_int.h).
 */
#ifndef KD_DESIRED_INT_H
#define KD_DESIRED_INT_H

#include <sys/types.h>
#include "desired/desired.h"
#include "base/sorted_names.h"

/* Texts, hashed (open addressing): kd_warn_once looks one up without a scan. */
struct kd_text_set {
	size_t n, cap;		/* cap: 0 or a power of two */
	const char **v;		/* NULL: an empty place */
};

struct kd_build {
	const char *domain;
	struct kd_diags *diags;
	size_t nsvc, npod, ndr, nvs;
	struct kd_service **svc;
	char **svc_fqdn;
	__u64 *svc_hash;	/* kd_fqdn_hash of each svc_fqdn */
	struct kd_pod **pod;
	struct kd_destination_rule **dr;
	char **dr_fqdn;
	struct kd_virtual_service **vs;
	/* Lookups by FQDN (positions in svc, dr, vs), so the build is not O(Services x rules). */
	struct kd_name_index svc_by_fqdn, dr_by_fqdn;
	struct kd_name_index vs_by_host;	/* of mesh VirtualServices; its names are owned */
	/*
	 * Pods by "NAMESPACE\x1fKEY=VALUE", one ref per label (names owned):
	 * a selector visits the pods of its rarest label, not every pod of
	 * the cluster (10,000 Services x 100,000 pods took 39 s of CPU).
	 */
	struct kd_name_index pods_by_label;
	struct kd_text_set said;	/* the texts of diags->v[0..nsaid) */
	size_t nsaid;
	/* Services by "NAMESPACE\x1fKEY=VALUE" of their first selector label (names owned). */
	struct kd_name_index svc_by_selector;
	/*
	 * A partial build (desired_partial.c): pods come from the cache's
	 * per-set indexes, not from pod[] (empty); fallback is set when it
	 * meets what only a full build handles (a pod defined twice).
	 */
	struct kd_desired_cache *cache;
	bool fallback;
	/* The service being built: the Services it looks up are its dependencies. */
	struct kd_desired_service *cur;
};

/* ---- desired_index.c: the objects gathered, and lookups among them ---- */

/* The Services, DestinationRules and VirtualServices, then the pods. */
void kd_ctx_init_config(struct kd_build *c, struct kd_objects *const *sets, size_t nsets);
void kd_ctx_init_pods(struct kd_build *c, struct kd_objects *const *sets, size_t nsets);
void kd_ctx_free_pods(struct kd_build *c);
void kd_ctx_free(struct kd_build *c);
/* "NAMESPACE\x1fKEY=VALUE", the key of a pod label in the indexes (free it). */
char *kd_label_key(const char *ns, const char *key, const char *val);
/* The hash by which a Service's FQDN is a dependency (kd_desired_service.deps). */
__u64 kd_fqdn_hash(const char *fqdn);
/* A warning once per build, even when several ports of a Service hit it. */
void kd_warn_once(struct kd_build *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
ssize_t kd_service_by_fqdn(struct kd_build *c, const char *fqdn);
const struct kd_destination_rule *kd_rule_for(struct kd_build *c, size_t svc);
const struct kd_virtual_service *kd_vs_for(struct kd_build *c, size_t svc);
const struct kd_dr_subset *kd_subset_of(const struct kd_destination_rule *r, const char *name);
const struct kd_svc_port *kd_tcp_port(const struct kd_service *s, int port);
size_t kd_tcp_ports(const struct kd_service *s);
/*
 * The pods that may be of namespace ns and carry every label of sel (the
 * caller checks), *n of them; free the array.  From c->cache's sets in a
 * partial build.
 */
const struct kd_pod **kd_pod_candidates(struct kd_build *c, const char *ns,
					const struct kd_labels *sel, size_t *n);
/* partial_candidates.c's: the same from the partial build's cache (partial_int.h). */
const struct kd_pod **kd_cache_pod_candidates(struct kd_build *c, const char *ns,
					      const struct kd_labels *sel, size_t *n);

/* ---- desired.c: what both builds share ---- */

/* The whole desired state into out, from c (domain and diags set); c is then the caller's to free. */
void kd_build_all(struct kd_build *c, struct kd_objects *const *sets, size_t nsets,
		  struct kd_desired *out);
/* Service svc's desired services (one per TCP port) appended to out. */
void kd_build_service(struct kd_build *c, size_t svc, struct kd_desired *out);
/*
 * Two Services on one VIP:port: the map has one key; each name after the
 * first (by name) is held, naming the first.  Holds those of v[0..n)
 * (sorted by name) that all has another with the same key before.
 */
void kd_hold_shared_key(struct kd_desired_service *v, size_t n, const struct kd_desired *all);

/* ---- desired_subset.c: a service's subsets, as routes and rules name them ---- */

/* Marks ds held with problem (taking it), unless it already is. */
void kd_hold(struct kd_desired_service *ds, char *problem);
/*
 * The subset of ds named name: Service svc's pods for port sp that carry
 * labels (NULL: all it selects), added at weight 0 when new.  NULL when
 * all its slots are taken.
 */
struct kd_desired_subset *kd_selected_subset(struct kd_build *c, struct kd_desired_service *ds,
					     size_t svc, const struct kd_svc_port *sp,
					     const char *name, const struct kd_labels *labels);
/*
 * The subset of ds that destination di of route r names, with its backends,
 * added at weight 0 when new.  NULL when it takes no traffic (warned) or
 * cannot be added (ds is held).
 */
struct kd_desired_subset *kd_destination_subset(struct kd_build *c, struct kd_desired_service *ds,
						size_t svc, const struct kd_svc_port *sp,
						const struct kd_virtual_service *v,
						const struct kd_route *r, size_t di);
/* cur_milli plus destination di's weight (Istio's defaults), x1000, capped. */
__u32 kd_add_weight(__u32 cur_milli, const struct kd_route *r, size_t di);
/* Whether match element m can match traffic from pods to port. */
bool kd_match_applies(const struct kd_match *m, int port);

/* ---- desired_rules.c: ds->rules from the http[] routes of v before routes[stop] ---- */

void kd_rules_service(struct kd_build *c, struct kd_desired_service *ds, size_t svc,
		      const struct kd_svc_port *sp, const struct kd_virtual_service *v,
		      size_t stop);

/* ---- desired_mirror.c: ds->mirror_ppm from the mirrors of v's deciding route r (NULL: none), rule_mirror_ppm from its rules' ---- */

void kd_mirror_service(struct kd_build *c, struct kd_desired_service *ds, size_t svc,
		       const struct kd_svc_port *sp, const struct kd_virtual_service *v,
		       const struct kd_route *r);

/* ---- desired_route.c: a Service port's weighted split, then its rules ---- */

void kd_route_service(struct kd_build *c, struct kd_desired_service *ds, size_t svc,
		      const struct kd_svc_port *sp);

#endif
