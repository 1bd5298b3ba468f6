// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The matcher's BPF build against its userspace build and the reference.
 *
 *   http_match_diff CASE|DIR...
 *	loads tests/bpf/http_match_test.bpf.c (the verifier must take the matcher at
 *	its worst case), then runs every case as the payload of a TCP segment
 *	under BPF_PROG_TEST_RUN and compares rule, head status, condition bits,
 *	length and lines kept with the userspace build, and with ref_match.c.
 *   http_match_diff --bench
 *	the cost of a typical 300-byte request with 1, 4 and 32 conditions,
 *	against copying it alone.
 *
 * Prints TAP; exits 1 on any difference.  Needs root (bpf()).
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "kanary/http_match.h"
#include "rule_set.h"
#include "fuzz_case.h"
#include "http_match_test.skel.h"
#include "prog_run.h"

#define PAYLOAD_MAX	3000	/* what BPF_PROG_TEST_RUN takes for an skb, with room */
#define HDRS		(ETH_HLEN + 20 + 20)

struct result {
	__s32 rule;
	__u32 met, head, len, n_lines, runs;
};

static struct http_match_test_bpf *skel;
static int prog_fd, rules_fd, result_fd;
static unsigned n_cases, n_bad;

/* Ethernet + IPv4 + TCP (no options) around the payload; checksums unused. */
static size_t frame(unsigned char *f, const unsigned char *payload, size_t n)
{
	unsigned char *ip = f + ETH_HLEN, *tcp = ip + 20;
	__u16 tot = htons((__u16)(20 + 20 + n));

	memset(f, 0, HDRS);
	f[12] = 0x08;			/* ETH_P_IP */
	ip[0] = 0x45;
	memcpy(ip + 2, &tot, 2);
	ip[8] = 64;
	ip[9] = 6;			/* TCP */
	memcpy(ip + 12, "\x0a\x00\x00\x02\x0a\x60\x00\x0a", 8);
	tcp[0] = 0x9c, tcp[1] = 0x40;	/* 40000 -> 80 */
	tcp[3] = 80;
	tcp[12] = 5 << 4;
	tcp[13] = 0x18;			/* PSH|ACK */
	memcpy(f + HDRS, payload, n);
	return HDRS + n;
}

static int run_bpf(const struct kanary_rules *rs, const unsigned char *req, size_t n,
		   __u32 repeat, struct result *out, __u32 *ns)
{
	static unsigned char f[HDRS + PAYLOAD_MAX];
	struct kt_prog_run run;
	__u32 key = 0;
	int err;

	if (bpf_map_update_elem(rules_fd, &key, rs, BPF_ANY))
		return -errno;
	err = kt_prog_run(prog_fd, f, (__u32)frame(f, req, n), NULL, 0, repeat, &run);
	if (err)
		return err;
	if (run.retval != 0)	/* TC_ACT_OK */
		return -EPROTO;
	if (ns)
		*ns = run.duration;
	return bpf_map_lookup_elem(result_fd, &key, out) ? -errno : 0;
}

static void bad(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bad(const char *name, const char *fmt, ...)
{
	va_list ap;

	if (++n_bad > 20)
		return;
	printf("# %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static void one_case(const char *name, const unsigned char *data, size_t size)
{
	static struct fuzz_case fc;
	static struct kanary_http_state st;
	struct result r;
	char msg[512];
	size_t n;
	int rule, err;

	fuzz_case_parse(data, size, &fc);
	n = fc.req_len > PAYLOAD_MAX ? PAYLOAD_MAX : fc.req_len;
	n_cases++;
	err = run_bpf(&fc.rs, fc.req, n, 1, &r, NULL);
	if (err) {
		bad(name, "BPF_PROG_TEST_RUN failed: %s", strerror(-err));
		return;
	}
	rule = kanary_http_match(&st, &fc.rs, fc.req, (__u32)n);
	if (r.rule != rule || r.head != st.head || r.met != st.met || r.len != st.len ||
	    r.n_lines != st.n_lines) {
		bad(name, "BPF: rule %d head %u met 0x%x len %u lines %u; userspace: rule %d head %u met 0x%x len %u lines %u",
		    r.rule, r.head, r.met, r.len, r.n_lines, rule, st.head, st.met, st.len,
		    st.n_lines);
		return;
	}
	fc.req_len = n;
	if (!fc.raw && !fuzz_case_agrees(&fc, r.rule, (int)r.head, r.met, msg, sizeof(msg)))
		bad(name, "BPF and userspace agree, the reference does not: %s", msg);
}

static void one_file(const char *path)
{
	static unsigned char buf[64 * 1024];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		bad(path, "cannot open: %s", strerror(errno));
		return;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	one_case(path, buf, n);
}

static void one_path(const char *path)
{
	struct dirent *d;
	struct stat sb;
	DIR *dir;

	if (stat(path, &sb)) {
		bad(path, "cannot stat: %s", strerror(errno));
		return;
	}
	if (!S_ISDIR(sb.st_mode)) {
		one_file(path);
		return;
	}
	dir = opendir(path);
	if (!dir) {
		bad(path, "cannot open: %s", strerror(errno));
		return;
	}
	while ((d = readdir(dir))) {
		char p[4096];

		if (d->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, d->d_name);
		one_file(p);
	}
	closedir(dir);
}

/* ---- --bench ---- */

#define BENCH_REQ							\
	"GET /api/v1/items?page=2 HTTP/1.1\r\n"				\
	"Host: greeting.default.svc.cluster.local\r\n"			\
	"User-Agent: curl/7.88.1\r\n"					\
	"Accept: */*\r\n"						\
	"Accept-Encoding: gzip, deflate\r\n"				\
	"X-Request-Id: 4f1c2a9e-7b3d-4c55-9a61-2f0e8d7c6b5a\r\n"	\
	"Traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n" \
	"X-My-Header: dark\r\n"						\
	"Connection: keep-alive\r\n"					\
	"\r\n"

/*
 * n conditions in rules of 4 ANDed conditions that do not hold, on headers
 * the request has; the very last one, x-my-header=dark, is an alternative
 * of its own in the last rule, so that every condition is evaluated and the
 * last rule matches.
 */
static int bench_rules(struct kanary_rules *rs, int n)
{
	static const char *const names[] = { "x-request-id", "user-agent", "accept", "host",
					     "traceparent", "connection", "accept-encoding", "x-canary" };
	struct kanary_rule_spec spec;
	struct kanary_err e = {};
	char arg[96];
	int made = 0;

	memset(rs, 0, sizeof(*rs));
	while (made < n) {
		memset(&spec, 0, sizeof(spec));
		spec.n_dests = 1;
		spec.dest_weight_milli[0] = 1000;
		for (int k = 0; k < 4 && made < n - 1; k++, made++) {
			snprintf(arg, sizeof(arg), "%s%s%d", names[made % 8], made % 2 ? "^=v" : "=v",
				 made);
			if (kanary_cond_parse("header", arg, &spec.conds[0][k], &e))
				return fprintf(stderr, "bench: %s\n", e.msg), -1;
			spec.n_conds[0]++;
		}
		spec.n_matches = spec.n_conds[0] ? 1 : 0;
		if (made == n - 1 && (spec.n_conds[0] < 4 || rs->n_rules == KANARY_RULES_MAX - 1)) {
			__u32 m = spec.n_matches++;

			if (kanary_cond_parse("header", "x-my-header=dark", &spec.conds[m][0], &e))
				return fprintf(stderr, "bench: %s\n", e.msg), -1;
			spec.n_conds[m] = 1;
			made++;
		}
		if (kanary_rules_insert(rs, rs->n_rules, &spec, &e))
			return fprintf(stderr, "bench: %s\n", e.msg), -1;
	}
	return rs->n_conds == (__u32)n ? 0 : -1;
}

static int bench(void)
{
	const unsigned char *req = (const unsigned char *)BENCH_REQ;
	const __u32 repeat = 20000;
	static const int sizes[] = { 1, 4, 32 };
	struct kanary_rules rs;
	struct result r;
	__u32 base = 0, ns = 0;
	int test = 0, err;

	printf("1..4\n");
	if (bench_rules(&rs, 1))
		return 1;
	skel->bss->hmt_copy_only = 1;
	err = run_bpf(&rs, req, strlen(BENCH_REQ), repeat, &r, &base);
	skel->bss->hmt_copy_only = 0;
	printf("%s %d - baseline: parse headers and copy a %zu-byte request: %u ns per run\n",
	       err ? "not ok" : "ok", ++test, strlen(BENCH_REQ), base);
	for (int i = 0; i < 3; i++) {
		if (bench_rules(&rs, sizes[i]))
			return 1;
		err = run_bpf(&rs, req, strlen(BENCH_REQ), repeat, &r, &ns);
		/* The x-my-header condition closes the last rule: it must be what matched. */
		printf("%s %d - %2d conditions, %u rules: %u ns per run, %u ns over the baseline (rule %d)\n",
		       err || r.rule != (int)rs.n_rules - 1 ? "not ok" : "ok", ++test, sizes[i],
		       rs.n_rules, ns, ns > base ? ns - base : 0, r.rule);
		if (err || r.rule != (int)rs.n_rules - 1)
			n_bad++;
	}
	return n_bad ? 1 : 0;
}

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

int main(int argc, char **argv)
{
	struct bpf_prog_info info = {};
	__u32 info_len = sizeof(info);
	int ret;

	if (argc < 2) {
		fprintf(stderr, "usage: http_match_diff CASE|DIR... | http_match_diff --bench\n");
		return 2;
	}
	libbpf_set_print(print_libbpf);
	skel = http_match_test_bpf__open_and_load();
	if (!skel) {
		printf("not ok 1 - the verifier refused the matcher's test program: %s (run as root; see above)\n",
		       strerror(errno));
		return 1;
	}
	prog_fd = bpf_program__fd(skel->progs.hmt_match);
	rules_fd = bpf_map__fd(skel->maps.kanary_rules_v1);
	result_fd = bpf_map__fd(skel->maps.hmt_result_map);
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &info_len) == 0)
		printf("# verifier: %u instructions processed; %u bytes xlated, %u jited\n",
		       info.verified_insns, info.xlated_prog_len, info.jited_prog_len);
	if (!strcmp(argv[1], "--bench")) {
		ret = bench();
		http_match_test_bpf__destroy(skel);
		return ret;
	}
	printf("1..1\n");
	for (int i = 1; i < argc; i++)
		one_path(argv[i]);
	if (n_cases == 0)
		bad("http_match_diff", "no cases found in the paths given");
	printf("%s 1 - bpf differential: %u cases, %u differ (BPF vs userspace vs reference)\n",
	       n_bad || !n_cases ? "not ok" : "ok", n_cases, n_bad);
	http_match_test_bpf__destroy(skel);
	return n_bad || !n_cases ? 1 : 0;
}
