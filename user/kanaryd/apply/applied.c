// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
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

int kd_applied_save(struct kd_applied *a, const char *path, struct kanary_err *e)
{
	json_t *root = json_object(), *svcs = json_object();
	char tmp[4096], hex[32];
	int ret = 0;

	for (size_t i = 0; i < a->n; i++) {
		snprintf(hex, sizeof(hex), "%016" PRIx64, (uint64_t)a->v[i].hash);
		json_object_set_new(svcs, a->v[i].name, json_string(hex));
	}
	json_object_set_new(root, "version", json_integer(1));
	json_object_set_new(root, "services", svcs);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (json_dump_file(root, tmp, JSON_INDENT(1) | JSON_SORT_KEYS) || rename(tmp, path)) {
		ret = kanary_errf(e, EIO, "cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
	} else {
		a->dirty = false;
	}
	json_decref(root);
	return ret;
}
