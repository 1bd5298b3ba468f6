// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tc attachments.  Every kanary filter has the same handle and priority
 * (abi.h), so it can be found, replaced and removed without keeping state.
 * The clsact qdisc is left in place on detach: other filters may use it.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "internal.h"

static const enum bpf_tc_attach_point points[2] = { BPF_TC_INGRESS, BPF_TC_EGRESS };
static const char *const point_names[2] = { "ingress", "egress" };

static int print_nothing(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

/*
 * Id of the kanary program attached at ifindex/point, or 0 when there is
 * none.  On a hook without our filter, which is every first attach, the
 * kernel answers "Cannot find specified filter chain" and libbpf prints it
 * as a warning; any failure here only means "none", so libbpf is silenced
 * for the query (a real problem shows in the attach that follows).
 */
static __u32 tc_attached_id(int ifindex, enum bpf_tc_attach_point point)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = point);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = KANARY_TC_HANDLE,
			    .priority = KANARY_TC_PRIORITY);
	libbpf_print_fn_t old_print = libbpf_set_print(print_nothing);
	int err = bpf_tc_query(&hook, &opts);

	libbpf_set_print(old_print);
	return err ? 0 : opts.prog_id;
}

static int tc_put(int ifindex, enum bpf_tc_attach_point point, int prog_fd)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = point);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = KANARY_TC_HANDLE,
			    .priority = KANARY_TC_PRIORITY, .prog_fd = prog_fd,
			    .flags = BPF_TC_F_REPLACE);

	return bpf_tc_attach(&hook, &opts);
}

static int tc_remove(int ifindex, enum bpf_tc_attach_point point)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = point);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = KANARY_TC_HANDLE,
			    .priority = KANARY_TC_PRIORITY);

	return bpf_tc_detach(&hook, &opts);
}

static __u32 prog_id_of(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

/* Opens both pinned programs; the "not loaded" sentence when they are missing. */
static int progs_open(const char *pin, int fds[2], struct kanary_err *e)
{
	const char *names[2] = { KANARY_PROG_INGRESS, KANARY_PROG_EGRESS };
	char path[PATH_MAX];
	int err;

	fds[0] = fds[1] = -1;
	for (int i = 0; i < 2; i++) {
		err = kanary_pin_join(path, sizeof(path), pin, names[i], e);
		if (err)
			goto fail;
		fds[i] = bpf_obj_get(path);
		if (fds[i] < 0) {
			err = errno;
			if (err == ENOENT)
				err = kanary_errf(e, ENOENT,
						  "kanary is not loaded at %s: run 'kanaryctl load'", pin);
			else
				err = kanary_errf(e, err, "cannot open %s: %s", path, strerror(err));
			goto fail;
		}
	}
	return 0;
fail:
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return err;
}

static int ifindex_of(const char *ifname, struct kanary_err *e)
{
	unsigned int idx;

	if (strlen(ifname) >= IF_NAMESIZE)
		return kanary_errf(e, EINVAL, "'%s' is too long for an interface name (max %d)",
				   ifname, IF_NAMESIZE - 1);
	idx = if_nametoindex(ifname);
	if (!idx)
		return kanary_errf(e, ENODEV,
				   "no interface '%s' in this network namespace: expected an interface name as in 'ip link'",
				   ifname);
	return (int)idx;
}

int kanary_attach(const char *pin_path, const char *ifname, struct kanary_err *e)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	int fds[2], lock, ifindex, err;
	__u32 had_ingress;

	lock = kanary_lock(pin_path, e);
	if (lock < 0)
		return lock;
	err = progs_open(pin_path, fds, e);
	if (err)
		goto out_lock;
	ifindex = ifindex_of(ifname, e);
	if (ifindex < 0) {
		err = ifindex;
		goto out;
	}
	hook.ifindex = ifindex;
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		err = kanary_errf(e, -err, "cannot add a clsact qdisc to %s: %s", ifname,
				  strerror(-err));
		goto out;
	}
	had_ingress = tc_attached_id(ifindex, BPF_TC_INGRESS);
	for (int i = 0; i < 2; i++) {
		err = tc_put(ifindex, points[i], fds[i]);
		if (!err)
			continue;
		/* Keep the last good state: undo a half attachment we made. */
		if (i == 1 && !had_ingress)
			tc_remove(ifindex, BPF_TC_INGRESS);
		err = kanary_errf(e, -err, "cannot attach to %s %s: %s", ifname, point_names[i],
				  strerror(-err));
		goto out;
	}
	err = 0;
out:
	close(fds[0]);
	close(fds[1]);
out_lock:
	close(lock);
	return err;
}

int kanary_detach(const char *pin_path, const char *ifname, struct kanary_err *e)
{
	int lock, ifindex, err = 0, found = 0;

	/* Detaching needs no pins (they may be gone); lock only if the dir is there. */
	lock = kanary_lock(pin_path, NULL);
	ifindex = ifindex_of(ifname, e);
	if (ifindex < 0) {
		err = ifindex;
		goto out;
	}
	for (int i = 0; i < 2; i++) {
		if (!tc_attached_id(ifindex, points[i]))
			continue;
		found++;
		err = tc_remove(ifindex, points[i]);
		if (err && err != -ENOENT) {
			err = kanary_errf(e, -err, "cannot detach from %s %s: %s", ifname,
					  point_names[i], strerror(-err));
			goto out;
		}
	}
	err = found ? 0 : kanary_errf(e, ENOENT, "kanary is not attached to %s", ifname);
out:
	if (lock >= 0)
		close(lock);
	return err;
}

/* Calls fn for each interface of this netns that has a kanary filter. */
static int foreach_attached(int (*fn)(const struct if_nameindex *ifn, __u32 ids[2], void *ctx),
			    void *ctx, struct kanary_err *e)
{
	struct if_nameindex *all = if_nameindex(), *p;
	int err = 0;

	if (!all)
		return kanary_errf(e, errno, "cannot list interfaces: %s", strerror(errno));
	for (p = all; p->if_index && !err; p++) {
		__u32 ids[2] = { tc_attached_id((int)p->if_index, BPF_TC_INGRESS),
				 tc_attached_id((int)p->if_index, BPF_TC_EGRESS) };

		if (ids[0] || ids[1])
			err = fn(p, ids, ctx);
	}
	if_freenameindex(all);
	return err;
}

struct reattach_ctx {
	int fds[2];
	struct kanary_err *e;
};

static int reattach_one(const struct if_nameindex *ifn, __u32 ids[2], void *ctx)
{
	struct reattach_ctx *c = ctx;

	for (int i = 0; i < 2; i++) {
		int err;

		if (!ids[i])
			continue;
		err = tc_put((int)ifn->if_index, points[i], c->fds[i]);
		if (err)
			return kanary_errf(c->e, -err, "cannot re-attach %s %s to the new program: %s",
					   ifn->if_name, point_names[i], strerror(-err));
	}
	return 0;
}

int kanary_reattach_all(int prog_in_fd, int prog_out_fd, struct kanary_err *e)
{
	struct reattach_ctx c = { { prog_in_fd, prog_out_fd }, e };

	return foreach_attached(reattach_one, &c, e);
}

static int detach_one(const struct if_nameindex *ifn, __u32 ids[2], void *ctx)
{
	struct kanary_err *e = ctx;

	for (int i = 0; i < 2; i++) {
		int err;

		if (!ids[i])
			continue;
		err = tc_remove((int)ifn->if_index, points[i]);
		if (err && err != -ENOENT)
			return kanary_errf(e, -err, "cannot detach from %s %s: %s", ifn->if_name,
					   point_names[i], strerror(-err));
	}
	return 0;
}

int kanary_detach_all(struct kanary_err *e)
{
	return foreach_attached(detach_one, e, e);
}

struct list_ctx {
	struct kanary_iface *out;
	int cap, n;
	__u32 pinned[2];
};

static int list_one(const struct if_nameindex *ifn, __u32 ids[2], void *ctx)
{
	struct list_ctx *c = ctx;
	struct kanary_iface *it;

	if (c->n < c->cap) {
		it = &c->out[c->n];
		memset(it, 0, sizeof(*it));
		snprintf(it->name, sizeof(it->name), "%s", ifn->if_name);
		it->ifindex = (int)ifn->if_index;
		it->ingress = ids[0] != 0;
		it->egress = ids[1] != 0;
		/* Current only if every attached side runs the pinned program. */
		it->current = (!ids[0] || ids[0] == c->pinned[0]) &&
			      (!ids[1] || ids[1] == c->pinned[1]) && c->pinned[0] && c->pinned[1];
	}
	c->n++;
	return 0;
}

int kanary_iface_list(const char *pin_path, struct kanary_iface *out, int *n,
		      struct kanary_err *e)
{
	struct list_ctx c = { .out = out, .cap = *n };
	int fds[2], err;

	if (progs_open(pin_path, fds, NULL) == 0) {
		c.pinned[0] = prog_id_of(fds[0]);
		c.pinned[1] = prog_id_of(fds[1]);
		close(fds[0]);
		close(fds[1]);
	}
	err = foreach_attached(list_one, &c, e);
	if (err)
		return err;
	if (c.n > c.cap) {
		*n = c.n;
		return kanary_errf(e, ENOSPC, "%d interfaces have kanary attached; room for %d",
				   c.n, c.cap);
	}
	*n = c.n;
	return 0;
}
