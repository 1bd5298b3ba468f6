/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Server-first detection: kanaryd is the datapath's timer.  It takes the
 * rule-path handshakes the datapath queued (kanary_hodet_v1) once the
 * detection delay has passed since their ACK, and sends each whose client
 * is still silent back out of the client's veth as a marked ACK, which
 * the datapath reflects to its ingress and binds by the weights
 * (bpf/lib/handoff_detect.h).  Until the backend answers, the mark goes
 * again every KANARY_HO_DETECT_RETRY_MS, as a client's data would bring
 * its SYN again.
 */
#ifndef KD_SERVER_FIRST_H
#define KD_SERVER_FIRST_H

#include <stddef.h>
#include "kanary.h"

struct kd_sf_pending {
	struct kanary_ho_detect d;
	long long due_ms;
};

struct kd_server_first {
	int sock;		/* AF_PACKET, marked KANARY_MARK_DETECT; -1 when off */
	int queue, handshake, handoff;	/* the pinned maps */
	unsigned int delay_ms;
	struct kd_sf_pending *pending;	/* marks sent whose SYN the backend has not answered */
	size_t n, cap;
	unsigned long long marks, resent, dropped;	/* sent, sent again, not kept for resending */
};

/* Opens the socket (CAP_NET_RAW) and the maps of pin; delay_ms 0: off, nothing opened. */
int kd_server_first_open(struct kd_server_first *sf, const char *pin, unsigned int delay_ms,
			 struct kanary_err *e);
/* The maps again, after a reload. */
int kd_server_first_reopen(struct kd_server_first *sf, const char *pin, struct kanary_err *e);
/* Sends what is due at now_ms; returns when to come back (ms, monotonic), or -1 when off. */
long long kd_server_first_run(struct kd_server_first *sf, long long now_ms);
void kd_server_first_close(struct kd_server_first *sf);

#endif /* KD_SERVER_FIRST_H */
