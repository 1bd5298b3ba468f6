/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Test only, never attached: runs the dark-release matcher
 * (include/kanary/http_match.h) on the payload of a TCP segment under
 * BPF_PROG_TEST_RUN.  tests/fuzz/http_match_diff loads it to show that the
 * verifier takes the matcher at its worst case, that it answers exactly as
 * the userspace build does, and what it costs.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "kanary/rules.h"
#include "kanary/http_match.h"

/* kanary_rules_v1 as bpf/lib/maps.h defines it, but unpinned: a test object must not share a live instance's pins. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KANARY_DEFAULT_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct kanary_rules);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} kanary_rules_v1 SEC(".maps");

/* The matcher's state and the stash, as the handoff will keep them. */
struct hmt_scratch {
	struct kanary_http_state st;
	__u8 buf[KANARY_HTTP_STASH];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hmt_scratch);
} hmt_scratch_map SEC(".maps");

/* What the last run found, for the test to compare. */
struct hmt_result {
	__s32 rule;
	__u32 met;
	__u32 head;
	__u32 len;
	__u32 n_lines;
	__u32 runs;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hmt_result);
} hmt_result_map SEC(".maps");

__u32 hmt_svc_id;	/* whose rules to match against */
__u32 hmt_copy_only;	/* 1: stop after copying the payload (the cost baseline) */

SEC("tc")
int hmt_match(struct __sk_buff *skb)
{
	struct hmt_scratch *s;
	struct hmt_result *res;
	const struct kanary_rules *r;
	struct iphdr ip;
	struct tcphdr th;
	__u32 zero = 0, off, len = 0;

	if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)) || ip.version != 4 ||
	    ip.protocol != IPPROTO_TCP)
		return TC_ACT_SHOT;
	off = ETH_HLEN + ip.ihl * 4;
	if (bpf_skb_load_bytes(skb, off, &th, sizeof(th)))
		return TC_ACT_SHOT;
	off += th.doff * 4;
	s = bpf_map_lookup_elem(&hmt_scratch_map, &zero);
	res = bpf_map_lookup_elem(&hmt_result_map, &zero);
	if (!s || !res)
		return TC_ACT_SHOT;
	if (skb->len > off)
		len = skb->len - off;
	if (len > KANARY_HTTP_STASH)
		len = KANARY_HTTP_STASH;
	/* bpf_skb_load_bytes wants a length the verifier knows is in [1, stash]. */
	if (len >= 1 && len <= KANARY_HTTP_STASH &&
	    bpf_skb_load_bytes(skb, off, s->buf, len))
		return TC_ACT_SHOT;
	res->runs++;
	res->len = len;
	if (hmt_copy_only)
		return TC_ACT_OK;
	r = bpf_map_lookup_elem(&kanary_rules_v1, &hmt_svc_id);
	if (!r)
		return TC_ACT_SHOT;
	res->rule = kanary_http_match(&s->st, r, s->buf, len);
	res->met = s->st.met;
	res->head = s->st.head;
	res->n_lines = s->st.n_lines;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
