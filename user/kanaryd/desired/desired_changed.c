// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Two desired states, both sorted by name, compared in one merge walk. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/arena.h"
#include "base/sorted_names.h"
#include "desired/desired_changed.h"

void kd_changes_add(struct kd_changes *c, const char *name)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->names = kd_xrealloc(c->names, c->cap, sizeof(c->names[0]));
	}
	snprintf(c->names[c->n++], KANARY_NAME_LEN, "%s", name);
}

static bool same_text(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* What reconcile would do with it differs: written content, held or not, and why. */
bool kd_desired_service_differs(const struct kd_desired_service *a, const struct kd_desired_service *b)
{
	return a->hash != b->hash || a->hold != b->hold || !same_text(a->problem, b->problem);
}

void kd_desired_changed(const struct kd_desired *before, const struct kd_desired *after,
			struct kd_changes *out)
{
	size_t i = 0, j = 0;

	memset(out, 0, sizeof(*out));
	while (i < before->n || j < after->n) {
		int cmp = i == before->n ? 1 : j == after->n ? -1 :
			  strcmp(before->v[i].name, after->v[j].name);

		if (cmp < 0) {			/* removed */
			out->structural = true;
			kd_changes_add(out, before->v[i++].name);
		} else if (cmp > 0) {		/* added */
			out->structural = true;
			kd_changes_add(out, after->v[j++].name);
		} else {
			if (memcmp(&before->v[i].key, &after->v[j].key, sizeof(after->v[j].key)))
				out->structural = true;
			if (kd_desired_service_differs(&before->v[i], &after->v[j]))
				kd_changes_add(out, after->v[j].name);
			i++;
			j++;
		}
	}
}

bool kd_changes_has(const struct kd_changes *c, const char *name)
{
	return kd_sorted_find(c->names, c->n, sizeof(c->names[0]), 0, name) != NULL;
}

void kd_changes_free(struct kd_changes *c)
{
	free(c->names);
	memset(c, 0, sizeof(*c));
}
