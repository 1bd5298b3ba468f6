// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Server-first detection, kanaryd's timer; see server_first.h. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/ethernet.h>
#include <linux/if_packet.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include "apply/server_first.h"
#include "base/log.h"

/* How often the queue is looked at when nothing is due sooner: the delay's jitter. */
#define POLL_MS		25
/* Queued handshakes taken per run, so that a flood of them leaves the loop its other work. */
#define BATCH		4096
/* Marks kept for resending: a silent binding whose backend is slow to answer. */
#define PENDING_MAX	4096

static void close_maps(struct kd_server_first *sf)
{
	int *fds[] = { &sf->queue, &sf->handshake, &sf->handoff };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

int kd_server_first_reopen(struct kd_server_first *sf, const char *pin, struct kanary_err *e)
{
	const char *names[] = { KANARY_MAP_HO_DETECT, KANARY_MAP_HANDSHAKE, KANARY_MAP_HANDOFF };
	int *fds[] = { &sf->queue, &sf->handshake, &sf->handoff };
	char path[PATH_MAX];

	if (sf->sock < 0)
		return 0;
	close_maps(sf);
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", pin, names[i]);
		*fds[i] = bpf_obj_get(path);
		if (*fds[i] < 0) {
			int err = errno;

			close_maps(sf);
			return kanary_errf(e, err, "server-first detection: cannot open %s: %s", path,
					   strerror(err));
		}
	}
	return 0;
}

int kd_server_first_open(struct kd_server_first *sf, const char *pin, unsigned int delay_ms,
			 struct kanary_err *e)
{
	int mark = (int)KANARY_MARK_DETECT, err;

	memset(sf, 0, sizeof(*sf));
	sf->sock = sf->queue = sf->handshake = sf->handoff = -1;
	sf->delay_ms = delay_ms;
	if (!delay_ms)
		return 0;
	/* No protocol: it only sends, and receives nothing. */
	sf->sock = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (sf->sock < 0)
		return kanary_errf(e, errno,
				   "server-first detection needs a packet socket (CAP_NET_RAW): %s",
				   strerror(errno));
	if (setsockopt(sf->sock, SOL_SOCKET, SO_MARK, &mark, sizeof(mark))) {
		err = errno;
		kd_server_first_close(sf);
		return kanary_errf(e, err, "server-first detection: cannot mark its socket (CAP_NET_ADMIN): %s",
				   strerror(err));
	}
	err = kd_server_first_reopen(sf, pin, e);
	if (err)
		kd_server_first_close(sf);
	return err;
}

void kd_server_first_close(struct kd_server_first *sf)
{
	close_maps(sf);
	if (sf->sock >= 0)
		close(sf->sock);
	sf->sock = -1;
	free(sf->pending);
	sf->pending = NULL;
	sf->n = sf->cap = 0;
}

static int send_mark(struct kd_server_first *sf, const struct kanary_ho_detect *d)
{
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP),
				  .sll_ifindex = (int)d->ifindex, .sll_halen = ETH_ALEN };
	__u8 frame[KANARY_HO_DETECT_FRAME];

	memcpy(to.sll_addr, d->dmac, ETH_ALEN);
	kanary_ho_detect_frame(d, frame);
	if (sendto(sf->sock, frame, sizeof(frame), 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
		/* The pod (its veth) may be gone: its connection with it. */
		pr_debug("server-first detection: mark not sent on interface %u: %s", d->ifindex,
			 strerror(errno));
		return -1;
	}
	return 0;
}

static void keep_pending(struct kd_server_first *sf, const struct kanary_ho_detect *d, long long due)
{
	if (sf->n == sf->cap) {
		size_t cap = sf->cap ? 2 * sf->cap : 64;
		struct kd_sf_pending *p;

		if (cap > PENDING_MAX || !(p = realloc(sf->pending, cap * sizeof(*p)))) {
			sf->dropped++;
			return;
		}
		sf->pending = p;
		sf->cap = cap;
	}
	sf->pending[sf->n++] = (struct kd_sf_pending){ .d = *d, .due_ms = due };
}

/* Marks whose silent binding the backend has not answered yet: again, every retry period. */
static long long resend_due(struct kd_server_first *sf, long long now, long long wake)
{
	size_t i = 0;

	while (i < sf->n) {
		struct kd_sf_pending *p = &sf->pending[i];

		if (p->due_ms > now) {
			if (p->due_ms < wake)
				wake = p->due_ms;
			i++;
			continue;
		}
		if (kanary_ho_detect_want(sf->handshake, sf->handoff, &p->d) != KANARY_HO_DETECT_RESEND ||
		    send_mark(sf, &p->d)) {
			sf->pending[i] = sf->pending[--sf->n];
			continue;
		}
		sf->resent++;
		p->due_ms = now + KANARY_HO_DETECT_RETRY_MS;
		if (p->due_ms < wake)
			wake = p->due_ms;
		i++;
	}
	return wake;
}

long long kd_server_first_run(struct kd_server_first *sf, long long now)
{
	long long wake = now + POLL_MS;
	struct kanary_ho_detect d;

	if (sf->sock < 0 || sf->queue < 0)
		return -1;
	for (int i = 0; i < BATCH; i++) {
		long long due;

		if (bpf_map_lookup_elem(sf->queue, NULL, &d))
			break;			/* empty */
		due = (long long)(d.acked_ns / 1000000) + sf->delay_ms;
		if (due > now) {
			if (due < wake)
				wake = due;
			break;
		}
		if (bpf_map_lookup_and_delete_elem(sf->queue, NULL, &d))
			break;
		if (kanary_ho_detect_want(sf->handshake, sf->handoff, &d) != KANARY_HO_DETECT_BIND ||
		    send_mark(sf, &d))
			continue;
		sf->marks++;
		keep_pending(sf, &d, now + KANARY_HO_DETECT_RETRY_MS);
	}
	return resend_due(sf, now, wake);
}
