// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Mirror connections, non-blocking, kept alive between requests as a
 * client pool does: a request goes on an idle connection to the pod the
 * round robin picked when there is one, else on a new one.  One request
 * at a time per connection (no pipelining).  The request is written whole
 * and the answer read to its end (answer.c); then the connection waits,
 * idle, for the next request to that pod, IDLE_MS at most, so it is not
 * reused when the pod is about to close it (Node.js and Apache close idle
 * connections after 5 s).  Refused, reset, silent past the timeout or no
 * status line: an error.  While a request is part written, closing its
 * connection (the relay giving up, or dying: SIGKILL, a crash) resets it
 * (SO_LINGER 0): a clean close would end the part as if the client had
 * sent no more, and a careless server would take it for the request.
 * None of it touches the client's connection.
 * The answer and its latency (first byte written to the answer's head
 * read, the mirror's side of what the datapath measures live) go to
 * pair.c.
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

#define IDLE_MS		2000
#define READ_CHUNK	16384

struct mconn {
	struct mconn *prev, *next;	/* on busy or idle, oldest first */
	int fd;
	uint32_t watching;		/* the epoll events registered for fd */
	struct sockaddr_in to;
	bool idle;
	bool refused;			/* connect() failed at once: the request's answer is an error */
	uint64_t deadline_ms;		/* busy: the answer's; idle: the connection's */
	/* The request being sent or answered (busy only). */
	uint32_t svc_id;
	int subset;
	uint8_t *req;
	size_t len, off;
	uint64_t first_us;		/* when the request's first byte was written; 0: not yet */
	uint64_t head_us;		/* when the answer's head was read; 0: not yet */
	bool reused;			/* the connection carried a request before this one */
	bool answered;			/* a byte of the answer came */
	bool counted;			/* counted sent (a retried request is counted once) */
	bool paired;			/* key is the request's in pair.c */
	struct pair_key key;
	struct answer ans;
};

struct conn_list {
	struct mconn *head, *tail;
};

static int epfd = -1;
static struct relay_limits lim;
static struct conn_list busy, idle;
static uint32_t n_open;		/* busy and idle */

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

static void list_push(struct conn_list *l, struct mconn *c)
{
	c->next = NULL;
	c->prev = l->tail;
	if (l->tail)
		l->tail->next = c;
	else
		l->head = c;
	l->tail = c;
}

static void list_unlink(struct conn_list *l, struct mconn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		l->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		l->tail = c->prev;
}

/* A syscall only when the events change: most requests need none. */
static void watch(struct mconn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	if (c->watching == events)
		return;
	epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
	c->watching = events;
}

/* Whether closing fd, by the relay or by its death, resets the connection. */
static void reset_on_close(int fd, bool on)
{
	struct linger l = { .l_onoff = on, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
}

static void conn_close(struct mconn *c)
{
	close(c->fd);	/* also leaves the epoll set */
	list_unlink(c->idle ? &idle : &busy, c);
	n_open--;
	free(c->req);
	free(c);
}

/* Counts c's answer (status, or 0 for an error) and frees its request. */
static void request_done(struct mconn *c, int status)
{
	/* To the head, as the live side is measured: not the body's transfer. */
	uint64_t end = c->head_us ? c->head_us : mono_us();
	uint64_t us = status && c->first_us ? end - c->first_us : 0;

	stats_response(c->svc_id, c->subset, status);
	if (c->paired)
		pair_mirror(&c->key, c->subset, status, us > UINT32_MAX ? UINT32_MAX : (uint32_t)us);
	free(c->req);
	c->req = NULL;
}

static void finish(struct mconn *c, int status)
{
	request_done(c, status);
	conn_close(c);
}

/* The answer ended and the connection may carry another: it waits, idle. */
static void park(struct mconn *c, uint64_t now_ms)
{
	request_done(c, c->ans.status);
	list_unlink(&busy, c);
	c->idle = true;
	c->deadline_ms = now_ms + IDLE_MS;
	list_push(&idle, c);
	watch(c, EPOLLIN);	/* the pod closing it, or sending what nobody asked for */
}

/* The most recently parked idle connection to to, taken off the idle list; or NULL. */
static struct mconn *idle_take(const struct sockaddr_in *to)
{
	for (struct mconn *c = idle.tail; c; c = c->prev)
		if (c->to.sin_addr.s_addr == to->sin_addr.s_addr && c->to.sin_port == to->sin_port) {
			list_unlink(&idle, c);
			c->idle = false;
			return c;
		}
	return NULL;
}

/*
 * A new connection to to for svc_id's subset, connecting, on the busy
 * list; NULL when the limit or memory allows none.  One whose connect()
 * failed at once comes back refused, to be answered with an error.
 */
static struct mconn *conn_open(const struct sockaddr_in *to, uint32_t svc_id, int subset)
{
	struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN };
	struct mconn *c;

	if (n_open >= lim.max_sends && idle.head)
		conn_close(idle.head);	/* an idle connection to another pod makes room */
	if (n_open >= lim.max_sends || !(c = calloc(1, sizeof(*c))))
		return NULL;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		free(c);
		return NULL;
	}
	c->to = *to;
	list_push(&busy, c);
	n_open++;
	ev.data.ptr = c;
	c->watching = ev.events;
	stats_connect(svc_id, subset);
	c->refused = (connect(c->fd, (struct sockaddr *)to, sizeof(*to)) && errno != EINPROGRESS) ||
		     epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
	return c;
}

static bool method_is(const uint8_t *req, size_t len, const char *m)
{
	size_t n = strlen(m);

	return len > n && !memcmp(req, m, n) && req[n] == ' ';
}

/* RFC 9110 9.2.2: a request that may be sent twice with the effect of once. */
static bool idempotent(const uint8_t *req, size_t len)
{
	static const char *const methods[] = { "GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE" };

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (method_is(req, len, methods[i]))
			return true;
	return false;
}

/* Gives c (busy, no request) the request; it is written once the socket is writable. */
static void attach(struct mconn *c, uint32_t svc_id, int subset, uint8_t *req, size_t len,
		   const struct pair_key *key, uint64_t now_ms)
{
	c->svc_id = svc_id;
	c->subset = subset;
	c->req = req;
	c->len = len;
	c->off = 0;
	c->first_us = 0;
	c->head_us = 0;
	c->answered = false;
	c->counted = false;
	c->paired = key != NULL;
	if (key)
		c->key = *key;
	c->deadline_ms = now_ms + lim.timeout_ms;
	answer_init(&c->ans, method_is(req, len, "HEAD"));
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

static void failed(struct mconn *c, uint64_t now_ms);

/*
 * Writes what the socket takes of c's request; what it does not take
 * waits for EPOLLOUT.  A reused connection is written at once: its
 * socket, idle, has room, so a request costs no epoll round or change.
 */
static void write_request(struct mconn *c, uint64_t now_ms)
{
	ssize_t n;

	if (!c->off)
		reset_on_close(c->fd, true);
	n = send(c->fd, c->req + c->off, c->len - c->off, MSG_NOSIGNAL);
	if (n < 0 && errno != EAGAIN) {
		failed(c, now_ms);
		return;
	}
	if (n > 0 && !c->off)
		c->first_us = mono_us();
	if (n > 0)
		c->off += (size_t)n;
	if (c->off < c->len) {
		watch(c, EPOLLOUT | EPOLLIN);
		return;
	}
	reset_on_close(c->fd, false);	/* all of it is the kernel's to deliver */
	if (!c->counted)
		stats_sent(c->svc_id, c->subset);
	c->counted = true;
	watch(c, EPOLLIN);
}

void send_request(uint32_t svc_id, int subset, uint8_t *req, size_t len,
		  const struct pair_key *key, uint64_t now_ms)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	union kanary_addr addr;
	struct mconn *c;

	if (!targets_pick(svc_id, subset, &addr, &to.sin_port)) {
		not_sent(svc_id, subset, req, key, KANARY_MIRROR_DROP_NO_BACKEND);
		return;
	}
	to.sin_addr.s_addr = addr.w[3];
	c = idle_take(&to);
	if (c) {
		list_push(&busy, c);
		attach(c, svc_id, subset, req, len, key, now_ms);
		c->reused = true;
		write_request(c, now_ms);
		return;
	}
	c = conn_open(&to, svc_id, subset);
	if (!c) {
		not_sent(svc_id, subset, req, key, KANARY_MIRROR_DROP_BUSY);
		return;
	}
	attach(c, svc_id, subset, req, len, key, now_ms);
	if (c->refused)
		finish(c, 0);
}

/*
 * The connection c was reused and ended before any byte of the answer:
 * the pod may have closed it just as the request went out, so a request
 * that is safe to send twice goes again, once, on a new connection.
 */
static void failed(struct mconn *c, uint64_t now_ms)
{
	struct mconn *fresh;

	if (!c->reused || c->answered || !idempotent(c->req, c->len) ||
	    !(fresh = conn_open(&c->to, c->svc_id, c->subset))) {
		finish(c, 0);
		return;
	}
	attach(fresh, c->svc_id, c->subset, c->req, c->len, c->paired ? &c->key : NULL, now_ms);
	fresh->counted = c->counted;
	c->req = NULL;
	conn_close(c);
	if (fresh->refused)
		finish(fresh, 0);
}

static void on_answer(struct mconn *c, enum answer_result r, uint64_t now_ms)
{
	switch (r) {
	case ANSWER_MORE:
		break;
	case ANSWER_REUSE:
		park(c, now_ms);
		break;
	case ANSWER_CLOSE:
		finish(c, c->ans.status);
		break;
	case ANSWER_BAD:
		finish(c, 0);
		break;
	}
}

void send_event(void *ptr, uint32_t events, uint64_t now_ms)
{
	static uint8_t buf[READ_CHUNK];
	struct mconn *c = ptr;
	ssize_t n;

	if (c->idle) {
		conn_close(c);	/* closed by the pod, or bytes nobody asked for */
		return;
	}
	if (c->off < c->len && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		write_request(c, now_ms);
		return;
	}
	if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
		return;
	n = recv(c->fd, buf, sizeof(buf), 0);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n > 0) {
		enum answer_result r = answer_feed(&c->ans, buf, (size_t)n);

		c->answered = true;
		if (c->ans.status && !c->head_us)
			c->head_us = mono_us();
		on_answer(c, r, now_ms);
	} else if (!c->answered) {
		failed(c, now_ms);
	} else {
		on_answer(c, n ? ANSWER_CLOSE : answer_eof(&c->ans), now_ms);
	}
}

void send_expire(uint64_t now_ms)
{
	while (busy.head && now_ms >= busy.head->deadline_ms)
		finish(busy.head, 0);
	while (idle.head && now_ms >= idle.head->deadline_ms)
		conn_close(idle.head);
}
