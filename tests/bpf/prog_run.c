// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* BPF_PROG_TEST_RUN over one frame; see prog_run.h. */
#include <errno.h>
#include <bpf/bpf.h>
#include "prog_run.h"

int kt_prog_run_skb(int prog_fd, const void *in, __u32 in_len, void *out, __u32 out_cap,
		    __u32 repeat, struct __sk_buff *skb, struct kt_prog_run *r)
{
	LIBBPF_OPTS(bpf_test_run_opts, o,
		.data_in = in, .data_size_in = in_len,
		.data_out = out, .data_size_out = out ? out_cap : 0,
		.ctx_in = skb, .ctx_size_in = skb ? sizeof(*skb) : 0,
		.ctx_out = skb, .ctx_size_out = skb ? sizeof(*skb) : 0,
		.repeat = repeat ? repeat : 1);

	if (bpf_prog_test_run_opts(prog_fd, &o))
		return -errno;
	r->retval = o.retval;
	r->duration = o.duration;
	r->out_len = out ? o.data_size_out : 0;
	return 0;
}

int kt_prog_run(int prog_fd, const void *in, __u32 in_len, void *out, __u32 out_cap,
		__u32 repeat, struct kt_prog_run *r)
{
	return kt_prog_run_skb(prog_fd, in, in_len, out, out_cap, repeat, NULL, r);
}
