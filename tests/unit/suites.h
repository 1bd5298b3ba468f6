/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The Check suites of bin/kanary_unit, in the order main runs them. */
#ifndef KT_SUITES_H
#define KT_SUITES_H

#include <check.h>

Suite *lib_suite(void);		/* tests/unit/test_lib.c: libkanary alone */
Suite *pkt_suite(void);		/* the test's own packet builder and checksum */
Suite *dnat_suite(void);
Suite *untouched_suite(void);
Suite *split_suite(void);
Suite *conntrack_suite(void);
Suite *stats_suite(void);
Suite *http_match_suite(void);	/* tests/unit/test_http_match.c: the dark-release matcher, no BPF */
Suite *service_index_suite(void);	/* tests/unit/test_service_index.c: name -> id, free ids */
Suite *handoff_suite(void);	/* tests/unit/test_handoff.c: the dark-release handoff datapath */

/* A datapath test case: fixture per test, generous timeout (seconds). */
TCase *kt_tcase(const char *name, double timeout);

#endif /* KT_SUITES_H */
