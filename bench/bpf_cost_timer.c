// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Single runs against an empty program; see bpf_cost_timer.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include "bpf_cost_frame.h"
#include "bpf_cost_timer.h"
#include "prog_run.h"

static int empty_prog = -1;
/* KANARY_BPF_COST_REPEAT_EACH: see bpf_cost_timer.h. */
static unsigned repeat_each = 1;

void bt_die(const char *what, const char *why)
{
	fprintf(stderr, "kanary_bpf_cost: %s: %s\n", what, why);
	exit(1);
}

void bt_init(void)
{
	/* r0 = TC_ACT_OK; exit */
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	const char *env = getenv("KANARY_BPF_COST_REPEAT_EACH");

	if (env && (repeat_each = (unsigned)strtoul(env, NULL, 10)) < 1)
		bt_die("KANARY_BPF_COST_REPEAT_EACH", "not a positive integer");
	empty_prog = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "bench_empty", "GPL", insns, 2, NULL);
	if (empty_prog < 0)
		bt_die("loading the empty tc program", strerror(errno));
}

static __u32 run_n(int prog, const __u8 *buf, __u32 len, __u8 *out, __u32 *ns, unsigned repeat)
{
	struct kt_prog_run r;
	int err = kt_prog_run(prog, buf, len, out, BF_OUT_CAP, repeat, &r);

	if (err)
		bt_die("BPF_PROG_TEST_RUN", strerror(-err));
	if (ns)
		*ns = r.duration;
	return r.retval;
}

__u32 bt_run(int prog, const __u8 *buf, __u32 len, __u8 *out, __u32 *ns)
{
	return run_n(prog, buf, len, out, ns, 1);
}

__u32 bt_run_loop(int prog, const __u8 *buf, __u32 len, unsigned repeat)
{
	if (prog < 0)
		prog = empty_prog;
	struct kt_prog_run r;
	int err = kt_prog_run(prog, buf, len, NULL, 0, repeat, &r);

	if (err)
		bt_die("BPF_PROG_TEST_RUN", strerror(-err));
	return r.duration;
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * The mean of the middle 90 % of n values (sorts them).  Not the median:
 * the kernel's clock moves in steps (10 ns on the VM of docs/bench.md), so
 * a median is one of those steps, while the mean of many readings taken at
 * random phases of the clock resolves below them; the 5 % at either end
 * leave out the runs an interrupt stretched (under 0.2 % of them there).
 */
static double mid_mean(__u32 *v, unsigned n)
{
	unsigned lo = n / 20, hi = n - n / 20, i;
	double sum = 0;

	qsort(v, n, sizeof(*v), cmp_u32);
	for (i = lo; i < hi; i++)
		sum += v[i];
	return sum / (hi - lo);
}

struct bt_figure bt_measure(const struct bt_case *c, unsigned n, unsigned *next)
{
	__u32 *d = calloc(n, sizeof(*d)), *e = calloc(n, sizeof(*e)), len, verdict;
	double diff[BT_ROUNDS], empty[BT_ROUNDS];
	__u8 buf[BF_MAX_LEN], out[BF_OUT_CAP];
	struct bt_figure f = { .runs = n * BT_ROUNDS * repeat_each };
	const char *bad;
	unsigned r, i;
	char what[160];

	if (!d || !e)
		bt_die("calloc", strerror(ENOMEM));
	for (r = 0; r < BT_ROUNDS; r++) {
		for (i = 0; i < n; i++) {
			len = c->make(c->ctx, *next, buf);
			bt_run(empty_prog, buf, len, out, &e[i]);
			verdict = run_n(c->prog, buf, len, out, &d[i], repeat_each);
			bad = c->check(c->ctx, *next, verdict, out);
			if (bad) {
				snprintf(what, sizeof(what), "the %s packet (run %u)", c->name, *next);
				bt_die(what, bad);
			}
			(*next)++;
		}
		empty[r] = mid_mean(e, n);
		diff[r] = mid_mean(d, n) - empty[r];
	}
	qsort(empty, BT_ROUNDS, sizeof(empty[0]), cmp_double);
	f.empty_ns = empty[BT_ROUNDS / 2];
	qsort(diff, BT_ROUNDS, sizeof(diff[0]), cmp_double);
	f.ns = diff[BT_ROUNDS / 2];
	f.min = diff[0];
	f.max = diff[BT_ROUNDS - 1];
	free(d);
	free(e);
	return f;
}
