// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * One rule-path connection as the BPF suites drive it (handoff_conn.h):
 * the segments each side sends, the frames the datapath must leave, and
 * the maps it keeps.
 */
#include <stdio.h>
#include <string.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include "handoff_conn.h"

const __u8 hc_linux_syn_opts[20] = {
	0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x01,
	0xe2, 0x40, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
};

__u32 hc_svc_id;
static const int *hc_n_be;
static int hc_n_subsets;

__u32 hc_service(int n, const __u32 weight_milli[], const int n_backends[])
{
	hc_n_be = n_backends;
	hc_n_subsets = n;
	hc_svc_id = kt_service_create(KT_SVC, KT_VIP, KT_VPORT, n, weight_milli, n_backends);
	return hc_svc_id;
}

/* The i-th connection, sending len bytes of req as its first data. */
struct hc_conn hc_conn_new(unsigned i, const void *req, size_t len)
{
	struct hc_conn c = {
		.f = kt_flow_nth(i),
		.syn_opts = hc_linux_syn_opts, .syn_opts_len = sizeof(hc_linux_syn_opts), .mss = LINUX_MSS,
		.cisn = 0x3c000000 + i * 0x10001, .bisn = 0x9b000000 ^ i,
		.window = 29200, .req = req, .req_len = len,
	};
	return c;
}

struct hc_conn hc_conn_http(unsigned i, const char *req)
{
	return hc_conn_new(i, req, strlen(req));
}

/* A segment from the client to the VIP. */
struct tcp4_spec hc_from_client(const struct hc_conn *c, __u8 flags, __u32 seq, __u32 ack,
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
struct tcp4_spec hc_from_backend(const struct hc_conn *c, __u8 flags, __u32 seq, __u32 ack,
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
struct tcp4_spec hc_to_backend(const struct hc_conn *c, struct tcp4_spec s)
{
	s.daddr = kt_be_addr(c->be.subset, c->be.index);
	s.dport = kt_be_port(c->be.subset);
	return s;
}

/* s as the client must receive it: from the VIP instead of the backend. */
struct tcp4_spec hc_from_vip(const struct hc_conn *c, struct tcp4_spec s)
{
	s.saddr = c->f.vip;
	s.sport = c->f.vport;
	return s;
}

/* Options of a segment the datapath crafts: an MSS option when there is room, then NOPs. */
const __u8 *hc_mss_opts(__u8 o[40], __u16 mss, size_t len)
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


__u32 hc_ingress(const struct tcp4_spec *s, struct pkt *out)
{
	return hc_ingress_mark(s, NULL, out);
}

__u32 hc_ingress_mark(const struct tcp4_spec *s, __u32 *mark, struct pkt *out)
{
	struct pkt in;

	pkt_tcp4(&in, s);
	ck_assert(pkt_tcp4_csum_ok(&in));
	return kt_run_verdict_mark(kt.prog_in, &in, mark, out);
}

/* Egress sees frames on their way to the client: the host veth's MAC is the source. */
__u32 hc_egress(const struct tcp4_spec *s, struct pkt *out)
{
	struct pkt in;

	pkt_tcp4(&in, s);
	pkt_swap_macs(&in);
	ck_assert(pkt_tcp4_csum_ok(&in));
	return kt_run_verdict(kt.prog_out, &in, out);
}

const char *hc_verdict_name(__u32 v)
{
	return v == TC_ACT_OK ? "TC_ACT_OK" : v == TC_ACT_SHOT ? "TC_ACT_SHOT" :
	       v == TC_ACT_REDIRECT ? "TC_ACT_REDIRECT" : "another verdict";
}

/* Checksums aside, byte for byte: pkt.c verifies them on its own. */
void hc_expect_frame(const struct pkt *out, const struct tcp4_spec *want, bool to_client,
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
void hc_expect_rst_to_client(const struct hc_conn *c, const struct pkt *out, __u32 seq,
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

static void ho_stats_str(char *buf, size_t n, const struct kanary_ho_stats *s)
{
	snprintf(buf, n, "refused %llu silent %llu beyond %llu stash_lost %llu no_backend %llu "
		 "state_lost %llu switches %llu switch_failed %llu pinned %llu/%llu/%llu/%llu/"
		 "%llu/%llu/%llu", s->backend_refused, s->backend_silent, s->beyond_first_flight,
		 s->stash_lost, s->no_backend, s->state_lost, s->switches, s->switch_failed,
		 s->pinned[1], s->pinned[2], s->pinned[3], s->pinned[4], s->pinned[5],
		 s->pinned[6], s->pinned[7]);
}

void hc_expect_ho_stats(const struct kanary_ho_stats *want)
{
	struct kanary_ho_stats got;
	char g[256], w[256];

	kt_ho_stats(hc_svc_id, &got);
	ho_stats_str(g, sizeof(g), &got);
	ho_stats_str(w, sizeof(w), want);
	ck_assert_msg(!memcmp(&got, want, sizeof(got)), "handoff stats: %s; want %s", g, w);
}

void hc_expect_subset_stats(int subset, __u64 connections, __u64 rule_connections)
{
	struct kanary_subset_stats st;

	kt_stats(hc_svc_id, kt_subset_idx(KT_SVC, subset), &st);
	ck_assert_msg(st.connections == connections && st.rule_connections == rule_connections,
		      "subset s%d: %llu connections, %llu by rule; want %llu and %llu", subset,
		      st.connections, st.rule_connections, connections, rule_connections);
}


bool hc_ho_tracked(const struct hc_conn *c)
{
	struct kanary_ct_key k = kt_ct_fwd_key(&c->f);
	struct kanary_ho_entry e;

	return bpf_map_lookup_elem(kt.maps.handoff, &k, &e) == 0 ||
	       bpf_map_lookup_elem(kt.maps.handshake, &k, &e) == 0;
}

bool hc_in_handshakes(const struct hc_conn *c)
{
	struct kanary_ct_key k = kt_ct_fwd_key(&c->f);
	struct kanary_ho_entry e;

	return bpf_map_lookup_elem(kt.maps.handshake, &k, &e) == 0;
}

bool hc_stash_get(const struct hc_conn *c, struct kanary_stash *s)
{
	struct kanary_ct_key k = kt_ct_fwd_key(&c->f);

	return bpf_map_lookup_elem(kt.maps.stash, &k, s) == 0;
}

bool hc_replies_tracked(const struct hc_conn *c)
{
	struct kanary_ct_key k = kt_ct_rev_key(&c->f, &c->be);
	struct kanary_ct_entry e;

	return bpf_map_lookup_elem(kt.maps.ct, &k, &e) == 0;
}

void hc_expect_forgotten(const struct hc_conn *c)
{
	struct kanary_stash s;

	ck_assert_msg(!hc_ho_tracked(c), "%s still holds the connection", KANARY_MAP_HANDOFF);
	ck_assert_msg(!hc_replies_tracked(c), "the reverse conntrack entry is still there");
	ck_assert_msg(!hc_stash_get(c, &s), "%s still holds the first data", KANARY_MAP_STASH);
}


struct tcp4_spec hc_client_syn(const struct hc_conn *c)
{
	struct tcp4_spec s = hc_from_client(c, TF_SYN, c->cisn, 0, NULL, 0);

	s.tcp_opts = c->syn_opts;
	s.tcp_opts_len = c->syn_opts_len;
	return s;
}

/*
 * Our SYN-ACK to syn: turned around, flags SYN|ACK alone, a window of one
 * segment of at most the stash, announced as our MSS too, in place of the
 * client's options (NOPs fill the rest).
 */
void hc_expect_synack(const struct hc_conn *c, const struct tcp4_spec *syn,
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
	s.tcp_opts = hc_mss_opts(opts, window, syn->tcp_opts_len);
	hc_expect_frame(out, &s, true, "our SYN-ACK");
}

/* The client's SYN, answered with our SYN-ACK. */
void hc_syn(struct hc_conn *c, struct pkt *out)
{
	struct tcp4_spec s = hc_client_syn(c);

	ck_verdict(hc_ingress(&s, out), TC_ACT_REDIRECT, "client SYN");
	c->our_isn = pkt_tcp_seq(out);
	hc_expect_synack(c, &s, out);
}

/* SYN, SYN-ACK, and the client's ACK of it, which goes nowhere. */
void hc_handshake(struct hc_conn *c)
{
	struct tcp4_spec s;
	struct pkt out;

	hc_syn(c, &out);
	s = hc_from_client(c, TF_ACK, c->cisn + 1, c->our_isn + 1, NULL, 0);
	ck_verdict(hc_ingress(&s, &out), TC_ACT_SHOT, "client ACK of our SYN-ACK");
}

struct tcp4_spec hc_first_data_seg(const struct hc_conn *c)
{
	return hc_from_client(c, TF_ACK | TF_PSH, c->cisn + 1, c->our_isn + 1, c->req, c->req_len);
}

/* The backend a frame is addressed to, which must be a configured one of subset. */
struct kt_be hc_backend_of(const struct pkt *out, int subset)
{
	__u32 daddr = pkt_ip4_daddr(out);
	struct kt_be be = { .subset = (daddr >> 8) & 0xff, .index = (int)(daddr & 0xff) - 1 };

	ck_assert_msg((daddr & 0xffff0000) == 0x0af40000 && be.subset < hc_n_subsets && be.index >= 0 &&
		      be.index < hc_n_be[be.subset] && pkt_l4_dport(out) == kt_be_port(be.subset),
		      "sent to %#x:%u, which is no backend", daddr, pkt_l4_dport(out));
	ck_assert_msg(be.subset == subset, "sent to a backend of s%d, want s%d", be.subset, subset);
	return be;
}

/* The SYN the first data must become: the client's ISN and MSS, no payload. */
void hc_expect_syn_to_backend(const struct hc_conn *c, const struct pkt *out)
{
	struct tcp4_spec s = hc_to_backend(c, hc_first_data_seg(c));
	__u8 opts[40];

	s.flags = TF_SYN;
	s.seq = c->cisn;
	s.ack = 0;
	s.tcp_opts = hc_mss_opts(opts, c->mss, 4);
	s.tcp_opts_len = 4;
	s.payload = NULL;
	s.payload_len = 0;
	hc_expect_frame(out, &s, false, "the SYN to the backend");
	ck_assert_uint_eq(out->len, ETH_LEN + 44);
}

/* The client's first data, which becomes the SYN to a backend of subset. */
void hc_first_data(struct hc_conn *c, int subset, struct pkt *out)
{
	struct tcp4_spec s = hc_first_data_seg(c);

	ck_verdict(hc_ingress(&s, out), TC_ACT_OK, "client's first data");
	c->be = hc_backend_of(out, subset);
	hc_expect_syn_to_backend(c, out);
}

/*
 * The SYN-ACK of the backend c->be (ISN c->bisn) to a leg's SYN of ISN
 * leg_isn, which must come back as the client's ACK carrying the stash:
 * len bytes of data at leg_isn + 1, in the client's window.
 */
void hc_backend_synack_leg(const struct hc_conn *c, __u32 leg_isn, const void *data, size_t len,
			   struct pkt *out)
{
	struct tcp4_spec s = hc_from_backend(c, TF_SYN | TF_ACK, c->bisn, leg_isn + 1, NULL, 0);
	struct tcp4_spec want;
	__u8 opts[40], nops[40];

	s.tcp_opts = hc_mss_opts(opts, LINUX_MSS, 4);
	s.tcp_opts_len = 4;
	ck_verdict(hc_egress(&s, out), TC_ACT_REDIRECT, "backend SYN-ACK");
	want = hc_to_backend(c, hc_from_client(c, TF_ACK | TF_PSH, leg_isn + 1, c->bisn + 1,
						data, len));
	want.tcp_opts = hc_mss_opts(nops, 0, 0);
	want.tcp_opts_len = 4;
	hc_expect_frame(out, &want, false, "the ACK with the stash");
}

/* The backend's SYN-ACK, which must come back as the client's ACK carrying the first data. */
void hc_backend_synack(const struct hc_conn *c, struct pkt *out)
{
	hc_backend_synack_leg(c, c->cisn, c->req, c->req_len, out);
}

void hc_establish(struct hc_conn *c, int subset)
{
	struct pkt out;

	hc_handshake(c);
	hc_first_data(c, subset, &out);
	hc_backend_synack(c, &out);
}
