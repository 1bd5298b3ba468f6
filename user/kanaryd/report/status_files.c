// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The status file's "files" array, made again only when it changes (status_files.h). */
#include <stdlib.h>
#include <string.h>
#include "base/fingerprint.h"
#include "report/status_files.h"

json_t *kd_files_json(const struct kd_files *fs)
{
	json_t *a = json_array();

	for (size_t i = 0; i < fs->store.n; i++) {
		const struct kd_store_item *f = &fs->store.v[i];
		json_t *o = json_object(), *objs = json_object();

		json_object_set_new(o, "path", json_string(f->name));
		json_object_set_new(o, "state", json_string(f->error ? "bad" : "ok"));
		json_object_set_new(o, "error", f->error ? json_string(f->error) : json_null());
		/* A bad file's objects are those of its last good version, if any. */
		json_object_set_new(o, "in_use", json_string(!f->good ? "nothing" :
							     f->error ? "last good version" : "this version"));
		if (f->good) {
			json_object_set_new(objs, "services", json_integer((json_int_t)f->good->nsvc));
			json_object_set_new(objs, "pods", json_integer((json_int_t)f->good->npod));
			json_object_set_new(objs, "destination_rules", json_integer((json_int_t)f->good->ndr));
			json_object_set_new(objs, "virtual_services", json_integer((json_int_t)f->good->nvs));
			json_object_set_new(objs, "ignored", json_integer((json_int_t)f->good->nignored));
		}
		json_object_set_new(o, "objects", objs);
		json_array_append_new(a, o);
	}
	return a;
}

/* Everything kd_files_json reads, in its order. */
static __u64 fingerprint(const struct kd_files *fs)
{
	__u64 h = KD_FP_INIT;

	kd_fp_mix(&h, &fs->store.n, sizeof(fs->store.n));
	for (size_t i = 0; i < fs->store.n; i++) {
		const struct kd_store_item *f = &fs->store.v[i];
		size_t counts[6] = { f->good != NULL };

		kd_fp_str(&h, f->name);
		kd_fp_str(&h, f->error);
		if (f->good) {
			counts[1] = f->good->nsvc;
			counts[2] = f->good->npod;
			counts[3] = f->good->ndr;
			counts[4] = f->good->nvs;
			counts[5] = f->good->nignored;
		}
		kd_fp_mix(&h, counts, sizeof(counts));
	}
	return h;
}

const char *kd_status_files_text(struct kd_status_files *c, const struct kd_files *fs)
{
	__u64 print = fingerprint(fs);
	json_t *a;

	if (c->text && c->print == print)
		return c->text;
	free(c->text);
	a = kd_files_json(fs);
	c->text = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	c->print = print;
	c->made++;
	return c->text;
}

void kd_status_files_free(struct kd_status_files *c)
{
	free(c->text);
	memset(c, 0, sizeof(*c));
}
