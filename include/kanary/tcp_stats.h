/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * TCP health per subset, as the clients' own TCP stacks see it: the ABI of
 * the sockops program (bpf/lib/tcp_health.h), shared with userspace.
 *
 * The program runs on the cgroup v2 root, so for every TCP socket of the
 * node, in any network namespace.  A socket whose remote address:port is
 * a kanary service (kanary_svc_v1) is the client's end of a connection to
 * it; the program asks the kernel for its state changes and
 * retransmissions, and finds its subset through the connection's forward
 * conntrack entry (kanary_ct_v3) or, on the rule path, its handoff state
 * (kanary_ho_v4).  The socket itself is left as it is.
 */
#ifndef KANARY_TCP_STATS_H
#define KANARY_TCP_STATS_H

#include <linux/types.h>
#include "kanary/abi.h"

/* Pinned names, under the pin path. */
#define KANARY_MAP_TCP_STATS	"kanary_tcpstat_v1"
#define KANARY_PROG_SOCKOPS	"prog_sockops"
/* The bpf_link that holds the program on the cgroup: unpinning it detaches. */
#define KANARY_LINK_SOCKOPS	"link_sockops"

/*
 * Per-CPU, indexed by KANARY_STATS_INDEX(svc_id, subset), like struct
 * kanary_subset_stats.  Only the client's side is seen: its connect, its
 * retransmissions and its RTT estimate.
 */
struct kanary_tcp_stats {
	__u64	connect_failures;	/* connects that went SYN_SENT -> CLOSE: refused, timed out or given up by the client */
	__u64	retransmits;	/* segments the client retransmitted (BPF_SOCK_OPS_RETRANS_CB), SYNs included */
	__u64	srtt_us_sum;	/* sum of the client's smoothed RTT (us), one sample per connection as it leaves ESTABLISHED */
	__u64	srtt_samples;	/* connections in srtt_us_sum: the mean is srtt_us_sum / srtt_samples */
};

_Static_assert(sizeof(struct kanary_tcp_stats) == 4 * 8, "tcp stats layout");

#endif /* KANARY_TCP_STATS_H */
