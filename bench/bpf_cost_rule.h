/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The cost bench's rule path (the dark-release handoff, bpf/lib/handoff.h):
 * a service whose rule `x-my-header=dark -> risky` takes every connection
 * through the handoff, and its two packets worth timing: the client's SYN,
 * which the datapath answers itself, and the first data, matched against
 * the rule and turned into the SYN to the chosen backend.
 */
#ifndef KANARY_BENCH_RULE_H
#define KANARY_BENCH_RULE_H

#include "kanary.h"
#include "bpf_cost_timer.h"

#define BR_VIP		0x0a660001	/* 10.102.0.1 */
#define BR_SAFE_BE	0x0af40202	/* 10.244.2.2 */
#define BR_RISKY_BE	0x0af40402	/* 10.244.4.2 */

struct br_ctx {
	int prog_in;
	__u32 svc_id;
	int risky;		/* the rule's subset */
	__u32 our_isn;		/* from the SYN-ACK of the connection being built */
};

/* Creates the rule service through libkanary (s: scratch); dies on failure. */
void br_service(struct kanary_maps *m, struct kanary_service *s, struct br_ctx *ctx);
/* The cases, on connection numbers from bt_measure's counter (one each). */
struct bt_case br_syn_case(struct br_ctx *ctx);
struct bt_case br_first_data_case(struct br_ctx *ctx);

#endif /* KANARY_BENCH_RULE_H */
