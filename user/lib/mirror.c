// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Traffic mirroring's settings and counts in the pinned maps (include/kanary/mirror.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "internal.h"
#include "rule_set.h"

const char *const kanary_mirror_drop_names[KANARY_MIRROR_DROP__MAX] = {
	[KANARY_MIRROR_DROP_INCOMPLETE]	= "incomplete",
	[KANARY_MIRROR_DROP_TOO_LARGE]	= "too_large",
	[KANARY_MIRROR_DROP_UNFRAMED]	= "unframed",
	[KANARY_MIRROR_DROP_NO_BACKEND]	= "no_backend",
	[KANARY_MIRROR_DROP_BUSY]	= "busy",
};

int kanary_mirror_get(struct kanary_maps *m, __u32 svc_id, struct kanary_mirror_cfg *cfg,
		      struct kanary_err *e)
{
	memset(cfg, 0, sizeof(*cfg));
	if (bpf_map_lookup_elem(m->mirror, &svc_id, cfg) && errno != ENOENT)
		return kanary_errf(e, errno, "cannot read the mirrors of service id %u: %s", svc_id,
				   strerror(errno));
	return 0;
}

__u32 *kanary_mirror_share(struct kanary_mirror_cfg *cfg, int route, int subset)
{
	subset &= KANARY_MAX_SUBSETS - 1;
	if (route >= 0 && route < KANARY_RULES_MAX)
		return &cfg->rule_ppm[route][subset];
	return &cfg->ppm[subset];
}

__u32 kanary_mirror_share_max(const struct kanary_mirror_cfg *cfg, int subset)
{
	__u32 max;

	if (subset < 0 || subset >= KANARY_MAX_SUBSETS)
		return 0;
	max = cfg->ppm[subset];
	for (int r = 0; r < KANARY_RULES_MAX; r++)
		if (cfg->rule_ppm[r][subset] > max)
			max = cfg->rule_ppm[r][subset];
	return max;
}

int kanary_mirror_write(struct kanary_maps *m, const struct kanary_service *s,
			const struct kanary_mirror_cfg *cfg, struct kanary_err *e)
{
	bool any = false;
	int err;

	for (int i = 0; i < KANARY_MAX_SUBSETS; i++)
		any |= kanary_mirror_share_max(cfg, i) != 0;
	if (any)
		err = bpf_map_update_elem(m->mirror, &s->id, cfg, BPF_ANY) ? errno : 0;
	else
		err = bpf_map_delete_elem(m->mirror, &s->id) && errno != ENOENT ? errno : 0;
	if (err == E2BIG || err == ENOMEM)
		return kanary_errf(e, ENOSPC, "the mirror map %s is full", KANARY_MAP_MIRROR);
	if (err)
		return kanary_errf(e, err, "cannot write the mirrors of service %s: %s", s->cfg.name,
				   strerror(err));
	return 0;
}

/* Reads service and its mirrors, and finds subset in it (-1 for none); heap s for the caller. */
static int mirror_load(struct kanary_maps *m, const char *service, const char *subset,
		       struct kanary_service **s, struct kanary_mirror_cfg *cfg, int *sub,
		       struct kanary_err *e)
{
	int err;

	*s = malloc(sizeof(**s));
	if (!*s)
		return kanary_errf(e, ENOMEM, "out of memory");
	err = kanary_service_get(m, service, *s, e);
	if (!err)
		err = kanary_mirror_get(m, (*s)->id, cfg, e);
	*sub = -1;
	if (!err && subset) {
		*sub = kanary_subset_find(*s, subset, false, e);
		if (*sub < 0)
			err = *sub;
	}
	return err;
}

/* route names one of s's rules (or the split); else an error. */
static int mirror_route_check(struct kanary_maps *m, const struct kanary_service *s, int route,
			      struct kanary_err *e)
{
	struct kanary_rules *rs;
	__u32 n;
	int err;

	if (route == KANARY_MIRROR_SPLIT || route == KANARY_MIRROR_EVERY_ROUTE)
		return 0;
	rs = malloc(sizeof(*rs));
	if (!rs)
		return kanary_errf(e, ENOMEM, "out of memory");
	err = kanary_rules_read(m, s, rs, NULL, e);
	n = err ? 0 : rs->n_rules;
	free(rs);
	if (err)
		return err;
	if (route < 0 || (__u32)route >= n)
		return kanary_errf(e, ENOENT, "service %s has %u rule%s: no rule %d (see 'kanaryctl "
				   "route list %s')", s->cfg.name, n, n == 1 ? "" : "s", route + 1,
				   s->cfg.name);
	return 0;
}

int kanary_mirror_set(struct kanary_maps *m, const char *service, const char *subset, int route,
		      __u32 ppm, struct kanary_err *e)
{
	struct kanary_mirror_cfg cfg;
	struct kanary_service *s;
	int sub, err;

	if (ppm < 1 || ppm > KANARY_MIRROR_PPM_MAX)
		return kanary_errf(e, ERANGE, "a mirror's share must be above 0 and at most 100 %%");
	if (route == KANARY_MIRROR_EVERY_ROUTE)
		return kanary_errf(e, EINVAL, "a mirror is set on one route");
	err = mirror_load(m, service, subset, &s, &cfg, &sub, e);
	if (!err)
		err = mirror_route_check(m, s, route, e);
	if (!err) {
		*kanary_mirror_share(&cfg, route, sub) = ppm;
		err = kanary_mirror_write(m, s, &cfg, e);
	}
	free(s);
	return err;
}

/* Clears subset's share on route (or every route) in cfg; false when it had none there. */
static bool mirror_clear_share(struct kanary_mirror_cfg *cfg, int route, int sub)
{
	bool had = false;

	for (int r = KANARY_MIRROR_SPLIT; r < KANARY_RULES_MAX; r++) {
		__u32 *ppm = kanary_mirror_share(cfg, r, sub);

		if (route != KANARY_MIRROR_EVERY_ROUTE && r != route)
			continue;
		had |= *ppm != 0;
		*ppm = 0;
	}
	return had;
}

int kanary_mirror_del(struct kanary_maps *m, const char *service, const char *subset, int route,
		      struct kanary_err *e)
{
	struct kanary_mirror_cfg cfg;
	struct kanary_service *s;
	int sub, err;

	err = mirror_load(m, service, subset, &s, &cfg, &sub, e);
	if (!err && sub >= 0 && !mirror_clear_share(&cfg, route, sub)) {
		if (route == KANARY_MIRROR_EVERY_ROUTE || route == KANARY_MIRROR_SPLIT)
			err = kanary_errf(e, ENOENT, "service %s does not mirror to subset %s%s",
					  service, subset,
					  route == KANARY_MIRROR_SPLIT ? " on its split" : "");
		else
			err = kanary_errf(e, ENOENT, "service %s does not mirror rule %d to subset %s",
					  service, route + 1, subset);
	}
	if (!err) {
		if (sub < 0)
			memset(&cfg, 0, sizeof(cfg));
		err = kanary_mirror_write(m, s, &cfg, e);
	}
	free(s);
	return err;
}

int kanary_mirror_rules_hold(struct kanary_maps *m, const struct kanary_service *s, __u32 from,
			     struct kanary_mirror_cfg *saved, struct kanary_err *e)
{
	struct kanary_mirror_cfg held;
	int err = kanary_mirror_get(m, s->id, saved, e);

	if (err || from >= KANARY_RULES_MAX)
		return err;
	held = *saved;
	memset(&held.rule_ppm[from], 0, (KANARY_RULES_MAX - from) * sizeof(held.rule_ppm[0]));
	if (!memcmp(&held, saved, sizeof(held)))
		return 0;
	return kanary_mirror_write(m, s, &held, e);
}

int kanary_mirror_rule_removed(struct kanary_maps *m, const struct kanary_service *s, __u32 at,
			       const struct kanary_mirror_cfg *saved, struct kanary_err *e)
{
	struct kanary_mirror_cfg cfg = *saved;

	if (at < KANARY_RULES_MAX) {
		memmove(&cfg.rule_ppm[at], &cfg.rule_ppm[at + 1],
			(KANARY_RULES_MAX - 1 - at) * sizeof(cfg.rule_ppm[0]));
		memset(&cfg.rule_ppm[KANARY_RULES_MAX - 1], 0, sizeof(cfg.rule_ppm[0]));
	}
	return kanary_mirror_write(m, s, &cfg, e);
}

int kanary_mirror_clear(struct kanary_maps *m, __u32 svc_id, struct kanary_err *e)
{
	struct kanary_mirror_relay_stats relay = {};
	struct kanary_mirror_copy_stats *copy;
	int n = libbpf_num_possible_cpus(), err = 0;

	if (bpf_map_delete_elem(m->mirror, &svc_id) && errno != ENOENT)
		return kanary_errf(e, errno, "cannot remove the mirrors of service id %u: %s",
				   svc_id, strerror(errno));
	if (n < 1)
		return kanary_errf(e, -n, "cannot count the CPUs: %s", strerror(-n));
	copy = calloc((size_t)n, sizeof(*copy));
	if (!copy)
		return kanary_errf(e, ENOMEM, "out of memory");
	if (bpf_map_update_elem(m->mirror_copy, &svc_id, copy, BPF_ANY))
		err = errno;
	for (__u32 i = 0; i < KANARY_MAX_SUBSETS && !err; i++) {
		__u32 key = KANARY_STATS_INDEX(svc_id, i);

		if (bpf_map_update_elem(m->mirror_relay, &key, &relay, BPF_ANY))
			err = errno;
	}
	free(copy);
	if (err)
		return kanary_errf(e, err, "cannot reset the mirror counts of service id %u: %s",
				   svc_id, strerror(err));
	return kanary_mirror_diff_clear(m, svc_id, e);
}

int kanary_mirror_copy_stats_read(struct kanary_maps *m, __u32 svc_id,
				  struct kanary_mirror_copy_stats *sum, struct kanary_err *e)
{
	return kanary_percpu_sum(m->mirror_copy, &svc_id, sum, sizeof(*sum),
				 "the mirror copy counts", e);
}

int kanary_mirror_relay_stats_read(int relay_fd, __u32 svc_id, __u32 subset,
				   struct kanary_mirror_relay_stats *out, struct kanary_err *e)
{
	__u32 key = KANARY_STATS_INDEX(svc_id, subset);

	memset(out, 0, sizeof(*out));
	if (bpf_map_lookup_elem(relay_fd, &key, out))
		return kanary_errf(e, errno, "cannot read the mirror relay counts: %s",
				   strerror(errno));
	return 0;
}

int kanary_parse_percent(const char *s, __u32 *ppm, struct kanary_err *e)
{
	unsigned long long v = 0;

	int err = kanary_parse_fixed(s, 4, KANARY_MIRROR_PPM_MAX, &v);

	if (!err && v) {
		*ppm = (__u32)v;
		return 0;
	}
	switch (err) {
	case 0:		/* 0 %: no mirror, which is mirror del */
	case -ERANGE:
		return kanary_errf(e, ERANGE,
				   "percentage '%s' is out of range: expected above 0 and at most 100", s);
	case -EDOM:
		return kanary_errf(e, EINVAL,
				   "percentage '%s' has more than 4 decimals: expected e.g. 10, 0.5 or 0.0001",
				   s);
	}
	return kanary_errf(e, EINVAL,
			   "'%s' is not a percentage: expected a number above 0 and at most 100 with at most 4 decimals, e.g. 10 or 0.5",
			   s ? s : "");
}

void kanary_percent_format(char *buf, size_t len, __u32 ppm)
{
	__u32 whole = ppm / 10000, frac = ppm % 10000;
	int digits = 4;

	if (!frac) {
		snprintf(buf, len, "%u", whole);
		return;
	}
	while (frac % 10 == 0) {
		frac /= 10;
		digits--;
	}
	snprintf(buf, len, "%u.%0*u", whole, digits, frac);
}
