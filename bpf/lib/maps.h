/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * kanary's maps.  All are pinned by name under the pin path, and every size
 * below is a placeholder that the loader sets before load (or takes from the
 * existing pins).
 */
#ifndef KANARY_BPF_MAPS_H
#define KANARY_BPF_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "kanary/abi.h"
#include "kanary/rules.h"
#include "kanary/handoff.h"
#include "kanary/http_match.h"
#include "kanary/http_frame.h"
#include "kanary/http_stats.h"
#include "kanary/tcp_stats.h"
#include "kanary/mirror.h"
#include "kanary/ct_expiry.h"
#include "segment.h"

/* VIP:port/proto -> which service id and config slot is live. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KANARY_DEFAULT_MAX_SERVICES);
	__type(key, struct kanary_svc_key);
	__type(value, struct kanary_svc_ref);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kanary_svc_v1 SEC(".maps");

/* id*2+slot -> one complete service configuration (subsets, shares). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * KANARY_DEFAULT_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct kanary_svc_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kanary_cfg_v1 SEC(".maps");

/* (id, slot, subset, index) -> backend IP:port. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KANARY_DEFAULT_MAX_BACKENDS);
	__type(key, struct kanary_backend_key);
	__type(value, struct kanary_backend);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kanary_be_v1 SEC(".maps");

/*
 * (id, slot, subset) -> the subset's Maglev table (a backend index per
 * point), written with the slot's backends; 4 KiB each, only for subsets
 * that have backends, in live slots (a commit drops the old slot's).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * KANARY_DEFAULT_MAX_SERVICES * KANARY_MAX_SUBSETS);
	__type(key, struct kanary_maglev_key);
	__type(value, struct kanary_maglev);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kanary_mag_v1 SEC(".maps");

/* 5-tuple + direction -> the other side of the NAT; pins each connection. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, KANARY_DEFAULT_CT_SIZE);
	__type(key, struct kanary_ct_key);
	__type(value, struct kanary_ct_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kanary_ct_v3 SEC(".maps");

/*
 * The same, for a connection from its SYN until the client acks the
 * backend's SYN-ACK, then moved to kanary_ct_v3 (conntrack.h): a flood of
 * SYNs evicts only other handshakes, never an established connection.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, KANARY_DEFAULT_CT_SIZE / 8);
	__type(key, struct kanary_ct_key);
	__type(value, struct kanary_ct_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kanary_ctnew_v1 SEC(".maps");

/*
 * Ended plain-path connections, oldest first, to be deleted a linger after
 * their close (lib/ct_expiry.h); preallocated, so a close allocates nothing.
 */
struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, KANARY_DEFAULT_CT_SIZE / 2);
	__type(value, struct kanary_ct_expiry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kanary_ctend_v1 SEC(".maps");

/* Plain-path connections whose SYN was sent again unanswered, oldest first, for the SYN timeout. */
struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, KANARY_DEFAULT_CT_SIZE / 8);
	__type(value, struct kanary_ct_expiry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kanary_ctsyn_v1 SEC(".maps");

/*
 * 0 -> the timer that sweeps both queues.  Pinned: a timer lives while its
 * map has a user, and kanaryctl exits after loading.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kanary_ct_sweeper);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kanary_ctsw_v1 SEC(".maps");

/* 0 -> the lifecycle's timeouts (struct kanary_ct_settings), written by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kanary_ct_settings);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kanary_ctcfg_v1 SEC(".maps");

/* svc_id*8+subset -> per-CPU connection, packet and byte counters. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KANARY_DEFAULT_MAX_SERVICES * KANARY_MAX_SUBSETS);
	__type(key, __u32);
	__type(value, struct kanary_subset_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kanary_stat_v3 SEC(".maps");

/*
 * svc_id*8+subset -> HTTP exchanges by status code and latency (exchange.h).
 * Shared, not per-CPU: 608 bytes a slot, counted once per exchange with
 * atomic adds, where per-CPU copies would cost that much per CPU.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, KANARY_DEFAULT_MAX_SERVICES * KANARY_MAX_SUBSETS);
	__type(key, __u32);
	__type(value, struct kanary_http_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kanary_http_v1 SEC(".maps");

/* enum kanary_counter -> per-CPU datapath event counts. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KANARY_CNT_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kanary_cnt_v4 SEC(".maps");

/* Service id -> its dark-release rules (no entry: none); replaced whole on update. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KANARY_DEFAULT_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct kanary_rules);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kanary_rules_v1 SEC(".maps");

/* Client -> VIP tuple -> a rule-path connection's handoff state (handoff.h). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, KANARY_DEFAULT_CT_SIZE);
	__type(key, struct kanary_ct_key);
	__type(value, struct kanary_ho_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kanary_ho_v4 SEC(".maps");

/*
 * 5-tuple -> a rule-path connection between our SYN-ACK and its first
 * data (state SYN_RCVD), moved to kanary_ho_v4 when it binds: a pod that
 * floods SYNs or idle handshakes evicts only these, never a bound one.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, KANARY_DEFAULT_CT_SIZE / 16);
	__type(key, struct kanary_ct_key);
	__type(value, struct kanary_ho_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kanary_hosyn_v1 SEC(".maps");

/* Client address -> its bound rule-path connections in kanary_ho_v4 (handoff_source.h). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, KANARY_HO_SOURCES);
	__type(key, __be32);
	__type(value, __u64);	/* 64 bits for BPF's compare-and-swap */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kanary_hosrc_v1 SEC(".maps");

/* FIFO: rule-path handshakes' ACKs for kanaryd to send back marked (server-first detection). */
struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, KANARY_DEFAULT_CT_SIZE / 16);
	__type(value, struct kanary_ho_detect);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kanary_hodet_v1 SEC(".maps");

/* Slot 0: the rule path's settings (struct kanary_ho_settings), written by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kanary_ho_settings);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kanary_hocfg_v1 SEC(".maps");

/* Client -> VIP tuple -> its first data, until the backend acks it. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, KANARY_DEFAULT_STASH_SLOTS);
	__type(key, struct kanary_ct_key);
	__type(value, struct kanary_stash);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kanary_stash_v1 SEC(".maps");

/* svc_id -> per-CPU counts of handoff failures by reason. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KANARY_DEFAULT_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct kanary_ho_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kanary_hostat_v2 SEC(".maps");

/* svc_id*8+subset -> per-CPU TCP health of the clients' connections (sockops). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KANARY_DEFAULT_MAX_SERVICES * KANARY_MAX_SUBSETS);
	__type(key, __u32);
	__type(value, struct kanary_tcp_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kanary_tcpstat_v1 SEC(".maps");

/* svc_id -> the share of its requests each mirror subset gets a copy of, per route (no entry: none). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KANARY_DEFAULT_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct kanary_mirror_cfg);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kanary_mirror_v2 SEC(".maps");

/* Mirrored requests' client payload, as struct kanary_mirror_event records, for the relay. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, KANARY_MIRROR_RING);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kanary_mirbuf_v1 SEC(".maps");

/* svc_id -> per-CPU counts of the copy path: requests copied, events, losses. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KANARY_DEFAULT_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct kanary_mirror_copy_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kanary_mircopy_v1 SEC(".maps");

/* svc_id*8+subset -> the relay's counts for that mirror subset; only the relay writes it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, KANARY_DEFAULT_MAX_SERVICES * KANARY_MAX_SUBSETS);
	__type(key, __u32);
	__type(value, struct kanary_mirror_relay_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kanary_mirrelay_v3 SEC(".maps");

/* A disagreement between a mirror and the live answer -> its count; only the relay writes it. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, KANARY_MIRROR_DIFF_ENTRIES);
	__type(key, struct kanary_mirror_diff_key);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kanary_mirdiff_v1 SEC(".maps");

/* A ring event being built: its header and one chunk of payload. */
struct kanary_mirror_scratch {
	struct kanary_mirror_event ev;
	__u8	data[KANARY_MIRROR_CHUNK];
	__u64	woke_ns;	/* when this CPU last let an event wake the relay */
};

/* 0 -> this CPU's struct kanary_mirror_scratch; never pinned. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kanary_mirror_scratch);
} kanary_mirror_scratch_pcpu SEC(".maps");

/* What reshaping a segment needs and the stack cannot hold (512 bytes across calls). */
struct kanary_ho_scratch {
	struct kanary_http_state st;	/* the matcher's */
	struct kanary_http_frame frame;	/* the framer's: where a request or response ends */
	struct kanary_stash stash;	/* a copy of a segment's payload */
	struct kanary_tcp_opts opts;	/* options being written */
	struct kanary_tcp_opts old_opts;	/* options being replaced */
	struct kanary_opt_walk walk;	/* a SYN's options, being read */
	struct kanary_ct_entry be;	/* a backend being chosen: a request's, or a new flow's */
	struct kanary_ct_entry rev;	/* a rule-path connection's reverse entry, being made */
	__u8	by_rule;		/* ... by a rule (else by the weights) */
	struct kanary_ct_key key;	/* a key being built */
	struct kanary_pkt pkt;		/* a segment reshaped, parsed again */
	struct kanary_pkt req;		/* a segment from a request's start on */
	struct kanary_ho_entry ho;	/* a rule-path connection's state, being made */
	struct kanary_ct_expiry expiry;	/* a plain-path connection being queued to expire */
	struct kanary_ct_expiry oldest;	/* a full expiry queue's oldest, popped to make room */
	struct kanary_ho_detect detect;	/* a rule-path handshake being queued for detection */
};

/* 0 -> this CPU's struct kanary_ho_scratch for one program run; never pinned. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kanary_ho_scratch);
} kanary_ho_scratch_pcpu SEC(".maps");

static __always_inline struct kanary_ho_scratch *kanary_ho_scratch_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&kanary_ho_scratch_pcpu, &zero);
}

/* 0 -> instance-wide settings (the hash seed). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kanary_globals);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kanary_glob_v1 SEC(".maps");

/* The instance's settings; NULL only if the map lost its one slot. */
static __always_inline const struct kanary_globals *kanary_globals(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&kanary_glob_v1, &zero);
}

#endif /* KANARY_BPF_MAPS_H */
