// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Load and unload: bpffs, map sizing, pins, the hash seed, and moving live
 * attachments to freshly loaded programs.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "internal.h"
#include "kanary/ct_expiry.h"
#include "kanary/handoff.h"
#include "kanary/http_stats.h"
#include "kanary/rules.h"
#include "kanary/tcp_stats.h"
#include "kanary.skel.h"

#define BPFFS_ROOT		"/sys/fs/bpf"
#define MAX_CT_SIZE		(1u << 26)
#define MAX_SERVICES		(1u << 20)
#define MAX_BACKENDS		(1u << 24)

static bool verbose_libbpf;

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (!verbose_libbpf)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static bool on_bpffs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

static bool dir_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	bool empty = true;

	if (!d)
		return false;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			empty = false;
	closedir(d);
	return empty;
}

static int mkdir_p(const char *path, struct kanary_err *e)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len >= sizeof(buf))
		return kanary_errf(e, ENAMETOOLONG, "pin path '%s' is too long", path);
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(buf, c ? 0755 : 0700) && errno != EEXIST)
			return kanary_errf(e, errno, "cannot create %s: %s", buf, strerror(errno));
		if (!c)
			break;
		*p = c;
	}
	return 0;
}

static int mount_bpffs(const char *dir, struct kanary_err *e)
{
	if (mount("bpf", dir, "bpf", 0, "mode=0700"))
		return kanary_errf(e, errno, "cannot mount bpffs on %s: %s", dir, strerror(errno));
	return 0;
}

/*
 * The default pin dir lives in /sys/fs/bpf, mounted there if needed; any
 * other dir that is not on bpffs gets its own bpffs, but only when empty so
 * nothing is hidden.
 */
static int ensure_bpffs(const char *pin, struct kanary_err *e)
{
	int err;

	if (strcmp(pin, KANARY_PIN_PATH_DEFAULT) == 0 && !on_bpffs(BPFFS_ROOT)) {
		err = mount_bpffs(BPFFS_ROOT, e);
		if (err)
			return err;
	}
	err = mkdir_p(pin, e);
	if (err || on_bpffs(pin))
		return err;
	if (!dir_empty(pin))
		return kanary_errf(e, ENOTEMPTY,
				   "%s is not on a bpffs and is not empty: expected a bpffs directory or an empty one to mount bpffs on",
				   pin);
	return mount_bpffs(pin, e);
}

static int check_opts(const struct kanary_load_opts *o, __u32 *ct, __u32 *svc, __u32 *be,
		      struct kanary_err *e)
{
	*ct = o && o->ct_size ? o->ct_size : KANARY_DEFAULT_CT_SIZE;
	*svc = o && o->max_services ? o->max_services : KANARY_DEFAULT_MAX_SERVICES;
	*be = o && o->max_backends ? o->max_backends : KANARY_DEFAULT_MAX_BACKENDS;
	if (*ct > MAX_CT_SIZE)
		return kanary_errf(e, ERANGE, "ct-size %u is too large: expected 1-%u", *ct,
				   MAX_CT_SIZE);
	if (*svc > MAX_SERVICES)
		return kanary_errf(e, ERANGE, "max-services %u is too large: expected 1-%u", *svc,
				   MAX_SERVICES);
	if (*be > MAX_BACKENDS)
		return kanary_errf(e, ERANGE, "max-backends %u is too large: expected 1-%u", *be,
				   MAX_BACKENDS);
	if (o && o->ct_linger_ms > KANARY_CT_TIMEOUT_MAX_MS)
		return kanary_errf(e, ERANGE, "ct-linger %u ms is too long: expected 1-%u",
				   o->ct_linger_ms, KANARY_CT_TIMEOUT_MAX_MS);
	if (o && o->ct_syn_timeout_ms > KANARY_CT_TIMEOUT_MAX_MS)
		return kanary_errf(e, ERANGE, "ct-syn-timeout %u ms is too long: expected 1-%u",
				   o->ct_syn_timeout_ms, KANARY_CT_TIMEOUT_MAX_MS);
	return 0;
}

/* Existing pins decide the sizes, so reuse always matches. */
static int size_maps(struct kanary_bpf *skel, const char *pin, __u32 ct, __u32 svc, __u32 be,
		     struct kanary_err *e)
{
	for (int i = 0; i < kanary_n_map_specs; i++) {
		const struct kanary_map_spec *spec = &kanary_map_specs[i];
		struct bpf_map *map = bpf_object__find_map_by_name(skel->obj, spec->name);
		__u32 entries = 0;
		int fd, err;

		if (!map)
			return kanary_errf(e, ENOENT, "the BPF object has no map %s", spec->name);
		fd = kanary_pinned_map_open(pin, spec, &entries, e);
		if (fd >= 0) {
			close(fd);
		} else if (fd == -ENOENT) {
			if (!strcmp(spec->name, KANARY_MAP_CT))
				entries = ct;
			else if (!strcmp(spec->name, KANARY_MAP_CT_NEW))
				entries = kanary_ct_new_size(ct);
			else if (!strcmp(spec->name, KANARY_MAP_SERVICES))
				entries = svc;
			else if (!strcmp(spec->name, KANARY_MAP_CONFIGS))
				entries = 2 * svc;
			else if (!strcmp(spec->name, KANARY_MAP_STATS) ||
				 !strcmp(spec->name, KANARY_MAP_HTTP_STATS) ||
				 !strcmp(spec->name, KANARY_MAP_TCP_STATS) ||
				 !strcmp(spec->name, KANARY_MAP_MIRROR_RELAY))
				entries = svc * KANARY_MAX_SUBSETS;
			else if (!strcmp(spec->name, KANARY_MAP_BACKENDS))
				entries = be;
			else if (!strcmp(spec->name, KANARY_MAP_MAGLEV))
				entries = 2 * svc * KANARY_MAX_SUBSETS;
			else if (!strcmp(spec->name, KANARY_MAP_RULES) ||
				 !strcmp(spec->name, KANARY_MAP_HO_STATS) ||
				 !strcmp(spec->name, KANARY_MAP_MIRROR) ||
				 !strcmp(spec->name, KANARY_MAP_MIRROR_COPY))
				entries = svc;
			else if (!strcmp(spec->name, KANARY_MAP_HANDOFF))
				entries = kanary_handoff_size(ct);
			else if (!strcmp(spec->name, KANARY_MAP_HANDSHAKE))
				entries = kanary_handshake_size(ct);
			else if (!strcmp(spec->name, KANARY_MAP_HO_DETECT))
				entries = kanary_ho_detect_size(ct);
			else if (!strcmp(spec->name, KANARY_MAP_CT_ENDQ))
				entries = kanary_ct_endq_size(ct);
			else if (!strcmp(spec->name, KANARY_MAP_CT_SYNQ))
				entries = kanary_ct_synq_size(ct);
			else
				entries = spec->max_entries;
		} else {
			return fd;
		}
		err = bpf_map__set_max_entries(map, entries);
		if (err)
			return kanary_errf(e, -err, "cannot size map %s: %s", spec->name,
					   strerror(-err));
	}
	return 0;
}

/* This load's id: the sweeper's callback moves to the new program (lib/ct_expiry.h). */
static void set_load_id(struct kanary_bpf *skel)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	skel->rodata->kanary_load_id = ((__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec) | 1;
}

/* The lifecycle's timeouts that o names; those it leaves at 0 keep what is in force. */
static int set_ct_settings(struct kanary_bpf *skel, const struct kanary_load_opts *o,
			   struct kanary_err *e)
{
	int fd = bpf_map__fd(skel->maps.kanary_ctcfg_v1);
	struct kanary_ct_settings cs = {};
	__u32 key = 0;

	if (!o || (!o->ct_linger_ms && !o->ct_syn_timeout_ms))
		return 0;
	if (bpf_map_lookup_elem(fd, &key, &cs))
		return kanary_errf(e, errno, "cannot read %s: %s", KANARY_MAP_CT_SETTINGS,
				   strerror(errno));
	if (o->ct_linger_ms)
		cs.linger_ms = o->ct_linger_ms;
	if (o->ct_syn_timeout_ms)
		cs.syn_timeout_ms = o->ct_syn_timeout_ms;
	if (bpf_map_update_elem(fd, &key, &cs, BPF_ANY))
		return kanary_errf(e, errno, "cannot write %s: %s", KANARY_MAP_CT_SETTINGS,
				   strerror(errno));
	return 0;
}

/*
 * The per-source bound o names; with none, the one in force, and at first
 * the default for the handoff table's size (the pin's, once sized).
 */
static int set_ho_settings(struct kanary_bpf *skel, const struct kanary_load_opts *o,
			   struct kanary_err *e)
{
	int fd = bpf_map__fd(skel->maps.kanary_hocfg_v1);
	struct kanary_ho_settings hs = {};
	__u32 key = 0;

	if (bpf_map_lookup_elem(fd, &key, &hs))
		return kanary_errf(e, errno, "cannot read %s: %s", KANARY_MAP_HO_SETTINGS,
				   strerror(errno));
	if (o && o->ho_per_source)
		hs.per_source = o->ho_per_source;
	else if (hs.per_source)
		return 0;
	else
		hs.per_source = kanary_ho_per_source_default(bpf_map__max_entries(skel->maps.kanary_ho_v4));
	if (bpf_map_update_elem(fd, &key, &hs, BPF_ANY))
		return kanary_errf(e, errno, "cannot write %s: %s", KANARY_MAP_HO_SETTINGS,
				   strerror(errno));
	return 0;
}

/*
 * The seed is chosen once per instance; reloads keep flows on their
 * backends.  The HTTP accounting switch changes only when asked to.
 */
static int set_globals(struct kanary_bpf *skel, int http_stats, struct kanary_err *e)
{
	int fd = bpf_map__fd(skel->maps.kanary_glob_v1);
	struct kanary_globals g = {};
	__u32 key = 0, flags;

	if (bpf_map_lookup_elem(fd, &key, &g))
		return kanary_errf(e, errno, "cannot read %s: %s", KANARY_MAP_GLOBALS,
				   strerror(errno));
	flags = http_stats > 0 ? g.flags & ~KANARY_GLOBAL_F_NO_HTTP :
		http_stats < 0 ? g.flags | KANARY_GLOBAL_F_NO_HTTP : g.flags;
	if (g.hash_seed && flags == g.flags)
		return 0;
	g.flags = flags;
	while (!g.hash_seed)
		if (getrandom(&g.hash_seed, sizeof(g.hash_seed), 0) != sizeof(g.hash_seed))
			return kanary_errf(e, errno, "getrandom failed: %s", strerror(errno));
	if (bpf_map_update_elem(fd, &key, &g, BPF_ANY))
		return kanary_errf(e, errno, "cannot write %s: %s", KANARY_MAP_GLOBALS,
				   strerror(errno));
	return 0;
}

/* Pins of a kanary before Maglev: services, but no map of tables yet. */
static bool tables_missing(const char *pin)
{
	char svc[PATH_MAX], mag[PATH_MAX];

	return !kanary_pin_join(svc, sizeof(svc), pin, KANARY_MAP_SERVICES, NULL) &&
	       !kanary_pin_join(mag, sizeof(mag), pin, KANARY_MAP_MAGLEV, NULL) &&
	       access(svc, F_OK) == 0 && access(mag, F_OK) != 0;
}

/* Pin under a temporary name, then rename over the old pin: never a moment without one. */
static int pin_prog(struct bpf_program *prog, const char *pin, const char *name,
		    struct kanary_err *e)
{
	char tmp[PATH_MAX], path[PATH_MAX], tmpname[64];
	int err;

	snprintf(tmpname, sizeof(tmpname), "%s_new", name);	/* bpffs forbids dots */
	err = kanary_pin_join(path, sizeof(path), pin, name, e);
	if (!err)
		err = kanary_pin_join(tmp, sizeof(tmp), pin, tmpname, e);
	if (err)
		return err;
	unlink(tmp);
	err = bpf_program__pin(prog, tmp);
	if (err)
		return kanary_errf(e, -err, "cannot pin %s: %s", tmp, strerror(-err));
	if (rename(tmp, path)) {
		err = errno;
		unlink(tmp);
		return kanary_errf(e, err, "cannot replace %s: %s", path, strerror(err));
	}
	return 0;
}

int kanary_load(const char *pin_path, const struct kanary_load_opts *opts,
		struct kanary_err *e)
{
	LIBBPF_OPTS(bpf_object_open_opts, oopts, .pin_root_path = pin_path);
	libbpf_print_fn_t old_print;
	struct kanary_bpf *skel = NULL;
	__u32 ct, svc, be;
	bool backfill;
	int lock = -1, err;

	err = check_opts(opts, &ct, &svc, &be, e);
	if (err)
		return err;
	err = ensure_bpffs(pin_path, e);
	if (err)
		return err;
	lock = kanary_lock(pin_path, e);
	if (lock < 0)
		return lock;
	verbose_libbpf = opts && opts->verbose;
	old_print = libbpf_set_print(print_libbpf);
	backfill = tables_missing(pin_path);

	skel = kanary_bpf__open_opts(&oopts);
	if (!skel) {
		err = kanary_errf(e, errno, "cannot open the BPF object: %s", strerror(errno));
		goto out;
	}
	err = size_maps(skel, pin_path, ct, svc, be, e);
	if (err)
		goto out;
	set_load_id(skel);
	if (opts && opts->maps_only) {
		struct bpf_program *prog;

		bpf_object__for_each_program(prog, skel->obj)
			bpf_program__set_autoload(prog, false);
	}
	err = kanary_bpf__load(skel);
	if (err) {
		err = kanary_errf(e, -err,
				  "cannot load the BPF programs into the kernel: %s (run with -v to see libbpf's and the verifier's messages)",
				  strerror(-err));
		goto out;
	}
	err = set_globals(skel, opts ? opts->http_stats : 0, e);
	if (!err)
		err = set_ct_settings(skel, opts, e);
	if (!err)
		err = set_ho_settings(skel, opts, e);
	if (!err && opts && opts->maps_only)
		goto out;
	if (!err)
		err = pin_prog(skel->progs.kanary_ingress, pin_path, KANARY_PROG_INGRESS, e);
	if (!err)
		err = pin_prog(skel->progs.kanary_egress, pin_path, KANARY_PROG_EGRESS, e);
	if (!err)
		err = pin_prog(skel->progs.kanary_sockops, pin_path, KANARY_PROG_SOCKOPS, e);
	if (!err)
		err = kanary_reattach_all(bpf_program__fd(skel->progs.kanary_ingress),
					  bpf_program__fd(skel->progs.kanary_egress), e);
	if (!err)
		err = kanary_sockops_attach(pin_path, bpf_program__fd(skel->progs.kanary_sockops),
					    opts ? opts->cgroup : NULL, e);
out:
	kanary_bpf__destroy(skel);
	libbpf_set_print(old_print);
	close(lock);
	/* After the lock: the backfill takes it again, as every writer does. */
	if (!err && backfill)
		err = kanary_maglev_backfill(pin_path, e);
	return err;
}

int kanary_unload(const char *pin_path, struct kanary_err *e)
{
	/* The programs, and pins of map versions an upgrade left behind. */
	const char *others[] = { KANARY_PROG_INGRESS, KANARY_PROG_EGRESS, KANARY_PROG_SOCKOPS,
				 "kanary_stat_v1", "kanary_mirrelay_v1" };
	const int n_others = sizeof(others) / sizeof(others[0]);
	char path[PATH_MAX];
	int lock, err, removed = 0;

	lock = kanary_lock(pin_path, e);
	if (lock < 0)
		return lock;
	err = kanary_detach_all(e);
	if (!err) {
		/* The cgroup's attachment goes with its link's pin. */
		err = kanary_sockops_detach(pin_path, e);
		if (!err)
			removed++;
		else if (err == -ENOENT)
			err = 0;
	}
	if (err)
		goto out;
	for (int i = 0; i < kanary_n_map_specs + n_others && !err; i++) {
		const char *name = i < kanary_n_map_specs ? kanary_map_specs[i].name
							  : others[i - kanary_n_map_specs];

		err = kanary_pin_join(path, sizeof(path), pin_path, name, e);
		if (err)
			break;
		if (unlink(path) == 0)
			removed++;
		else if (errno != ENOENT)
			err = kanary_errf(e, errno, "cannot remove %s: %s", path, strerror(errno));
	}
	if (!err && !removed)
		err = kanary_errf(e, ENOENT, "kanary is not loaded at %s: nothing to unload",
				  pin_path);
out:
	close(lock);
	/* The default dir goes too; a mount point or a dir with other files stays. */
	if (!err)
		rmdir(pin_path);
	return err;
}
