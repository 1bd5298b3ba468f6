/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* PLACEHOLDER: being written; programs pass everything through. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "lib/maps.h"

SEC("tc")
int kanary_ingress(struct __sk_buff *skb) { return TC_ACT_OK; }

SEC("tc")
int kanary_egress(struct __sk_buff *skb) { return TC_ACT_OK; }

char LICENSE[] SEC("license") = "Dual BSD/GPL";
