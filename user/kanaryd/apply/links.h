/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Attaching to interfaces by name pattern (--iface 'veth*'): every match
 * present now, and each new one as rtnetlink announces it.  An interface
 * that disappears is forgotten (its filters went with it).
 */
#ifndef KD_LINKS_H
#define KD_LINKS_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include "kanary.h"

struct kd_link {
	int ifindex;
	char name[IF_NAMESIZE];
};

struct kd_links {
	int fd;			/* rtnetlink, RTMGRP_LINK; -1 without patterns */
	const char *pin;
	char **globs;
	size_t nglobs;
	size_t n, cap;
	struct kd_link *v;	/* attached by this kanaryd */
	bool changed;		/* since the caller last looked */
};

/* Subscribes first, then attaches to what is there, so no new link is missed; 0 or -errno. */
int kd_links_init(struct kd_links *l, const char *pin, char **globs, size_t nglobs,
		  struct kanary_err *e);
/* Every current interface: attaches to matches not attached yet (start, SIGHUP, overrun). */
void kd_links_sync(struct kd_links *l);
/* Handles pending link notifications. */
void kd_links_read(struct kd_links *l);
bool kd_links_match(const struct kd_links *l, const char *name);
/* --detach-on-exit */
void kd_links_detach_all(struct kd_links *l);
void kd_links_free(struct kd_links *l);

#endif
