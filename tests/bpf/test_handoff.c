// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The dark-release handoff (bpf/lib/handoff.h) on crafted segments: the
 * SYN-ACK the datapath answers with, the first data turned into the SYN to
 * the chosen backend, the backend's SYN-ACK turned into the ACK carrying
 * the stash, the translation once established, the end of a connection,
 * and every way it fails.  Each expected frame is built by pkt.c and
 * compared byte for byte but for the checksums, which pkt.c verifies on
 * its own.  Under BPF_PROG_TEST_RUN a redirect is not performed: the
 * verdict and the frame left behind are what is checked.  test_run skbs
 * are CHECKSUM_NONE, so the CHECKSUM_PARTIAL path is left to tests/e2e.
 */
#include <string.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include "fixture.h"
#include "suites.h"

#define TF_ECE	0x40
#define TF_CWR	0x80

/* s0 takes every connection by weight; only the rule sends any to s1. */
static const int n_be[] = { 2, 1 };
static const __u32 w_100_0[] = { 100000, 0 };
#define RULE_SUBSET	1
#define WEIGHT_SUBSET	0

/* SYN options as Linux sends them: MSS 1460, SACK-permitted, timestamps, NOP, wscale 7. */
static const __u8 linux_syn_opts[20] = {
	0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x01,
	0xe2, 0x40, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
};
#define LINUX_MSS	1460
/* The MSS a peer assumes when the SYN has none (RFC 9293). */
#define DEFAULT_MSS	536

/* No length a multiple of 4, so that no path gets away with whole 32-bit words. */
static const char req_dark[] = "GET /x HTTP/1.1\r\nHost: web\r\nX-My-Header: dark\r\n\r\n";
static const char req_plain[] = "GET /x HTTP/1.1\r\nHost: web\r\n\r\n";
static const char req_darker[] = "GET /x HTTP/1.1\r\nHost: web\r\nx-my-header: darker\r\n\r\n";
/* The head goes on past the first data: an exact header match cannot hold. */
static const char req_cut[] = "GET /x HTTP/1.1\r\nHost: web\r\nX-My-Header: dark\r\n";

static __u32 svc_id;

/* ---- one connection, as the test drives it ---- */

struct conn {
	struct kt_flow f;
	const __u8 *syn_opts;	/* the client's SYN options */
	size_t syn_opts_len;
	__u16 mss;		/* the MSS they announce */
	__u32 cisn;		/* the client's ISN */
	__u32 our_isn;		/* the datapath's, read from its SYN-ACK */
	__u32 bisn;		/* the backend's */
	__u16 window;		/* the client's, in its first data */
	const void *req;	/* the first data */
	size_t req_len;
	struct kt_be be;	/* where the first data went */
};

static void rules_service(void)
{
	svc_id = kt_service_create(KT_SVC, KT_VIP, KT_VPORT, 2, w_100_0, n_be);
	kt_rule_add(KT_SVC, "header", "x-my-header=dark", RULE_SUBSET);
}

/* The i-th connection, sending len bytes of req as its first data. */
static struct conn conn_new(unsigned i, const void *req, size_t len)
{
	struct conn c = {
		.f = kt_flow_nth(i),
		.syn_opts = linux_syn_opts, .syn_opts_len = sizeof(linux_syn_opts), .mss = LINUX_MSS,
		.cisn = 0x3c000000 + i * 0x10001, .bisn = 0x9b000000 ^ i,
		.window = 29200, .req = req, .req_len = len,
	};
	return c;
}

static struct conn conn_http(unsigned i, const char *req)
{
	return conn_new(i, req, strlen(req));
}

/* A segment from the client to the VIP. */
static struct tcp4_spec from_client(const struct conn *c, __u8 flags, __u32 seq, __u32 ack,
				    const void *data, size_t len)
{
	struct tcp4_spec s = {
		.saddr = c->f.client, .daddr = c->f.vip, .sport = c->f.cport, .dport = c->f.vport,
		.flags = flags, .seq = seq, .ack = ack, .payload = data, .payload_len = len,
		.window = c->window,
	};
	return s;
}

/* A segment from the backend to the client, as the backend sends it. */
static struct tcp4_spec from_backend(const struct conn *c, __u8 flags, __u32 seq, __u32 ack,
				     const void *data, size_t len)
{
	struct tcp4_spec s = {
		.saddr = kt_be_addr(c->be.subset, c->be.index), .daddr = c->f.client,
		.sport = kt_be_port(c->be.subset), .dport = c->f.cport,
		.flags = flags, .seq = seq, .ack = ack, .payload = data, .payload_len = len,
	};
	return s;
}

/* s as the backend must receive it: addressed to the backend instead of the VIP. */
static struct tcp4_spec to_backend(const struct conn *c, struct tcp4_spec s)
{
	s.daddr = kt_be_addr(c->be.subset, c->be.index);
	s.dport = kt_be_port(c->be.subset);
	return s;
}

/* s as the client must receive it: from the VIP instead of the backend. */
static struct tcp4_spec from_vip(const struct conn *c, struct tcp4_spec s)
{
	s.saddr = c->f.vip;
	s.sport = c->f.vport;
	return s;
}

/* Options of a segment the datapath crafts: an MSS option when there is room, then NOPs. */
static const __u8 *mss_opts(__u8 o[40], __u16 mss, size_t len)
{
	memset(o, 1, 40);
	if (len >= 4) {
		o[0] = 2;
		o[1] = 4;
		o[2] = mss >> 8;
		o[3] = mss & 0xff;
	}
	return o;
}

/* ---- running and checking ---- */

static __u32 ingress(const struct tcp4_spec *s, struct pkt *out)
{
	struct pkt in;

	pkt_tcp4(&in, s);
	ck_assert(pkt_tcp4_csum_ok(&in));
	return kt_run_verdict(kt.prog_in, &in, out);
}

/* Egress sees frames on their way to the client: the host veth's MAC is the source. */
static __u32 egress(const struct tcp4_spec *s, struct pkt *out)
{
	struct pkt in;

	pkt_tcp4(&in, s);
	pkt_swap_macs(&in);
	ck_assert(pkt_tcp4_csum_ok(&in));
	return kt_run_verdict(kt.prog_out, &in, out);
}

static const char *verdict_name(__u32 v)
{
	return v == TC_ACT_OK ? "TC_ACT_OK" : v == TC_ACT_SHOT ? "TC_ACT_SHOT" :
	       v == TC_ACT_REDIRECT ? "TC_ACT_REDIRECT" : "another verdict";
}

/* A macro, so that a failure names the test's line; got is evaluated once. */
#define ck_verdict(got, want, what)							\
	do {										\
		__u32 __v = (got);							\
		ck_assert_msg(__v == (want), "%s: verdict %u (%s), want %s", what, __v,	\
			      verdict_name(__v), #want);				\
	} while (0)

/*
 * out must be the frame want describes, towards the client (to_client) or
 * from it: byte for byte but for the two checksums, which must verify.
 */
static void expect_frame(const struct pkt *out, const struct tcp4_spec *want, bool to_client,
			 const char *what)
{
	unsigned l4 = ETH_LEN + IP4_LEN + want->ip_opts_len;
	const unsigned skip[][2] = { { ETH_LEN + 10, 2 }, { l4 + 16, 2 } };
	struct pkt w;
	long diff;

	pkt_tcp4(&w, want);
	if (to_client)
		pkt_swap_macs(&w);
	diff = pkt_diff(&w, out, skip, 2);
	ck_assert_msg(diff < 0, "%s: %u bytes (want %u), byte %ld is %#04x, want %#04x "
		      "(TCP header at %u)", what, out->len, w.len, diff, out->data[diff],
		      w.data[diff], l4);
	ck_assert_msg(pkt_ip4_csum_ok(out), "%s: IPv4 header checksum wrong", what);
	ck_assert_msg(pkt_tcp4_csum_ok(out), "%s: TCP checksum wrong (%u bytes of payload)", what,
		      pkt_tcp_payload_len(out));
}

/*
 * A RST from the VIP to the client at seq, with no payload, its MACs those
 * of a frame to the client (from the host veth).
 */
static void expect_rst_to_client(const struct conn *c, const struct pkt *out, __u32 seq,
				 const char *what)
{
	static const __u8 host_to_client[12] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1 };
	__u8 flags = pkt_tcp_flags(out);

	ck_assert_msg(!memcmp(out->data, host_to_client, sizeof(host_to_client)),
		      "%s: MACs are not those of a frame to the client", what);
	ck_assert_msg(pkt_ip4_saddr(out) == c->f.vip && pkt_l4_sport(out) == c->f.vport &&
		      pkt_ip4_daddr(out) == c->f.client && pkt_l4_dport(out) == c->f.cport,
		      "%s: not from the VIP to the client", what);
	ck_assert_msg(flags & TF_RST, "%s: flags %#x, want RST", what, flags);
	ck_assert_msg(!(flags & (TF_SYN | TF_FIN)), "%s: flags %#x, want no SYN or FIN", what, flags);
	ck_assert_msg(pkt_tcp_seq(out) == seq, "%s: seq %#x, want %#x", what, pkt_tcp_seq(out), seq);
	ck_assert_msg(pkt_tcp_payload_len(out) == 0, "%s: %u bytes of payload, want none", what,
		      pkt_tcp_payload_len(out));
	ck_assert_msg(out->len == ETH_LEN + IP4_LEN + pkt_tcp_hlen(out),
		      "%s: frame of %u bytes, its headers say %u", what, out->len,
		      ETH_LEN + IP4_LEN + pkt_tcp_hlen(out));
	ck_assert_msg(pkt_ip4_csum_ok(out), "%s: IPv4 header checksum wrong", what);
	ck_assert_msg(pkt_tcp4_csum_ok(out), "%s: TCP checksum wrong", what);
}

static void expect_ho_stats(const struct kanary_ho_stats *want)
{
	struct kanary_ho_stats got;

	kt_ho_stats(svc_id, &got);
	ck_assert_msg(!memcmp(&got, want, sizeof(got)),
		      "handoff stats refused/silent/beyond/stash_lost/no_backend/state_lost = "
		      "%llu/%llu/%llu/%llu/%llu/%llu, want %llu/%llu/%llu/%llu/%llu/%llu",
		      got.backend_refused, got.backend_silent, got.beyond_first_flight,
		      got.stash_lost, got.no_backend, got.state_lost, want->backend_refused,
		      want->backend_silent, want->beyond_first_flight, want->stash_lost,
		      want->no_backend, want->state_lost);
}

static void expect_subset_stats(int subset, __u64 connections, __u64 rule_connections)
{
	struct kanary_subset_stats st;

	kt_stats(svc_id, kt_subset_idx(KT_SVC, subset), &st);
	ck_assert_msg(st.connections == connections && st.rule_connections == rule_connections,
		      "subset s%d: %llu connections, %llu by rule; want %llu and %llu", subset,
		      st.connections, st.rule_connections, connections, rule_connections);
}

/* ---- the maps ---- */

static bool ho_tracked(const struct conn *c)
{
	struct kanary_ct_key k = kt_ct_fwd_key(&c->f);
	struct kanary_ho_entry e;

	return bpf_map_lookup_elem(kt.maps.handoff, &k, &e) == 0;
}

static bool stash_get(const struct conn *c, struct kanary_stash *s)
{
	struct kanary_ct_key k = kt_ct_fwd_key(&c->f);

	return bpf_map_lookup_elem(kt.maps.stash, &k, s) == 0;
}

static bool replies_tracked(const struct conn *c)
{
	struct kanary_ct_key k = kt_ct_rev_key(&c->f, &c->be);
	struct kanary_ct_entry e;

	return bpf_map_lookup_elem(kt.maps.ct, &k, &e) == 0;
}

static void expect_forgotten(const struct conn *c)
{
	struct kanary_stash s;

	ck_assert_msg(!ho_tracked(c), "%s still holds the connection", KANARY_MAP_HANDOFF);
	ck_assert_msg(!replies_tracked(c), "the reverse conntrack entry is still there");
	ck_assert_msg(!stash_get(c, &s), "%s still holds the first data", KANARY_MAP_STASH);
}

/* ---- the steps of a handoff ---- */

static struct tcp4_spec client_syn(const struct conn *c)
{
	struct tcp4_spec s = from_client(c, TF_SYN, c->cisn, 0, NULL, 0);

	s.tcp_opts = c->syn_opts;
	s.tcp_opts_len = c->syn_opts_len;
	return s;
}

/*
 * Our SYN-ACK to syn: turned around, flags SYN|ACK alone, a window of one
 * segment of at most the stash, announced as our MSS too, in place of the
 * client's options (NOPs fill the rest).
 */
static void expect_synack(const struct conn *c, const struct tcp4_spec *syn,
			  const struct pkt *out)
{
	__u16 window = c->mss < KANARY_HTTP_STASH ? c->mss : KANARY_HTTP_STASH;
	struct tcp4_spec s = *syn;
	__u8 opts[40];

	s.saddr = syn->daddr;
	s.daddr = syn->saddr;
	s.sport = syn->dport;
	s.dport = syn->sport;
	s.flags = TF_SYN | TF_ACK;
	s.seq = c->our_isn;
	s.ack = syn->seq + 1;
	s.window = window;
	s.tcp_opts = mss_opts(opts, window, syn->tcp_opts_len);
	expect_frame(out, &s, true, "our SYN-ACK");
}

/* The client's SYN, answered with our SYN-ACK. */
static void syn(struct conn *c, struct pkt *out)
{
	struct tcp4_spec s = client_syn(c);

	ck_verdict(ingress(&s, out), TC_ACT_REDIRECT, "client SYN");
	c->our_isn = pkt_tcp_seq(out);
	expect_synack(c, &s, out);
}

/* SYN, SYN-ACK, and the client's ACK of it, which goes nowhere. */
static void handshake(struct conn *c)
{
	struct tcp4_spec s;
	struct pkt out;

	syn(c, &out);
	s = from_client(c, TF_ACK, c->cisn + 1, c->our_isn + 1, NULL, 0);
	ck_verdict(ingress(&s, &out), TC_ACT_SHOT, "client ACK of our SYN-ACK");
}

static struct tcp4_spec first_data_seg(const struct conn *c)
{
	return from_client(c, TF_ACK | TF_PSH, c->cisn + 1, c->our_isn + 1, c->req, c->req_len);
}

/* The backend a frame is addressed to, which must be a configured one of subset. */
static struct kt_be backend_of(const struct pkt *out, int subset)
{
	__u32 daddr = pkt_ip4_daddr(out);
	struct kt_be be = { .subset = (daddr >> 8) & 0xff, .index = (int)(daddr & 0xff) - 1 };

	ck_assert_msg((daddr & 0xffff0000) == 0x0af40000 && be.subset < 2 && be.index >= 0 &&
		      be.index < n_be[be.subset] && pkt_l4_dport(out) == kt_be_port(be.subset),
		      "sent to %#x:%u, which is no backend", daddr, pkt_l4_dport(out));
	ck_assert_msg(be.subset == subset, "sent to a backend of s%d, want s%d", be.subset, subset);
	return be;
}

/* The SYN the first data must become: the client's ISN and MSS, no payload. */
static void expect_syn_to_backend(const struct conn *c, const struct pkt *out)
{
	struct tcp4_spec s = to_backend(c, first_data_seg(c));
	__u8 opts[40];

	s.flags = TF_SYN;
	s.seq = c->cisn;
	s.ack = 0;
	s.tcp_opts = mss_opts(opts, c->mss, 4);
	s.tcp_opts_len = 4;
	s.payload = NULL;
	s.payload_len = 0;
	expect_frame(out, &s, false, "the SYN to the backend");
	ck_assert_uint_eq(out->len, ETH_LEN + 44);
}

/* The client's first data, which becomes the SYN to a backend of subset. */
static void first_data(struct conn *c, int subset, struct pkt *out)
{
	struct tcp4_spec s = first_data_seg(c);

	ck_verdict(ingress(&s, out), TC_ACT_OK, "client's first data");
	c->be = backend_of(out, subset);
	expect_syn_to_backend(c, out);
}

/* The backend's SYN-ACK, which must come back as the client's ACK carrying the first data. */
static void backend_synack(const struct conn *c, struct pkt *out)
{
	struct tcp4_spec s = from_backend(c, TF_SYN | TF_ACK, c->bisn, c->cisn + 1, NULL, 0);
	struct tcp4_spec want;
	__u8 opts[40], nops[40];

	s.tcp_opts = mss_opts(opts, LINUX_MSS, 4);
	s.tcp_opts_len = 4;
	ck_verdict(egress(&s, out), TC_ACT_REDIRECT, "backend SYN-ACK");
	want = to_backend(c, first_data_seg(c));
	want.ack = c->bisn + 1;
	want.tcp_opts = mss_opts(nops, 0, 0);
	want.tcp_opts_len = 4;
	expect_frame(out, &want, false, "the ACK with the first data");
}

static void establish(struct conn *c, int subset)
{
	struct pkt out;

	handshake(c);
	first_data(c, subset, &out);
	backend_synack(c, &out);
}

/* ---- the SYN ---- */

START_TEST(syn_answered_with_synack)
{
	struct conn c = conn_http(1, req_dark);
	struct pkt out;

	rules_service();
	syn(&c, &out);
	ck_assert_msg(ho_tracked(&c), "no %s entry after the SYN", KANARY_MAP_HANDOFF);
}
END_TEST

/* Handshake and first data of c, checking our window and MSS and the backend's MSS. */
static void mss_case(struct conn c)
{
	struct pkt out;

	handshake(&c);
	first_data(&c, RULE_SUBSET, &out);
}

/* Our window and MSS follow the client's MSS up to the stash; the backend gets it whole. */
START_TEST(client_mss_sets_window_and_reaches_backend)
{
	static const __u16 mss[] = { 536, 1460, KANARY_HTTP_STASH, KANARY_HTTP_STASH + 1, 65495 };
	static const __u8 mss_after_others[12] = { 1, 1, 4, 2, 2, 4, 0x05, 0x78, 1, 3, 3, 7 };
	__u8 opts[sizeof(linux_syn_opts)];
	struct conn c;
	unsigned i;

	rules_service();
	for (i = 0; i < sizeof(mss) / sizeof(mss[0]); i++) {
		c = conn_http(10 + i, req_dark);
		memcpy(opts, linux_syn_opts, sizeof(opts));
		opts[2] = mss[i] >> 8;
		opts[3] = mss[i] & 0xff;
		c.syn_opts = opts;
		c.mss = mss[i];
		mss_case(c);
	}
	c = conn_http(20, req_dark);
	c.syn_opts = mss_after_others;
	c.syn_opts_len = sizeof(mss_after_others);
	c.mss = 1400;
	mss_case(c);
	c = conn_http(21, req_dark);
	c.syn_opts = NULL;
	c.syn_opts_len = 0;
	c.mss = DEFAULT_MSS;
	mss_case(c);
}
END_TEST

START_TEST(synack_declines_ecn)
{
	struct conn c = conn_http(1, req_dark);
	struct tcp4_spec s = client_syn(&c);
	struct pkt out;

	rules_service();
	s.flags |= TF_ECE | TF_CWR;
	ck_verdict(ingress(&s, &out), TC_ACT_REDIRECT, "client SYN asking for ECN");
	c.our_isn = pkt_tcp_seq(&out);
	expect_synack(&c, &s, &out);
}
END_TEST

/* A SYN carrying data (TFO): the data is not acked, the client sends it again. */
START_TEST(syn_data_left_out_of_synack)
{
	static const char early[] = "GET /x HTTP/1.1\r\n";
	struct conn c = conn_http(1, req_dark);
	struct tcp4_spec s = client_syn(&c);
	struct pkt out;

	rules_service();
	s.payload = early;
	s.payload_len = strlen(early);
	ck_verdict(ingress(&s, &out), TC_ACT_REDIRECT, "client SYN with data");
	c.our_isn = pkt_tcp_seq(&out);
	s.payload_len = 0;
	expect_synack(&c, &s, &out);
}
END_TEST

START_TEST(syn_retransmission_gets_same_synack)
{
	struct conn c = conn_http(1, req_dark);
	struct pkt first, again;

	rules_service();
	syn(&c, &first);
	syn(&c, &again);
	ck_assert_msg(pkt_diff(&first, &again, NULL, 0) < 0,
		      "the SYN-ACK to a retransmitted SYN differs at byte %ld",
		      pkt_diff(&first, &again, NULL, 0));
}
END_TEST

START_TEST(syn_with_new_isn_is_new_connection)
{
	struct conn c = conn_http(1, req_dark);
	struct pkt out;
	__u32 old_isn;

	rules_service();
	syn(&c, &out);
	old_isn = c.our_isn;
	c.cisn += 0x01000000;
	syn(&c, &out);
	ck_assert_msg(c.our_isn != old_isn, "the new connection got the old ISN %#x", old_isn);
	/* The new connection goes all the way. */
	first_data(&c, RULE_SUBSET, &out);
	backend_synack(&c, &out);
}
END_TEST

START_TEST(service_without_rules_dnats_syn)
{
	static const __u32 vip = KT_VIP + 1;
	struct conn c = conn_http(1, req_dark);
	struct tcp4_spec s;
	struct pkt in, out;

	rules_service();
	kt_service_create("plain", vip, KT_VPORT, 2, w_100_0, n_be);
	c.f.vip = vip;
	s = client_syn(&c);
	pkt_tcp4(&in, &s);
	kt_run(kt.prog_in, &in, &out);
	kt_expect_dnat(&in, &out);
	ck_assert_msg(!ho_tracked(&c), "a service without rules took the handoff");
}
END_TEST

START_TEST(ack_of_synack_dropped)
{
	struct conn c = conn_http(1, req_dark);

	rules_service();
	handshake(&c);
	ck_assert_msg(ho_tracked(&c), "the ACK of our SYN-ACK dropped the connection's state");
}
END_TEST

/* ---- the first data ---- */

START_TEST(first_data_matching_rule_goes_to_rule_subset)
{
	struct conn c = conn_http(1, req_dark);
	struct kanary_stash st;
	struct pkt out;

	rules_service();
	handshake(&c);
	first_data(&c, RULE_SUBSET, &out);
	ck_assert_msg(stash_get(&c, &st), "%s holds no first data", KANARY_MAP_STASH);
	ck_assert_uint_eq(st.len, c.req_len);
	ck_assert_msg(!memcmp(st.data, c.req, c.req_len), "the stash is not the first data");
	ck_assert_msg(replies_tracked(&c), "no reverse conntrack entry for the backend's replies");
	expect_subset_stats(RULE_SUBSET, 1, 1);
	expect_subset_stats(WEIGHT_SUBSET, 0, 0);
}
END_TEST

START_TEST(first_data_without_header_goes_by_weights)
{
	struct conn c = conn_http(1, req_plain);
	struct kanary_ho_stats none = { 0 };
	struct pkt out;

	rules_service();
	handshake(&c);
	first_data(&c, WEIGHT_SUBSET, &out);
	expect_subset_stats(WEIGHT_SUBSET, 1, 0);
	expect_subset_stats(RULE_SUBSET, 0, 0);
	expect_ho_stats(&none);
}
END_TEST

START_TEST(first_data_with_other_value_goes_by_weights)
{
	struct conn c = conn_http(1, req_darker);
	struct kanary_ho_stats none = { 0 };
	struct pkt out;

	rules_service();
	handshake(&c);
	first_data(&c, WEIGHT_SUBSET, &out);
	expect_subset_stats(WEIGHT_SUBSET, 1, 0);
	expect_subset_stats(RULE_SUBSET, 0, 0);
	expect_ho_stats(&none);
}
END_TEST

/* Options on the first data (a client that sends timestamps anyway) leave with it. */
START_TEST(first_data_options_left_out_of_syn)
{
	static const __u8 ts_opts[12] = { 1, 1, 8, 10, 0, 1, 0xe2, 0x41, 0, 2, 0x33, 0x44 };
	struct conn c = conn_http(1, req_dark);
	struct tcp4_spec s;
	struct pkt out;

	rules_service();
	handshake(&c);
	s = first_data_seg(&c);
	s.tcp_opts = ts_opts;
	s.tcp_opts_len = sizeof(ts_opts);
	ck_verdict(ingress(&s, &out), TC_ACT_OK, "client's first data with options");
	c.be = backend_of(&out, RULE_SUBSET);
	expect_syn_to_backend(&c, &out);
}
END_TEST

START_TEST(rule_to_empty_subset_goes_by_weights)
{
	static const int be_1_0[] = { 1, 0 };
	struct conn c = conn_http(1, req_dark);
	struct pkt out;

	svc_id = kt_service_create(KT_SVC, KT_VIP, KT_VPORT, 2, w_100_0, be_1_0);
	kt_rule_add(KT_SVC, "header", "x-my-header=dark", RULE_SUBSET);
	handshake(&c);
	first_data(&c, WEIGHT_SUBSET, &out);
	expect_subset_stats(WEIGHT_SUBSET, 1, 0);
}
END_TEST

START_TEST(cut_head_goes_by_weights_and_counts)
{
	struct conn c = conn_http(1, req_cut);
	struct kanary_ho_stats want = { .beyond_first_flight = 1 };
	struct pkt out;

	rules_service();
	handshake(&c);
	first_data(&c, WEIGHT_SUBSET, &out);
	expect_ho_stats(&want);
	expect_subset_stats(WEIGHT_SUBSET, 1, 0);
}
END_TEST

/* ---- the backend's SYN-ACK ---- */

START_TEST(backend_synack_becomes_ack_with_stash)
{
	struct conn c = conn_http(1, req_dark);
	struct kanary_stash st;

	rules_service();
	establish(&c, RULE_SUBSET);
	ck_assert_msg(ho_tracked(&c) && replies_tracked(&c), "the connection's state is gone");
	ck_assert_msg(stash_get(&c, &st), "the stash went before the backend acked it");
}
END_TEST

START_TEST(backend_synack_retransmission_resends_stash)
{
	struct conn c = conn_http(1, req_dark);
	struct pkt first, again;

	rules_service();
	establish(&c, RULE_SUBSET);
	backend_synack(&c, &first);
	backend_synack(&c, &again);
	ck_assert_msg(pkt_diff(&first, &again, NULL, 0) < 0,
		      "the stash resent differs at byte %ld", pkt_diff(&first, &again, NULL, 0));
}
END_TEST

/*
 * Payload sizes around every alignment and slice of the checksum code;
 * longest first, so bytes a longer payload left in scratch space show.
 */
START_TEST(odd_payload_lengths_keep_checksums_valid)
{
	static const size_t lens[] = { 1460, 1023, 257, 256, 255, 5, 4, 3, 2, 1 };
	static __u8 data[1460];
	unsigned i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (__u8)(0xff - i * 13);
	rules_service();
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct conn c = conn_new(100 + i, data, lens[i]);

		establish(&c, WEIGHT_SUBSET);
	}
	/* Not HTTP at all is not a head cut short: no failure to count. */
	expect_ho_stats(&(struct kanary_ho_stats){ 0 });
}
END_TEST

START_TEST(stash_lost_forgets_connection)
{
	struct conn c = conn_http(1, req_dark);
	struct kanary_ho_stats want = { .stash_lost = 1 };
	struct kanary_ct_key k = kt_ct_fwd_key(&c.f);
	struct tcp4_spec s;
	struct pkt out;

	rules_service();
	handshake(&c);
	first_data(&c, RULE_SUBSET, &out);
	ck_assert_int_eq(bpf_map_delete_elem(kt.maps.stash, &k), 0);	/* as LRU eviction would */
	s = from_backend(&c, TF_SYN | TF_ACK, c.bisn, c.cisn + 1, NULL, 0);
	ck_verdict(egress(&s, &out), TC_ACT_SHOT, "backend SYN-ACK with the stash gone");
	expect_ho_stats(&want);
	expect_forgotten(&c);
}
END_TEST

/* ---- established ---- */

/* Sequence numbers that wrap within the connection. */
static struct conn wrapping_conn(void)
{
	struct conn c = conn_http(1, req_dark);

	c.cisn = 0xffffffe0;
	c.bisn = 0xfffffff0;
	return c;
}

START_TEST(client_segments_dnat_and_ack_in_backend_space)
{
	static const char body[] = "more from the client";
	struct conn c = wrapping_conn();
	__u32 seq, n = 300;
	struct tcp4_spec s, want;
	struct pkt out;

	rules_service();
	establish(&c, RULE_SUBSET);
	seq = c.cisn + 1 + c.req_len;
	s = from_client(&c, TF_ACK | TF_PSH, seq, c.our_isn + 1 + n, body, sizeof(body));
	ck_verdict(ingress(&s, &out), TC_ACT_OK, "client data");
	want = to_backend(&c, s);
	want.ack = c.bisn + 1 + n;
	expect_frame(&out, &want, false, "client data to the backend");
}
END_TEST

START_TEST(backend_segments_snat_and_seq_in_our_space)
{
	static const char body[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	struct conn c = wrapping_conn();
	__u32 k = 40;
	struct tcp4_spec s, want;
	struct pkt out;

	rules_service();
	establish(&c, RULE_SUBSET);
	s = from_backend(&c, TF_ACK | TF_PSH, c.bisn + 1 + k, c.cisn + 1 + c.req_len, body,
			 sizeof(body));
	ck_verdict(egress(&s, &out), TC_ACT_OK, "backend data");
	want = from_vip(&c, s);
	want.seq = c.our_isn + 1 + k;
	expect_frame(&out, &want, true, "backend data to the client");
}
END_TEST

START_TEST(stash_dropped_once_backend_acks_it)
{
	struct conn c = wrapping_conn();
	struct kanary_stash st;
	struct tcp4_spec s;
	struct pkt out;

	rules_service();
	establish(&c, RULE_SUBSET);
	s = from_backend(&c, TF_ACK, c.bisn + 1, c.cisn + c.req_len, NULL, 0);
	ck_verdict(egress(&s, &out), TC_ACT_OK, "backend ACK of all but a byte");
	ck_assert_msg(stash_get(&c, &st), "the stash went before the backend acked all of it");
	s = from_backend(&c, TF_ACK, c.bisn + 1, c.cisn + 1 + c.req_len, NULL, 0);
	ck_verdict(egress(&s, &out), TC_ACT_OK, "backend ACK of the first data");
	ck_assert_msg(!stash_get(&c, &st), "the stash outlived the backend's ack of it");
	ck_assert_msg(ho_tracked(&c), "the connection's state went with the stash");
}
END_TEST

/* ---- the end ---- */

START_TEST(fins_both_ways_then_last_ack_forget)
{
	struct conn c = conn_http(1, req_dark);
	__u32 cseq, bseq;
	struct tcp4_spec s, want;
	struct pkt out;

	rules_service();
	establish(&c, RULE_SUBSET);
	cseq = c.cisn + 1 + c.req_len;
	bseq = c.bisn + 1;

	s = from_client(&c, TF_FIN | TF_ACK, cseq, c.our_isn + 1, NULL, 0);
	ck_verdict(ingress(&s, &out), TC_ACT_OK, "client FIN");
	ck_assert_msg(ho_tracked(&c), "forgotten after the client's FIN alone");

	s = from_backend(&c, TF_FIN | TF_ACK, bseq, cseq + 1, NULL, 0);
	ck_verdict(egress(&s, &out), TC_ACT_OK, "backend FIN");
	ck_assert_msg(ho_tracked(&c), "forgotten before the client acked the backend's FIN");

	s = from_client(&c, TF_ACK, cseq + 1, c.our_isn + 2, NULL, 0);
	ck_verdict(ingress(&s, &out), TC_ACT_OK, "client's last ACK");
	want = to_backend(&c, s);
	want.ack = bseq + 1;
	expect_frame(&out, &want, false, "client's last ACK to the backend");
	expect_forgotten(&c);
}
END_TEST

START_TEST(backend_closing_first_forgets_after_its_fin_acked)
{
	struct conn c = conn_http(1, req_dark);
	__u32 cseq, bseq;
	struct tcp4_spec s, want;
	struct pkt out;

	rules_service();
	establish(&c, RULE_SUBSET);
	cseq = c.cisn + 1 + c.req_len;
	bseq = c.bisn + 1;

	s = from_backend(&c, TF_FIN | TF_ACK, bseq, cseq, NULL, 0);
	ck_verdict(egress(&s, &out), TC_ACT_OK, "backend FIN");
	s = from_client(&c, TF_FIN | TF_ACK, cseq, c.our_isn + 2, NULL, 0);
	ck_verdict(ingress(&s, &out), TC_ACT_OK, "client FIN, acking the backend's");
	ck_assert_msg(ho_tracked(&c), "forgotten before the backend acked the client's FIN");

	s = from_backend(&c, TF_ACK, bseq + 1, cseq + 1, NULL, 0);
	ck_verdict(egress(&s, &out), TC_ACT_OK, "backend's last ACK");
	want = from_vip(&c, s);
	want.seq = c.our_isn + 2;
	expect_frame(&out, &want, true, "backend's last ACK to the client");
	expect_forgotten(&c);
}
END_TEST

START_TEST(fin_before_data_resets_client)
{
	struct conn c = conn_http(1, req_dark);
	struct tcp4_spec s;
	struct pkt out;

	rules_service();
	handshake(&c);
	s = from_client(&c, TF_FIN | TF_ACK, c.cisn + 1, c.our_isn + 1, NULL, 0);
	ck_verdict(ingress(&s, &out), TC_ACT_REDIRECT, "client FIN before any data");
	expect_rst_to_client(&c, &out, c.our_isn + 1, "RST for the FIN");
	ck_assert_msg(!ho_tracked(&c), "%s still holds the connection", KANARY_MAP_HANDOFF);
}
END_TEST

START_TEST(client_rst_forgets_established)
{
	struct conn c = conn_http(1, req_dark);
	struct tcp4_spec s, want;
	struct pkt out;

	rules_service();
	establish(&c, RULE_SUBSET);
	s = from_client(&c, TF_RST | TF_ACK, c.cisn + 1 + c.req_len, c.our_isn + 1, NULL, 0);
	ck_verdict(ingress(&s, &out), TC_ACT_OK, "client RST");
	want = to_backend(&c, s);
	want.ack = c.bisn + 1;
	expect_frame(&out, &want, false, "client RST to the backend");
	expect_forgotten(&c);
}
END_TEST

START_TEST(client_rst_before_data_forgets)
{
	struct conn c = conn_http(1, req_dark);
	struct tcp4_spec s;
	struct pkt out;

	rules_service();
	handshake(&c);
	s = from_client(&c, TF_RST, c.cisn + 1, 0, NULL, 0);
	ck_verdict(ingress(&s, &out), TC_ACT_SHOT, "client RST");
	ck_assert_msg(!ho_tracked(&c), "%s still holds the connection", KANARY_MAP_HANDOFF);
}
END_TEST

START_TEST(backend_rst_forgets_established)
{
	struct conn c = conn_http(1, req_dark);
	struct tcp4_spec s, want;
	struct pkt out;

	rules_service();
	establish(&c, RULE_SUBSET);
	s = from_backend(&c, TF_RST | TF_ACK, c.bisn + 1, c.cisn + 1 + c.req_len, NULL, 0);
	ck_verdict(egress(&s, &out), TC_ACT_OK, "backend RST");
	want = from_vip(&c, s);
	want.seq = c.our_isn + 1;
	expect_frame(&out, &want, true, "backend RST to the client");
	expect_forgotten(&c);
}
END_TEST

/* ---- failures ---- */

START_TEST(backend_refusal_resets_client)
{
	struct conn c = conn_http(1, req_dark);
	struct kanary_ho_stats want = { .backend_refused = 1 };
	struct tcp4_spec s;
	struct pkt out;

	rules_service();
	handshake(&c);
	first_data(&c, RULE_SUBSET, &out);
	s = from_backend(&c, TF_RST | TF_ACK, 0, c.cisn + 1, NULL, 0);
	ck_verdict(egress(&s, &out), TC_ACT_OK, "backend RST to our SYN");
	expect_rst_to_client(&c, &out, c.our_isn + 1, "RST for the refusal");
	expect_ho_stats(&want);
	expect_forgotten(&c);
}
END_TEST

START_TEST(silent_backend_retried_then_client_reset)
{
	struct conn c = conn_http(1, req_dark);
	struct kanary_ho_stats want = { .backend_silent = 1 }, none = { 0 };
	struct tcp4_spec s;
	struct pkt syn_out, out;
	int i;

	rules_service();
	handshake(&c);
	first_data(&c, RULE_SUBSET, &syn_out);
	s = first_data_seg(&c);
	for (i = 1; i < KANARY_HO_SYN_TRIES; i++) {
		ck_verdict(ingress(&s, &out), TC_ACT_OK, "retransmitted first data");
		ck_assert_msg(pkt_diff(&syn_out, &out, NULL, 0) < 0,
			      "SYN %d to the backend differs from the first at byte %ld", i + 1,
			      pkt_diff(&syn_out, &out, NULL, 0));
		expect_ho_stats(&none);
	}
	ck_verdict(ingress(&s, &out), TC_ACT_REDIRECT, "first data once the tries are spent");
	expect_rst_to_client(&c, &out, c.our_isn + 1, "RST for the silent backend");
	expect_ho_stats(&want);
	expect_forgotten(&c);
}
END_TEST

START_TEST(no_backend_resets_client)
{
	static const int be_0_0[] = { 0, 0 };
	struct conn c = conn_http(1, req_dark);
	struct kanary_ho_stats want = { .no_backend = 1 };
	struct tcp4_spec s;
	struct pkt out;

	svc_id = kt_service_create(KT_SVC, KT_VIP, KT_VPORT, 2, w_100_0, be_0_0);
	kt_rule_add(KT_SVC, "header", "x-my-header=dark", RULE_SUBSET);
	handshake(&c);
	s = first_data_seg(&c);
	ck_verdict(ingress(&s, &out), TC_ACT_REDIRECT, "first data with no backend to take it");
	expect_rst_to_client(&c, &out, c.our_isn + 1, "RST for no backend");
	expect_ho_stats(&want);
	ck_assert_msg(!ho_tracked(&c), "%s still holds the connection", KANARY_MAP_HANDOFF);
}
END_TEST

START_TEST(orphan_segment_resets_client_at_its_ack)
{
	struct conn c = conn_http(1, req_dark);
	struct kanary_ho_stats want = { .state_lost = 1 };
	const __u32 ack = 0x5eed1234;
	struct tcp4_spec s;
	struct pkt out;

	rules_service();
	s = from_client(&c, TF_ACK | TF_PSH, c.cisn + 1, ack, c.req, c.req_len);
	ck_verdict(ingress(&s, &out), TC_ACT_REDIRECT, "mid-flow data with no state");
	expect_rst_to_client(&c, &out, ack, "RST for the lost connection");
	expect_ho_stats(&want);
}
END_TEST

Suite *handoff_suite(void)
{
	Suite *s = suite_create("handoff");
	TCase *tc = kt_tcase("handoff", 60);

	tcase_add_test(tc, syn_answered_with_synack);
	tcase_add_test(tc, client_mss_sets_window_and_reaches_backend);
	tcase_add_test(tc, synack_declines_ecn);
	tcase_add_test(tc, syn_data_left_out_of_synack);
	tcase_add_test(tc, syn_retransmission_gets_same_synack);
	tcase_add_test(tc, syn_with_new_isn_is_new_connection);
	tcase_add_test(tc, service_without_rules_dnats_syn);
	tcase_add_test(tc, ack_of_synack_dropped);
	tcase_add_test(tc, first_data_matching_rule_goes_to_rule_subset);
	tcase_add_test(tc, first_data_without_header_goes_by_weights);
	tcase_add_test(tc, first_data_with_other_value_goes_by_weights);
	tcase_add_test(tc, first_data_options_left_out_of_syn);
	tcase_add_test(tc, rule_to_empty_subset_goes_by_weights);
	tcase_add_test(tc, cut_head_goes_by_weights_and_counts);
	tcase_add_test(tc, backend_synack_becomes_ack_with_stash);
	tcase_add_test(tc, backend_synack_retransmission_resends_stash);
	tcase_add_test(tc, odd_payload_lengths_keep_checksums_valid);
	tcase_add_test(tc, stash_lost_forgets_connection);
	tcase_add_test(tc, client_segments_dnat_and_ack_in_backend_space);
	tcase_add_test(tc, backend_segments_snat_and_seq_in_our_space);
	tcase_add_test(tc, stash_dropped_once_backend_acks_it);
	tcase_add_test(tc, fins_both_ways_then_last_ack_forget);
	tcase_add_test(tc, backend_closing_first_forgets_after_its_fin_acked);
	tcase_add_test(tc, fin_before_data_resets_client);
	tcase_add_test(tc, client_rst_forgets_established);
	tcase_add_test(tc, client_rst_before_data_forgets);
	tcase_add_test(tc, backend_rst_forgets_established);
	tcase_add_test(tc, backend_refusal_resets_client);
	tcase_add_test(tc, silent_backend_retried_then_client_reset);
	tcase_add_test(tc, no_backend_resets_client);
	tcase_add_test(tc, orphan_segment_resets_client_at_its_ack);
	suite_add_tcase(s, tc);
	return s;
}
