/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The cost bench's HTTP exchanges on the plain path (issue 12's
 * accounting, bpf/lib/http_stats.h): GETs and their 200s, one after the
 * other on one keep-alive connection.  Of each exchange one packet is
 * timed, the request's head at ingress or the response's at egress; the
 * other is sent untimed before it, so that each timed one starts or ends
 * an exchange as it does in a live connection.  Timed with the accounting
 * on and off (kanaryctl load http-stats off), their difference is what it
 * costs a request.
 */
#ifndef KANARY_BENCH_EXCHANGE_H
#define KANARY_BENCH_EXCHANGE_H

#include "kanary.h"
#include "bpf_cost_timer.h"

struct bx_ctx {
	int prog_in, prog_out;
	struct kanary_maps *maps;
	__u32 svc_id;
	__u32 client, vip, backend;	/* host order */
	__u16 cport, vport, bport;
	__u32 cli_nxt, srv_nxt;		/* each side's next sequence */
	bool open;			/* a request sent, its response not yet */
};

/* Turns the accounting on or off, as kanaryctl load http-stats does; dies on failure. */
void bx_accounting(struct kanary_maps *m, bool on);
/* Exchanges the service's HTTP figures have counted, all subsets. */
__u64 bx_exchanges(const struct bx_ctx *x);
struct bt_case bx_request_case(struct bx_ctx *x);
struct bt_case bx_response_case(struct bx_ctx *x);

#endif /* KANARY_BENCH_EXCHANGE_H */
