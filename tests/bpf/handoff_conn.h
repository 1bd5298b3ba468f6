/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * One rule-path connection as the BPF suites drive it through the
 * datapath (test_handoff.c, test_per_request.c): a client and a backend
 * sending crafted segments, and the frames and map entries the handoff
 * must leave.  Each expected frame is built by pkt.c and compared byte for
 * byte but for the checksums, which pkt.c verifies on its own.
 */
#ifndef KT_HANDOFF_CONN_H
#define KT_HANDOFF_CONN_H

#include "fixture.h"

/* SYN options as Linux sends them: MSS 1460, SACK-permitted, timestamps, NOP, wscale 7. */
extern const __u8 hc_linux_syn_opts[20];
#define LINUX_MSS	1460
/* The MSS a peer assumes when the SYN has none (RFC 9293). */
#define DEFAULT_MSS	536

/* The service hc_service made last. */
extern __u32 hc_svc_id;

/*
 * Creates the service KT_SVC at the test VIP with n subsets (as
 * kt_service_create); hc_backend_of accepts only its backends.
 */
__u32 hc_service(int n, const __u32 weight_milli[], const int n_backends[]);

/* One connection, as the test drives it. */
struct hc_conn {
	struct kt_flow f;
	const __u8 *syn_opts;	/* the client's SYN options */
	size_t syn_opts_len;
	__u16 mss;		/* the MSS they announce */
	__u32 cisn;		/* the client's ISN */
	__u32 our_isn;		/* the datapath's, read from its SYN-ACK */
	__u32 bisn;		/* the backend's (the current leg's) */
	__u16 window;		/* the client's, in its first data */
	const void *req;	/* the first data */
	size_t req_len;
	struct kt_be be;	/* where the first data (the current leg) went */
};

/* The i-th connection, sending len bytes of req (or the string req) as its first data. */
struct hc_conn hc_conn_new(unsigned i, const void *req, size_t len);
struct hc_conn hc_conn_http(unsigned i, const char *req);

/* A segment from the client to the VIP / from the backend c->be to the client. */
struct tcp4_spec hc_from_client(const struct hc_conn *c, __u8 flags, __u32 seq, __u32 ack,
				const void *data, size_t len);
struct tcp4_spec hc_from_backend(const struct hc_conn *c, __u8 flags, __u32 seq, __u32 ack,
				 const void *data, size_t len);
/* s as the backend must receive it (to c->be), and as the client must (from the VIP). */
struct tcp4_spec hc_to_backend(const struct hc_conn *c, struct tcp4_spec s);
struct tcp4_spec hc_from_vip(const struct hc_conn *c, struct tcp4_spec s);
/* Options of a segment the datapath crafts: an MSS option when there is room, then NOPs. */
const __u8 *hc_mss_opts(__u8 o[40], __u16 mss, size_t len);

/* Runs ingress / egress (a frame towards the client) on s; returns the verdict. */
__u32 hc_ingress(const struct tcp4_spec *s, struct pkt *out);
/* hc_ingress with skb->mark *mark, which comes back as the program left it. */
__u32 hc_ingress_mark(const struct tcp4_spec *s, __u32 *mark, struct pkt *out);
__u32 hc_egress(const struct tcp4_spec *s, struct pkt *out);

const char *hc_verdict_name(__u32 v);
/* A macro, so that a failure names the test's line; got is evaluated once. */
#define ck_verdict(got, want, what)							\
	do {										\
		__u32 __v = (got);							\
		ck_assert_msg(__v == (want), "%s: verdict %u (%s), want %s", what, __v,	\
			      hc_verdict_name(__v), #want);				\
	} while (0)

/*
 * out must be the frame want describes, towards the client (to_client) or
 * from it: byte for byte but for the two checksums, which must verify.
 */
void hc_expect_frame(const struct pkt *out, const struct tcp4_spec *want, bool to_client,
		     const char *what);
/* A RST from the VIP to the client at seq, with no payload. */
void hc_expect_rst_to_client(const struct hc_conn *c, const struct pkt *out, __u32 seq,
			     const char *what);
/* The handoff counters of hc_svc_id, and a subset's connections. */
void hc_expect_ho_stats(const struct kanary_ho_stats *want);
void hc_expect_subset_stats(int subset, __u64 connections, __u64 rule_connections);

/* The maps: the connection's state, its stash, the reverse entry of c->be. */
bool hc_ho_tracked(const struct hc_conn *c);	/* in either table */
/* In the handshakes' table (kanary_hosyn_v1): no data yet. */
bool hc_in_handshakes(const struct hc_conn *c);
bool hc_stash_get(const struct hc_conn *c, struct kanary_stash *s);
bool hc_replies_tracked(const struct hc_conn *c);
void hc_expect_forgotten(const struct hc_conn *c);

/* The steps of a handoff. */
struct tcp4_spec hc_client_syn(const struct hc_conn *c);
void hc_expect_synack(const struct hc_conn *c, const struct tcp4_spec *syn,
		      const struct pkt *out);
/* The client's SYN, answered with our SYN-ACK (sets c->our_isn). */
void hc_syn(struct hc_conn *c, struct pkt *out);
/* SYN, SYN-ACK, and the client's ACK of it, which goes nowhere. */
void hc_handshake(struct hc_conn *c);
struct tcp4_spec hc_first_data_seg(const struct hc_conn *c);
/* The backend a frame is addressed to, which must be one of subset. */
struct kt_be hc_backend_of(const struct pkt *out, int subset);
void hc_expect_syn_to_backend(const struct hc_conn *c, const struct pkt *out);
/* The client's first data, which becomes the SYN to a backend of subset (sets c->be). */
void hc_first_data(struct hc_conn *c, int subset, struct pkt *out);
void hc_backend_synack_leg(const struct hc_conn *c, __u32 leg_isn, const void *data, size_t len,
			   struct pkt *out);
void hc_backend_synack(const struct hc_conn *c, struct pkt *out);
/* Handshake, first data to subset, the backend's SYN-ACK: the first leg established. */
void hc_establish(struct hc_conn *c, int subset);

#endif /* KT_HANDOFF_CONN_H */
