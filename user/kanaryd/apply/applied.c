// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include "base/arena.h"
#include "apply/applied.h"
#include "base/sorted_names.h"

static struct kd_applied_entry *find(const struct kd_applied *a, const char *name)
{
	return KD_SORTED_FIND(a->v, a->n, name, name);
}

bool kd_applied_get(const struct kd_applied *a, const char *name, __u64 *hash)
{
	struct kd_applied_entry *e = find(a, name);

	if (e)
		*hash = e->hash;
	return e != NULL;
}

void kd_applied_set(struct kd_applied *a, const char *name, __u64 hash)
{
	size_t at = kd_sorted_lower_bound(a->v, a->n, sizeof(*a->v),
					  offsetof(struct kd_applied_entry, name), name);
	struct kd_applied_entry *e;

	if (at < a->n && strcmp(a->v[at].name, name) == 0) {
		e = &a->v[at];
		if (e->hash == hash)
			return;
	} else {
		if (strlen(name) >= sizeof(e->name))
			return;
		if (a->n == a->cap) {
			a->cap = a->cap ? a->cap * 2 : 16;
			a->v = kd_xrealloc(a->v, a->cap, sizeof(*a->v));
		}
		/* A pass sets names in sorted order: usually at the end, nothing moves. */
		e = &a->v[at];
		memmove(e + 1, e, (a->n - at) * sizeof(*e));
		a->n++;
		memset(e, 0, sizeof(*e));
		strcpy(e->name, name);
	}
	e->hash = hash;
	a->dirty = true;
}

void kd_applied_del(struct kd_applied *a, const char *name)
{
	struct kd_applied_entry *e = find(a, name);

	if (!e)
		return;
	memmove(e, e + 1, (size_t)(a->v + a->n - (e + 1)) * sizeof(*e));
	a->n--;
	a->dirty = true;
}

void kd_applied_free(struct kd_applied *a)
{
	free(a->v);
	memset(a, 0, sizeof(*a));
}

int kd_applied_load(struct kd_applied *a, const char *path, struct kanary_err *e)
{
	json_error_t jerr;
	json_t *root, *svcs, *v;
	const char *name;

	memset(a, 0, sizeof(*a));
	root = json_load_file(path, 0, &jerr);
	if (!root) {
		if (access(path, F_OK) == 0)
			return kanary_errf(e, EINVAL, "%s:%d: %s; starting without a record of what "
					   "was applied", path, jerr.line, jerr.text);
		return 0;
	}
	svcs = json_object_get(root, "services");
	json_object_foreach(svcs, name, v) {
		const char *hex = json_string_value(v);
		unsigned long long h;
		char *end;

		if (!hex)
			continue;
		errno = 0;
		h = strtoull(hex, &end, 16);
		if (errno || *end || end == hex)
			continue;
		kd_applied_set(a, name, h);
	}
	json_decref(root);
	a->dirty = false;
	return 0;
}

/* Plain ASCII with nothing to escape: printed as it is. */
static bool plain_name(const char *name)
{
	for (const unsigned char *c = (const unsigned char *)name; *c; c++)
		if (*c < 0x20 || *c >= 0x80 || *c == '"' || *c == '\\')
			return false;
	return true;
}

/*
 * sep, then name as a JSON key, escaped by jansson when it must be.  0; 1 when
 * jansson refuses the name (not UTF-8: left out, as json_object_set_new did); -1.
 */
static int print_key(FILE *f, const char *sep, const char *name)
{
	json_t *s;
	char *text;
	int ret;

	if (plain_name(name))
		return fputs(sep, f) == EOF || fputc('"', f) == EOF || fputs(name, f) == EOF ||
		       fputc('"', f) == EOF ? -1 : 0;
	s = json_string(name);
	text = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;
	ret = !text ? 1 : fprintf(f, "%s%s", sep, text) < 0 ? -1 : 0;
	free(text);
	json_decref(s);
	return ret;
}

/* ": \"%016llx\"" without printf's parsing, once per service and pass. */
static int print_hash(FILE *f, __u64 hash)
{
	static const char hex[] = "0123456789abcdef";
	char text[21] = ": \"";

	for (int i = 0; i < 16; i++)
		text[3 + i] = hex[(hash >> (60 - 4 * i)) & 0xf];
	text[19] = '"';
	return fwrite(text, 1, 20, f) == 20 ? 0 : -1;
}

/*
 * The document json_dump_file(JSON_INDENT(1) | JSON_SORT_KEYS) made, printed
 * directly from the sorted array: at 10,000 services, building the jansson
 * tree for each pass's write was a sixth of kanaryd's CPU for a pod event.
 */
static int print_record(FILE *f, const struct kd_applied *a)
{
	bool first = true;

	if (fputs("{\n \"services\": {", f) == EOF)
		return -1;
	for (size_t i = 0; i < a->n; i++) {
		int r = print_key(f, first ? "\n  " : ",\n  ", a->v[i].name);

		if (r < 0)
			return -1;
		if (r > 0)
			continue;
		if (print_hash(f, a->v[i].hash))
			return -1;
		first = false;
	}
	return fputs(first ? "},\n \"version\": 1\n}" : "\n },\n \"version\": 1\n}", f) == EOF ? -1 : 0;
}

int kd_applied_save(struct kd_applied *a, const char *path, struct kanary_err *e)
{
	char tmp[4096];
	FILE *f;
	int ret = 0, err;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	err = !f || print_record(f, a);
	if (f && fclose(f))
		err = 1;
	if (err || rename(tmp, path)) {
		ret = kanary_errf(e, EIO, "cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
	} else {
		a->dirty = false;
	}
	return ret;
}
