// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/arena.h"
#include "base/diag.h"

void kd_diag_addv(struct kd_diags *d, enum kd_level level, const char *fmt, va_list ap)
{
	char buf[1024];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 8;
		d->v = kd_xrealloc(d->v, d->cap, sizeof(*d->v));
	}
	d->v[d->n].level = level;
	d->v[d->n].msg = kd_xstrdup(buf);
	d->n++;
}

void kd_diag_add(struct kd_diags *d, enum kd_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kd_diag_addv(d, level, fmt, ap);
	va_end(ap);
}

size_t kd_diag_count(const struct kd_diags *d, enum kd_level level)
{
	size_t n = 0;

	for (size_t i = 0; i < d->n; i++)
		n += d->v[i].level == level;
	return n;
}

const char *kd_diag_first(const struct kd_diags *d, enum kd_level level)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].level == level)
			return d->v[i].msg;
	return NULL;
}

bool kd_diag_has(const struct kd_diags *d, const char *msg)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->v[i].msg, msg) == 0)
			return true;
	return false;
}

void kd_diag_log(const struct kd_diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		kd_log(d->v[i].level, "%s", d->v[i].msg);
}

void kd_diag_move(struct kd_diags *to, struct kd_diags *from)
{
	for (size_t i = 0; i < from->n; i++) {
		if (to->n == to->cap) {
			to->cap = to->cap ? to->cap * 2 : 8;
			to->v = kd_xrealloc(to->v, to->cap, sizeof(*to->v));
		}
		to->v[to->n++] = from->v[i];
	}
	free(from->v);
	memset(from, 0, sizeof(*from));
}

void kd_diag_copy(struct kd_diags *to, const struct kd_diags *from, enum kd_level level)
{
	for (size_t i = 0; i < from->n; i++)
		if (from->v[i].level <= level)
			kd_diag_add(to, from->v[i].level, "%s", from->v[i].msg);
}

void kd_diags_free(struct kd_diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].msg);
	free(d->v);
	memset(d, 0, sizeof(*d));
}
