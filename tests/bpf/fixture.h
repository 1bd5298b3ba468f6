/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Per-test fixture: a private mount + network namespace, the binary's
 * kanary as it was just after its load (fixture_shared.c), and helpers to
 * configure services through libkanary, run the programs on crafted frames
 * and read the counters.
 */
#ifndef KT_FIXTURE_H
#define KT_FIXTURE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <linux/limits.h>
#include <check.h>
#include "kanary.h"
#include "pkt.h"

#define KT_BASE_ENV	"KT_BASE"	/* main's temp dir; each test mounts below it */

#define KT_VIP		0x0a60000a	/* 10.96.0.10 */
#define KT_VPORT	80
#define KT_SVC		"web"

struct kt_env {
	char dir[PATH_MAX];		/* bpffs mount point, used as pin path */
	bool mounted, maps_open;
	struct kanary_maps maps;
	int prog_in, prog_out;		/* kanary_ingress, kanary_egress */
	int ncpus;
};
extern struct kt_env kt;

/* Checked fixture for every datapath test case. */
void kt_setup(void);
void kt_teardown(void);
/* Unloads kanary (its maps and services go) and loads it afresh with these options. */
void kt_reload(const struct kanary_load_opts *lo);
/* Loads new programs over the pinned maps, as kanaryctl load does on a loaded instance. */
void kt_load_again(const struct kanary_load_opts *lo);
/* A test case with that fixture per test, generous timeout (seconds). */
TCase *kt_tcase(const char *name, double timeout);
/* 0, or an errno: the calling thread runs on cpu only (races between two CPUs). */
int kt_pin_to_cpu(int cpu);
/*
 * Two CPUs racing, round by round: the test, on CPU 0, sets pkt, then runs
 * kt_race_round(n), which lets a thread on CPU 1 run pkt on prog while the
 * test runs its own packet, and waits for it.  No assertion in the thread:
 * a failed run sets failed, which kt_race_join checks.
 */
struct kt_race {
	int		prog;
	unsigned	rounds;
	struct pkt	pkt;		/* the second CPU's packet for round `round` */
	atomic_uint	round, done;
	atomic_int	failed;
	pthread_t	thread;
};
/* r reset, the caller pinned to CPU 0, CPU 1's thread started (fails without two CPUs). */
void kt_race_start(struct kt_race *r, int prog, unsigned rounds);
/* The first CPU's round n: the second CPU let go, mine run on r->prog (checked), then waits for it. */
void kt_race_round(struct kt_race *r, unsigned n, const struct pkt *mine);
/* The second CPU's thread joined; none of its runs failed. */
void kt_race_join(struct kt_race *r);
/* The test netns's loopback up: a per-request switch redirects the old leg's RST there. */
void kt_loopback_up(void);
/*
 * A Check binary's main: as root, makes the temp dir the fixtures mount
 * under, runs the suites (TAP per CK_* environment), removes the dir.
 * Returns the exit status: 0, 1 when a test failed, 2 when it could not run.
 */
int kt_main(const char *prog, Suite *const suites[], size_t n);

/* A client connection to a service, host-order fields. */
struct kt_flow {
	__u32 client, vip;
	__u16 cport, vport;
};

/* Backend identity as decoded from a rewritten packet. */
struct kt_be {
	int subset, index;
};

/* The i-th synthetic flow to the test VIP; distinct for distinct i. */
struct kt_flow kt_flow_nth(unsigned i);

/* Backend j of subset s is 10.244.s.(j+1):(8080+s), so a packet names both. */
__u32 kt_be_addr(int subset, int index);
__u16 kt_be_port(int subset);

/*
 * Creates a service at vip:port with subsets "s0".."sN-1" of the given
 * weights (x1000) and backend counts, via libkanary; returns its id.
 */
__u32 kt_service_create(const char *name, __u32 vip, __u16 port, int n,
			const __u32 weight_milli[], const int n_backends[]);
/* Index of subset "s<subset>" in the service's config (for stats and conntrack). */
int kt_subset_idx(const char *name, int subset);
/* Sets the weights of the first n subsets and commits. */
void kt_service_set_weights(const char *name, int n, const __u32 weight_milli[]);
/* Makes subset's backends exactly kt_be_addr(subset, index[0..n-1]), in that order, and commits. */
void kt_service_set_backends(const char *name, int subset, int n, const int index[]);
/* Removes backend kt_be_addr(subset, index) and commits. */
void kt_service_remove_backend(const char *name, int subset, int index);
/* Deletes the service, as kanaryctl service del does. */
void kt_service_delete(const char *name);
/*
 * Appends the rule "kind arg -> all to subset s<subset>" to the service's
 * dark-release rules, as kanaryctl route add does (kind "header" or "path").
 */
void kt_rule_add(const char *name, const char *kind, const char *arg, int subset);

/*
 * Frames of a flow: client -> VIP, and backend -> client.  The client's
 * sequence is KT_CLIENT_ISN and its ack KT_BACKEND_ISN, the backend's
 * sequence KT_BACKEND_ISN and its ack KT_CLIENT_ISN + 1; the _seq forms
 * take the sequence.
 */
#define KT_CLIENT_ISN	1000
#define KT_BACKEND_ISN	5000
void kt_pkt_fwd(struct pkt *p, const struct kt_flow *f, __u8 flags,
		const void *payload, size_t len);
void kt_pkt_rev(struct pkt *p, const struct kt_flow *f, const struct kt_be *be,
		__u8 flags, const void *payload, size_t len);
void kt_pkt_fwd_seq(struct pkt *p, const struct kt_flow *f, __u8 flags, __u32 seq,
		    const void *payload, size_t len);
void kt_pkt_rev_seq(struct pkt *p, const struct kt_flow *f, const struct kt_be *be,
		    __u8 flags, __u32 seq, const void *payload, size_t len);

/* Runs a program once; asserts it ran, returned TC_ACT_OK and kept the length. */
void kt_run(int prog_fd, const struct pkt *in, struct pkt *out);
/* Runs a program once; asserts it ran and returns its verdict, whatever it is. */
__u32 kt_run_verdict(int prog_fd, const struct pkt *in, struct pkt *out);
/* The same with skb->mark *mark (NULL: none), which comes back as the program left it. */
__u32 kt_run_verdict_mark(int prog_fd, const struct pkt *in, __u32 *mark, struct pkt *out);

/*
 * Assert that out is in with only the destination (DNAT) or source (reverse
 * NAT) address and port rewritten, and both checksums valid.
 */
struct kt_be kt_expect_dnat(const struct pkt *in, const struct pkt *out);
void kt_expect_snat(const struct pkt *in, const struct pkt *out, __u32 vip, __u16 vport);
void kt_expect_untouched(const struct pkt *in, const struct pkt *out);
/*
 * Assert that out is in with only its addresses and ports rewritten, to
 * exactly these (host order), and both checksums valid: DNAT and SNAT at
 * once, as for a hairpin connection.
 */
void kt_expect_nat(const struct pkt *in, const struct pkt *out, __u32 saddr, __u16 sport,
		   __u32 daddr, __u16 dport);

/* Sends one client packet of f through ingress, expects DNAT; returns the backend. */
struct kt_be kt_send(const struct kt_flow *f, __u8 flags);
/* The same at sequence seq. */
struct kt_be kt_send_fwd_seq(const struct kt_flow *f, __u8 flags, __u32 seq);
/* Sends one packet of f's backend be at seq through egress, expects it from the VIP. */
void kt_send_rev_seq(const struct kt_flow *f, const struct kt_be *be, __u8 flags, __u32 seq);
/* SYN, SYN-ACK, ACK: f established (KT_CLIENT_ISN, KT_BACKEND_ISN); returns its backend. */
struct kt_be kt_establish(const struct kt_flow *f);

/* Raw per-CPU sums, read without libkanary. */
void kt_stats(__u32 svc_id, __u32 subset, struct kanary_subset_stats *sum);
void kt_counters(__u64 out[KANARY_CNT__MAX]);
void kt_ho_stats(__u32 svc_id, struct kanary_ho_stats *sum);

/* The conntrack key of a flow's forward direction. */
struct kanary_ct_key kt_ct_fwd_key(const struct kt_flow *f);
/* The conntrack key of its replies from backend be. */
struct kanary_ct_key kt_ct_rev_key(const struct kt_flow *f, const struct kt_be *be);

#endif /* KT_FIXTURE_H */
