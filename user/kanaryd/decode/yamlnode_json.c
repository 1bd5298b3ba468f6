// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Builds a libyaml document from a json_t, with the lines of indented JSON. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "base/arena.h"
#include "decode/yaml_limits.h"
#include "decode/yamlnode_json.h"

struct json_builder {
	yaml_document_t *doc;
	int line;		/* 1-based: where the next node would be printed */
	int depth;		/* containers open */
	int too_deep;		/* the line past KD_YAML_MAX_DEPTH, 0 none */
};

/* Adds a scalar at the current line; its id, 0 when libyaml cannot. */
static int add_scalar(struct json_builder *b, const char *text, size_t len,
		      yaml_scalar_style_t style)
{
	int id = yaml_document_add_scalar(b->doc, NULL, (yaml_char_t *)text, (int)len, style);
	yaml_node_t *n = yaml_document_get_node(b->doc, id);

	if (n)
		n->start_mark.line = n->end_mark.line = (size_t)(b->line - 1);
	return id;
}

/* As libyaml reads the JSON text: "%.17g" for reals, exactly as jansson prints them. */
static int add_number_or_literal(struct json_builder *b, json_t *v)
{
	char *text = json_dumps(v, JSON_ENCODE_ANY);
	int id;

	if (!text)
		return 0;
	id = add_scalar(b, text, strlen(text), YAML_PLAIN_SCALAR_STYLE);
	free(text);
	return id;
}

static int add_node(struct json_builder *b, json_t *v);

/* A mapping or sequence: "{" on its line, its members one per line, "}" on the next. */
static int add_container(struct json_builder *b, json_t *v)
{
	bool map = json_is_object(v);
	int id = map ? yaml_document_add_mapping(b->doc, NULL, YAML_FLOW_MAPPING_STYLE)
		     : yaml_document_add_sequence(b->doc, NULL, YAML_FLOW_SEQUENCE_STYLE);
	yaml_node_t *n = yaml_document_get_node(b->doc, id);
	const char *key;
	json_t *item;
	size_t i;

	if (!n)
		return 0;
	n->start_mark.line = n->end_mark.line = (size_t)(b->line - 1);
	if (b->depth == KD_YAML_MAX_DEPTH) {
		b->too_deep = b->line;
		return 0;
	}
	b->depth++;
	if (map ? json_object_size(v) : json_array_size(v))
		b->line++;
	if (map) {
		json_object_foreach(v, key, item) {
			int k = add_scalar(b, key, strlen(key), YAML_DOUBLE_QUOTED_SCALAR_STYLE);
			int val = k ? add_node(b, item) : 0;

			if (!val || !yaml_document_append_mapping_pair(b->doc, id, k, val))
				return 0;
		}
	} else {
		json_array_foreach(v, i, item) {
			int val = add_node(b, item);

			if (!val || !yaml_document_append_sequence_item(b->doc, id, val))
				return 0;
		}
	}
	b->line++;	/* the closing bracket, or "{}" / "[]" */
	b->depth--;
	return id;
}

static int add_node(struct json_builder *b, json_t *v)
{
	int id;

	if (json_is_object(v) || json_is_array(v))
		return add_container(b, v);
	if (json_is_string(v))
		id = add_scalar(b, json_string_value(v), json_string_length(v),
				YAML_DOUBLE_QUOTED_SCALAR_STYLE);
	else
		id = add_number_or_literal(b, v);
	b->line++;
	return id;
}

int kd_yaml_from_json(struct kd_yaml *y, json_t *obj, struct kanary_err *e)
{
	struct json_builder b = { .line = 1 };

	memset(y, 0, sizeof(*y));
	y->docs = kd_xcalloc(1, sizeof(*y->docs));
	if (!yaml_document_initialize(y->docs, NULL, NULL, NULL, 1, 1)) {
		free(y->docs);
		y->docs = NULL;
		return kanary_errf(e, ENOMEM, "cannot build the object's document: out of memory");
	}
	y->ndocs = 1;
	b.doc = y->docs;
	if (!add_node(&b, obj)) {
		kd_yaml_free(y);
		if (b.too_deep)
			return kanary_errf(e, E2BIG, "line %d: nested more than %d deep (over kanaryd's "
					   "limit, see docs/kanaryd.md)", b.too_deep, KD_YAML_MAX_DEPTH);
		return kanary_errf(e, ENOMEM, "cannot build the object's document: out of memory");
	}
	return 0;
}
