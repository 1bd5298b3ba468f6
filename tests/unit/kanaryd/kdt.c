// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "kdt.h"

const char *kdt_fixture(const char *name)
{
	static char path[4096];
	const char *dir = getenv(KDT_FIXTURES_ENV);

	if (!dir || !*dir)
		dir = KDT_FIXTURES_DEFAULT;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_msg(access(path, R_OK) == 0,
		      "fixture %s not found: run from the repository root or set %s", path,
		      KDT_FIXTURES_ENV);
	return path;
}

char *kdt_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert(buf != NULL);
	ck_assert_int_eq(fread(buf, 1, (size_t)n, f), n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

int kdt_marker_line(const char *name, const char *marker)
{
	size_t len;
	char *buf = kdt_read(kdt_fixture(name), &len), *hit = strstr(buf, marker);
	int line = 1;

	ck_assert_msg(hit != NULL, "fixture %s has no marker '%s'", name, marker);
	for (char *p = buf; p < hit; p++)
		line += *p == '\n';
	free(buf);
	return line;
}

int kdt_load_text(struct kdt_world *w, const char *file, const char *text)
{
	ck_assert_int_lt(w->n, KDT_MAX_SETS);
	w->ptr[w->n] = &w->sets[w->n];
	return kd_manifest_decode(file, text, strlen(text), w->ptr[w->n++], &w->diags);
}

int kdt_load(struct kdt_world *w, const char *fixture)
{
	const char *path = kdt_fixture(fixture);
	size_t len;
	char *buf = kdt_read(path, &len);
	int ret;

	ck_assert_int_lt(w->n, KDT_MAX_SETS);
	w->ptr[w->n] = &w->sets[w->n];
	ret = kd_manifest_decode(fixture, buf, len, w->ptr[w->n++], &w->diags);
	free(buf);
	return ret;
}

const char kdt_base_yaml[] =
	"apiVersion: v1\nkind: Service\nmetadata: {name: g, namespace: n}\n"
	"spec: {clusterIP: 10.96.0.50, selector: {app: g}, ports: [{name: http, port: 80}, {name: grpc, port: 9090}]}\n---\n"
	"apiVersion: v1\nkind: Pod\nmetadata: {name: p1, namespace: n, labels: {app: g, v: a}}\n"
	"status: {phase: Running, podIP: 10.1.0.1, conditions: [{type: Ready, status: 'True'}]}\n---\n"
	"apiVersion: v1\nkind: Pod\nmetadata: {name: p2, namespace: n, labels: {app: g, v: b}}\n"
	"status: {phase: Running, podIP: 10.1.0.2, conditions: [{type: Ready, status: 'True'}]}\n---\n"
	"apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: g, namespace: n}\n"
	"spec: {host: g, subsets: [{name: a, labels: {v: a}}, {name: b, labels: {v: b}}]}\n";

int kdt_load_vs(struct kdt_world *w, const char *vs_spec)
{
	char text[8192];

	ck_assert_int_lt(snprintf(text, sizeof(text), "apiVersion: networking.istio.io/v1\n"
				  "kind: VirtualService\nmetadata: {name: g, namespace: n}\nspec:\n%s",
				  vs_spec), (int)sizeof(text));
	ck_assert_int_eq(kdt_load_text(w, "base.yaml", kdt_base_yaml), 0);
	return kdt_load_text(w, "vs.yaml", text);
}

void kdt_build(struct kdt_world *w)
{
	if (w->built)
		kd_desired_free(&w->desired);
	kd_desired_build(w->ptr, w->n, NULL, &w->desired, &w->diags);
	w->built = true;
}

void kdt_free(struct kdt_world *w)
{
	for (size_t i = 0; i < w->n; i++)
		kd_objects_free(&w->sets[i]);
	if (w->built)
		kd_desired_free(&w->desired);
	kd_diags_free(&w->diags);
	memset(w, 0, sizeof(*w));
}

const struct kd_desired_service *kdt_service(struct kdt_world *w, const char *name)
{
	const struct kd_desired_service *s = kd_desired_find(&w->desired, name);

	if (!s) {
		fprintf(stderr, "no desired service %s; there are:", name);
		for (size_t i = 0; i < w->desired.n; i++)
			fprintf(stderr, " %s", w->desired.v[i].name);
		fputc('\n', stderr);
		kdt_dump(&w->diags);
	}
	ck_assert_msg(s != NULL, "no desired service '%s'", name);
	return s;
}

const struct kd_desired_subset *kdt_subset(const struct kd_desired_service *s, const char *name)
{
	for (__u32 i = 0; i < s->nsub; i++)
		if (strcmp(s->sub[i].name, name) == 0)
			return &s->sub[i];
	ck_abort_msg("service %s has no subset '%s'", s->name, name);
	return NULL;
}

bool kdt_has_backend(const struct kd_desired_subset *sub, const char *ipport)
{
	char buf[64];

	for (__u32 i = 0; i < sub->n; i++) {
		kanary_format_ipport(buf, sizeof(buf), &sub->be[i].addr, sub->be[i].port);
		if (strcmp(buf, ipport) == 0)
			return true;
	}
	return false;
}

bool kdt_diag(const struct kd_diags *d, enum kd_level level, ...)
{
	for (size_t i = 0; i < d->n; i++) {
		const char *needle;
		bool all = d->v[i].level == level;
		va_list ap;

		va_start(ap, level);
		while (all && (needle = va_arg(ap, const char *)))
			all = strstr(d->v[i].msg, needle) != NULL;
		va_end(ap);
		if (all)
			return true;
	}
	return false;
}

void kdt_dump(const struct kd_diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(stderr, "  [%s] %s\n", kd_level_name(d->v[i].level), d->v[i].msg);
}
