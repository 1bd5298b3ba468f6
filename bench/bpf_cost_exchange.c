// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>
#include <linux/pkt_cls.h>
#include "bpf_cost_exchange.h"
#include "bpf_cost_frame.h"

static const char request_head[] = "GET /x HTTP/1.1\r\nHost: web\r\n\r\n";
static const char response_head[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

void bx_accounting(struct kanary_maps *m, bool on)
{
	struct kanary_globals g;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(m->globals, &zero, &g))
		bt_die("reading the globals", strerror(errno));
	g.flags = on ? g.flags & ~KANARY_GLOBAL_F_NO_HTTP : g.flags | KANARY_GLOBAL_F_NO_HTTP;
	if (bpf_map_update_elem(m->globals, &zero, &g, BPF_EXIST))
		bt_die("writing the globals", strerror(errno));
}

__u64 bx_exchanges(const struct bx_ctx *x)
{
	struct kanary_http_stats st;
	struct kanary_err e = { 0 };
	__u64 n = 0;

	for (__u32 k = 0; k < KANARY_MAX_SUBSETS; k++) {
		if (kanary_http_stats_read(x->maps, x->svc_id, k, &st, &e))
			bt_die("reading the HTTP figures", e.msg);
		n += st.requests;
	}
	return n;
}

static __u32 request(struct bx_ctx *x, __u8 *buf)
{
	struct bf_seg s = { .saddr = x->client, .daddr = x->vip, .sport = x->cport,
			    .dport = x->vport, .flags = BF_ACK | BF_PSH, .seq = x->cli_nxt,
			    .ack = x->srv_nxt, .data = request_head,
			    .len = sizeof(request_head) - 1 };

	x->cli_nxt += s.len;
	x->open = true;
	return bf_build(buf, &s);
}

static __u32 response(struct bx_ctx *x, __u8 *buf)
{
	struct bf_seg s = { .saddr = x->backend, .daddr = x->client, .sport = x->bport,
			    .dport = x->cport, .flags = BF_ACK | BF_PSH, .seq = x->srv_nxt,
			    .ack = x->cli_nxt, .data = response_head,
			    .len = sizeof(response_head) - 1 };

	x->srv_nxt += s.len;
	x->open = false;
	return bf_build(buf, &s);
}

/* The exchange's other packet, untimed: what must come before the timed one. */
static void untimed(struct bx_ctx *x, bool want_open)
{
	__u8 buf[BF_MAX_LEN], out[BF_OUT_CAP];
	__u32 len;
	int prog;

	if (x->open == want_open)
		return;
	prog = want_open ? x->prog_in : x->prog_out;
	len = want_open ? request(x, buf) : response(x, buf);
	if (bt_run(prog, buf, len, out, NULL) != TC_ACT_OK)
		bt_die("an exchange's untimed packet", "verdict not TC_ACT_OK");
}

static __u32 make_request(void *ctx, unsigned i, __u8 *buf)
{
	(void)i;
	untimed(ctx, false);
	return request(ctx, buf);
}

static __u32 make_response(void *ctx, unsigned i, __u8 *buf)
{
	(void)i;
	untimed(ctx, true);
	return response(ctx, buf);
}

static const char *check_request(void *ctx, unsigned i, __u32 verdict, const __u8 *out)
{
	const struct bx_ctx *x = ctx;

	(void)i;
	if (verdict != TC_ACT_OK)
		return "verdict not TC_ACT_OK";
	if (bf_daddr(out) != x->backend || bf_dport(out) != x->bport)
		return "not DNATed to its flow's backend";
	return NULL;
}

static const char *check_response(void *ctx, unsigned i, __u32 verdict, const __u8 *out)
{
	const struct bx_ctx *x = ctx;

	(void)i;
	if (verdict != TC_ACT_OK)
		return "verdict not TC_ACT_OK";
	if (bf_saddr(out) != x->vip || bf_sport(out) != x->vport)
		return "its source is not the VIP again";
	return NULL;
}

struct bt_case bx_request_case(struct bx_ctx *x)
{
	struct bt_case c = { "request head", x->prog_in, make_request, check_request, x };

	return c;
}

struct bt_case bx_response_case(struct bx_ctx *x)
{
	struct bt_case c = { "response head", x->prog_out, make_response, check_response, x };

	return c;
}
