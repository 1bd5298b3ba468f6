// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The rule path's packets for the cost bench; see bpf_cost_rule.h. */
#include <string.h>
#include <arpa/inet.h>
#include <linux/pkt_cls.h>
#include "bpf_cost_frame.h"
#include "bpf_cost_rule.h"
#include "rule_set.h"

/* A request the rule sends to risky: what a dark-release client sends first. */
static const char dark_request[] = "GET /x HTTP/1.1\r\nHost: web\r\nX-My-Header: dark\r\n\r\n";

static void v4(union kanary_addr *a, __u32 host_order)
{
	kanary_addr_from_v4(a, htonl(host_order));
}

static void subset(struct kanary_service *s, const char *name, __u32 weight_milli, __u32 be,
		   int *idx)
{
	struct kanary_err e = { 0 };

	*idx = kanary_subset_find(s, name, true, &e);
	if (*idx < 0)
		bt_die("adding the rule service's subsets", e.msg);
	s->cfg.subsets[*idx].weight_milli = weight_milli;
	s->cfg.subsets[*idx].n_backends = 1;
	v4(&s->backends[*idx][0].addr, be);
	s->backends[*idx][0].port = htons(80);
}

void br_service(struct kanary_maps *m, struct kanary_service *s, struct br_ctx *ctx)
{
	struct kanary_svc_key key = { .port = htons(80), .proto = IPPROTO_TCP };
	struct kanary_rule_spec spec = { .n_matches = 1, .n_conds = { 1 }, .n_dests = 1 };
	static struct kanary_rules rs;
	struct kanary_err e = { 0 };
	int safe;

	v4(&key.vip, BR_VIP);
	if (kanary_service_add(m, "bench/rules", &key, &e) ||
	    kanary_service_get(m, "bench/rules", s, &e))
		bt_die("adding the rule service", e.msg);
	subset(s, "safe", 100 * KANARY_WEIGHT_MILLI, BR_SAFE_BE, &safe);
	subset(s, "risky", 0, BR_RISKY_BE, &ctx->risky);
	if (kanary_service_commit(m, s, &e) || kanary_service_get(m, "bench/rules", s, &e))
		bt_die("committing the rule service", e.msg);
	if (kanary_cond_parse("header", "x-my-header=dark", &spec.conds[0][0], &e))
		bt_die("the rule's condition", e.msg);
	spec.dest_subset[0] = (__u8)ctx->risky;
	spec.dest_weight_milli[0] = 100 * KANARY_WEIGHT_MILLI;
	if (kanary_rules_read(m, s, &rs, NULL, &e) || kanary_rules_insert(&rs, rs.n_rules, &spec, &e) ||
	    kanary_rules_write(m, s, &rs, &e))
		bt_die("writing the rule", e.msg);
	ctx->svc_id = s->id;
}

/*
 * Connection i: a tuple of its own, to the VIP, from one of 4,096 client
 * addresses in turn.  Each address stays far under the per-source bound
 * (handoff_source.h, an eighth of the handoff table): 50,000 connections
 * from one address, as before the bound, had the bench's own connections
 * refused past it.
 */
#define BR_CLIENTS	4096
static struct bf_seg from_client(unsigned i, __u8 flags, __u32 seq, __u32 ack)
{
	struct bf_seg s = { .saddr = 0x0a020000 + i % BR_CLIENTS, .daddr = BR_VIP,
			    .sport = (__u16)(1024 + i / BR_CLIENTS), .dport = 80,
			    .flags = flags, .seq = seq, .ack = ack };
	return s;
}

#define CLIENT_ISN	1000

static __u32 make_syn(void *ctx, unsigned i, __u8 *buf)
{
	struct bf_seg s = from_client(i, BF_SYN, CLIENT_ISN, 0);

	(void)ctx;
	return bf_build(buf, &s);
}

/* The datapath answers the SYN itself: a SYN-ACK from the VIP, redirected back. */
static const char *check_syn(void *ctx, unsigned i, __u32 verdict, const __u8 *out)
{
	(void)ctx;
	if (verdict != TC_ACT_REDIRECT)
		return "the SYN was not answered (verdict not TC_ACT_REDIRECT)";
	if (bf_flags(out) != (BF_SYN | BF_ACK) || bf_saddr(out) != BR_VIP ||
	    bf_daddr(out) != from_client(i, 0, 0, 0).saddr)
		return "what the program left is not a SYN-ACK from the VIP to the client";
	return NULL;
}

/* The handshake of connection i, untimed, then its first data. */
static __u32 make_first_data(void *ctx, unsigned i, __u8 *buf)
{
	struct br_ctx *c = ctx;
	__u8 out[BF_OUT_CAP];
	struct bf_seg s;
	__u32 len = make_syn(ctx, i, buf);
	const char *bad = check_syn(ctx, i, bt_run(c->prog_in, buf, len, out, NULL), out);

	if (bad)
		bt_die("the rule path's handshake", bad);
	c->our_isn = bf_seq(out);
	s = from_client(i, BF_ACK, CLIENT_ISN + 1, c->our_isn + 1);
	if (bt_run(c->prog_in, buf, bf_build(buf, &s), out, NULL) != TC_ACT_SHOT)
		bt_die("the rule path's handshake", "the ACK of the SYN-ACK went on (not TC_ACT_SHOT)");
	s = from_client(i, BF_ACK | BF_PSH, CLIENT_ISN + 1, c->our_isn + 1);
	s.data = dark_request;
	s.len = sizeof(dark_request) - 1;
	return bf_build(buf, &s);
}

/* The rule matched: the first data left as the SYN to the risky backend. */
static const char *check_first_data(void *ctx, unsigned i, __u32 verdict, const __u8 *out)
{
	(void)ctx;
	if (verdict != TC_ACT_OK)
		return "verdict not TC_ACT_OK";
	if (bf_flags(out) != BF_SYN || bf_daddr(out) != BR_RISKY_BE || bf_dport(out) != 80 ||
	    bf_saddr(out) != from_client(i, 0, 0, 0).saddr)
		return "what the program left is not the SYN to the rule's backend";
	return NULL;
}

struct bt_case br_syn_case(struct br_ctx *ctx)
{
	struct bt_case c = { .name = "rule-path SYN", .prog = ctx->prog_in, .make = make_syn,
			     .check = check_syn, .ctx = ctx };
	return c;
}

struct bt_case br_first_data_case(struct br_ctx *ctx)
{
	struct bt_case c = { .name = "rule-path first data", .prog = ctx->prog_in,
			     .make = make_first_data, .check = check_first_data, .ctx = ctx };
	return c;
}
