/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * One BPF_PROG_TEST_RUN of a tc program over one frame: the single wrapper
 * the BPF suites (fixture.c), the matcher's differ (tests/fuzz) and the
 * cost bench (bench/bpf_cost.c) share.
 */
#ifndef KT_PROG_RUN_H
#define KT_PROG_RUN_H

#include <linux/types.h>

struct kt_prog_run {
	__u32 retval;		/* the program's verdict (TC_ACT_*) */
	__u32 duration;		/* mean nanoseconds per run */
	__u32 out_len;		/* bytes written to out, 0 without out */
};

/*
 * Runs prog_fd repeat times (at least once) over in[0..in_len); the frame
 * it leaves goes to out (out_cap bytes; out may be NULL).  Returns 0 or a
 * negative errno; r is filled only on success.
 */
int kt_prog_run(int prog_fd, const void *in, __u32 in_len, void *out, __u32 out_cap,
		__u32 repeat, struct kt_prog_run *r);
/* The same with the skb's fields that a test run takes (mark, ...) in *skb, and as the program left them. */
struct __sk_buff;
int kt_prog_run_skb(int prog_fd, const void *in, __u32 in_len, void *out, __u32 out_cap,
		    __u32 repeat, struct __sk_buff *skb, struct kt_prog_run *r);

#endif /* KT_PROG_RUN_H */
