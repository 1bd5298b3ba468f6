// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The status file: what kanaryd loaded and from where, what it did with
 * each service, and every current problem.  Written whole to a temporary
 * file and renamed, so a reader never sees half of it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include "daemon.h"
#include "base/log.h"
#include "base/clock.h"
#include "apply/reconcile.h"
#include "report/desired_json.h"
#include "report/status_cache.h"
#include "report/status_files.h"

static json_t *time_json(time_t t)
{
	char buf[32];
	struct tm tm;

	if (!t || !gmtime_r(&t, &tm))
		return json_null();
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

static json_t *services_json(const struct kd_daemon *d)
{
	json_t *a = json_array();

	for (size_t i = 0; i < d->desired.n; i++)
		json_array_append_new(a, kd_status_service_json(&d->desired.v[i],
								 kd_results_find(&d->results, d->desired.v[i].name)));
	return a;
}

static void extend_new(json_t *a, json_t *more)
{
	json_array_extend(a, more);
	json_decref(more);
}

static json_t *problems_json(const struct kd_daemon *d)
{
	json_t *a = json_array();

	if (d->files.root_error)
		json_array_append_new(a, json_pack("{s:s, s:s}", "level", "error", "message",
						   d->files.root_error));
	if (d->apply_error)
		json_array_append_new(a, json_pack("{s:s, s:s}", "level", "error", "message",
						   d->apply_error));
	for (size_t i = 0; i < d->files.store.n; i++)
		extend_new(a, kd_diags_json(&d->files.store.v[i].diags, KD_WARN));
	extend_new(a, kd_diags_json(&d->build_diags, KD_WARN));
	for (size_t i = 0; i < d->results.n; i++) {
		const struct kd_result *r = &d->results.v[i];
		char msg[800];

		if (r->outcome != KD_OUT_FAILED && r->outcome != KD_OUT_HELD)
			continue;
		snprintf(msg, sizeof(msg), "%s: %s: %s", r->name, kd_outcome_name(r->outcome),
			 r->msg ? r->msg : "");
		json_array_append_new(a, json_pack("{s:s, s:s}", "level",
						   r->outcome == KD_OUT_FAILED ? "error" : "warning",
						   "message", msg));
	}
	return a;
}

/* What --check prints: what the manifests mean; nothing was applied. */
static json_t *check_json(const struct kd_daemon *d)
{
	json_t *o = json_object();

	json_object_set_new(o, "version", json_integer(1));
	json_object_set_new(o, "manifests", json_string(d->cfg.manifests));
	json_object_set_new(o, "files", kd_files_json(&d->files));
	json_object_set_new(o, "services", kd_desired_json(&d->desired));
	json_object_set_new(o, "problems", problems_json(d));
	return o;
}

/* The status's members before "files". */
static json_t *report_head(const struct kd_daemon *d)
{
	json_t *o = json_object(), *ifaces = json_object(), *globs = json_array(),
	       *att = json_array();

	json_object_set_new(o, "version", json_integer(1));
	json_object_set_new(o, "pid", json_integer(getpid()));
	json_object_set_new(o, "started", time_json(d->started));
	json_object_set_new(o, "updated", time_json(d->updated));
	json_object_set_new(o, "written", time_json(time(NULL)));
	json_object_set_new(o, "pin_path", json_string(d->cfg.pin));
	json_object_set_new(o, "manifests", d->cfg.manifests ? json_string(d->cfg.manifests) : json_null());
	if (d->kube)
		json_object_set_new(o, "kube", kd_kube_json(d->kube));
	json_object_set_new(o, "applied", json_boolean(!d->apply_error && d->have_desired));
	json_object_set_new(o, "passes", json_pack("{s:I, s:I}", "full", (json_int_t)d->full_passes,
						   "partial", (json_int_t)d->partial_passes));
	for (size_t i = 0; i < d->cfg.nglobs; i++)
		json_array_append_new(globs, json_string(d->cfg.globs[i]));
	for (size_t i = 0; i < d->links.n; i++)
		json_array_append_new(att, json_string(d->links.v[i].name));
	json_object_set_new(ifaces, "patterns", globs);
	json_object_set_new(ifaces, "attached", att);
	json_object_set_new(o, "interfaces", ifaces);
	return o;
}

/* Its members after "files", but "services": what was deleted, and the problems. */
static json_t *report_tail(const struct kd_daemon *d)
{
	json_t *o = json_object(), *deleted = json_array();

	for (size_t i = 0; i < d->results.n; i++)
		if (d->results.v[i].outcome == KD_OUT_DELETED)
			json_array_append_new(deleted, json_string(d->results.v[i].name));
	json_object_set_new(o, "deleted", deleted);
	json_object_set_new(o, "problems", problems_json(d));
	return o;
}

json_t *kd_report_json(const struct kd_daemon *d)
{
	json_t *o, *tail;

	if (d->cfg.check)
		return check_json(d);
	o = report_head(d);
	tail = report_tail(d);
	json_object_set_new(o, "files", kd_files_json(&d->files));
	json_object_set_new(o, "services", services_json(d));
	json_object_update(o, tail);
	json_decref(tail);
	return o;
}

/*
 * The head's members, "files" and the tail's, then "services": the members
 * of kd_report_json, with "services" last.  The files and the services
 * come from texts kept between writes (status_files.h, status_cache.h).
 */
static int write_status(FILE *f, struct kd_daemon *d)
{
	json_t *head = report_head(d), *tail = report_tail(d);
	char *h = json_dumps(head, JSON_COMPACT), *t = json_dumps(tail, JSON_COMPACT);
	const char *files = kd_status_files_text(&d->status_files, &d->files);
	size_t hl = h ? strlen(h) : 0, tl = t ? strlen(t) : 0;
	int err = 0;

	json_decref(head);
	json_decref(tail);
	if (hl < 3 || tl < 3 || !files)
		err = -ENOMEM;	/* both have members: only json_dumps failing makes them shorter */
	if (!err) {
		kd_status_cache_update(&d->status_cache, &d->desired, &d->results);
		h[hl - 1] = '\0';	/* their closing braces, and the tail's opening one */
		t[tl - 1] = '\0';
		if (fprintf(f, "%s,\"files\":%s,%s,\"services\":[", h, files, t + 1) < 0)
			err = -errno;
	}
	if (!err)
		err = kd_status_cache_print(&d->status_cache, f);
	if (!err && fputs("]}\n", f) == EOF)
		err = -errno;
	free(h);
	free(t);
	return err;
}

void kd_report_write(struct kd_daemon *d)
{
	char tmp[PATH_MAX + 8];
	FILE *f;
	int err;

	if (!d->status_path[0])
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", d->status_path);
	f = fopen(tmp, "w");
	/* Megabytes at 10,000 services: in writes of 1 MiB, not of stdio's 4 KiB. */
	if (f)
		setvbuf(f, NULL, _IOFBF, 1 << 20);
	err = f ? write_status(f, d) : -errno;
	if (f && fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, d->status_path))
		err = -errno;
	if (err) {
		pr_warn("cannot write the status file %s: %s", d->status_path, strerror(-err));
		unlink(tmp);
	}
}

void kd_report_paced(struct kd_daemon *d)
{
	if (kd_pace_ask(&d->status_pace, kd_mono_ms()))
		kd_report_write(d);
}
