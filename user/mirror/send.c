// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Mirror connections: one per mirrored request, non-blocking, to a pod of
 * the mirror subset.  The request is written whole, the answer's status
 * line read for its class, and the connection closed: the rest of the
 * answer is never read.  Refused, reset, silent past the timeout or no
 * status line: an error.  None of it touches the client's connection.
 * The answer and its latency (first byte written to status line read, the
 * mirror's side of what the datapath measures live) go to pair.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include "relay.h"

#define STATUS_LINE	12	/* "HTTP/1.1 200" */

struct mconn {
	struct mconn *prev, *next;	/* all open, oldest first */
	int fd;
	uint32_t svc_id;
	int subset;
	uint8_t *req;
	size_t len, off;
	char status[STATUS_LINE];
	size_t got;
	uint64_t deadline_ms;
	uint64_t first_us;		/* when the request's first byte was written; 0: not yet */
	bool paired;			/* key is the request's in pair.c */
	struct pair_key key;
};

static int epfd = -1;
static struct relay_limits lim;
static struct mconn *head, *tail;
static uint32_t n_open;

int send_init(int fd, const struct relay_limits *l)
{
	epfd = fd;
	lim = *l;
	return 0;
}

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Closes c and counts its answer: status, or 0 for an error. */
static void finish(struct mconn *c, int status)
{
	uint64_t us = status && c->first_us ? mono_us() - c->first_us : 0;

	stats_response(c->svc_id, c->subset, status);
	if (c->paired)
		pair_mirror(&c->key, c->subset, status, us > UINT32_MAX ? UINT32_MAX : (uint32_t)us);
	close(c->fd);	/* also leaves the epoll set */
	if (c->prev)
		c->prev->next = c->next;
	else
		head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		tail = c->prev;
	n_open--;
	free(c->req);
	free(c);
}

/* The status code of "HTTP/1.x NNN", or 0. */
static int status_of(const char *s)
{
	if (memcmp(s, "HTTP/1.", 7) || s[8] != ' ' || s[9] < '1' || s[9] > '5' ||
	    s[10] < '0' || s[10] > '9' || s[11] < '0' || s[11] > '9')
		return 0;
	return (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
}

/* req is dropped for why before any connection: counted, and not to be paired. */
static void not_sent(uint32_t svc_id, int subset, uint8_t *req, const struct pair_key *key,
		     int why)
{
	stats_drop(svc_id, 1u << subset, why);
	if (key)
		pair_mirror(key, subset, -1, 0);
	free(req);
}

void send_request(uint32_t svc_id, int subset, uint8_t *req, size_t len,
		  const struct pair_key *key, uint64_t now_ms)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN };
	union kanary_addr addr;
	struct mconn *c;

	if (!targets_pick(svc_id, subset, &addr, &sa.sin_port)) {
		not_sent(svc_id, subset, req, key, KANARY_MIRROR_DROP_NO_BACKEND);
		return;
	}
	if (n_open >= lim.max_sends || !(c = calloc(1, sizeof(*c)))) {
		not_sent(svc_id, subset, req, key, KANARY_MIRROR_DROP_BUSY);
		return;
	}
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		free(c);
		not_sent(svc_id, subset, req, key, KANARY_MIRROR_DROP_BUSY);
		return;
	}
	if (key) {
		c->key = *key;
		c->paired = true;
	}
	sa.sin_addr.s_addr = addr.w[3];
	c->svc_id = svc_id;
	c->subset = subset;
	c->req = req;
	c->len = len;
	c->deadline_ms = now_ms + lim.timeout_ms;
	c->prev = tail;
	if (tail)
		tail->next = c;
	else
		head = c;
	tail = c;
	n_open++;
	ev.data.ptr = c;
	if ((connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) && errno != EINPROGRESS) ||
	    epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev))
		finish(c, 0);
}

void send_event(void *ptr, uint32_t events, uint64_t now_ms)
{
	struct mconn *c = ptr;
	ssize_t n;

	if (c->off < c->len && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		n = send(c->fd, c->req + c->off, c->len - c->off, MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN) {
			finish(c, 0);
			return;
		}
		if (n > 0 && !c->off)
			c->first_us = mono_us();
		if (n > 0)
			c->off += (size_t)n;
		if (c->off == c->len) {
			struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };

			stats_sent(c->svc_id, c->subset);
			epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
		}
		return;
	}
	if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
		return;
	n = recv(c->fd, c->status + c->got, sizeof(c->status) - c->got, 0);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		finish(c, 0);
		return;
	}
	c->got += (size_t)n;
	if (c->got == sizeof(c->status))
		finish(c, status_of(c->status));
}

void send_expire(uint64_t now_ms)
{
	while (head && now_ms >= head->deadline_ms)
		finish(head, 0);
}
