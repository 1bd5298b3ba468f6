// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include "kanary.h"
#include "base/arena.h"
#include "apply/links.h"
#include "base/log.h"

bool kd_links_match(const struct kd_links *l, const char *name)
{
	for (size_t i = 0; i < l->nglobs; i++)
		if (fnmatch(l->globs[i], name, 0) == 0)
			return true;
	return false;
}

static struct kd_link *find(struct kd_links *l, int ifindex)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].ifindex == ifindex)
			return &l->v[i];
	return NULL;
}

static void forget(struct kd_links *l, int ifindex)
{
	struct kd_link *k = find(l, ifindex);

	if (!k)
		return;
	pr_info("%s is gone; forgotten", k->name);
	*k = l->v[--l->n];
	l->changed = true;
}

/* A link exists with this name: attach when it matches and is new to us. */
static void seen(struct kd_links *l, int ifindex, const char *name)
{
	struct kanary_err e = { "" };
	struct kd_link *k = find(l, ifindex);
	struct kd_link add;
	int err;

	if (k) {
		if (strcmp(k->name, name) != 0) {
			pr_info("%s is now called %s; still attached", k->name, name);
			snprintf(k->name, sizeof(k->name), "%s", name);
			l->changed = true;
		}
		return;
	}
	if (!kd_links_match(l, name))
		return;
	err = kanary_attach(l->pin, name, &e);
	if (err == -ENODEV) {
		pr_debug("%s went away before it could be attached", name);
		return;
	}
	if (err) {
		pr_err("cannot attach to %s: %s", name, e.msg);
		return;
	}
	memset(&add, 0, sizeof(add));
	add.ifindex = ifindex;
	snprintf(add.name, sizeof(add.name), "%s", name);
	KD_PUSH(l->v, l->n, l->cap, add);
	l->changed = true;
	pr_info("attached to %s", name);
}

void kd_links_sync(struct kd_links *l)
{
	struct if_nameindex *all, *p;

	if (!l->nglobs)
		return;
	all = if_nameindex();
	if (!all) {
		pr_err("cannot list interfaces: %s", strerror(errno));
		return;
	}
	/* Forget what is gone (notifications may have been lost). */
	for (size_t i = l->n; i-- > 0;) {
		bool there = false;

		for (p = all; p->if_index; p++)
			there |= (int)p->if_index == l->v[i].ifindex;
		if (!there)
			forget(l, l->v[i].ifindex);
	}
	for (p = all; p->if_index; p++)
		seen(l, (int)p->if_index, p->if_name);
	if_freenameindex(all);
}

int kd_links_init(struct kd_links *l, const char *pin, char **globs, size_t nglobs,
		  struct kanary_err *e)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
	int rcvbuf = 1 << 20;

	memset(l, 0, sizeof(*l));
	l->fd = -1;
	l->pin = pin;
	l->globs = globs;
	l->nglobs = nglobs;
	if (!nglobs)
		return 0;
	l->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (l->fd < 0 || bind(l->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = errno;

		if (l->fd >= 0)
			close(l->fd);
		l->fd = -1;
		return kanary_errf(e, err, "cannot listen to link notifications (rtnetlink): %s",
				   strerror(err));
	}
	/* Many veths at once (a node starting its pods) must not overrun the queue. */
	setsockopt(l->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	kd_links_sync(l);
	return 0;
}

static void handle(struct kd_links *l, struct nlmsghdr *nh)
{
	struct ifinfomsg *ifi = NLMSG_DATA(nh);
	int len = (int)IFLA_PAYLOAD(nh);
	const char *name = NULL;

	for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == IFLA_IFNAME)
			name = RTA_DATA(a);
	if (nh->nlmsg_type == RTM_DELLINK)
		forget(l, ifi->ifi_index);
	else if (name && memchr(name, '\0', IF_NAMESIZE))
		seen(l, ifi->ifi_index, name);
}

void kd_links_read(struct kd_links *l)
{
	char buf[32768] __attribute__((aligned(NLMSG_ALIGNTO)));

	while (l->fd >= 0) {
		ssize_t n = recv(l->fd, buf, sizeof(buf), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS) {
			pr_warn("link notifications overran; listing interfaces again");
			kd_links_sync(l);
			continue;
		}
		if (n <= 0)
			return;
		for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n);
		     nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_type == RTM_NEWLINK || nh->nlmsg_type == RTM_DELLINK)
				handle(l, nh);
		}
	}
}

void kd_links_detach_all(struct kd_links *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct kanary_err e = { "" };

		if (kanary_detach(l->pin, l->v[i].name, &e))
			pr_warn("cannot detach from %s: %s", l->v[i].name, e.msg);
		else
			pr_info("detached from %s", l->v[i].name);
	}
	l->n = 0;
}

void kd_links_free(struct kd_links *l)
{
	if (l->fd >= 0)
		close(l->fd);
	free(l->v);
	memset(l, 0, sizeof(*l));
	l->fd = -1;
}
