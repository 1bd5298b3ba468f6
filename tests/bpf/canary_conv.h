/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * One canary-path connection as the BPF suites drive it (test_http_stats.c,
 * test_mirror.c): a client and a backend sending crafted segments through
 * the programs, each checked to be only NATed, with each side's next seq.
 */
#ifndef KT_CANARY_CONV_H
#define KT_CANARY_CONV_H

#include "fixture.h"

struct conv {
	struct kt_flow f;
	struct kt_be be;
	__u32 cnxt, snxt;
};

/* Connection i (kt_flow_nth) to the test VIP, through SYN and SYN-ACK; the service exists. */
struct conv conv_connect(unsigned i);
/* The client sends len bytes of data at seq (flags beside ACK): DNATed. */
void client_at(struct conv *c, __u32 seq, __u8 flags, const void *data, size_t len);
/* The client sends the string data next. */
void client(struct conv *c, const char *data);
/* The backend sends data at seq: SNATed. */
void backend_at(struct conv *c, __u32 seq, __u8 flags, const void *data, size_t len);
void backend(struct conv *c, const char *data);

#endif /* KT_CANARY_CONV_H */
