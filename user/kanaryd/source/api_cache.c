// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The API source's cache: its lock, its change signal, and what it says of itself. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "base/clock.h"
#include "base/log.h"
#include "source/api_cache.h"

void kd_kube_lock(struct kd_kube *k)
{
	pthread_mutex_lock(&k->lock);
}

void kd_kube_unlock(struct kd_kube *k)
{
	pthread_mutex_unlock(&k->lock);
}

void kd_kube_notify(struct kd_kube *k)
{
	uint64_t one = 1;

	if (!k->changed)
		k->event_ms = kd_mono_ms();
	k->changed = true;
	if (write(k->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		pr_warn("eventfd: %s", strerror(errno));
}

bool kd_kube_take_changed(struct kd_kube *k, long long *event_ms)
{
	bool c = k->changed;

	if (event_ms)
		*event_ms = c ? k->event_ms : 0;
	k->changed = false;
	return c;
}

bool kd_kube_synced(struct kd_kube *k, char *why, size_t len)
{
	size_t off = 0;

	for (int i = 0; i < KD_KUBE_NKINDS; i++)
		if (!k->kinds[i].synced && off < len)
			off += (size_t)snprintf(why + off, len - off, "%s%s", off ? ", " : "",
						k->kinds[i].resource);
	return off == 0;
}

void kd_kube_ack(struct kd_kube *k)
{
	uint64_t v;

	while (read(k->efd, &v, sizeof(v)) == sizeof(v))
		;
}

json_t *kd_kube_json(struct kd_kube *k)
{
	json_t *o = json_object(), *kinds_o = json_object();

	json_object_set_new(o, "server", json_string(k->cfg.server));
	json_object_set_new(o, "credentials", json_string(k->cfg.source));
	kd_kube_lock(k);
	for (int i = 0; i < KD_KUBE_NKINDS; i++) {
		struct kd_kube_kind *c = &k->kinds[i];
		json_t *bad = json_array();

		for (size_t j = 0; j < c->store.n; j++)
			if (c->store.v[j].error)
				json_array_append_new(bad, json_pack("{s:s, s:s, s:b}", "object",
					c->store.v[j].name, "error", c->store.v[j].error,
					"last_good_in_use", c->store.v[j].good != NULL));
		json_object_set_new(kinds_o, c->resource, json_pack(
			"{s:s, s:b, s:b, s:b, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o}",
			"api", c->api, "synced", c->synced, "served", !c->missing, "held", c->held,
			"resource_version", c->rv, "objects", (json_int_t)c->store.n,
			"lists", (json_int_t)c->st.lists, "events", (json_int_t)c->st.events,
			"bookmarks", (json_int_t)c->st.bookmarks,
			"watch_restarts", (json_int_t)c->st.restarts,
			"relists_410", (json_int_t)c->st.relists_410, "errors", (json_int_t)c->st.errors,
			"last_error", c->last_error ? json_string(c->last_error) : json_null(),
			"bad_objects", bad));
	}
	kd_kube_unlock(k);
	json_object_set_new(o, "kinds", kinds_o);
	return o;
}
