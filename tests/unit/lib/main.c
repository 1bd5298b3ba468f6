// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bin/kanary_unit: libkanary's userspace units.  The service index's map
 * cases borrow the BPF suites' fixture (tests/bpf/fixture.h) for a kanary
 * loaded into a private bpffs.
 */
#include "fixture.h"

Suite *lib_suite(void);		/* test_lib.c: libkanary alone */
Suite *http_match_suite(void);	/* test_http_match.c: the dark-release matcher, no BPF */
Suite *http_frame_suite(void);	/* test_http_frame.c: the HTTP/1.x framer, no BPF */
Suite *service_index_suite(void);	/* test_service_index.c: name -> id, free ids */
Suite *maglev_unit_suite(void);	/* test_maglev.c: the Maglev table builder, and the commit's tables */
Suite *slots_suite(void);	/* test_slots.c: the old config slot freed after a commit */
Suite *mirror_rules_suite(void);	/* test_mirror_rules.c: route del's three mirror writes */

int main(void)
{
	Suite *const suites[] = { lib_suite(), http_match_suite(), http_frame_suite(),
				service_index_suite(), maglev_unit_suite(), slots_suite(),
				mirror_rules_suite() };

	return kt_main("kanary_unit", suites, sizeof(suites) / sizeof(suites[0]));
}
