#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The BPF cost bench (bin/kanary_bpf_cost, docs/bench.md) checks that every
# packet it times took the path its figure is named after.  Here, at a size
# that takes a fraction of a second: its checks pass on today's datapath,
# and they catch the flaw they were written for (BPF_PROG_TEST_RUN's repeat
# loop timing a packet that the first run rewrote).  No timing is asserted.

setup() {
	cd "$BATS_TEST_DIRNAME/../../.." || return 1
	[ -x bin/kanary_bpf_cost ] || { echo "bin/kanary_bpf_cost is not built (make)" >&2; return 1; }
}

small() {
	bin/kanary_bpf_cost --services 1,3 --flows 20 --samples 8 --new 10 --repeat 100
}

@test "every case's packets take their path, and each gets a figure" {
	run small
	echo "$output"
	[ "$status" -eq 0 ]
	# Each case's figure is a number at every service count.
	jq -e '.results | length == 2 and all(.[];
		[.non_service_ns, .established_ns, .established_data_ns, .reply_ns, .unknown_reply_ns, .new_flow_ns,
		 .rule_syn_ns, .rule_first_data_ns, .established_loop_ns, .reply_loop_ns,
		 .non_service_loop_ns, .empty_run_ns, .request_head_ns, .response_head_ns,
		 .request_head_noacct_ns, .response_head_noacct_ns] | all(type == "number"))' <<<"$output"
}

@test "timing a rewritten packet in the kernel's repeat loop is caught" {
	KANARY_BPF_COST_REPEAT_EACH=2 run small
	echo "$output"
	[ "$status" -eq 1 ]
	# 8 packets x 5 rounds, each run twice by the kernel, counted once each.
	[[ $output == *"established: service 0's packets in rose by 40 over 80 timed runs"* ]]
}
