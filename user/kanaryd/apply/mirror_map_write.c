// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <string.h>
#include "apply/mirror_map_write.h"
#include "apply/service_write.h"

bool kd_mirror_committed(const struct kd_desired_service *d, const struct kanary_svc_config *cfg,
			 struct kanary_mirror_cfg *out)
{
	memset(out, 0, sizeof(*out));
	for (__u32 i = 0; i < d->nsub; i++) {
		int j;
		bool any = d->mirror_ppm[i] != 0;

		for (int k = 0; k < KANARY_RULES_MAX; k++)
			any |= d->rule_mirror_ppm[k][i] != 0;
		if (!any)
			continue;
		j = kd_committed_subset(cfg, d->sub[i].name);
		if (j < 0)
			return false;
		out->ppm[j] = d->mirror_ppm[i];
		/* The rules go to the map in the desired order: rule k is rule k there. */
		for (int k = 0; k < KANARY_RULES_MAX; k++)
			out->rule_ppm[k][j] = d->rule_mirror_ppm[k][i];
	}
	return true;
}

bool kd_mirror_in_maps(struct kanary_maps *m, const struct kd_desired_service *d,
		       const struct kanary_service *s)
{
	struct kanary_mirror_cfg have, want;
	struct kanary_err e = { "" };

	return !kanary_mirror_get(m, s->id, &have, &e) && kd_mirror_committed(d, &s->cfg, &want) &&
	       memcmp(&have, &want, sizeof(have)) == 0;
}

int kd_mirror_apply(struct kanary_maps *m, const struct kd_desired_service *d,
		    const struct kanary_service *s, struct kanary_err *e)
{
	struct kanary_mirror_cfg cfg;

	if (!kd_mirror_committed(d, &s->cfg, &cfg))
		return kanary_errf(e, EINVAL, "a mirror of %s names a subset the committed service lacks",
				   d->name);
	return kanary_mirror_write(m, s, &cfg, e);
}
