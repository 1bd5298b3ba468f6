// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Typed access to the nodes of a parsed document (yaml_load.c builds them). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "base/arena.h"
#include "decode/yamlnode.h"

void kd_yaml_free(struct kd_yaml *y)
{
	for (size_t i = 0; i < y->ndocs; i++)
		yaml_document_delete(&y->docs[i]);
	free(y->docs);
	memset(y, 0, sizeof(*y));
}

struct kd_node kd_yaml_root(struct kd_yaml *y, size_t doc)
{
	struct kd_node x = { NULL, NULL };

	if (doc < y->ndocs) {
		x.doc = &y->docs[doc];
		x.n = yaml_document_get_root_node(x.doc);
	}
	return x;
}

static struct kd_node node_by_id(yaml_document_t *doc, int id)
{
	struct kd_node x = { doc, yaml_document_get_node(doc, id) };

	return x;
}

int kd_line(struct kd_node x)
{
	return x.n ? (int)x.n->start_mark.line + 1 : 0;
}

bool kd_is_map(struct kd_node x)
{
	return x.n && x.n->type == YAML_MAPPING_NODE;
}

bool kd_is_seq(struct kd_node x)
{
	return x.n && x.n->type == YAML_SEQUENCE_NODE;
}

bool kd_is_scalar(struct kd_node x)
{
	return x.n && x.n->type == YAML_SCALAR_NODE;
}

bool kd_is_quoted(struct kd_node x)
{
	return kd_is_scalar(x) && x.n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
}

bool kd_is_null(struct kd_node x)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
	const char *v;

	if (!x.n)
		return true;
	if (x.n->type != YAML_SCALAR_NODE || kd_is_quoted(x))
		return false;
	v = (const char *)x.n->data.scalar.value;
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (strcmp(v, nulls[i]) == 0)
			return true;
	return false;
}

const char *kd_kind_name(struct kd_node x)
{
	if (kd_is_null(x))
		return "null";
	if (kd_is_map(x))
		return "a mapping";
	if (kd_is_seq(x))
		return "a list";
	return "a scalar";
}

static yaml_node_pair_t *find_pair(struct kd_node map, const char *key)
{
	size_t klen = strlen(key);

	if (!kd_is_map(map))
		return NULL;
	for (yaml_node_pair_t *p = map.n->data.mapping.pairs.start;
	     p < map.n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(map.doc, p->key);

		if (k && k->type == YAML_SCALAR_NODE && k->data.scalar.length == klen &&
		    memcmp(k->data.scalar.value, key, klen) == 0)
			return p;
	}
	return NULL;
}

struct kd_node kd_get(struct kd_node map, const char *key)
{
	struct kd_node none = { map.doc, NULL };
	yaml_node_pair_t *p = find_pair(map, key);

	return p ? node_by_id(map.doc, p->value) : none;
}

struct kd_node kd_get_key(struct kd_node map, const char *key)
{
	struct kd_node none = { map.doc, NULL };
	yaml_node_pair_t *p = find_pair(map, key);

	return p ? node_by_id(map.doc, p->key) : none;
}

size_t kd_len(struct kd_node x)
{
	if (kd_is_seq(x))
		return (size_t)(x.n->data.sequence.items.top - x.n->data.sequence.items.start);
	if (kd_is_map(x))
		return (size_t)(x.n->data.mapping.pairs.top - x.n->data.mapping.pairs.start);
	return 0;
}

struct kd_node kd_at(struct kd_node seq, size_t i)
{
	struct kd_node none = { seq.doc, NULL };

	if (!kd_is_seq(seq) || i >= kd_len(seq))
		return none;
	return node_by_id(seq.doc, seq.n->data.sequence.items.start[i]);
}

struct kd_node kd_key_at(struct kd_node map, size_t i)
{
	struct kd_node none = { map.doc, NULL };

	if (!kd_is_map(map) || i >= kd_len(map))
		return none;
	return node_by_id(map.doc, map.n->data.mapping.pairs.start[i].key);
}

struct kd_node kd_val_at(struct kd_node map, size_t i)
{
	struct kd_node none = { map.doc, NULL };

	if (!kd_is_map(map) || i >= kd_len(map))
		return none;
	return node_by_id(map.doc, map.n->data.mapping.pairs.start[i].value);
}

const char *kd_str(struct kd_node x)
{
	if (!kd_is_scalar(x) || kd_is_null(x))
		return NULL;
	/* A NUL inside the text would silently cut it short: treat it as no text. */
	if (strlen((const char *)x.n->data.scalar.value) != x.n->data.scalar.length)
		return NULL;
	return (const char *)x.n->data.scalar.value;
}

int kd_int(struct kd_node x, long long *out)
{
	const char *s = kd_str(x), *p;
	long long v = 0;
	bool neg = false;

	if (!s || kd_is_quoted(x))
		return -EINVAL;
	p = s;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (!*p || strspn(p, "0123456789") != strlen(p))
		return -EINVAL;
	for (; *p; p++) {
		if (v > (LLONG_MAX - 9) / 10)
			return -ERANGE;
		v = v * 10 + (*p - '0');
	}
	*out = neg ? -v : v;
	return 0;
}

int kd_bool(struct kd_node x, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on" };
	static const char *const no[] = { "false", "no", "off" };
	const char *s = kd_str(x);

	if (!s || kd_is_quoted(x))
		return -EINVAL;
	for (size_t i = 0; i < 3; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}
