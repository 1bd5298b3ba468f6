/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * How the cost bench times a packet.  BPF_PROG_TEST_RUN with repeat > 1
 * runs the program again on the skb the previous run left (net/bpf/
 * test_run.c copies the frame in once): a packet the program rewrites is
 * another packet from its second run on.  So every timed packet is its
 * own test run with repeat 1, on a fresh copy, and its kernel-measured
 * duration (one run plus the timer's own reads) is taken against the same
 * single run of an empty tc program, run just before it: the difference
 * is the program's cost.  Rounds of such pairs give the figure (the median
 * over the rounds of the difference of the two means of the middle
 * 90 % of the runs) and its
 * noise (the rounds' spread).
 *
 * KANARY_BPF_COST_REPEAT_EACH=N (default 1) times each packet over N runs
 * of the kernel's loop instead: the flaw above, back on purpose, for
 * tests/unit/build/bpf_cost.bats to see the bench's checks catch it.
 */
#ifndef KANARY_BENCH_TIMER_H
#define KANARY_BENCH_TIMER_H

#include <linux/types.h>

#define BT_ROUNDS	5

/*
 * One kind of packet.  make builds run i's frame into buf (BF_MAX_LEN)
 * and returns its length; it may drive the program itself first, untimed
 * (a handshake).  check returns NULL when the verdict and the frame the
 * program left are what this packet must get, else what is wrong.
 */
struct bt_case {
	const char *name;
	int prog;
	__u32 (*make)(void *ctx, unsigned i, __u8 *buf);
	const char *(*check)(void *ctx, unsigned i, __u32 verdict, const __u8 *out);
	void *ctx;
};

struct bt_figure {
	double ns;		/* median over the rounds */
	double min, max;	/* the rounds' spread */
	double empty_ns;	/* the empty program's single run (its middle 90 % mean), median over the rounds */
	unsigned runs;		/* runs of the program timed, all rounds */
};

/* Loads the empty tc program the timings are taken against; dies on failure. */
void bt_init(void);
/*
 * Times c over BT_ROUNDS rounds of n packets each (numbered from *next,
 * which moves on by the packets used); dies when a check fails.
 */
struct bt_figure bt_measure(const struct bt_case *c, unsigned n, unsigned *next);
/*
 * One run of prog over buf[0..len), its verdict returned and its frame in
 * out (BF_OUT_CAP); *ns gets the kernel's duration when not NULL.  Dies
 * when the run fails.
 */
__u32 bt_run(int prog, const __u8 *buf, __u32 len, __u8 *out, __u32 *ns);
/*
 * Mean ns per run of repeat runs in the kernel's own loop: right only for a
 * packet the program leaves as it was.  prog -1: the empty program.
 */
__u32 bt_run_loop(int prog, const __u8 *buf, __u32 len, unsigned repeat);

void bt_die(const char *what, const char *why) __attribute__((noreturn));

#endif /* KANARY_BENCH_TIMER_H */
