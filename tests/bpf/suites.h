/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The Check suites of bin/kanary_bpf_test, in the order main runs them. */
#ifndef KT_SUITES_H
#define KT_SUITES_H

#include <check.h>

Suite *pkt_suite(void);		/* the test's own packet builder and checksum */
Suite *dnat_suite(void);
Suite *untouched_suite(void);
Suite *split_suite(void);
Suite *conntrack_suite(void);
void ct_lifecycle_tests(TCase *tc);	/* test_ct_lifecycle.c: entries expire; in the conntrack suite */
void ct_handshake_tests(TCase *tc);	/* test_ct_handshake.c: handshakes apart; in the conntrack suite */
void ct_idle_tests(TCase *tc);		/* test_ct_idle.c: the idle sweep; in the conntrack suite */
Suite *maglev_suite(void);	/* test_maglev.c: consistent hashing inside a subset */
Suite *hairpin_suite(void);	/* test_hairpin.c: a pod steered to itself through a VIP */
void ho_hairpin_tests(TCase *tc);	/* test_ho_hairpin.c: the same on the rule path; in the hairpin suite */
Suite *spoof_suite(void);	/* test_spoof.c: blind teardown (RFC 5961) on both paths */
Suite *stats_suite(void);
Suite *handoff_suite(void);	/* tests/bpf/test_handoff.c: the dark-release handoff datapath */
void ho_source_tests(TCase *tc);	/* test_ho_source.c: the per-source bound; in the handoff suite */
void ho_detect_tests(TCase *tc);	/* test_ho_detect.c: server-first detection; in the handoff suite */
Suite *http_frame_bpf_suite(void);
Suite *http_stats_suite(void);	/* test_http_stats.c: HTTP accounting on the canary path */
Suite *mirror_suite(void);	/* test_mirror.c: the copy path of traffic mirroring */
Suite *per_request_suite(void);	/* test_per_request.c: per-request routing on keep-alive connections */	/* test_http_frame.c: the framer's BPF build */

#endif /* KT_SUITES_H */
