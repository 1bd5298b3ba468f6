/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A plain reference for the HTTP/1.x framer (include/kanary/http_frame.h),
 * written from its documented semantics, not from its code: whole lines,
 * libc, no state machine.  It judges only heads whose blank line is within
 * the bytes, and complete lines of the others.
 */
#ifndef KT_REF_FRAME_H
#define KT_REF_FRAME_H

#include <stddef.h>

enum ref_frame_verdict { REF_FRAME_INVALID, REF_FRAME_UNKNOWN, REF_FRAME_COMPLETE };

struct ref_frame {
	int verdict;		/* UNKNOWN: no blank line, and no complete line is malformed */
	int h2;			/* the bytes start with "PRI * HTTP/2.0" (requests) */
	size_t head_len;	/* COMPLETE */
	int body;		/* COMPLETE: enum kanary_http_body */
	unsigned long long body_len;
	unsigned flags, status;	/* COMPLETE */
};

void ref_frame(const unsigned char *buf, size_t len, int response, int head_request,
	       struct ref_frame *out);

#endif /* KT_REF_FRAME_H */
