/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * BPF_PROG_TEST_RUN refuses an IPv4 frame shorter than Ethernet + 20 bytes,
 * yet a pod can send one.  This runs a program on such a frame for real: it
 * goes out of one end of a veth pair in the test's private netns, through
 * the program at tc egress, and is captured at the other end.
 */
#ifndef KT_WIRE_H
#define KT_WIRE_H

#include "pkt.h"

/* Asserts the frame arrived (so the program did not drop it); out gets it. */
void kt_wire_run(int prog_fd, const struct pkt *in, struct pkt *out);

/* Closes the sockets; the veth pair goes with the test's netns. */
void kt_wire_reset(void);

#endif /* KT_WIRE_H */
