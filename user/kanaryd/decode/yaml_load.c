// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Builds libyaml documents from the parser's events, within the limits of
 * yaml_limits.h, instead of yaml_parser_load: that one has no bound on
 * depth (libyaml's scanner then costs time in proportion to the depth on
 * every token: quadratic), looks aliases up in a list (quadratic in
 * anchors), lets an alias point to its own ancestor (a cycle), and keeps
 * the first of duplicate keys.  Here the walk is one pass over the events.
 */
#define _GNU_SOURCE	/* tdestroy */
#include <errno.h>
#include <search.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/arena.h"
#include "decode/yaml_limits.h"
#include "decode/yamlnode.h"

struct yaml_anchor {
	char *name;
	int id;
	size_t start;		/* loader.nodes when the node began */
	size_t weight;		/* its nodes, aliases expanded; set when done */
	bool done;		/* false while it is open: an alias to it would be a cycle */
	int line;
};

struct yaml_frame {
	int id;
	struct yaml_anchor *anchor;
	int key;		/* mappings: the key waiting for its value, 0 none */
};

struct yaml_key {
	const yaml_node_t *n;	/* a scalar key */
	size_t i;		/* its pair's index */
};

struct yaml_loader {
	yaml_parser_t parser;
	struct kd_yaml *y;
	size_t cap;
	yaml_document_t doc;
	bool in_doc;
	struct yaml_frame stack[KD_YAML_MAX_DEPTH];
	int depth;
	void *anchors;		/* tsearch tree of this document's anchors */
	size_t aliases;		/* in this document */
	size_t nodes;		/* in this file, each alias counting its anchor's nodes */
	struct yaml_key *keys;	/* scratch for the duplicate-key check */
	size_t keys_cap;
	struct kanary_err *e;
	int line;
};

static int load_fail(struct yaml_loader *l, int err, yaml_mark_t at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int load_fail(struct yaml_loader *l, int err, yaml_mark_t at, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	l->line = (int)at.line + 1;
	return kanary_errf(l->e, err, "%d:%d: %s", l->line, (int)at.column + 1, text);
}

static int anchor_cmp(const void *a, const void *b)
{
	return strcmp(((const struct yaml_anchor *)a)->name, ((const struct yaml_anchor *)b)->name);
}

static void anchor_free(void *a)
{
	free(((struct yaml_anchor *)a)->name);
	free(a);
}

static struct yaml_anchor *anchor_find(struct yaml_loader *l, const yaml_char_t *name)
{
	struct yaml_anchor key = { .name = (char *)name };
	void *found = tfind(&key, &l->anchors, anchor_cmp);

	return found ? *(struct yaml_anchor **)found : NULL;
}

/* Counts n more nodes against the file's budget. */
static int count_nodes(struct yaml_loader *l, size_t n, yaml_mark_t at)
{
	if (n > KD_YAML_MAX_NODES - l->nodes)
		return load_fail(l, E2BIG, at, "the file has more than %d nodes, counting those "
				 "reached through aliases each time",
				 KD_YAML_MAX_NODES);
	l->nodes += n;
	return 0;
}

static int anchor_add(struct yaml_loader *l, const yaml_char_t *name, int id, yaml_mark_t at,
		      struct yaml_anchor **out)
{
	struct yaml_anchor *a;

	*out = NULL;
	if (!name)
		return 0;
	a = anchor_find(l, name);
	if (a)
		return load_fail(l, EINVAL, at, "anchor &%s defined again (first at line %d)",
				 (const char *)name, a->line);
	a = kd_xcalloc(1, sizeof(*a));
	a->name = kd_xstrdup((const char *)name);
	a->id = id;
	a->start = l->nodes - 1;	/* the node itself is counted already */
	a->line = (int)at.line + 1;
	if (!tsearch(a, &l->anchors, anchor_cmp)) {
		anchor_free(a);
		return load_fail(l, ENOMEM, at, "out of memory");
	}
	*out = a;
	return 0;
}

static void anchor_done(struct yaml_loader *l, struct yaml_anchor *a)
{
	if (a) {
		a->weight = l->nodes - a->start;
		a->done = true;
	}
}

/* Puts a finished node into the collection that holds it (the root has none). */
static int attach(struct yaml_loader *l, int id)
{
	struct yaml_frame *f;
	int ok;

	if (l->depth == 0)
		return 0;
	f = &l->stack[l->depth - 1];
	if (yaml_document_get_node(&l->doc, f->id)->type == YAML_SEQUENCE_NODE) {
		ok = yaml_document_append_sequence_item(&l->doc, f->id, id);
	} else if (!f->key) {
		f->key = id;
		return 0;
	} else {
		ok = yaml_document_append_mapping_pair(&l->doc, f->id, f->key, id);
		f->key = 0;
	}
	return ok ? 0 : kanary_errf(l->e, ENOMEM, "out of memory");
}

/* A node the parser announced, with its position. */
static yaml_node_t *placed(struct yaml_loader *l, int id, const yaml_event_t *ev)
{
	yaml_node_t *n = yaml_document_get_node(&l->doc, id);

	if (n)
		n->start_mark = n->end_mark = ev->start_mark;
	return n;
}

/* libyaml's loader gives untagged and "!" nodes the default tag. */
static yaml_char_t *tag_of(yaml_char_t *tag)
{
	return tag && strcmp((const char *)tag, "!") != 0 ? tag : NULL;
}

static int on_scalar(struct yaml_loader *l, yaml_event_t *ev)
{
	struct yaml_anchor *a;
	int id, ret;

	ret = count_nodes(l, 1, ev->start_mark);
	if (ret)
		return ret;
	id = yaml_document_add_scalar(&l->doc, tag_of(ev->data.scalar.tag), ev->data.scalar.value,
				      (int)ev->data.scalar.length, ev->data.scalar.style);
	if (!placed(l, id, ev))
		return load_fail(l, ENOMEM, ev->start_mark, "out of memory");
	ret = anchor_add(l, ev->data.scalar.anchor, id, ev->start_mark, &a);
	if (ret)
		return ret;
	anchor_done(l, a);
	return attach(l, id);
}

static int on_start(struct yaml_loader *l, yaml_event_t *ev)
{
	bool map = ev->type == YAML_MAPPING_START_EVENT;
	yaml_char_t *anchor = map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
	struct yaml_frame *f;
	int id, ret;

	if (l->depth == KD_YAML_MAX_DEPTH)
		return load_fail(l, E2BIG, ev->start_mark, "nested more than %d deep",
				 KD_YAML_MAX_DEPTH);
	ret = count_nodes(l, 1, ev->start_mark);
	if (ret)
		return ret;
	id = map ? yaml_document_add_mapping(&l->doc, tag_of(ev->data.mapping_start.tag),
					     ev->data.mapping_start.style)
		 : yaml_document_add_sequence(&l->doc, tag_of(ev->data.sequence_start.tag),
					      ev->data.sequence_start.style);
	if (!placed(l, id, ev))
		return load_fail(l, ENOMEM, ev->start_mark, "out of memory");
	f = &l->stack[l->depth++];
	f->id = id;
	f->key = 0;
	return anchor_add(l, anchor, id, ev->start_mark, &f->anchor);
}

static int cmp_text(const yaml_node_t *x, const yaml_node_t *y)
{
	size_t lx = x->data.scalar.length, ly = y->data.scalar.length;

	if (lx != ly)
		return lx < ly ? -1 : 1;
	return memcmp(x->data.scalar.value, y->data.scalar.value, lx);
}

static int cmp_key(const void *a, const void *b)
{
	const struct yaml_key *x = a, *y = b;
	int c = cmp_text(x->n, y->n);

	return c ? c : (x->i < y->i ? -1 : x->i > y->i);
}

/*
 * Rejects a mapping where a key repeats an earlier one, naming the first
 * repeat in the file's order.  Sorted, so n keys cost n log n.
 */
static int check_duplicate_keys(struct yaml_loader *l, yaml_node_t *map)
{
	yaml_node_pair_t *pairs = map->data.mapping.pairs.start;
	size_t n = (size_t)(map->data.mapping.pairs.top - pairs), nk = 0;
	const struct yaml_key *first = NULL, *again = NULL;

	if (n < 2)
		return 0;
	if (n > l->keys_cap) {
		l->keys_cap = n;
		l->keys = kd_xrealloc(l->keys, n, sizeof(*l->keys));
	}
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *k = yaml_document_get_node(&l->doc, pairs[i].key);

		if (k && k->type == YAML_SCALAR_NODE)
			l->keys[nk++] = (struct yaml_key){ k, i };
	}
	qsort(l->keys, nk, sizeof(*l->keys), cmp_key);
	/* Equal texts sort in file order: a text's first repeat follows its first use. */
	for (size_t j = 1; j < nk; j++) {
		if (cmp_text(l->keys[j].n, l->keys[j - 1].n) == 0 &&
		    (!again || l->keys[j].i < again->i)) {
			again = &l->keys[j];
			first = &l->keys[j - 1];
		}
	}
	if (!again)
		return 0;
	return load_fail(l, EINVAL, again->n->start_mark,
			 "mapping key \"%.*s\" already defined at line %d",
			 (int)(again->n->data.scalar.length < 100 ? again->n->data.scalar.length : 100),
			 (const char *)again->n->data.scalar.value, (int)first->n->start_mark.line + 1);
}

static int on_end(struct yaml_loader *l, yaml_event_t *ev)
{
	struct yaml_frame *f = &l->stack[--l->depth];
	yaml_node_t *n = yaml_document_get_node(&l->doc, f->id);

	n->end_mark = ev->end_mark;
	if (n->type == YAML_MAPPING_NODE) {
		int ret = check_duplicate_keys(l, n);

		if (ret)
			return ret;
	}
	anchor_done(l, f->anchor);
	return attach(l, f->id);
}

static int on_alias(struct yaml_loader *l, yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	struct yaml_anchor *a = anchor_find(l, ev->data.alias.anchor);
	int ret;

	if (++l->aliases > KD_YAML_MAX_ALIASES)
		return load_fail(l, E2BIG, ev->start_mark, "more than %d aliases in one document",
				 KD_YAML_MAX_ALIASES);
	if (!a)
		return load_fail(l, EINVAL, ev->start_mark, "alias *%s: no such anchor before it", name);
	if (!a->done)
		return load_fail(l, EINVAL, ev->start_mark, "alias *%s is inside the node it names "
				 "(line %d): a cycle", name, a->line);
	ret = count_nodes(l, a->weight, ev->start_mark);
	return ret ? ret : attach(l, a->id);
}

static void doc_end(struct yaml_loader *l, bool keep)
{
	if (!l->in_doc)
		return;
	if (keep) {
		if (l->y->ndocs == l->cap) {
			l->cap = l->cap ? l->cap * 2 : 4;
			l->y->docs = kd_xrealloc(l->y->docs, l->cap, sizeof(*l->y->docs));
		}
		l->y->docs[l->y->ndocs++] = l->doc;
	} else {
		yaml_document_delete(&l->doc);
	}
	tdestroy(l->anchors, anchor_free);
	l->anchors = NULL;
	l->in_doc = false;
	l->depth = 0;
}

static int on_doc_start(struct yaml_loader *l, yaml_event_t *ev)
{
	if (l->y->ndocs == KD_YAML_MAX_OBJECTS)
		return load_fail(l, E2BIG, ev->start_mark, "more than %d documents in one file",
				 KD_YAML_MAX_OBJECTS);
	if (!yaml_document_initialize(&l->doc, NULL, NULL, NULL, 1, 1))
		return load_fail(l, ENOMEM, ev->start_mark, "out of memory");
	l->in_doc = true;
	l->aliases = 0;
	return 0;
}

/* One event into the document being built; 1 at the end of the stream. */
static int on_event(struct yaml_loader *l, yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		return on_doc_start(l, ev);
	case YAML_DOCUMENT_END_EVENT:
		doc_end(l, true);
		return 0;
	case YAML_SCALAR_EVENT:
		return on_scalar(l, ev);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		return on_start(l, ev);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return on_end(l, ev);
	case YAML_ALIAS_EVENT:
		return on_alias(l, ev);
	case YAML_STREAM_END_EVENT:
		return 1;
	default:
		return 0;
	}
}

static int syntax_error(struct yaml_loader *l)
{
	const yaml_parser_t *p = &l->parser;

	if (p->error == YAML_MEMORY_ERROR)
		return kanary_errf(l->e, ENOMEM, "out of memory");
	return load_fail(l, EINVAL, p->problem_mark, "%s%s%s", p->problem ? p->problem : "invalid YAML",
			 p->context ? " " : "", p->context ? p->context : "");
}

/* The line where the file goes past max bytes. */
static int line_at(const char *buf, size_t max)
{
	int line = 1;

	for (const char *p = buf; (p = memchr(p, '\n', max - (size_t)(p - buf))); p++)
		line++;
	return line;
}

int kd_yaml_parse(struct kd_yaml *y, const void *buf, size_t len, struct kanary_err *e, int *line)
{
	struct yaml_loader l = { .y = y, .e = e };
	int ret = 0;

	memset(y, 0, sizeof(*y));
	if (len > KD_YAML_MAX_BYTES) {
		l.line = line_at(buf, KD_YAML_MAX_BYTES);
		ret = kanary_errf(e, E2BIG, "%d: the file goes past %u MiB here; split it",
				  l.line, KD_YAML_MAX_BYTES >> 20);
	} else if (!yaml_parser_initialize(&l.parser)) {
		return kanary_errf(e, ENOMEM, "cannot initialise the YAML parser");
	} else {
		yaml_parser_set_input_string(&l.parser, buf, len);
		while (!ret) {
			yaml_event_t ev;

			if (!yaml_parser_parse(&l.parser, &ev)) {
				ret = syntax_error(&l);
				break;
			}
			ret = on_event(&l, &ev);
			yaml_event_delete(&ev);
		}
		ret = ret > 0 ? 0 : ret;
		yaml_parser_delete(&l.parser);
	}
	doc_end(&l, false);
	free(l.keys);
	if (line)
		*line = ret ? l.line : 0;
	if (ret)
		kd_yaml_free(y);
	return ret;
}
