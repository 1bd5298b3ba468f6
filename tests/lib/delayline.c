// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* A delay line for the e2e tests: this kernel has no netem, so a pod's
 * outgoing packets go to an iptables NFQUEUE and this program accepts each
 * one a fixed time after it arrived, in arrival order (tests/lib/delay.bash).
 * It sleeps until the next packet is due; SIGTERM or SIGINT releases what it
 * holds, unbinds the queue and exits 0.
 *
 * usage: delayline QUEUE USEC  (prints "ready" once the queue is bound)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

/* The kernel queue holds at most this many; so does our FIFO. */
#define DL_QUEUE_MAX 8192

struct dl_held {
	uint32_t id;
	uint64_t due_ns;
};

struct dl_line {
	struct nfq_q_handle *qh;
	uint64_t delay_ns;
	struct dl_held fifo[DL_QUEUE_MAX];
	unsigned int head, count;
	unsigned long long held, early;	/* packets seen; released early (FIFO full) */
};

static volatile sig_atomic_t dl_stop;

static void dl_on_signal(int sig)
{
	dl_stop = sig;
}

static uint64_t dl_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static int dl_accept(struct dl_line *dl, uint32_t id)
{
	if (nfq_set_verdict(dl->qh, id, NF_ACCEPT, 0, NULL) < 0) {
		fprintf(stderr, "delayline: verdict for packet %u failed: %s\n", id, strerror(errno));
		return -1;
	}
	return 0;
}

/* Called by nfq_handle_packet for each queued packet: hold it. */
static int dl_on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa, void *data)
{
	struct dl_line *dl = data;
	struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
	uint32_t id;

	if (!ph)
		return 0;
	id = ntohl(ph->packet_id);
	dl->held++;
	if (dl->count == DL_QUEUE_MAX) {
		dl->early++;
		return dl_accept(dl, id);
	}
	dl->fifo[(dl->head + dl->count) % DL_QUEUE_MAX] = (struct dl_held){ id, dl_now_ns() + dl->delay_ns };
	dl->count++;
	return 0;
}

/* Accepts the packets due by now (all of them when ALL); returns the ns
 * until the next one is due, -1 when none is held, -2 on error. */
static int64_t dl_release(struct dl_line *dl, int all)
{
	uint64_t now = dl_now_ns();

	while (dl->count) {
		struct dl_held *h = &dl->fifo[dl->head];

		if (!all && h->due_ns > now)
			return (int64_t)(h->due_ns - now);
		if (dl_accept(dl, h->id))
			return -2;
		dl->head = (dl->head + 1) % DL_QUEUE_MAX;
		dl->count--;
	}
	return -1;
}

/* Reads every message waiting on the queue's socket. */
static int dl_receive(struct nfq_handle *h, int fd)
{
	char buf[65536] __attribute__((aligned));

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n < 0) {
			fprintf(stderr, "delayline: recv: %s\n", strerror(errno));
			return -1;
		}
		nfq_handle_packet(h, buf, (int)n);
	}
}

static int dl_open(struct dl_line *dl, struct nfq_handle **hp, unsigned int queue)
{
	struct nfq_handle *h = nfq_open();
	int one = 1;

	if (!h) {
		fprintf(stderr, "delayline: nfq_open: %s\n", strerror(errno));
		return -1;
	}
	*hp = h;
	dl->qh = nfq_create_queue(h, queue, dl_on_packet, dl);
	if (!dl->qh) {
		fprintf(stderr, "delayline: cannot bind queue %u: %s (another listener on it?)\n", queue, strerror(errno));
		return -1;
	}
	/* Metadata only: the verdict needs the id, not the payload. */
	if (nfq_set_mode(dl->qh, NFQNL_COPY_META, 0) < 0 || nfq_set_queue_maxlen(dl->qh, DL_QUEUE_MAX) < 0) {
		fprintf(stderr, "delayline: configuring queue %u failed: %s\n", queue, strerror(errno));
		return -1;
	}
	nfnl_rcvbufsiz(nfq_nfnlh(h), 4u << 20);
	/* A full socket buffer must not make recv fail: the kernel drops then. */
	setsockopt(nfq_fd(h), SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	return 0;
}

static int dl_parse(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || end == s || *end || s[0] == '-' || *out > max ? -1 : 0;
}

/* Sleeps until the next packet is due or one arrives; signals only here. */
static int dl_run(struct dl_line *dl, struct nfq_handle *h, const sigset_t *waitmask)
{
	struct pollfd pfd = { .fd = nfq_fd(h), .events = POLLIN };

	while (!dl_stop) {
		int64_t next = dl_release(dl, 0);
		struct timespec ts = { next / 1000000000, next % 1000000000 };

		if (next == -2)
			return -1;
		if (ppoll(&pfd, 1, next < 0 ? NULL : &ts, waitmask) < 0 && errno != EINTR) {
			fprintf(stderr, "delayline: ppoll: %s\n", strerror(errno));
			return -1;
		}
		if ((pfd.revents & POLLIN) && dl_receive(h, pfd.fd))
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct dl_line dl;
	struct nfq_handle *h = NULL;
	struct sigaction sa = { .sa_handler = dl_on_signal };
	sigset_t block, waitmask;
	unsigned long queue, usec;
	int rc = 1;

	if (argc != 3 || dl_parse(argv[1], 65535, &queue) || dl_parse(argv[2], 10000000, &usec)) {
		fprintf(stderr, "usage: delayline QUEUE(0-65535) USEC(0-10000000)\n");
		return 2;
	}
	dl.delay_ns = (uint64_t)usec * 1000;
	/* Wake on time: the default 50 us slack is a sixth of a 300 us delay. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	if (dl_open(&dl, &h, (unsigned int)queue) == 0) {
		printf("delayline: queue %lu, delay %lu us, ready\n", queue, usec);
		fflush(stdout);
		rc = dl_run(&dl, h, &waitmask) ? 1 : 0;
		if (dl_release(&dl, 1) == -2)
			rc = 1;
		fprintf(stderr, "delayline: queue %lu: %llu packets held, %llu released early (queue full)%s\n",
			queue, dl.held, dl.early, dl_stop ? ", stopped by signal" : "");
	}
	if (dl.qh)
		nfq_destroy_queue(dl.qh);
	if (h)
		nfq_close(h);
	return rc;
}
