// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Where the mirrors are: each mirror subset's backends, read from the maps
 * (under the instance lock, briefly) once a second, so a pod added to or
 * removed from a mirror subset is followed without a restart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "relay.h"

struct target {
	uint32_t svc_id;
	int subset;
	uint32_t n, next;	/* backends, and the round robin's position */
	struct kanary_backend be[KANARY_MAX_BACKENDS];
};

static struct target *targets;
static size_t n_targets;

static struct target *target_of(uint32_t svc_id, int subset)
{
	for (size_t i = 0; i < n_targets; i++)
		if (targets[i].svc_id == svc_id && targets[i].subset == subset)
			return &targets[i];
	return NULL;
}

struct collect {
	struct kanary_maps *m;
	struct target *t;
	size_t n, cap;
	bool failed;
};

static int collect_one(const struct kanary_service *s, void *ctx)
{
	struct collect *c = ctx;
	struct kanary_mirror_cfg cfg;
	struct kanary_err e = {};

	if (kanary_mirror_get(c->m, s->id, &cfg, &e)) {
		fprintf(stderr, "kanary-mirror: %s\n", e.msg);
		c->failed = true;
		return 1;
	}
	for (__u32 i = 0; i < s->cfg.n_subsets && i < KANARY_MAX_SUBSETS; i++) {
		struct target *t;

		if (!kanary_mirror_share_max(&cfg, (int)i))
			continue;
		if (c->n == c->cap) {
			size_t cap = c->cap ? 2 * c->cap : 4;
			struct target *nt = realloc(c->t, cap * sizeof(*nt));

			if (!nt) {
				c->failed = true;
				return 1;
			}
			c->t = nt;
			c->cap = cap;
		}
		t = &c->t[c->n++];
		t->svc_id = s->id;
		t->subset = (int)i;
		t->next = 0;
		t->n = s->cfg.subsets[i].n_backends;
		if (t->n > KANARY_MAX_BACKENDS)
			t->n = KANARY_MAX_BACKENDS;
		memcpy(t->be, s->backends[i], t->n * sizeof(t->be[0]));
	}
	return 0;
}

void targets_refresh(const char *pin_path)
{
	struct collect c = {};
	struct kanary_err e = {};
	struct kanary_maps m;

	if (kanary_maps_open(&m, pin_path, &e)) {
		fprintf(stderr, "kanary-mirror: %s (keeping the mirrors known)\n", e.msg);
		return;
	}
	c.m = &m;
	if (kanary_service_foreach(&m, collect_one, &c, &e) || c.failed) {
		if (!c.failed)
			fprintf(stderr, "kanary-mirror: %s (keeping the mirrors known)\n", e.msg);
		free(c.t);
	} else {
		/* The round robin goes on where it was for the subsets still there. */
		for (size_t i = 0; i < c.n; i++) {
			struct target *old = target_of(c.t[i].svc_id, c.t[i].subset);

			if (old)
				c.t[i].next = old->next;
		}
		free(targets);
		targets = c.t;
		n_targets = c.n;
	}
	kanary_maps_close(&m);
}

bool targets_known(uint32_t svc_id, int subset)
{
	return target_of(svc_id, subset) != NULL;
}

bool targets_pick(uint32_t svc_id, int subset, union kanary_addr *addr, __be16 *port)
{
	struct target *t = target_of(svc_id, subset);

	if (!t || !t->n)
		return false;
	t->next %= t->n;
	*addr = t->be[t->next].addr;
	*port = t->be[t->next].port;
	t->next++;
	return true;
}
