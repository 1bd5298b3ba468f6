// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The plain path's conntrack lifecycle as it stands: timeouts in force, sweeper figures. */
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>
#include "internal.h"
#include "kanary/ct_expiry.h"

int kanary_ct_lifecycle_read(struct kanary_maps *m, struct kanary_ct_lifecycle *out,
			     struct kanary_err *e)
{
	struct kanary_ct_settings cs;
	struct kanary_ct_sweeper sw;
	__u32 key = 0;

	memset(out, 0, sizeof(*out));
	if (bpf_map_lookup_elem(m->ct_settings, &key, &cs))
		return kanary_errf(e, errno, "cannot read %s: %s", KANARY_MAP_CT_SETTINGS,
				   strerror(errno));
	/* The timer's own bytes read as zeros; the figures beside it are plain. */
	if (bpf_map_lookup_elem(m->ct_sweeper, &key, &sw))
		return kanary_errf(e, errno, "cannot read %s: %s", KANARY_MAP_CT_SWEEPER,
				   strerror(errno));
	out->linger_ms = cs.linger_ms ? cs.linger_ms : KANARY_CT_LINGER_MS;
	out->syn_timeout_ms = cs.syn_timeout_ms ? cs.syn_timeout_ms : KANARY_CT_SYN_TIMEOUT_MS;
	out->sweeps = sw.ticks;
	out->sweep_max_ns = sw.max_tick_ns;
	return 0;
}
