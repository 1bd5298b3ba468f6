/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The Kubernetes and Istio objects kanaryd reads, decoded into plain C.
 * Only the fields kanary acts on are kept; the decoders warn about the
 * others it cannot honour.  All memory belongs to the file's arena.
 */
#ifndef KD_MODEL_H
#define KD_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "base/arena.h"

struct kd_labels {
	size_t n;
	const char **key, **val;
};

/* Where an object came from and what it is called. */
struct kd_meta {
	const char *kind;	/* "Service", "VirtualService", ... */
	const char *name;
	const char *ns;		/* "default" when the manifest has none */
	const char *file;
	int line;
};

enum kd_cluster_ip {
	KD_CIP_V4,		/* vip is set */
	KD_CIP_NONE,		/* headless: "None" */
	KD_CIP_MISSING,		/* not assigned yet: a manifest as written, not as kubectl prints it */
	KD_CIP_V6,
};

struct kd_svc_port {
	const char *name;	/* may be NULL */
	int port;
	int proto;		/* IPPROTO_* */
	const char *proto_name;
	int target_num;		/* 0 when target_name is used */
	const char *target_name;
	int line;
	/*
	 * It speaks HTTP, so header rules and per-request routing may hold its
	 * connections until a request arrives: declared as Istio reads it
	 * (appProtocol, else the name's prefix) or listed in the Service's
	 * KD_ANNOTATION_HTTP_PORTS.  A server-first protocol on any other
	 * port would wait for a request that never comes.
	 */
	bool http;
	bool declared;		/* appProtocol or a name prefix says which protocol */
};

#define KD_ANNOTATION_PER_REQUEST	"kanary.io/per-request"
#define KD_ANNOTATION_ROUTING_FROM	"kanary.io/routing-from"
#define KD_ANNOTATION_HTTP_PORTS	"kanary.io/http-ports"

struct kd_service {
	struct kd_meta m;
	bool external_name;	/* type: ExternalName, no cluster IP */
	enum kd_cluster_ip cip;
	__be32 vip;
	const char *cluster_ip;	/* as written */
	bool has_selector;
	struct kd_labels selector;
	size_t nports;
	struct kd_svc_port *ports;
	bool per_request;	/* annotation KD_ANNOTATION_PER_REQUEST: "true" */
	/*
	 * Annotation KD_ANNOTATION_ROUTING_FROM: the other namespaces whose
	 * VirtualServices and DestinationRules may govern this Service.
	 */
	bool routing_from_any;	/* "*" */
	size_t nrouting_from;
	const char **routing_from;
};

struct kd_container_port {
	const char *name;
	int port;
	int proto;
};

struct kd_pod {
	struct kd_meta m;
	struct kd_labels labels;
	/* metadata.ownerReferences: the controller's (else the first); NULL: none. */
	const char *owner_kind, *owner_name;
	__be32 ip;		/* 0: no IPv4 podIP */
	const char *phase;
	bool running, ready, terminating;
	size_t nports;
	struct kd_container_port *ports;
};

struct kd_dr_subset {
	const char *name;
	struct kd_labels labels;
};

struct kd_destination_rule {
	struct kd_meta m;
	const char *host;
	int host_line;
	size_t nsubsets;
	struct kd_dr_subset *subsets;
};

struct kd_destination {
	const char *host;
	const char *subset;	/* NULL: the whole host */
	int port;		/* 0: not given */
	long long weight;	/* -1: not given */
	int line;
};

enum kd_route_kind {
	KD_ROUTE_HTTP,
	KD_ROUTE_TCP,
};

enum kd_match_op {
	KD_MATCH_EXACT,
	KD_MATCH_PREFIX,
	KD_MATCH_PRESENT,	/* a header written as {}: any value */
};

/* One condition of an http[].match element that kanary evaluates: a header, or the URI. */
struct kd_condition {
	const char *header;	/* the name as written; NULL: the URI */
	enum kd_match_op op;
	const char *value;	/* NULL for presence */
};

/* One element of a route's match list: its conditions all hold (ANDed). */
struct kd_match {
	int index;		/* in match[] */
	int port;		/* 0: any port */
	bool mesh;		/* applies to traffic from pods (its gateways, if any, include mesh) */
	size_t nconds;
	struct kd_condition *conds;	/* the URI first, then the headers as written */
	/* The first condition kanary cannot evaluate ("spec.http[1].match[0].uri.regex: ..."), or NULL. */
	const char *unsupported;
};

/*
 * One mirror of an http[] route: mirror with mirrorPercentage (or the
 * deprecated mirrorPercent), or an item of mirrors[] with its percentage.
 */
struct kd_mirror {
	struct kd_destination dest;	/* its weight is unused */
	__u32 ppm;			/* the share, parts per million; 0: explicitly none */
	char field[32];			/* "mirror", "mirrors[1]": where it is, for messages */
};

struct kd_route {
	enum kd_route_kind kind;
	int index;		/* in spec.http[] or spec.tcp[] */
	int line;
	size_t nmatches;	/* ORed; 0: the route takes all traffic */
	struct kd_match *matches;
	bool routable;		/* has destinations (not a redirect or a direct response) */
	size_t ndests;
	struct kd_destination *dests;
	size_t nmirrors;
	struct kd_mirror *mirrors;
};

struct kd_virtual_service {
	struct kd_meta m;
	size_t nhosts;
	const char **hosts;
	int *host_lines;
	bool mesh;		/* applies to traffic from pods, not only to gateways */
	size_t nroutes;
	struct kd_route *routes;	/* http[] in order, then tcp[] in order */
};

/* Everything one manifest file holds. */
struct kd_objects {
	struct kd_arena arena;
	size_t nsvc, npod, ndr, nvs, nignored;
	size_t cap_svc, cap_pod, cap_dr, cap_vs;
	struct kd_service **svc;
	struct kd_pod **pod;
	struct kd_destination_rule **dr;
	struct kd_virtual_service **vs;
	/*
	 * Given by the first desired-state build that sees the set (0 until
	 * then): a set never changes once decoded, so a partial build tells
	 * the sets an event replaced by their serials (desired_partial.h).
	 */
	unsigned long long serial;
};

void kd_objects_free(struct kd_objects *o);


/* True when every key=value of want is in have. */
bool kd_labels_match(const struct kd_labels *want, const struct kd_labels *have);
const char *kd_label(const struct kd_labels *l, const char *key);

#endif
