// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libkanary's pure parts: weight normalisation, the ADDR and WEIGHT parsers,
 * subset creation and the pin path.  No BPF needed.
 */
#include <check.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kanary.h"

Suite *lib_suite(void);

/* A config whose subsets have these weights (x1000) and backend counts. */
static struct kanary_svc_config cfg_of(int n, const __u32 *milli, const __u32 *nbe)
{
	struct kanary_svc_config c;

	memset(&c, 0xAB, sizeof(c));	/* garbage: normalize must overwrite every cum slot */
	c.n_subsets = (__u32)n;
	for (int i = 0; i < n; i++) {
		c.subsets[i].weight_milli = milli[i];
		c.subsets[i].n_backends = nbe[i];
	}
	return c;
}

static __u32 part(const struct kanary_svc_config *c, int i)
{
	return c->cum_weight[i] - (i ? c->cum_weight[i - 1] : 0);
}

START_TEST(normalize_80_20)
{
	const __u32 w[] = { 80000, 20000 }, b[] = { 2, 1 };
	struct kanary_svc_config c = cfg_of(2, w, b);

	kanary_weights_normalize(&c);
	ck_assert_uint_eq(c.cum_weight[0], 8000);
	ck_assert_uint_eq(c.cum_weight[1], 10000);
	for (int i = 2; i < KANARY_MAX_SUBSETS; i++)
		ck_assert_uint_eq(c.cum_weight[i], 0);
}
END_TEST

/* Weights are relative: 4/1 and 0.8/0.2 split exactly like 80/20. */
START_TEST(normalize_relative)
{
	const __u32 a[] = { 4000, 1000 }, d[] = { 800, 200 }, b[] = { 1, 1 };
	struct kanary_svc_config c1 = cfg_of(2, a, b), c2 = cfg_of(2, d, b);

	kanary_weights_normalize(&c1);
	kanary_weights_normalize(&c2);
	ck_assert_uint_eq(part(&c1, 0), 8000);
	ck_assert_uint_eq(part(&c1, 1), 2000);
	ck_assert_uint_eq(part(&c2, 0), 8000);
	ck_assert_uint_eq(part(&c2, 1), 2000);
}
END_TEST

/* A subset without backends gets nothing; its share goes to the others. */
START_TEST(normalize_no_backends)
{
	const __u32 w[] = { 80000, 20000 }, b[] = { 3, 0 };
	struct kanary_svc_config c = cfg_of(2, w, b);

	kanary_weights_normalize(&c);
	ck_assert_uint_eq(part(&c, 0), 10000);
	ck_assert_uint_eq(part(&c, 1), 0);
	ck_assert_uint_eq(c.cum_weight[1], 10000);
}
END_TEST

/* An empty subset in the middle keeps its position, with an empty range. */
START_TEST(normalize_middle_ineligible)
{
	const __u32 w[] = { 50000, 30000, 50000 }, b[] = { 1, 0, 1 };
	struct kanary_svc_config c = cfg_of(3, w, b);

	kanary_weights_normalize(&c);
	ck_assert_uint_eq(c.cum_weight[0], 5000);
	ck_assert_uint_eq(c.cum_weight[1], 5000);
	ck_assert_uint_eq(c.cum_weight[2], 10000);
}
END_TEST

START_TEST(normalize_nothing_eligible)
{
	const __u32 w[] = { 0, 20000, 0 }, b[] = { 2, 0, 0 };
	struct kanary_svc_config c = cfg_of(3, w, b);

	kanary_weights_normalize(&c);
	for (int i = 0; i < KANARY_MAX_SUBSETS; i++)
		ck_assert_uint_eq(c.cum_weight[i], 0);
}
END_TEST

START_TEST(normalize_no_subsets)
{
	struct kanary_svc_config c = cfg_of(0, NULL, NULL);

	kanary_weights_normalize(&c);
	for (int i = 0; i < KANARY_MAX_SUBSETS; i++)
		ck_assert_uint_eq(c.cum_weight[i], 0);
}
END_TEST

/* 1/1/1: 3333.33 each; the one leftover part goes to the lowest index. */
START_TEST(normalize_remainder_ties)
{
	const __u32 w[] = { 1000, 1000, 1000 }, b[] = { 1, 1, 1 };
	struct kanary_svc_config c = cfg_of(3, w, b);

	kanary_weights_normalize(&c);
	ck_assert_uint_eq(part(&c, 0), 3334);
	ck_assert_uint_eq(part(&c, 1), 3333);
	ck_assert_uint_eq(part(&c, 2), 3333);
}
END_TEST

/* 1/2: 3333.33 and 6666.67; the leftover goes to the larger fraction. */
START_TEST(normalize_largest_remainder)
{
	const __u32 w[] = { 1000, 2000 }, b[] = { 1, 1 };
	struct kanary_svc_config c = cfg_of(2, w, b);

	kanary_weights_normalize(&c);
	ck_assert_uint_eq(part(&c, 0), 3333);
	ck_assert_uint_eq(part(&c, 1), 6667);
}
END_TEST

/* Eight maximal weights: no overflow in the sum or the products. */
START_TEST(normalize_max_weights)
{
	__u32 w[KANARY_MAX_SUBSETS], b[KANARY_MAX_SUBSETS];
	struct kanary_svc_config c;

	for (int i = 0; i < KANARY_MAX_SUBSETS; i++) {
		w[i] = KANARY_WEIGHT_MAX_MILLI;
		b[i] = 1;
	}
	c = cfg_of(KANARY_MAX_SUBSETS, w, b);
	kanary_weights_normalize(&c);
	for (int i = 0; i < KANARY_MAX_SUBSETS; i++)
		ck_assert_uint_eq(part(&c, i), 1250);
}
END_TEST

/* Any mix: ranges ascend, end at 10,000, and each part is within one of exact. */
START_TEST(normalize_properties)
{
	unsigned int seed = 42;

	for (int round = 0; round < 20000; round++) {
		__u32 w[KANARY_MAX_SUBSETS], b[KANARY_MAX_SUBSETS];
		int n = 1 + rand_r(&seed) % KANARY_MAX_SUBSETS;
		double sum = 0;
		struct kanary_svc_config c;
		__u32 total = 0;

		for (int i = 0; i < n; i++) {
			w[i] = rand_r(&seed) % 4 == 0 ? 0 : (__u32)rand_r(&seed) % 2000000;
			b[i] = (__u32)(rand_r(&seed) % 3);
			if (w[i] && b[i])
				sum += w[i];
		}
		c = cfg_of(n, w, b);
		kanary_weights_normalize(&c);
		for (int i = 0; i < n; i++) {
			double exact = sum ? 10000.0 * ((w[i] && b[i]) ? w[i] : 0) / sum : 0;

			ck_assert_uint_ge(c.cum_weight[i], i ? c.cum_weight[i - 1] : 0);
			ck_assert_msg(part(&c, i) + 1 > exact && part(&c, i) < exact + 1,
				      "round %d subset %d: %u parts for exact %f", round, i,
				      part(&c, i), exact);
			total += part(&c, i);
		}
		ck_assert_uint_eq(total, (sum ? 10000 : 0));
	}
}
END_TEST

struct weight_case {
	const char *in;
	int err;	/* 0, or the negative errno expected */
	__u32 milli;
};

START_TEST(parse_weight_table)
{
	static const struct weight_case cases[] = {
		{ "80", 0, 80000 },	{ "0.5", 0, 500 },	{ "99.5", 0, 99500 },
		{ "0", 0, 0 },		{ "0.001", 0, 1 },	{ "1000000", 0, 1000000000 },
		{ "007", 0, 7000 },	{ "12.125", 0, 12125 },	{ "1.10", 0, 1100 },
		{ "-1", -EINVAL, 0 },	{ "abc", -EINVAL, 0 },	{ "", -EINVAL, 0 },
		{ "nan", -EINVAL, 0 },	{ "inf", -EINVAL, 0 },	{ "1e3", -EINVAL, 0 },
		{ "0.0001", -EINVAL, 0 }, { "1.", -EINVAL, 0 },	{ ".5", -EINVAL, 0 },
		{ " 5", -EINVAL, 0 },	{ "5 ", -EINVAL, 0 },	{ "+5", -EINVAL, 0 },
		{ "0x10", -EINVAL, 0 },	{ "1,5", -EINVAL, 0 },	{ "80%", -EINVAL, 0 },
		{ "1000000.001", -ERANGE, 0 }, { "1000001", -ERANGE, 0 },
		{ "99999999999999999999", -ERANGE, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct kanary_err e = { .msg = "" };
		__u32 got = 0xdeadbeef;
		int err = kanary_parse_weight(cases[i].in, &got, &e);

		ck_assert_msg(err == cases[i].err, "'%s': got %d, expected %d", cases[i].in, err,
			      cases[i].err);
		if (!err)
			ck_assert_msg(got == cases[i].milli, "'%s': got %u, expected %u",
				      cases[i].in, got, cases[i].milli);
		else
			ck_assert_msg(e.msg[0] && strstr(e.msg, "expected"),
				      "'%s': no sentence saying what was expected: '%s'",
				      cases[i].in, e.msg);
	}
}
END_TEST

/* What kanary_parse_weight reads, printed back: exact, never rounded or in e-notation. */
START_TEST(format_weight_table)
{
	static const struct { __u32 milli; const char *out; } cases[] = {
		{ 0, "0" },		{ 1, "0.001" },		{ 500, "0.5" },
		{ 80000, "80" },	{ 99500, "99.5" },	{ 12125, "12.125" },
		{ 123500, "123.5" },	{ 1000500, "1000.5" },	{ 1100, "1.1" },
		{ KANARY_WEIGHT_MAX_MILLI, "1000000" },	{ KANARY_WEIGHT_MAX_MILLI - 1, "999999.999" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[KANARY_WEIGHT_STR_LEN];
		struct kanary_err e = {};
		__u32 back = 0;

		kanary_weight_format(buf, sizeof(buf), cases[i].milli);
		ck_assert_str_eq(buf, cases[i].out);
		ck_assert_int_eq(kanary_parse_weight(buf, &back, &e), 0);
		ck_assert_uint_eq(back, cases[i].milli);
	}
}
END_TEST

/* Whole numbers for flags (kanaryd's sizes, kanaryctl's indexes): digits only, in range. */
START_TEST(parse_u32_table)
{
	static const struct { const char *in; int err; __u32 out; } cases[] = {
		{ "1", 0, 1 },		{ "4294967295", 0, 4294967295u },	{ "007", 0, 7 },
		{ "0", -ERANGE, 0 },	{ "4294967296", -ERANGE, 0 },	{ "99999999999", -EINVAL, 0 },
		{ "", -EINVAL, 0 },	{ "-1", -EINVAL, 0 },	{ "+1", -EINVAL, 0 },
		{ " 1", -EINVAL, 0 },	{ "1 ", -EINVAL, 0 },	{ "0x10", -EINVAL, 0 },
		{ "1e3", -EINVAL, 0 },	{ "1.0", -EINVAL, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct kanary_err e = { .msg = "" };
		__u32 got = 0xdeadbeef;
		int err = kanary_parse_u32(cases[i].in, "count", 1, 0xffffffffu, &got, &e);

		ck_assert_msg(err == cases[i].err, "'%s': got %d, expected %d", cases[i].in, err,
			      cases[i].err);
		if (!err)
			ck_assert_uint_eq(got, cases[i].out);
		else
			ck_assert_msg(got == 0xdeadbeef && strstr(e.msg, "count") && strstr(e.msg, "expected"),
				      "'%s': out written or no sentence: '%s'", cases[i].in, e.msg);
	}
}
END_TEST

START_TEST(parse_ipport_good)
{
	union kanary_addr a;
	__be16 port = 0;
	char buf[64];
	struct kanary_err e = {};

	ck_assert_int_eq(kanary_parse_ipport("10.96.0.10:80", &a, &port, &e), 0);
	ck_assert_uint_eq(ntohs(port), 80);
	ck_assert_uint_eq(a.w[0], 0);
	ck_assert_uint_eq(a.w[1], 0);
	ck_assert_uint_eq(a.w[2], htonl(0xffff));
	ck_assert_uint_eq(a.w[3], htonl(0x0a60000a));
	kanary_format_ipport(buf, sizeof(buf), &a, port);
	ck_assert_str_eq(buf, "10.96.0.10:80");

	ck_assert_int_eq(kanary_parse_ipport("192.168.1.255:65535", &a, &port, &e), 0);
	ck_assert_uint_eq(ntohs(port), 65535);
	kanary_format_ipport(buf, sizeof(buf), &a, port);
	ck_assert_str_eq(buf, "192.168.1.255:65535");
}
END_TEST

START_TEST(parse_ipport_bad)
{
	static const struct {
		const char *in, *says;
	} cases[] = {
		{ "10.0.0.1:0", "1-65535" },		{ "10.0.0.1:65536", "1-65535" },
		{ "10.0.0.1:", "1-65535" },		{ "10.0.0.1:80x", "1-65535" },
		{ "10.0.0.1:-80", "1-65535" },		{ "10.0.0.1", "no port" },
		{ "10.0.0:80", "not an IPv4" },		{ "10.0.0.256:80", "not an IPv4" },
		{ "host:80", "not an IPv4" },		{ ":80", "A.B.C.D:PORT" },
		{ "", "A.B.C.D:PORT" },			{ "::1", "IPv6" },
		{ "[::1]:80", "IPv6" },			{ "fe80::1:80", "IPv6" },
		{ "0.0.0.0:80", "unicast" },		{ "224.0.0.1:80", "unicast" },
		{ "255.255.255.255:80", "unicast" },	{ " 10.0.0.1:80", "not an IPv4" },
		{ "010.0.0.1:80", "not an IPv4" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		union kanary_addr a;
		__be16 port;
		struct kanary_err e = { .msg = "" };
		int err = kanary_parse_ipport(cases[i].in, &a, &port, &e);

		ck_assert_msg(err < 0, "'%s' was accepted", cases[i].in);
		ck_assert_msg(strstr(e.msg, cases[i].says), "'%s': message '%s' lacks '%s'",
			      cases[i].in, e.msg, cases[i].says);
	}
}
END_TEST

START_TEST(subset_find_creates)
{
	struct kanary_service *s = calloc(1, sizeof(*s));
	struct kanary_err e = {};
	char name[8];

	ck_assert_ptr_nonnull(s);
	strcpy(s->cfg.name, "greeting");
	ck_assert_int_eq(kanary_subset_find(s, "safe", false, &e), -ENOENT);
	ck_assert_ptr_nonnull(strstr(e.msg, "no subset 'safe'"));
	ck_assert_int_eq(kanary_subset_find(s, "safe", true, &e), 0);
	ck_assert_uint_eq(s->cfg.subsets[0].weight_milli, 100 * KANARY_WEIGHT_MILLI);
	ck_assert_int_eq(kanary_subset_find(s, "risky", true, &e), 1);
	ck_assert_uint_eq(s->cfg.subsets[1].weight_milli, 0);
	ck_assert_int_eq(kanary_subset_find(s, "safe", true, &e), 0);
	ck_assert_int_eq(kanary_subset_find(s, "risky", false, &e), 1);
	ck_assert_uint_eq(s->cfg.n_subsets, 2);
	ck_assert_int_eq(kanary_subset_find(s, "bad name", true, &e), -EINVAL);
	ck_assert_int_eq(kanary_subset_find(s, "", true, &e), -EINVAL);
	for (int i = 2; i < KANARY_MAX_SUBSETS; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		ck_assert_int_eq(kanary_subset_find(s, name, true, &e), i);
	}
	ck_assert_int_eq(kanary_subset_find(s, "ninth", true, &e), -ENOSPC);
	ck_assert_uint_eq(s->cfg.n_subsets, KANARY_MAX_SUBSETS);
	free(s);
}
END_TEST

START_TEST(pin_path_precedence)
{
	unsetenv(KANARY_PIN_PATH_ENV);
	ck_assert_str_eq(kanary_pin_path(NULL), KANARY_PIN_PATH_DEFAULT);
	setenv(KANARY_PIN_PATH_ENV, "/tmp/from-env", 1);
	ck_assert_str_eq(kanary_pin_path(NULL), "/tmp/from-env");
	ck_assert_str_eq(kanary_pin_path("/tmp/from-flag"), "/tmp/from-flag");
	unsetenv(KANARY_PIN_PATH_ENV);
}
END_TEST

START_TEST(errf_fills_and_returns)
{
	struct kanary_err e = {};

	ck_assert_int_eq(kanary_errf(&e, ENOENT, "no %s", "thing"), -ENOENT);
	ck_assert_str_eq(e.msg, "no thing");
}
END_TEST

Suite *lib_suite(void)
{
	Suite *s = suite_create("lib");
	TCase *w = tcase_create("weights"), *p = tcase_create("parse"), *o = tcase_create("other");

	tcase_add_test(w, normalize_80_20);
	tcase_add_test(w, normalize_relative);
	tcase_add_test(w, normalize_no_backends);
	tcase_add_test(w, normalize_middle_ineligible);
	tcase_add_test(w, normalize_nothing_eligible);
	tcase_add_test(w, normalize_no_subsets);
	tcase_add_test(w, normalize_remainder_ties);
	tcase_add_test(w, normalize_largest_remainder);
	tcase_add_test(w, normalize_max_weights);
	tcase_add_test(w, normalize_properties);
	tcase_add_test(p, parse_weight_table);
	tcase_add_test(p, format_weight_table);
	tcase_add_test(p, parse_u32_table);
	tcase_add_test(p, parse_ipport_good);
	tcase_add_test(p, parse_ipport_bad);
	tcase_add_test(o, subset_find_creates);
	tcase_add_test(o, pin_path_precedence);
	tcase_add_test(o, errf_fills_and_returns);
	suite_add_tcase(s, w);
	suite_add_tcase(s, p);
	suite_add_tcase(s, o);
	return s;
}
