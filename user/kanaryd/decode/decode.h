/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the per-kind decoders share: the object being decoded, and typed
 * field readers that record "FILE:LINE: Kind ns/name: field: problem".
 * An error makes the whole file bad (its last good version stays applied);
 * a warning is reported and the rest is applied.
 */
#ifndef KD_DECODE_H
#define KD_DECODE_H

#include "base/diag.h"
#include "decode/model.h"
#include "decode/yamlnode.h"

struct kd_dec {
	const char *file;
	struct kd_objects *out;
	struct kd_diags *diags;
	char what[200];		/* "VirtualService default/greeting" */
	int errors;
	size_t objects;		/* decoded so far in this file, list items included */
	size_t said;		/* warnings and errors added to diags */
	size_t unsaid;		/* those past KD_YAML_MAX_DIAGS, only counted */
};

/* A field kanary reads elsewhere or does not need, and one it cannot honour. */
struct kd_field_rule {
	const char *name;
	const char *unsupported;	/* NULL: fine; else why it is ignored */
};

/*
 * Adds "FILE:..." to d->diags; past KD_YAML_MAX_DIAGS warnings and errors
 * in one file they are only counted, so a file of a million bad items
 * costs neither memory nor a flooded log.  Counts an error in d->errors.
 */
void kd_dec_say(struct kd_dec *d, enum kd_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void kd_dec_warn(struct kd_dec *d, struct kd_node at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void kd_dec_error(struct kd_dec *d, struct kd_node at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Optional string field; NULL when absent or null, error when not a scalar. */
const char *kd_dec_str(struct kd_dec *d, struct kd_node map, const char *key, const char *path);
/*
 * map[key] as 1..65535, an error naming path.key otherwise; false when
 * absent (an error only when required) or bad.
 */
bool kd_dec_port(struct kd_dec *d, struct kd_node map, const char *key, const char *path,
		 bool required, int *out);
/* A string->string mapping (labels, selectors); numbers and booleans read as text. */
void kd_dec_labels(struct kd_dec *d, struct kd_node x, const char *path, struct kd_labels *out);
/* True when x is a list, or absent/null (an empty list); an error otherwise. */
bool kd_dec_list(struct kd_dec *d, struct kd_node x, const char *path);
/* True when x is a mapping; an error when present and anything else. */
bool kd_dec_map(struct kd_dec *d, struct kd_node x, const char *path, bool required);
/* "TCP", "UDP", "SCTP" (default TCP) into IPPROTO_*; -EINVAL (an error recorded) otherwise. */
int kd_dec_protocol(struct kd_dec *d, struct kd_node map, const char *path, const char **name);
/*
 * Warns about every key of map that rules mark unsupported, and about keys
 * not in rules at all (a typo, or a field of a newer API).
 */
void kd_dec_check_fields(struct kd_dec *d, struct kd_node map, const char *path,
			 const struct kd_field_rule *rules);

/* match.c: a route's match list into r->matches (none: the route takes all traffic). */
void kd_dec_route_match(struct kd_dec *d, struct kd_node route, const char *path,
			struct kd_route *r);
/* parent[key], a Destination (host, subset, port), at path; an error when it has no host. */
void kd_dec_destination(struct kd_dec *d, struct kd_node parent, const char *key,
			const char *path, struct kd_destination *dst);
/* istio_mirror.c: an http[] route's mirror or mirrors[] into r->mirrors. */
void kd_dec_route_mirrors(struct kd_dec *d, struct kd_node route, const char *path,
			  struct kd_route *r);
/* A gateways list that is absent or names mesh: the rules apply to traffic from pods. */
bool kd_gateways_include_mesh(struct kd_node gws);

/*
 * One object of each kind into d->out; 0, or -EINVAL when it has an error
 * (recorded in d->diags) and is left out.
 */
int kd_decode_service(struct kd_dec *d, struct kd_node obj, const struct kd_meta *m);
int kd_decode_pod(struct kd_dec *d, struct kd_node obj, const struct kd_meta *m);
int kd_decode_destination_rule(struct kd_dec *d, struct kd_node obj, const struct kd_meta *m);
int kd_decode_virtual_service(struct kd_dec *d, struct kd_node obj, const struct kd_meta *m);

#endif
