// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bin/kanary_bpf_test: the datapath (bpf/kanary.bpf.c) loaded through
 * libkanary, run under BPF_PROG_TEST_RUN on crafted frames.
 */
#include "fixture.h"
#include "suites.h"

int main(void)
{
	Suite *const suites[] = {
		pkt_suite(), dnat_suite(), untouched_suite(), conntrack_suite(), maglev_suite(),
		stats_suite(), split_suite(), handoff_suite(), http_frame_bpf_suite(),
		http_stats_suite(), per_request_suite(), mirror_suite(), spoof_suite(),
	};

	return kt_main("kanary_bpf_test", suites, sizeof(suites) / sizeof(suites[0]));
}
