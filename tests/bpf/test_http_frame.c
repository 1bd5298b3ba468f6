// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The framer's BPF build (include/kanary/http_frame.h through the test-only
 * hmt_frame program of http_match_test.bpf.c) under BPF_PROG_TEST_RUN: the
 * verifier takes it, it answers the shared table (frame_cases.c) as
 * expected, and on every prefix of each case it answers exactly as the
 * userspace build does.
 */
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "http_match_test.skel.h"
#include "frame_cases.h"
#include "pkt.h"
#include "prog_run.h"
#include "suites.h"

static struct http_match_test_bpf *skel;
static int load_err;

/* Loaded once, before the forked tests; each one fails if this did. */
static void load(void)
{
	skel = http_match_test_bpf__open_and_load();
	load_err = skel ? 0 : -errno;
}

static void unload(void)
{
	http_match_test_bpf__destroy(skel);
	skel = NULL;
}

/* Frames the first len bytes of c through BPF into f; returns 0 or a negative errno. */
static int frame_bpf(const struct kt_frame_case *c, size_t len, struct kanary_http_frame *f)
{
	struct tcp4_spec spec = {
		.saddr = 0x0a000002, .daddr = 0x0a60000a, .sport = 40000, .dport = 80,
		.flags = TF_PSH | TF_ACK, .seq = 1, .ack = 1, .payload = c->bytes,
		.payload_len = len,
	};
	static struct pkt p;
	struct kt_prog_run run;
	__u32 key = 0;
	int err;

	ck_assert_msg(skel, "http_match_test.bpf.o did not load: %s", strerror(-load_err));
	skel->bss->hmt_frame_response = c->response;
	skel->bss->hmt_frame_head_request = c->head_request;
	pkt_tcp4(&p, &spec);
	err = kt_prog_run(bpf_program__fd(skel->progs.hmt_frame), p.data, p.len, NULL, 0, 1, &run);
	if (err)
		return err;
	if (run.retval != 0)	/* TC_ACT_OK */
		return -EPROTO;
	return bpf_map_lookup_elem(bpf_map__fd(skel->maps.hmt_frame_map), &key, f) ? -errno : 0;
}

START_TEST(bpf_table_case)
{
	const struct kt_frame_case *c = &kt_frame_cases[_i];
	struct kanary_http_frame f;
	char msg[512];

	ck_assert_int_eq(frame_bpf(c, strlen(c->bytes), &f), 0);
	ck_assert_msg(kt_frame_case_agrees(c, &f, msg, sizeof(msg)), "BPF: %s", msg);
}
END_TEST

START_TEST(bpf_agrees_with_userspace_on_every_prefix)
{
	const struct kt_frame_case *c = &kt_frame_cases[_i];
	struct kanary_http_frame b, u;
	size_t n = strlen(c->bytes);

	for (size_t k = 0; k <= n; k++) {
		ck_assert_int_eq(frame_bpf(c, k, &b), 0);
		kt_frame_case_run(c, k, &u);
		ck_assert_msg(kt_frame_same_answer(&b, &u),
			      "%s, %zu bytes: BPF result %u body %u flags 0x%x head_len %u; "
			      "userspace %u %u 0x%x %u", c->name, k, b.result, b.body, b.flags,
			      b.head_len, u.result, u.body, u.flags, u.head_len);
	}
}
END_TEST

Suite *http_frame_bpf_suite(void)
{
	Suite *s = suite_create("http_frame_bpf");
	TCase *t = tcase_create("http_frame_bpf");

	tcase_add_unchecked_fixture(t, load, unload);
	tcase_set_timeout(t, 30);
	tcase_add_loop_test(t, bpf_table_case, 0, (int)kt_frame_n_cases);
	tcase_add_loop_test(t, bpf_agrees_with_userspace_on_every_prefix, 0, (int)kt_frame_n_cases);
	suite_add_tcase(s, t);
	return s;
}
