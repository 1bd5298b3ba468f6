/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * TCP health per subset, from the client's socket (include/kanary/tcp_stats.h).
 *
 * The sockops program runs for every TCP socket of the node.  At the
 * client's connect (TCP_CONNECT_CB: the local port is bound and the SYN not
 * sent yet) a socket whose remote address:port is a kanary service asks
 * for two more callbacks, its state changes and its retransmissions; every
 * other socket costs one hash lookup at connect and nothing after.  For a
 * watched socket the program updates its subset's counters:
 *
 * - SYN_SENT -> CLOSE: a connect failure (refused, timed out, or given up);
 * - ESTABLISHED -> anything: one smoothed-RTT sample, as the connection ends;
 * - each retransmission the kernel sent: its segments.
 *
 * The subset comes from the connection's forward conntrack entry (the
 * canary path, created by the SYN at tc) or its handoff state (the rule
 * path, once a backend is chosen), keyed by the tuple the client sees.
 * Nothing else is kept per socket.  Counters are per-CPU; the adds are
 * atomic because a socket's callbacks run in process context and in
 * softirq, which may interrupt one another on a CPU.
 */
#ifndef KANARY_BPF_TCP_HEALTH_H
#define KANARY_BPF_TCP_HEALTH_H

#include "maps.h"
#include "conntrack.h"

#define KANARY_AF_INET		2	/* <sys/socket.h>, which BPF programs cannot include */
#define KANARY_SOCKOPS_FLAGS	(BPF_SOCK_OPS_STATE_CB_FLAG | BPF_SOCK_OPS_RETRANS_CB_FLAG)

/* bpf_sock_ops keeps the remote port in network order in its upper 16 bits. */
static __always_inline __be16 kanary_sockops_rport(const struct bpf_sock_ops *skops)
{
	return bpf_htons((__u16)bpf_ntohl(skops->remote_port));
}

/* At connect: watch the socket when it dials a kanary service. */
static __always_inline void kanary_tcp_watch(struct bpf_sock_ops *skops)
{
	struct kanary_svc_key key = {};

	if (skops->family != KANARY_AF_INET)
		return;
	kanary_v4mapped(&key.vip, skops->remote_ip4);
	key.port = kanary_sockops_rport(skops);
	key.proto = IPPROTO_TCP;
	if (!bpf_map_lookup_elem(&kanary_svc_v1, &key))
		return;
	bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags | KANARY_SOCKOPS_FLAGS);
}

/* The counters of the subset that this watched socket's connection went to; NULL if unknown. */
static __always_inline struct kanary_tcp_stats *kanary_tcp_stats_of(const struct bpf_sock_ops *skops)
{
	const struct kanary_ho_entry *ho;
	const struct kanary_ct_entry *ct;
	struct kanary_ct_key fwd;
	__u32 idx;

	kanary_ct_key_v4(&fwd, skops->local_ip4, skops->remote_ip4,
			 bpf_htons((__u16)skops->local_port), kanary_sockops_rport(skops),
			 KANARY_CT_FORWARD);
	/* The datapath's own order: a forward entry is the canary path's. */
	ct = bpf_map_lookup_elem(&kanary_ct_v3, &fwd);
	/* A connection that failed to connect never left the handshakes' table. */
	if (!ct)
		ct = bpf_map_lookup_elem(&kanary_ctnew_v1, &fwd);
	if (ct) {
		idx = KANARY_STATS_INDEX(ct->svc_id, ct->subset);
	} else {
		ho = bpf_map_lookup_elem(&kanary_ho_v4, &fwd);
		/* Before a backend is chosen, kanary itself is the other end. */
		if (!ho || ho->state < KANARY_HO_SYN_SENT)
			return NULL;
		idx = KANARY_STATS_INDEX(ho->svc_id, ho->subset);
	}
	return bpf_map_lookup_elem(&kanary_tcpstat_v1, &idx);
}

static __always_inline void kanary_tcp_state(const struct bpf_sock_ops *skops, __u32 from,
					     __u32 to)
{
	struct kanary_tcp_stats *st;
	__u32 srtt_us;

	if (from == BPF_TCP_SYN_SENT && to == BPF_TCP_CLOSE) {
		st = kanary_tcp_stats_of(skops);
		if (st)
			__sync_fetch_and_add(&st->connect_failures, 1);
	} else if (from == BPF_TCP_ESTABLISHED) {
		srtt_us = skops->srtt_us >> 3;	/* the kernel keeps it x8 */
		if (!srtt_us)
			return;
		st = kanary_tcp_stats_of(skops);
		if (!st)
			return;
		__sync_fetch_and_add(&st->srtt_us_sum, srtt_us);
		__sync_fetch_and_add(&st->srtt_samples, 1);
	}
}

/* args: the first byte's sequence, the segments, tcp_transmit_skb's result (0: sent). */
static __always_inline void kanary_tcp_retrans(const struct bpf_sock_ops *skops)
{
	struct kanary_tcp_stats *st;

	if (skops->args[2] != 0)
		return;
	st = kanary_tcp_stats_of(skops);
	if (st)
		__sync_fetch_and_add(&st->retransmits, skops->args[1]);
}

#endif /* KANARY_BPF_TCP_HEALTH_H */
