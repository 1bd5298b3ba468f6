// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer harness of the matcher's userspace build (and of the rule-set
 * builder in libkanary).  Every input must: not crash, read nothing outside
 * the request (ASan; the request is copied to a buffer of its exact size),
 * give a rule index in range, give the same answer twice, and give exactly
 * the answer of the plain reference in ref_match.c (rule, head status, and
 * every condition's truth).  Built with -fsanitize=fuzzer,address,undefined.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kanary/http_match.h"
#include "fuzz_case.h"

_Static_assert(KANARY_HTTP_INVALID == REF_INVALID && KANARY_HTTP_COMPLETE == REF_COMPLETE &&
	       KANARY_HTTP_PARTIAL_HEAD == REF_PARTIAL_HEAD &&
	       KANARY_HTTP_PARTIAL_LINE == REF_PARTIAL_LINE, "head statuses line up");
_Static_assert(KANARY_HTTP_STASH == REF_STASH && KANARY_HTTP_LINES_MAX == REF_LINES,
	       "the reference has the matcher's limits");

static void die(const struct fuzz_case *fc, const char *what)
{
	fprintf(stderr, "fuzz_http_match: %s\n  %d conditions, %d rules, %zu request bytes%s\n",
		what, fc->n_conds, fc->n_rules, fc->req_len, fc->raw ? ", raw rule set" : "");
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_case fc;
	static struct kanary_http_state st;	/* reused: each run must start afresh */
	unsigned char *req;
	char msg[512];
	__u32 n_rules, met;
	int rule, head;

	fuzz_case_parse(data, size, &fc);
	req = malloc(fc.req_len ? fc.req_len : 1);
	if (!req)
		abort();
	memcpy(req, fc.req, fc.req_len);
	rule = kanary_http_match(&st, &fc.rs, req, (__u32)fc.req_len);
	head = st.head;
	met = st.met;
	n_rules = fc.rs.n_rules > KANARY_RULES_MAX ? KANARY_RULES_MAX : fc.rs.n_rules;
	if (rule < KANARY_RULE_NONE || rule >= (int)n_rules)
		die(&fc, "rule index out of range");
	if (head > KANARY_HTTP_COMPLETE || st.len > KANARY_HTTP_STASH ||
	    st.n_lines > KANARY_HTTP_LINES_MAX)
		die(&fc, "state out of range");
	if (kanary_http_match(&st, &fc.rs, req, (__u32)fc.req_len) != rule || st.head != head ||
	    st.met != met)
		die(&fc, "a second run on the same input answers differently");
	if (!fc.raw && !fuzz_case_agrees(&fc, rule, head, met, msg, sizeof(msg)))
		die(&fc, msg);
	free(req);
	return 0;
}
