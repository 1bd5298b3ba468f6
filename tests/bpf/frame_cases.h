/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The framer's table (include/kanary/http_frame.h): heads and what it must
 * answer for each.  The userspace units (tests/unit/lib/test_http_frame.c)
 * and the BPF build under BPF_PROG_TEST_RUN (test_http_frame.c) run the
 * same table, so that both builds are held to the same semantics.
 */
#ifndef KT_FRAME_CASES_H
#define KT_FRAME_CASES_H

#include <stddef.h>
#include "kanary/http_frame.h"

struct kt_frame_case {
	const char *name;
	const char *bytes;	/* a head, perhaps with a body or more after it */
	__u8	response;	/* 1: kanary_http_frame_response */
	__u8	head_request;	/* responses: answers a HEAD */
	__u8	result;		/* enum kanary_frame_result */
	__u8	body;		/* enum kanary_http_body, when COMPLETE */
	__u8	flags;
	__u16	status;
	__u64	body_len;
};

extern const struct kt_frame_case kt_frame_cases[];
extern const size_t kt_frame_n_cases;

/* Frames c's bytes (their first len) with the userspace build. */
void kt_frame_case_run(const struct kt_frame_case *c, size_t len, struct kanary_http_frame *f);
/*
 * Whether f is what c expects of its whole bytes: 1, or 0 with why in msg.
 * A COMPLETE head_len must end at the first CRLF CRLF of the bytes.
 */
int kt_frame_case_agrees(const struct kt_frame_case *c, const struct kanary_http_frame *f,
			 char *msg, size_t cap);
/* The fields that are the framer's answer are equal in a and b. */
int kt_frame_same_answer(const struct kanary_http_frame *a, const struct kanary_http_frame *b);

#endif /* KT_FRAME_CASES_H */
