/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Test only, never attached: runs the dark-release matcher
 * (include/kanary/http_match.h) on the payload of a TCP segment under
 * BPF_PROG_TEST_RUN.  tests/fuzz/http_match_diff loads it to show that the
 * verifier takes the matcher at its worst case, that it answers exactly as
 * the userspace build does, and what it costs.  hmt_frame does the same for
 * the framer (include/kanary/http_frame.h), for tests/bpf/test_http_frame.c.
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
#include "kanary/http_frame.h"

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
	struct kanary_http_frame fr;
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

/* What the framer found: a copy of its state. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kanary_http_frame);
} hmt_frame_map SEC(".maps");

__u32 hmt_svc_id;	/* whose rules to match against */
__u32 hmt_copy_only;	/* 1: stop after copying the payload (the cost baseline) */
__u32 hmt_frame_response;	/* hmt_frame: 1 frames a response, 0 a request */
__u32 hmt_frame_head_request;	/* hmt_frame: the response answers a HEAD */

/* Copies the TCP payload (at most the stash) into s->buf; returns its length or -1. */
static __always_inline int hmt_load(struct __sk_buff *skb, struct hmt_scratch *s)
{
	struct iphdr ip;
	struct tcphdr th;
	__u32 off, len = 0;

	if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)) || ip.version != 4 ||
	    ip.protocol != IPPROTO_TCP)
		return -1;
	off = ETH_HLEN + ip.ihl * 4;
	if (bpf_skb_load_bytes(skb, off, &th, sizeof(th)))
		return -1;
	off += th.doff * 4;
	if (skb->len > off)
		len = skb->len - off;
	if (len > KANARY_HTTP_STASH)
		len = KANARY_HTTP_STASH;
	/* bpf_skb_load_bytes wants a length the verifier knows is in [1, stash]. */
	if (len >= 1 && len <= KANARY_HTTP_STASH &&
	    bpf_skb_load_bytes(skb, off, s->buf, len))
		return -1;
	return (int)len;
}

SEC("tc")
int hmt_match(struct __sk_buff *skb)
{
	struct hmt_scratch *s;
	struct hmt_result *res;
	const struct kanary_rules *r;
	__u32 zero = 0, len;
	int n;

	s = bpf_map_lookup_elem(&hmt_scratch_map, &zero);
	res = bpf_map_lookup_elem(&hmt_result_map, &zero);
	if (!s || !res)
		return TC_ACT_SHOT;
	n = hmt_load(skb, s);
	if (n < 0)
		return TC_ACT_SHOT;
	len = (__u32)n;
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

SEC("tc")
int hmt_frame(struct __sk_buff *skb)
{
	struct hmt_scratch *s;
	struct kanary_http_frame *out;
	__u32 zero = 0;
	int n;

	s = bpf_map_lookup_elem(&hmt_scratch_map, &zero);
	out = bpf_map_lookup_elem(&hmt_frame_map, &zero);
	if (!s || !out)
		return TC_ACT_SHOT;
	n = hmt_load(skb, s);
	if (n < 0)
		return TC_ACT_SHOT;
	if (hmt_frame_response)
		kanary_http_frame_response(&s->fr, s->buf, (__u32)n, hmt_frame_head_request);
	else
		kanary_http_frame_request(&s->fr, s->buf, (__u32)n);
	*out = s->fr;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
