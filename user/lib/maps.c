// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Opening the pinned maps, checking their layout, and the instance lock. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <bpf/bpf.h>
#include "internal.h"
#include "kanary/rules.h"
#include "kanary/handoff.h"
#include "kanary/http_stats.h"
#include "kanary/tcp_stats.h"
#include "kanary/mirror.h"
#include "kanary/ct_expiry.h"

const struct kanary_map_spec kanary_map_specs[] = {
	{ KANARY_MAP_SERVICES, BPF_MAP_TYPE_HASH,
	  sizeof(struct kanary_svc_key), sizeof(struct kanary_svc_ref), false, 0 },
	{ KANARY_MAP_CONFIGS, BPF_MAP_TYPE_ARRAY,
	  sizeof(__u32), sizeof(struct kanary_svc_config), false, 0 },
	{ KANARY_MAP_BACKENDS, BPF_MAP_TYPE_HASH,
	  sizeof(struct kanary_backend_key), sizeof(struct kanary_backend), false, 0 },
	{ KANARY_MAP_MAGLEV, BPF_MAP_TYPE_HASH,
	  sizeof(struct kanary_maglev_key), sizeof(struct kanary_maglev), false, 0 },
	{ KANARY_MAP_CT, BPF_MAP_TYPE_LRU_HASH,
	  sizeof(struct kanary_ct_key), sizeof(struct kanary_ct_entry), false, 0 },
	{ KANARY_MAP_CT_NEW, BPF_MAP_TYPE_LRU_HASH,
	  sizeof(struct kanary_ct_key), sizeof(struct kanary_ct_entry), false, 0 },
	{ KANARY_MAP_CT_ENDQ, BPF_MAP_TYPE_QUEUE, 0, sizeof(struct kanary_ct_expiry), false, 0 },
	{ KANARY_MAP_CT_SYNQ, BPF_MAP_TYPE_QUEUE, 0, sizeof(struct kanary_ct_expiry), false, 0 },
	{ KANARY_MAP_CT_SWEEPER, BPF_MAP_TYPE_ARRAY,
	  sizeof(__u32), sizeof(struct kanary_ct_sweeper), true, 1 },
	{ KANARY_MAP_CT_SETTINGS, BPF_MAP_TYPE_ARRAY,
	  sizeof(__u32), sizeof(struct kanary_ct_settings), true, 1 },
	{ KANARY_MAP_STATS, BPF_MAP_TYPE_PERCPU_ARRAY,
	  sizeof(__u32), sizeof(struct kanary_subset_stats), false, 0 },
	{ KANARY_MAP_COUNTERS, BPF_MAP_TYPE_PERCPU_ARRAY,
	  sizeof(__u32), sizeof(__u64), true, KANARY_CNT_SLOTS },
	{ KANARY_MAP_GLOBALS, BPF_MAP_TYPE_ARRAY,
	  sizeof(__u32), sizeof(struct kanary_globals), true, 1 },
	{ KANARY_MAP_RULES, BPF_MAP_TYPE_HASH,
	  sizeof(__u32), sizeof(struct kanary_rules), false, 0 },
	{ KANARY_MAP_HANDOFF, BPF_MAP_TYPE_LRU_HASH,
	  sizeof(struct kanary_ct_key), sizeof(struct kanary_ho_entry), false, 0 },
	{ KANARY_MAP_HANDSHAKE, BPF_MAP_TYPE_LRU_HASH,
	  sizeof(struct kanary_ct_key), sizeof(struct kanary_ho_entry), false, 0 },
	{ KANARY_MAP_HO_SOURCES, BPF_MAP_TYPE_LRU_HASH, sizeof(__be32), sizeof(__u64), true,
	  KANARY_HO_SOURCES },
	{ KANARY_MAP_HO_SETTINGS, BPF_MAP_TYPE_ARRAY,
	  sizeof(__u32), sizeof(struct kanary_ho_settings), true, 1 },
	{ KANARY_MAP_HO_DETECT, BPF_MAP_TYPE_QUEUE, 0, sizeof(struct kanary_ho_detect), false, 0 },
	{ KANARY_MAP_STASH, BPF_MAP_TYPE_LRU_HASH,
	  sizeof(struct kanary_ct_key), sizeof(struct kanary_stash), true,
	  KANARY_DEFAULT_STASH_SLOTS },
	{ KANARY_MAP_HO_STATS, BPF_MAP_TYPE_PERCPU_ARRAY,
	  sizeof(__u32), sizeof(struct kanary_ho_stats), false, 0 },
	{ KANARY_MAP_HTTP_STATS, BPF_MAP_TYPE_ARRAY,
	  sizeof(__u32), sizeof(struct kanary_http_stats), false, 0 },
	{ KANARY_MAP_TCP_STATS, BPF_MAP_TYPE_PERCPU_ARRAY,
	  sizeof(__u32), sizeof(struct kanary_tcp_stats), false, 0 },
	{ KANARY_MAP_MIRROR, BPF_MAP_TYPE_HASH,
	  sizeof(__u32), sizeof(struct kanary_mirror_cfg), false, 0 },
	{ KANARY_MAP_MIRROR_BUF, BPF_MAP_TYPE_RINGBUF, 0, 0, true, KANARY_MIRROR_RING },
	{ KANARY_MAP_MIRROR_COPY, BPF_MAP_TYPE_PERCPU_ARRAY,
	  sizeof(__u32), sizeof(struct kanary_mirror_copy_stats), false, 0 },
	{ KANARY_MAP_MIRROR_RELAY, BPF_MAP_TYPE_ARRAY,
	  sizeof(__u32), sizeof(struct kanary_mirror_relay_stats), false, 0 },
	{ KANARY_MAP_MIRROR_DIFF, BPF_MAP_TYPE_LRU_HASH, sizeof(struct kanary_mirror_diff_key),
	  sizeof(__u64), true, KANARY_MIRROR_DIFF_ENTRIES },
};
const int kanary_n_map_specs = sizeof(kanary_map_specs) / sizeof(kanary_map_specs[0]);

static const char *not_loaded_fmt =
	"kanary is not loaded at %s (no %s): run 'kanaryctl load'";

int kanary_pinned_map_open(const char *pin, const struct kanary_map_spec *spec,
			   __u32 *max_entries, struct kanary_err *e)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	int fd, err;

	err = kanary_pin_join(path, sizeof(path), pin, spec->name, e);
	if (err)
		return err;
	fd = bpf_obj_get(path);
	if (fd < 0) {
		err = -errno;
		if (err == -ENOENT)
			return -ENOENT;
		return kanary_errf(e, -err, "cannot open pinned map %s: %s", path, strerror(-err));
	}
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		err = -errno;
		close(fd);
		return kanary_errf(e, -err, "%s is not a BPF map: %s", path, strerror(-err));
	}
	if (info.type != spec->type || info.key_size != spec->key_size ||
	    info.value_size != spec->value_size ||
	    (spec->fixed_entries && info.max_entries != spec->max_entries)) {
		close(fd);
		return kanary_errf(e, EPROTO,
				   "pinned map %s has an old or foreign layout (type %u, key %u bytes, "
				   "value %u bytes, %u entries; expected type %u, key %u, value %u): "
				   "remove it with 'kanaryctl unload' or rm, then load again",
				   path, info.type, info.key_size, info.value_size, info.max_entries,
				   spec->type, spec->key_size, spec->value_size);
	}
	if (max_entries)
		*max_entries = info.max_entries;
	return fd;
}

int kanary_lock(const char *pin, struct kanary_err *e)
{
	int fd, err;

	fd = open(pin, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		if (err == ENOENT)
			return kanary_errf(e, ENOENT,
					   "kanary is not loaded at %s (no such directory): run 'kanaryctl load'",
					   pin);
		return kanary_errf(e, err, "cannot open pin directory %s: %s", pin, strerror(err));
	}
	/* Blocks until another kanaryctl or kanaryd finishes its change. */
	while (flock(fd, LOCK_EX) < 0) {
		if (errno == EINTR)
			continue;
		err = errno;
		close(fd);
		return kanary_errf(e, err, "cannot lock %s: %s", pin, strerror(err));
	}
	return fd;
}

int kanary_maps_open(struct kanary_maps *m, const char *pin_path, struct kanary_err *e)
{
	int *fds[] = { &m->svc, &m->cfg, &m->be, &m->mag, &m->ct, &m->ct_new, &m->ct_endq, &m->ct_synq,
		       &m->ct_sweeper, &m->ct_settings, &m->stats, &m->counters, &m->globals, &m->rules, &m->handoff, &m->handshake, &m->ho_sources, &m->ho_settings, &m->ho_detect, &m->stash, &m->ho_stats, &m->http_stats,
		       &m->tcp_stats, &m->mirror, &m->mirror_buf, &m->mirror_copy, &m->mirror_relay,
		       &m->mirror_diff };
	__u32 cfg_entries = 0;
	int i, fd;

	_Static_assert(sizeof(fds) / sizeof(fds[0]) == sizeof(kanary_map_specs) /
		       sizeof(kanary_map_specs[0]), "one fd per map spec");
	memset(m, 0, sizeof(*m));
	for (i = 0; i < kanary_n_map_specs; i++)
		*fds[i] = -1;
	m->lock_fd = -1;
	if (strlen(pin_path) >= sizeof(m->pin_path))
		return kanary_errf(e, ENAMETOOLONG, "pin path '%s' is too long", pin_path);
	strcpy(m->pin_path, pin_path);

	fd = kanary_lock(pin_path, e);
	if (fd < 0)
		return fd;
	m->lock_fd = fd;
	for (i = 0; i < kanary_n_map_specs; i++) {
		fd = kanary_pinned_map_open(pin_path, &kanary_map_specs[i],
					    fds[i] == &m->cfg ? &cfg_entries : NULL, e);
		if (fd == -ENOENT) {
			char path[PATH_MAX];

			kanary_pin_join(path, sizeof(path), pin_path, kanary_map_specs[i].name, NULL);
			kanary_errf(e, ENOENT, not_loaded_fmt, pin_path, path);
		}
		if (fd < 0) {
			kanary_maps_close(m);
			return fd;
		}
		*fds[i] = fd;
	}
	m->max_services = cfg_entries / 2;
	return 0;
}

int kanary_map_open(const char *pin_path, const char *name, struct kanary_err *e)
{
	int fd;

	for (int i = 0; i < kanary_n_map_specs; i++) {
		if (strcmp(kanary_map_specs[i].name, name))
			continue;
		fd = kanary_pinned_map_open(pin_path, &kanary_map_specs[i], NULL, e);
		if (fd == -ENOENT) {
			char path[PATH_MAX];

			kanary_pin_join(path, sizeof(path), pin_path, name, NULL);
			kanary_errf(e, ENOENT, not_loaded_fmt, pin_path, path);
		}
		return fd;
	}
	return kanary_errf(e, EINVAL, "kanary has no map named %s", name);
}

void kanary_maps_close(struct kanary_maps *m)
{
	int *fds[] = { &m->svc, &m->cfg, &m->be, &m->mag, &m->ct, &m->ct_new, &m->ct_endq, &m->ct_synq,
		       &m->ct_sweeper, &m->ct_settings, &m->stats, &m->counters, &m->globals, &m->rules, &m->handoff, &m->handshake, &m->ho_sources, &m->ho_settings, &m->ho_detect, &m->stash, &m->ho_stats, &m->http_stats,
		       &m->tcp_stats, &m->mirror, &m->mirror_buf, &m->mirror_copy, &m->mirror_relay,
		       &m->mirror_diff, &m->lock_fd };

	if (m->lock_fd >= 0)	/* still the one writer: the slots can be freed */
		kanary_slots_release(m, NULL);
	free(m->retired);
	m->retired = NULL;
	m->n_retired = m->cap_retired = 0;
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
	free(m->index);		/* one allocation: see name_index.c */
	m->index = NULL;
}
