// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * kanary-mirror: the mirror relay (docs/mirror.md).  Reads the copies the
 * datapath writes to the ring kanary_mirbuf_v1, rebuilds each mirrored
 * request (reasm.c), sends it to a pod of its mirror subsets with
 * "-shadow" after its Host (send.c), pairs the mirror's answer with the
 * live one the datapath reports (pair.c), and counts (stats.c, diff.c).
 * It is apart from kanaryd so that it can stop, crash or restart with the
 * live path and the maps' owner untouched; what it holds but the maps do
 * not (requests in reassembly, answers not yet paired) is given up then.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <bpf/libbpf.h>
#include "relay.h"

#define REFRESH_MS	1000	/* targets re-read */
#define FLUSH_MS	200	/* counts written to the map */
#define MAX_EVENTS	64
#define IDLE_POLL_MS	50	/* the longest wait: expiries and counts run at least this often */

static volatile sig_atomic_t stopping;
static uint64_t now_ms;
static const char *pin;
/* When the targets were last read, and when the ring's current batch was taken (ns). */
static uint64_t refresh_ns, batch_ns;

static void on_signal(int sig)
{
	stopping = 1;
}

static uint64_t clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

static void refresh(void)
{
	refresh_ns = clock_ns();
	targets_refresh(pin);
}

/*
 * A mirror not known yet was set after the last read of the targets, but
 * before its request was copied, so before the batch was taken: one read
 * after that finds it.
 */
static void refresh_on_miss(uint32_t svc_id, int subset)
{
	if (!targets_known(svc_id, subset) && refresh_ns < batch_ns)
		refresh();
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: kanary-mirror [--pin-path DIR] [--max-conns N] [--max-request BYTES]\n"
"                     [--max-bytes BYTES] [--max-sends N] [--timeout-ms MS]\n"
"                     [--max-pairs N]\n"
"\n"
"Sends copies of the requests that 'kanaryctl mirror set' draws to a pod of\n"
"their mirror subset, with '-shadow' after their Host, reads the answers'\n"
"status and compares it and its latency with the live answer's; counts what\n"
"it does in the pinned maps ('kanaryctl mirror show', 'mirror show SERVICE\n"
"--diff').  Run one per node, in the node's network namespace, beside kanaryd.\n"
"\n"
"  --pin-path DIR       kanary's pins (default: $" KANARY_PIN_PATH_ENV ", else " KANARY_PIN_PATH_DEFAULT ")\n"
"  --max-conns N        connections being reassembled at once (default 4096)\n"
"  --max-request BYTES  a request's head and body at most (default 1048576 + 65536)\n"
"  --max-bytes BYTES    all requests being reassembled (default 67108864)\n"
"  --max-sends N        mirror connections open at once (default 1024)\n"
"  --timeout-ms MS      a request idle, or a mirror silent, for this long is given up (default 5000)\n"
"  --max-pairs N        requests awaiting the comparison of their answers (default 16384);\n"
"                       one not compared within twice the timeout counts unpaired\n"
"Beyond a limit a request is dropped and counted, never waited for.\n");
}

static void on_request(uint32_t svc_id, const union kanary_addr *client, __be16 port,
		       uint8_t subsets, const uint8_t *req, size_t len)
{
	struct pair_key key;
	bool paired = pair_request(svc_id, client, port, req, len, &key);

	for (int i = 0; i < KANARY_MAX_SUBSETS; i++) {
		size_t n;
		uint8_t *copy;

		if (!(subsets & (1u << i)))
			continue;
		refresh_on_miss(svc_id, i);
		copy = http_mirror_request(req, len, &n);
		if (!copy) {
			stats_drop(svc_id, 1u << i, KANARY_MIRROR_DROP_BUSY);
			if (paired)
				pair_mirror(&key, i, -1, 0);
			continue;
		}
		send_request(svc_id, i, copy, n, paired ? &key : NULL, now_ms);
	}
}

static int on_ring(void *ctx, void *data, size_t size)
{
	const struct kanary_mirror_event *ev = data;

	if (size < sizeof(*ev))
		return 0;
	if (ev->flags & KANARY_MIRROR_EV_LIVE) {
		pair_live(data, size);
		return 0;
	}
	if (ev->flags & KANARY_MIRROR_EV_START)
		pair_start(ev, now_ms);
	reasm_event(data, size, now_ms);
	return 0;
}

static int parse_num(const char *arg, const char *what, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || v < min || v > max) {
		fprintf(stderr, "kanary-mirror: %s '%s' is not a number from %llu to %llu\n", what,
			arg, (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pin-path",	 required_argument, NULL, 'P' },
		{ "max-conns",	 required_argument, NULL, 'c' },
		{ "max-request", required_argument, NULL, 'r' },
		{ "max-bytes",	 required_argument, NULL, 'b' },
		{ "max-sends",	 required_argument, NULL, 's' },
		{ "timeout-ms",	 required_argument, NULL, 't' },
		{ "max-pairs",	 required_argument, NULL, 'p' },
		{ "help",	 no_argument,	    NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct relay_limits lim = { .max_conns = 4096, .max_request = (1u << 20) + (64u << 10),
				    .max_bytes = 64ull << 20, .max_sends = 1024,
				    .timeout_ms = 5000 };
	struct epoll_event evs[MAX_EVENTS], rev = { .events = EPOLLIN, .data.ptr = NULL };
	struct sigaction sa = { .sa_handler = on_signal };
	const char *pin_flag = NULL;
	uint64_t v, last_flush, last_event_ms = 0, max_pairs = 16384;
	struct ring_buffer *rb = NULL;
	struct kanary_err e = {};
	int opt, epfd, ring_fd;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
		switch (opt) {
		case 'P': pin_flag = optarg; break;
		case 'c': if (parse_num(optarg, "--max-conns", 1, 1u << 20, &v)) return 2;
			  lim.max_conns = (uint32_t)v; break;
		case 'r': if (parse_num(optarg, "--max-request", 256, 1u << 30, &v)) return 2;
			  lim.max_request = (uint32_t)v; break;
		case 'b': if (parse_num(optarg, "--max-bytes", 4096, 1ull << 40, &v)) return 2;
			  lim.max_bytes = v; break;
		case 's': if (parse_num(optarg, "--max-sends", 1, 1u << 20, &v)) return 2;
			  lim.max_sends = (uint32_t)v; break;
		case 't': if (parse_num(optarg, "--timeout-ms", 1, 3600000, &v)) return 2;
			  lim.timeout_ms = (uint32_t)v; break;
		case 'p': if (parse_num(optarg, "--max-pairs", 1, 1u << 24, &max_pairs)) return 2;
			  break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "kanary-mirror: what is '%s'? it takes options only\n", argv[optind]);
		return 2;
	}
	pin = kanary_pin_path(pin_flag);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	ring_fd = kanary_map_open(pin, KANARY_MAP_MIRROR_BUF, &e);
	if (ring_fd < 0) {
		fprintf(stderr, "kanary-mirror: %s\n", e.msg);
		return 1;
	}
	if (stats_open(pin) || diff_open(pin))
		return 1;
	if (pair_init((uint32_t)max_pairs, 2 * lim.timeout_ms)) {
		fprintf(stderr, "kanary-mirror: no memory for %llu pairs\n",
			(unsigned long long)max_pairs);
		return 1;
	}
	epfd = epoll_create1(EPOLL_CLOEXEC);
	rb = ring_buffer__new(ring_fd, on_ring, NULL, NULL);
	if (epfd < 0 || !rb) {
		fprintf(stderr, "kanary-mirror: cannot read the ring %s: %s\n",
			KANARY_MAP_MIRROR_BUF, strerror(errno));
		return 1;
	}
	/* The ring's own epoll set, nested in ours: data.ptr NULL marks it. */
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, ring_buffer__epoll_fd(rb), &rev)) {
		fprintf(stderr, "kanary-mirror: epoll: %s\n", strerror(errno));
		return 1;
	}
	reasm_init(&lim, on_request);
	send_init(epfd, &lim);
	now_ms = clock_ns() / 1000000;
	refresh();
	last_flush = now_ms;
	fprintf(stderr, "kanary-mirror: relaying from %s/%s\n", pin, KANARY_MAP_MIRROR_BUF);

	while (!stopping) {
		/*
		 * An event written less than KANARY_MIRROR_WAKE_MS after a wake
		 * did not wake us: while events come, look again that soon.
		 */
		int wait_ms = now_ms - last_event_ms <= KANARY_MIRROR_WAKE_MS ? KANARY_MIRROR_WAKE_MS
									     : IDLE_POLL_MS;
		int n = epoll_wait(epfd, evs, MAX_EVENTS, wait_ms);

		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "kanary-mirror: epoll_wait: %s\n", strerror(errno));
			break;
		}
		now_ms = clock_ns() / 1000000;
		if (now_ms - refresh_ns / 1000000 >= REFRESH_MS)
			refresh();
		for (int i = 0; i < n; i++)
			if (evs[i].data.ptr)	/* else the ring, read below at every turn */
				send_event(evs[i].data.ptr, evs[i].events, now_ms);
		batch_ns = clock_ns();
		if (ring_buffer__consume(rb) > 0)
			last_event_ms = now_ms;
		reasm_expire(now_ms);
		send_expire(now_ms);
		pair_expire(now_ms);
		if (now_ms - last_flush >= FLUSH_MS) {
			stats_flush();
			diff_flush();
			last_flush = now_ms;
		}
	}
	stats_flush();
	diff_flush();
	ring_buffer__free(rb);
	return 0;
}
