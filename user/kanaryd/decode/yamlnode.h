/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Reading libyaml documents: every document of a file, and typed access to
 * their nodes that never crashes on the wrong shape.  A missing node is a
 * kd_node with n == NULL; every accessor accepts it.  JSON is read by the
 * same parser (it is YAML flow syntax), so kubectl's -o json works too.
 */
#ifndef KD_YAMLNODE_H
#define KD_YAMLNODE_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>
#include "kanary.h"

struct kd_yaml {
	size_t ndocs;
	yaml_document_t *docs;
};

struct kd_node {
	yaml_document_t *doc;
	yaml_node_t *n;		/* NULL: absent */
};

/*
 * Parses every document of buf (yaml_load.c), within yaml_limits.h.  On an
 * error nothing is kept, e says "LINE:COL: problem" and *line (when not
 * NULL) is the 1-based line.  -EINVAL: not valid YAML, or a mapping with a
 * key twice (as kubectl's strict decoding); -E2BIG: past one of the limits.
 */
int kd_yaml_parse(struct kd_yaml *y, const void *buf, size_t len, struct kanary_err *e, int *line);
void kd_yaml_free(struct kd_yaml *y);
struct kd_node kd_yaml_root(struct kd_yaml *y, size_t doc);

static inline bool kd_present(struct kd_node x)
{
	return x.n != NULL;
}

/* 1-based line of the node, 0 when absent. */
int kd_line(struct kd_node x);
/* Absent, or a null scalar (null, ~, empty). */
bool kd_is_null(struct kd_node x);
bool kd_is_map(struct kd_node x);
bool kd_is_seq(struct kd_node x);
bool kd_is_scalar(struct kd_node x);
/* "a mapping", "a list", "a string", "null": for error messages. */
const char *kd_kind_name(struct kd_node x);

/* Value under key in a mapping; absent when x is not a mapping or has no key. */
struct kd_node kd_get(struct kd_node map, const char *key);
/* The key itself (for its line); absent as kd_get's value is. */
struct kd_node kd_get_key(struct kd_node map, const char *key);
/* Items of a list, pairs of a mapping; 0 for anything else. */
size_t kd_len(struct kd_node x);
struct kd_node kd_at(struct kd_node seq, size_t i);
struct kd_node kd_key_at(struct kd_node map, size_t i);
struct kd_node kd_val_at(struct kd_node map, size_t i);

/* The text of a non-null scalar, else NULL. */
const char *kd_str(struct kd_node x);
/* A quoted scalar is text even when it reads "80"; a plain one may be a number. */
bool kd_is_quoted(struct kd_node x);
/* A plain decimal integer; -EINVAL when x is not one (quoted, text), -ERANGE when too large. */
int kd_int(struct kd_node x, long long *out);
/* true/false (also yes/no/on/off, as YAML 1.1 and kubectl's parser take them); else -EINVAL. */
int kd_bool(struct kd_node x, bool *out);

#endif
