// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* A canary-path connection driven through the programs (canary_conv.h). */
#include <string.h>
#include "canary_conv.h"

struct conv conv_connect(unsigned i)
{
	struct conv c = { .f = kt_flow_nth(i), .cnxt = 7000 + i * 100000, .snxt = 90000 + i };
	struct tcp4_spec s;
	struct pkt in, out;

	s = (struct tcp4_spec){ .saddr = c.f.client, .daddr = c.f.vip, .sport = c.f.cport,
				.dport = c.f.vport, .flags = TF_SYN, .seq = c.cnxt++ };
	pkt_tcp4(&in, &s);
	kt_run(kt.prog_in, &in, &out);
	c.be = kt_expect_dnat(&in, &out);
	s = (struct tcp4_spec){ .saddr = kt_be_addr(c.be.subset, c.be.index), .daddr = c.f.client,
				.sport = kt_be_port(c.be.subset), .dport = c.f.cport,
				.flags = TF_SYN | TF_ACK, .seq = c.snxt++, .ack = c.cnxt };
	pkt_tcp4(&in, &s);
	kt_run(kt.prog_out, &in, &out);
	kt_expect_snat(&in, &out, c.f.vip, c.f.vport);
	return c;
}

void client_at(struct conv *c, __u32 seq, __u8 flags, const void *data, size_t len)
{
	struct tcp4_spec s = { .saddr = c->f.client, .daddr = c->f.vip, .sport = c->f.cport,
			       .dport = c->f.vport, .flags = TF_ACK | flags, .seq = seq,
			       .ack = c->snxt, .payload = data, .payload_len = len };
	struct pkt in, out;

	pkt_tcp4(&in, &s);
	kt_run(kt.prog_in, &in, &out);
	kt_expect_dnat(&in, &out);
	if (seq + len - c->cnxt < (1u << 31))
		c->cnxt = seq + len;
}

void client(struct conv *c, const char *data)
{
	client_at(c, c->cnxt, TF_PSH, data, strlen(data));
}

void backend_at(struct conv *c, __u32 seq, __u8 flags, const void *data, size_t len)
{
	struct tcp4_spec s = { .saddr = kt_be_addr(c->be.subset, c->be.index),
			       .daddr = c->f.client, .sport = kt_be_port(c->be.subset),
			       .dport = c->f.cport, .flags = TF_ACK | flags, .seq = seq,
			       .ack = c->cnxt, .payload = data, .payload_len = len };
	struct pkt in, out;

	pkt_tcp4(&in, &s);
	kt_run(kt.prog_out, &in, &out);
	kt_expect_snat(&in, &out, c->f.vip, c->f.vport);
	if (seq + len - c->snxt < (1u << 31))
		c->snxt = seq + len;
}

void backend(struct conv *c, const char *data)
{
	backend_at(c, c->snxt, TF_PSH, data, strlen(data));
}
