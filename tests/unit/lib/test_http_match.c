// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The dark-release matcher (include/kanary/http_match.h, userspace build)
 * against each documented semantic, and libkanary's rule-set builder
 * (user/lib/rule_cond.c, rule_set.c).  The BPF build is held to this one by tests/fuzz.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "kanary/http_match.h"
#include "rule_set.h"

Suite *http_match_suite(void);

static struct kanary_rules rs;
static struct kanary_http_state st;

static void reset(void)
{
	memset(&rs, 0, sizeof(rs));
}

/*
 * Appends a rule from "header x-a=1; path ^/b | header x-c": conditions
 * joined by ';' are ANDed, alternatives joined by '|' are ORed.
 */
static void rule(const char *text)
{
	struct kanary_rule_spec spec;
	struct kanary_err e = {};
	char buf[512], *alt_save = NULL, *alt;

	memset(&spec, 0, sizeof(spec));
	snprintf(buf, sizeof(buf), "%s", text);
	for (alt = strtok_r(buf, "|", &alt_save); alt; alt = strtok_r(NULL, "|", &alt_save)) {
		char *cond_save = NULL, *cond;
		__u32 m = spec.n_matches++;

		for (cond = strtok_r(alt, ";", &cond_save); cond;
		     cond = strtok_r(NULL, ";", &cond_save)) {
			char *kind, *arg;

			size_t n;

			while (*cond == ' ')
				cond++;
			for (n = strlen(cond); n && cond[n - 1] == ' '; n--)
				cond[n - 1] = '\0';
			kind = cond;
			arg = strchr(cond, ' ');
			ck_assert_msg(arg, "test rule '%s' is malformed", text);
			*arg++ = '\0';
			ck_assert_msg(kanary_cond_parse(kind, arg, &spec.conds[m][spec.n_conds[m]++], &e) == 0,
				      "'%s %s': %s", kind, arg, e.msg);
		}
	}
	spec.n_dests = 1;
	spec.dest_weight_milli[0] = 1000;
	ck_assert_msg(kanary_rules_insert(&rs, rs.n_rules, &spec, &e) == 0, "%s: %s", text, e.msg);
	ck_assert_msg(kanary_rules_validate(&rs, 1, &e) == 0, "%s: %s", text, e.msg);
}

static int match_n(const void *req, size_t n)
{
	return kanary_http_match(&st, &rs, req, (__u32)n);
}

static int match(const char *req)
{
	return match_n(req, strlen(req));
}

#define RL	"GET / HTTP/1.1\r\nHost: greeting\r\n"
#define NONE	KANARY_RULE_NONE

/* ---- headers ---- */

START_TEST(exact_header_matches_any_name_case)
{
	reset();
	rule("header x-my-header=dark");
	ck_assert_int_eq(match(RL "x-my-header: dark\r\n\r\n"), 0);
	ck_assert_int_eq(match(RL "X-My-Header: dark\r\n\r\n"), 0);
	ck_assert_int_eq(match(RL "X-MY-HEADER:dark\r\n\r\n"), 0);
	ck_assert_int_eq(match(RL "x-my-header: Dark\r\n\r\n"), NONE);	/* values keep case */
	ck_assert_int_eq(match(RL "\r\n"), NONE);
	ck_assert_int_eq(st.head, KANARY_HTTP_COMPLETE);
}
END_TEST

START_TEST(exact_means_exact)
{
	reset();
	rule("header x-my-header=dark");
	ck_assert_int_eq(match(RL "x-my-header: darker\r\n\r\n"), NONE);
	ck_assert_int_eq(match(RL "x-my-header: dar\r\n\r\n"), NONE);
	ck_assert_int_eq(match(RL "x-my-header: da rk\r\n\r\n"), NONE);
	ck_assert_int_eq(match(RL "x-my-header: xdark\r\n\r\n"), NONE);
	ck_assert_int_eq(match(RL "x-my-header: dark\r\n\r\n"), 0);
}
END_TEST

START_TEST(name_matches_whole_and_at_line_start)
{
	reset();
	rule("header x-my-header=dark");
	ck_assert_int_eq(match(RL "x-my-header-2: dark\r\n\r\n"), NONE);
	ck_assert_int_eq(match(RL "foo-x-my-header: dark\r\n\r\n"), NONE);
	ck_assert_int_eq(match(RL "x-my-headex: dark\r\n\r\n"), NONE);	/* same length */
	ck_assert_int_eq(match(RL "x-my-heade: dark\r\n\r\n"), NONE);
	ck_assert_int_eq(match(RL "x-other: x-my-header: dark\r\n\r\n"), NONE);
	ck_assert_int_eq(match("GET /x-my-header:dark HTTP/1.1\r\n\r\n"), NONE);
	ck_assert_int_eq(match(RL "x-other: a\r\nx-my-header: dark\r\nx-third: b\r\n\r\n"), 0);
}
END_TEST

START_TEST(value_whitespace_is_skipped)
{
	reset();
	rule("header x-my-header=dark");
	ck_assert_int_eq(match(RL "x-my-header:dark\r\n\r\n"), 0);
	ck_assert_int_eq(match(RL "x-my-header:  \t dark \t  \r\n\r\n"), 0);
	reset();
	rule("header x-a=hello world");
	ck_assert_int_eq(match(RL "x-a:  hello world \r\n\r\n"), 0);
	ck_assert_int_eq(match(RL "x-a: hello  world\r\n\r\n"), NONE);
}
END_TEST

START_TEST(body_never_matches)
{
	reset();
	rule("header x-my-header=dark");
	rule("header x-canary");
	rule("header x-p^=da");
	ck_assert_int_eq(match("POST / HTTP/1.1\r\nContent-Length: 40\r\n\r\n"
			       "x-my-header: dark\r\nx-canary: 1\r\nx-p: dark\r\n\r\n"), NONE);
	ck_assert_int_eq(st.head, KANARY_HTTP_COMPLETE);
	ck_assert_int_eq(match("POST / HTTP/1.1\r\nx-canary: 1\r\n\r\nx-my-header: dark\r\n\r\n"), 1);
}
END_TEST

START_TEST(line_cut_short_does_not_exist)
{
	reset();
	rule("header x-my-header=dark");
	rule("header x-my-header^=da");
	rule("header x-my-header");
	ck_assert_int_eq(match(RL "x-my-header: da"), NONE);
	ck_assert_int_eq(match(RL "x-my-header: dark"), NONE);
	ck_assert_int_eq(match(RL "x-my-header: dark\r"), NONE);
	ck_assert_int_eq(match(RL "x-my-hea"), NONE);
	ck_assert_int_eq(st.head, KANARY_HTTP_PARTIAL_HEAD);
	/* Line complete, head not: a later line could repeat the header. */
	ck_assert_int_eq(match(RL "x-my-header: dark\r\n"), 1);
	ck_assert(!(st.met & 1) && (st.met & 2) && (st.met & 4));
	ck_assert_int_eq(match(RL "x-my-header: dark\r\nx-other: 1\r\n\r"), 1);
	ck_assert_int_eq(match(RL "x-my-header: dark\r\nx-other: 1\r\n\r\n"), 0);
}
END_TEST

START_TEST(crlf_only)
{
	reset();
	rule("header x-my-header=dark");
	rule("path ^/");
	rule("header x-p");
	ck_assert_int_eq(match(RL "x-p: 1\n\n"), NONE);
	ck_assert_int_eq(st.head, KANARY_HTTP_INVALID);
	ck_assert_int_eq(match(RL "x-p: 1\n\r\n"), NONE);
	ck_assert_int_eq(match(RL "x-p: 1\r\n"), 1);	/* the CRLF twin is a line */
	ck_assert_int_eq(match("GET / HTTP/1.1\nx-my-header: dark\n\n"), NONE);
	ck_assert_int_eq(st.head, KANARY_HTTP_INVALID);
	ck_assert_int_eq(match(RL "x-my-header: dark\n\r\n"), NONE);
	ck_assert_int_eq(st.head, KANARY_HTTP_INVALID);
	ck_assert_int_eq(match(RL "x-a: b\nx-my-header: dark\r\n\r\n"), NONE);
	ck_assert_int_eq(match(RL "x-my-header: dark\r\n\n"), NONE);
	ck_assert_int_eq(match(RL "x-my-header: da\rrk\r\n\r\n"), NONE);
	ck_assert_int_eq(st.head, KANARY_HTTP_INVALID);
	ck_assert_int_eq(match(RL "x-my-header: dark\r\n\r\n"), 0);
}
END_TEST

START_TEST(empty_value_and_presence)
{
	reset();
	rule("header x-e=");
	rule("header x-canary");
	ck_assert_int_eq(match(RL "x-e:\r\n\r\n"), 0);
	ck_assert_int_eq(match(RL "x-e:  \t \r\n\r\n"), 0);
	ck_assert_int_eq(match(RL "x-e: a\r\n\r\n"), NONE);
	ck_assert_int_eq(match(RL "x-canary:\r\n\r\n"), 1);
	ck_assert_int_eq(match(RL "X-Canary: anything at all\r\n\r\n"), 1);
	ck_assert_int_eq(match(RL "x-canaryx: 1\r\n\r\n"), NONE);
	ck_assert_int_eq(match(RL "\r\n"), NONE);
}
END_TEST

START_TEST(repeated_headers_are_joined_with_commas)
{
	reset();
	rule("header x-h=dark");
	rule("header x-h=a,b");
	rule("header x-p^=dark");
	rule("header x-p^=da,");
	ck_assert_int_eq(match(RL "x-h: dark\r\nX-H: dark\r\n\r\n"), NONE);	/* "dark,dark" */
	ck_assert_int_eq(match(RL "x-h: a\r\nx-other: z\r\nx-h: b\r\n\r\n"), 1);
	ck_assert_int_eq(match(RL "x-h: b\r\nx-h: a\r\n\r\n"), NONE);
	ck_assert_int_eq(match(RL "x-h: a,b\r\n\r\n"), 1);
	ck_assert_int_eq(match(RL "x-p: dark\r\nx-p: x\r\n\r\n"), 2);
	ck_assert_int_eq(match(RL "x-p: da\r\nx-p: rk\r\n\r\n"), 3);	/* "da,rk" */
}
END_TEST

START_TEST(prefix_header)
{
	reset();
	rule("header user-agent^=curl/");
	ck_assert_int_eq(match(RL "User-Agent: curl/8.1\r\n\r\n"), 0);
	ck_assert_int_eq(match(RL "User-Agent: curl/\r\n\r\n"), 0);
	ck_assert_int_eq(match(RL "User-Agent: curl\r\n\r\n"), NONE);
	ck_assert_int_eq(match(RL "User-Agent: xcurl/8\r\n\r\n"), NONE);
}
END_TEST

/* ---- path ---- */

START_TEST(path_exact_excludes_the_query)
{
	reset();
	rule("path =/api");
	ck_assert_int_eq(match("GET /api HTTP/1.1\r\n\r\n"), 0);
	ck_assert_int_eq(match("GET /api?x=1 HTTP/1.1\r\n\r\n"), 0);
	ck_assert_int_eq(match("GET /api? HTTP/1.1\r\n\r\n"), 0);
	ck_assert_int_eq(match("GET /api/ HTTP/1.1\r\n\r\n"), NONE);
	ck_assert_int_eq(match("GET /apix HTTP/1.1\r\n\r\n"), NONE);
	ck_assert_int_eq(match("GET /API HTTP/1.1\r\n\r\n"), NONE);
	ck_assert_int_eq(match("GET /ap HTTP/1.1\r\n\r\n"), NONE);
}
END_TEST

START_TEST(path_prefix_includes_the_query)
{
	reset();
	rule("path ^/api");
	rule("path ^/b?x=");
	ck_assert_int_eq(match("GET /api HTTP/1.1\r\n\r\n"), 0);
	ck_assert_int_eq(match("GET /api/v1/items HTTP/1.1\r\n\r\n"), 0);
	ck_assert_int_eq(match("GET /apix HTTP/1.1\r\n\r\n"), 0);
	ck_assert_int_eq(match("GET /ap HTTP/1.1\r\n\r\n"), NONE);
	ck_assert_int_eq(match("GET /b?x=1 HTTP/1.1\r\n\r\n"), 1);
	ck_assert_int_eq(match("GET /b?y=1 HTTP/1.1\r\n\r\n"), NONE);
	/* The request line is all a path rule needs; the head may be cut short. */
	ck_assert_int_eq(match("GET /api HTTP/1.1\r\nHost: gre"), 0);
	ck_assert_int_eq(match("GET /api HTTP/1.1\r"), NONE);
}
END_TEST

START_TEST(path_a_proxy_would_normalise_never_matches)
{
	static const char *const bad[] = {
		"/api/../admin", "/api/./x", "/api/..", "/api/.", "/api/%2e%2e/x", "/api/%2E/x",
		"/api/.%2e/x", "/api\\..\\x", "/api/x#frag", "/api?q#frag", "/api/%zz", "/api/%4",
		"/api/%", "http://greeting/api", "*", "api",
	};
	static const char *const good[] = {
		"/api/%41b", "/api/.x/..y", "/api/...", "/api/%2f..", "/api?x=/../",
	};
	char req[128];

	reset();
	rule("path ^/api");
	/*
	 * Rule 1: an empty path prefix, which the CLI refuses but the matcher
	 * takes: it holds for every target the matcher accepts as a path.
	 */
	rs.conds[1].kind = KANARY_COND_PATH;
	rs.conds[1].op = KANARY_OP_PREFIX;
	rs.n_conds = 2;
	rs.rules[1] = rs.rules[0];
	rs.rules[1].match_mask[0] = 2;
	rs.n_rules = 2;
	ck_assert_int_eq(match("GET /x HTTP/1.1\r\n\r\n"), 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\n\r\n", bad[i]);
		ck_assert_msg(match(req) == NONE, "%s matched rule %d", bad[i], match(req));
		ck_assert_int_eq(st.head, KANARY_HTTP_COMPLETE);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\n\r\n", good[i]);
		ck_assert_msg(match(req) == 0, "%s did not match", good[i]);
	}
}
END_TEST

/* ---- rules ---- */

START_TEST(and_within_or_across)
{
	reset();
	rule("header x-a=1; header x-b=2 | path =/c");
	ck_assert_int_eq(match(RL "x-a: 1\r\nx-b: 2\r\n\r\n"), 0);
	ck_assert_int_eq(match(RL "x-b: 2\r\nx-a: 1\r\n\r\n"), 0);
	ck_assert_int_eq(match(RL "x-a: 1\r\n\r\n"), NONE);
	ck_assert_int_eq(match(RL "x-b: 2\r\n\r\n"), NONE);
	ck_assert_int_eq(match(RL "x-a: 1\r\nx-b: 3\r\n\r\n"), NONE);
	ck_assert_int_eq(match("GET /c HTTP/1.1\r\n\r\n"), 0);
	ck_assert_int_eq(match("GET /c HTTP/1.1\r\nx-a: 1\r\n\r\n"), 0);
}
END_TEST

START_TEST(first_match_wins)
{
	reset();
	rule("header x-a");
	rule("header x-b");
	rule("header x-a; header x-b");
	ck_assert_int_eq(match(RL "x-b: 1\r\nx-a: 1\r\n\r\n"), 0);
	ck_assert_int_eq(match(RL "x-b: 1\r\n\r\n"), 1);
	ck_assert_int_eq(match(RL "x-c: 1\r\n\r\n"), NONE);
	/* Shared conditions are evaluated once and serve every rule. */
	ck_assert_uint_eq(rs.n_conds, 2);
	ck_assert_int_eq(match(RL "x-a: 1\r\nx-b: 1\r\n\r\n"), 0);
	ck_assert_uint_eq(st.met, 3);
}
END_TEST

/* ---- the request line and the head ---- */

START_TEST(request_line_must_be_http1)
{
	static const char *const ok[] = {
		"GET / HTTP/1.1\r\n", "GET / HTTP/1.0\r\n", "M-SEARCH / HTTP/1.9\r\n",
		"OPTIONS * HTTP/1.1\r\n", "GET http://h/ HTTP/1.1\r\n",
	};
	static const char *const bad[] = {
		"GET  / HTTP/1.1\r\n", "GET / http/1.1\r\n", "GET / HTTP/2.0\r\n",
		"\r\nGET / HTTP/1.1\r\n", "GET /\r\n", " GET / HTTP/1.1\r\n", "G(T / HTTP/1.1\r\n",
		"GET / HTTP/1.1 \r\n", "GET / HTTP/1.x\r\n", "GET /\x01 HTTP/1.1\r\n",
		"GET /\xc3\xa9 HTTP/1.1\r\n", "PRI * HTTP/2.0\r\n",
	};
	char req[128];

	reset();
	rule("header x-my-header=dark");
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(req, sizeof(req), "%sx-my-header: dark\r\n\r\n", ok[i]);
		ck_assert_msg(match(req) == 0, "'%s' did not match", ok[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(req, sizeof(req), "%sx-my-header: dark\r\n\r\n", bad[i]);
		ck_assert_msg(match(req) == NONE, "'%s' matched", bad[i]);
		ck_assert_int_eq(st.head, KANARY_HTTP_INVALID);
	}
}
END_TEST

START_TEST(malformed_header_block_matches_nothing)
{
	static const char *const bad[] = {
		"  folded\r\n", "\tfolded\r\n", "x-b : 1\r\n", "x-b 1\r\n", ": 1\r\n",
		"x-b: 1\x01\r\n", "x-b: 1\x7f\r\n", "x(b): 1\r\n", "x-b\r\n",
	};
	char req[128];

	reset();
	rule("header x-my-header=dark");
	rule("path ^/");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(req, sizeof(req), RL "x-my-header: dark\r\n%s\r\n", bad[i]);
		ck_assert_msg(match(req) == NONE, "'%s' left a match", bad[i]);
		ck_assert_int_eq(st.head, KANARY_HTTP_INVALID);
	}
	/* obs-text in a value is allowed; it is just not "dark". */
	ck_assert_int_eq(match(RL "x-my-header: d\xe9rk\r\n\r\n"), 1);
}
END_TEST

START_TEST(head_status)
{
	reset();
	rule("header x-a");
	match("");
	ck_assert_int_eq(st.head, KANARY_HTTP_PARTIAL_LINE);
	match("GET / HTT");
	ck_assert_int_eq(st.head, KANARY_HTTP_PARTIAL_LINE);
	match("GET / HTTP/1.1\r");
	ck_assert_int_eq(st.head, KANARY_HTTP_PARTIAL_LINE);
	match("GET / HTTP/1.1\r\n");
	ck_assert_int_eq(st.head, KANARY_HTTP_PARTIAL_HEAD);
	match("GET / HTTP/1.1\r\n\r\n");
	ck_assert_int_eq(st.head, KANARY_HTTP_COMPLETE);
	match("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03");	/* a TLS ClientHello */
	ck_assert_int_eq(st.head, KANARY_HTTP_INVALID);
}
END_TEST

START_TEST(only_the_first_64_header_lines_count)
{
	char req[4096];
	size_t n;

	reset();
	rule("header x-a=1");
	rule("header x-p^=1");
	for (int lines = 63; lines <= 64; lines++) {
		n = (size_t)snprintf(req, sizeof(req), "GET / HTTP/1.1\r\n");
		for (int i = 0; i < lines; i++)
			n += (size_t)snprintf(req + n, sizeof(req) - n, "f%d: z\r\n", i);
		snprintf(req + n, sizeof(req) - n, "x-p: 1\r\nx-a: 1\r\n\r\n");
		if (lines == 63) {
			/* x-p is line 64, x-a line 65: the head counts as cut short. */
			ck_assert_int_eq(match(req), 1);
			ck_assert_int_eq(st.head, KANARY_HTTP_PARTIAL_HEAD);
		} else {
			ck_assert_int_eq(match(req), NONE);
		}
	}
	n = (size_t)snprintf(req, sizeof(req), "GET / HTTP/1.1\r\n");
	for (int i = 0; i < 63; i++)
		n += (size_t)snprintf(req + n, sizeof(req) - n, "f%d: z\r\n", i);
	snprintf(req + n, sizeof(req) - n, "x-a: 1\r\n\r\n");
	ck_assert_int_eq(match(req), 0);
	ck_assert_int_eq(st.head, KANARY_HTTP_COMPLETE);
}
END_TEST

START_TEST(only_the_stash_counts)
{
	static char req[4096];
	size_t n;

	reset();
	rule("header x-a=1");
	rule("header x-p");
	/* A head longer than the stash: what lies beyond is never seen. */
	n = (size_t)snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nx-p: 1\r\nCookie: ");
	memset(req + n, 'c', 2100);
	snprintf(req + n + 2100, sizeof(req) - n - 2100, "\r\nx-a: 1\r\n\r\n");
	ck_assert_int_eq(match(req), 1);
	ck_assert_int_eq(st.len, KANARY_HTTP_STASH);
	ck_assert_int_eq(st.head, KANARY_HTTP_PARTIAL_HEAD);
	/* A head within it, a body beyond: fine. */
	n = (size_t)snprintf(req, sizeof(req), "POST / HTTP/1.1\r\nx-a: 1\r\n\r\n");
	memset(req + n, 'b', 3000);
	req[n + 3000] = '\0';
	ck_assert_int_eq(match(req), 0);
}
END_TEST

START_TEST(long_names)
{
	char name[70], req[256], cond[96];

	memset(name, 'n', 64);
	name[64] = '\0';
	reset();
	snprintf(cond, sizeof(cond), "header %s=v", name);
	rule(cond);
	snprintf(req, sizeof(req), RL "%s: v\r\n\r\n", name);
	ck_assert_int_eq(match(req), 0);
	snprintf(req, sizeof(req), RL "%sn: v\r\n\r\n", name);	/* 65 bytes */
	ck_assert_int_eq(match(req), NONE);
	ck_assert_int_eq(st.head, KANARY_HTTP_COMPLETE);
}
END_TEST

START_TEST(byte_classes)
{
	for (int c = 0; c < 256; c++) {
		int tchar = c && (strchr("!#$%&'*+-.^_`|~", c) || (c >= '0' && c <= '9') ||
				  (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));

		ck_assert_msg(khm_tchar((__u8)c) == !!tchar, "tchar 0x%02x", c);
		ck_assert_msg(khm_vchar((__u8)c) == ((c >= 0x21 && c <= 0x7e) || c >= 0x80),
			      "vchar 0x%02x", c);
	}
}
END_TEST

/* ---- libkanary: conditions and rule sets ---- */

static int parse_err(const char *kind, const char *arg, const char *want)
{
	struct kanary_cond c;
	struct kanary_err e = {};
	int err = kanary_cond_parse(kind, arg, &c, &e);

	ck_assert_msg(err < 0, "%s '%s' was accepted", kind, arg);
	ck_assert_msg(strstr(e.msg, want), "%s '%s': '%s' does not say '%s'", kind, arg, e.msg,
		      want);
	return err;
}

START_TEST(cond_parse_forms)
{
	struct kanary_cond c, back;
	struct kanary_err e = {};
	char text[256], *sp;
	static const char *const forms[][2] = {
		{ "header", "X-My-Header=dark" }, { "header", "x-a^=pre fix" },
		{ "header", "x-canary" }, { "header", "x-e=" }, { "header", "x-q=it's" },
		{ "path", "=/api" }, { "path", "^/api?x=" },
	};

	ck_assert_int_eq(kanary_cond_parse("header", "X-My-Header=dark", &c, &e), 0);
	ck_assert_int_eq(c.kind, KANARY_COND_HEADER);
	ck_assert_int_eq(c.op, KANARY_OP_EXACT);
	ck_assert_int_eq(c.name_len, 11);
	ck_assert(!memcmp(c.name, "x-my-header", 11));	/* lowercased */
	ck_assert_int_eq(kanary_cond_parse("header", "a=b=c", &c, &e), 0);
	ck_assert(c.value_len == 3 && !memcmp(c.value, "b=c", 3));
	/* What 'route list' prints parses back to the same condition. */
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		ck_assert_int_eq(kanary_cond_parse(forms[i][0], forms[i][1], &c, &e), 0);
		kanary_cond_format(&c, text, sizeof(text));
		sp = strchr(text, ' ');
		ck_assert_ptr_nonnull(sp);
		*sp++ = '\0';
		if (*sp == '\'') {	/* undo the shell quoting: 'x-q=it'\''s' */
			char plain[256];
			size_t n = 0;

			for (sp++; *sp; sp++) {
				if (!strncmp(sp, "'\\''", 4)) {
					plain[n++] = '\'';
					sp += 3;
				} else if (*sp != '\'') {
					plain[n++] = *sp;
				}
			}
			plain[n] = '\0';
			ck_assert_int_eq(kanary_cond_parse(text, plain, &back, &e), 0);
		} else {
			ck_assert_int_eq(kanary_cond_parse(text, sp, &back, &e), 0);
		}
		ck_assert_msg(!memcmp(&c, &back, sizeof(c)), "%s %s did not round-trip",
			      forms[i][0], forms[i][1]);
	}
}
END_TEST

START_TEST(cond_parse_errors)
{
	char long_name[80];

	memset(long_name, 'n', 65);
	long_name[65] = '\0';
	parse_err("header", "=dark", "has no name");
	parse_err("header", "^=dark", "has no name");
	parse_err("header", "x a=b", "has ' '");
	parse_err("header", long_name, "at most 64");
	parse_err("header", "x-a= dark", "starts with a space");
	parse_err("header", "x-a=dark ", "ends with a space");
	parse_err("header", "x-a^=", "empty prefix");
	parse_err("header", "x-a=caf\xc3\xa9", "printable ASCII");
	parse_err("path", "/api", "expected =PATH");
	parse_err("path", "=api", "must start with '/'");
	parse_err("path", "=/api?x=1", "excludes the query");
	parse_err("path", "^/a#b", "'#'");
	parse_err("path", "=/a/../b", "dot segment");
	parse_err("path", "=/a/%2e", "dot segment");
	parse_err("path", "=/a/%zz", "two hex digits");
	parse_err("path", "=/a b", "printable ASCII");
	parse_err("cookie", "a=b", "expected header or path");
}
END_TEST

static struct kanary_rule_spec one_cond_spec(const char *kind, const char *arg)
{
	struct kanary_rule_spec spec;
	struct kanary_err e = {};

	memset(&spec, 0, sizeof(spec));
	spec.n_matches = 1;
	spec.n_conds[0] = 1;
	ck_assert_int_eq(kanary_cond_parse(kind, arg, &spec.conds[0][0], &e), 0);
	spec.n_dests = 1;
	spec.dest_weight_milli[0] = 1000;
	return spec;
}

START_TEST(rule_set_limits)
{
	struct kanary_rule_spec spec;
	struct kanary_err e = {};
	char arg[32];

	reset();
	for (int i = 0; i < KANARY_RULES_MAX; i++) {
		snprintf(arg, sizeof(arg), "x-%d", i);
		spec = one_cond_spec("header", arg);
		ck_assert_int_eq(kanary_rules_insert(&rs, rs.n_rules, &spec, &e), 0);
	}
	ck_assert_int_eq(kanary_rules_insert(&rs, rs.n_rules, &spec, &e), -ENOSPC);
	ck_assert(strstr(e.msg, "already has 8 rules"));
	ck_assert_uint_eq(rs.n_rules, KANARY_RULES_MAX);

	/* 32 distinct conditions fit, the 33rd does not. */
	reset();
	for (int r = 0; r < 8; r++) {
		memset(&spec, 0, sizeof(spec));
		spec.n_matches = 2;
		spec.n_dests = 1;
		spec.dest_weight_milli[0] = 1;
		for (int m = 0; m < 2; m++) {
			spec.n_conds[m] = r == 7 && m == 1 ? 3 : 2;
			for (__u32 k = 0; k < spec.n_conds[m]; k++) {
				snprintf(arg, sizeof(arg), "x-%d-%d-%u", r, m, k);
				ck_assert_int_eq(kanary_cond_parse("header", arg, &spec.conds[m][k], &e), 0);
			}
		}
		ck_assert_int_eq(kanary_rules_insert(&rs, rs.n_rules, &spec, &e),
				 r == 7 ? -ENOSPC : 0);
	}
	ck_assert(strstr(e.msg, "at most 32 distinct conditions"));
	ck_assert_uint_eq(rs.n_conds, 28);	/* the refused rule left nothing behind */
	ck_assert_uint_eq(rs.n_rules, 7);

	spec = one_cond_spec("header", "x-a");
	spec.n_conds[0] = 5;
	ck_assert_int_eq(kanary_rules_insert(&rs, 0, &spec, &e), -EINVAL);
	spec = one_cond_spec("header", "x-a");
	spec.dest_weight_milli[0] = 0;
	ck_assert_int_eq(kanary_rules_insert(&rs, 0, &spec, &e), -EINVAL);
	ck_assert(strstr(e.msg, "weight 0"));
}
END_TEST

START_TEST(rule_set_shares_and_compacts_conditions)
{
	struct kanary_rule_spec spec;
	struct kanary_err e = {};

	reset();
	rule("header x-a");
	rule("header x-b; header x-a");
	rule("path =/c | header x-b");
	ck_assert_uint_eq(rs.n_conds, 3);
	ck_assert_uint_eq(rs.rules[1].match_mask[0], 3);
	/* Removing rule 1 keeps x-a (rule 0) and x-b (rule 2). */
	ck_assert_int_eq(kanary_rules_remove(&rs, 1, &e), 0);
	ck_assert_uint_eq(rs.n_conds, 3);
	ck_assert_int_eq(kanary_rules_validate(&rs, 1, &e), 0);
	/* Removing rule 0 drops x-a and renumbers the rest. */
	ck_assert_int_eq(kanary_rules_remove(&rs, 0, &e), 0);
	ck_assert_uint_eq(rs.n_conds, 2);
	ck_assert_uint_eq(rs.n_rules, 1);
	ck_assert_int_eq(kanary_rules_validate(&rs, 1, &e), 0);
	ck_assert_int_eq(match(RL "x-b: 1\r\n\r\n"), 0);
	ck_assert_int_eq(match("GET /c HTTP/1.1\r\n\r\n"), 0);
	ck_assert_int_eq(match(RL "x-a: 1\r\n\r\n"), NONE);
	ck_assert_int_eq(kanary_rules_spec(&rs, 0, &spec, &e), 0);
	ck_assert_uint_eq(spec.n_matches, 2);
	ck_assert_int_eq(kanary_rules_remove(&rs, 1, &e), -ENOENT);
	ck_assert_int_eq(kanary_rules_remove(&rs, 0, &e), 0);
	ck_assert_uint_eq(rs.n_conds, 0);
	ck_assert_int_eq(kanary_rules_validate(&rs, 1, &e), 0);
	ck_assert_int_eq(match(RL "x-b: 1\r\n\r\n"), NONE);
}
END_TEST

START_TEST(rule_destinations)
{
	struct kanary_rule_spec spec = one_cond_spec("header", "x-a");
	struct kanary_err e = {};

	reset();
	spec.n_dests = 3;
	spec.dest_subset[0] = 2, spec.dest_subset[1] = 0, spec.dest_subset[2] = 1;
	spec.dest_weight_milli[0] = spec.dest_weight_milli[1] = spec.dest_weight_milli[2] = 1000;
	ck_assert_int_eq(kanary_rules_insert(&rs, 0, &spec, &e), 0);
	ck_assert_uint_eq(rs.rules[0].dest_cum_parts[0], 3334);
	ck_assert_uint_eq(rs.rules[0].dest_cum_parts[1], 6667);
	ck_assert_uint_eq(rs.rules[0].dest_cum_parts[2], 10000);
	ck_assert_int_eq(kanary_rules_validate(&rs, 3, &e), 0);
	ck_assert_int_eq(kanary_rules_validate(&rs, 2, &e), -EINVAL);	/* subset 2 missing */
	ck_assert(strstr(e.msg, "does not exist"));
	rs.rules[0].dest_cum_parts[0] = 5000;
	ck_assert_int_eq(kanary_rules_validate(&rs, 3, &e), -EINVAL);
	spec.dest_subset[2] = 2;
	ck_assert_int_eq(kanary_rules_insert(&rs, 0, &spec, &e), -EINVAL);
	ck_assert(strstr(e.msg, "twice"));
}
END_TEST

START_TEST(validate_rejects_damage)
{
	struct kanary_err e = {};

	reset();
	rule("header x-a | header x-b");
	rs.rules[0].match_mask[1] = 1u << 5;	/* beyond n_conds */
	ck_assert_int_eq(kanary_rules_validate(&rs, 1, &e), -EINVAL);
	reset();
	rule("header x-a");
	rs.conds[0].name[0] = 'X';
	ck_assert_int_eq(kanary_rules_validate(&rs, 1, &e), -EINVAL);
	reset();
	rule("header x-a");
	rs.conds[1] = rs.conds[0];
	rs.n_conds = 2;
	ck_assert_int_eq(kanary_rules_validate(&rs, 1, &e), -EINVAL);
	reset();
	rule("header x-a");
	rs.rules[3].n_matches = 1;	/* past n_rules */
	ck_assert_int_eq(kanary_rules_validate(&rs, 1, &e), -EINVAL);
}
END_TEST

Suite *http_match_suite(void)
{
	Suite *s = suite_create("http_match");
	TCase *m = tcase_create("matcher"), *l = tcase_create("rules");

	tcase_add_test(m, exact_header_matches_any_name_case);
	tcase_add_test(m, exact_means_exact);
	tcase_add_test(m, name_matches_whole_and_at_line_start);
	tcase_add_test(m, value_whitespace_is_skipped);
	tcase_add_test(m, body_never_matches);
	tcase_add_test(m, line_cut_short_does_not_exist);
	tcase_add_test(m, crlf_only);
	tcase_add_test(m, empty_value_and_presence);
	tcase_add_test(m, repeated_headers_are_joined_with_commas);
	tcase_add_test(m, prefix_header);
	tcase_add_test(m, path_exact_excludes_the_query);
	tcase_add_test(m, path_prefix_includes_the_query);
	tcase_add_test(m, path_a_proxy_would_normalise_never_matches);
	tcase_add_test(m, and_within_or_across);
	tcase_add_test(m, first_match_wins);
	tcase_add_test(m, request_line_must_be_http1);
	tcase_add_test(m, malformed_header_block_matches_nothing);
	tcase_add_test(m, head_status);
	tcase_add_test(m, only_the_first_64_header_lines_count);
	tcase_add_test(m, only_the_stash_counts);
	tcase_add_test(m, long_names);
	tcase_add_test(m, byte_classes);
	suite_add_tcase(s, m);
	tcase_add_test(l, cond_parse_forms);
	tcase_add_test(l, cond_parse_errors);
	tcase_add_test(l, rule_set_limits);
	tcase_add_test(l, rule_set_shares_and_compacts_conditions);
	tcase_add_test(l, rule_destinations);
	tcase_add_test(l, validate_rejects_damage);
	suite_add_tcase(s, l);
	return s;
}
