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

/* The next head of the exchange: the client's request, or the backend's response. */
static __u32 next_head(struct bx_ctx *x, bool request, __u8 *buf)
{
	const char *data = request ? request_head : response_head;
	struct bf_seg s = { .flags = BF_ACK | BF_PSH, .data = data, .len = strlen(data) };

	if (request) {
		s.saddr = x->client, s.daddr = x->vip, s.sport = x->cport, s.dport = x->vport;
		s.seq = x->cli_nxt, s.ack = x->srv_nxt;
		x->cli_nxt += s.len;
	} else {
		s.saddr = x->backend, s.daddr = x->client, s.sport = x->bport, s.dport = x->cport;
		s.seq = x->srv_nxt, s.ack = x->cli_nxt;
		x->srv_nxt += s.len;
	}
	x->open = request;
	return bf_build(buf, &s);
}

/* The exchange's other packet, untimed: what must come before the timed one. */
static void untimed(struct bx_ctx *x, bool want_open)
{
	__u8 buf[BF_MAX_LEN], out[BF_OUT_CAP];
	__u32 len;

	if (x->open == want_open)
		return;
	len = next_head(x, want_open, buf);
	if (bt_run(want_open ? x->prog_in : x->prog_out, buf, len, out, NULL) != TC_ACT_OK)
		bt_die("an exchange's untimed packet", "verdict not TC_ACT_OK");
}

static __u32 make_request(void *ctx, unsigned i, __u8 *buf)
{
	(void)i;
	untimed(ctx, false);
	return next_head(ctx, true, buf);
}

static __u32 make_response(void *ctx, unsigned i, __u8 *buf)
{
	(void)i;
	untimed(ctx, true);
	return next_head(ctx, false, buf);
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
