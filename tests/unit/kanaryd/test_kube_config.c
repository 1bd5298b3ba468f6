// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* kubeconfig and in-cluster configuration, and the token that rotates. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "kdt.h"
#include "source/api_config.h"

static char dir[PATH_MAX];

static void setup(void)
{
	const char *base = getenv(KDT_BASE_ENV) ? getenv(KDT_BASE_ENV) : "/tmp";

	snprintf(dir, sizeof(dir), "%s/kcfg.XXXXXX", base);
	ck_assert_msg(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
}

static void teardown(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert(system(cmd) == 0);
}

static const char *put(const char *name, const char *text)
{
	static char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_msg(f, "%s: %s", path, strerror(errno));
	fputs(text, f);
	fclose(f);
	return path;
}

START_TEST(base64_vectors)
{
	static const struct { const char *in, *out; } v[] = {
		{ "", "" }, { "Zg==", "f" }, { "Zm8=", "fo" }, { "Zm9v", "foo" },
		{ "Zm9vYmFy", "foobar" }, { "Zm9v\nYmFy", "foobar" },
	};
	char *out;
	size_t len;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		ck_assert_int_eq(kd_base64_decode(v[i].in, &out, &len), 0);
		ck_assert_uint_eq(len, strlen(v[i].out));
		ck_assert_mem_eq(out, v[i].out, len);
		free(out);
	}
	ck_assert_int_eq(kd_base64_decode("Zm9v!", &out, &len), -EINVAL);
	ck_assert_int_eq(kd_base64_decode("Zg==Zg", &out, &len), -EINVAL);
}
END_TEST

START_TEST(in_cluster)
{
	struct kd_kube_config c;
	struct kanary_err ke = { "" };
	char *err = ke.msg, *tok;

	put("token", "  sa-token-1\n");
	put("ca.crt", "-----BEGIN CERTIFICATE-----\n");
	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	ck_assert_msg(kd_kube_config_in_cluster(&c, dir, &ke) == 0, "%s", err);
	ck_assert_str_eq(c.server, "https://10.96.0.1:443");
	ck_assert_str_eq(c.token, "sa-token-1");
	ck_assert_ptr_nonnull(strstr(c.ca_file, "/ca.crt"));
	/* Within the minute the token is not read again; after a 401 (force) it is. */
	put("token", "sa-token-2\n");
	tok = kd_kube_config_token(&c, false);
	ck_assert_str_eq(tok, "sa-token-1");
	free(tok);
	tok = kd_kube_config_token(&c, true);
	ck_assert_str_eq(tok, "sa-token-2");
	free(tok);
	/* A rotation that leaves the file empty for a moment keeps the last token. */
	put("token", "");
	tok = kd_kube_config_token(&c, true);
	ck_assert_str_eq(tok, "sa-token-2");
	free(tok);
	kd_kube_config_free(&c);

	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	put("token", "t\n");
	ck_assert_int_eq(kd_kube_config_in_cluster(&c, dir, &ke), 0);
	ck_assert_str_eq(c.server, "https://[fd00::1]:443");
	kd_kube_config_free(&c);
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
}
END_TEST

START_TEST(in_cluster_missing)
{
	struct kd_kube_config c;
	struct kanary_err ke = { "" };
	char *err = ke.msg;

	unsetenv("KUBERNETES_SERVICE_HOST");
	ck_assert_int_eq(kd_kube_config_in_cluster(&c, dir, &ke), -ENOENT);
	ck_assert_msg(strstr(err, "KUBERNETES_SERVICE_HOST") && strstr(err, "--kubeconfig"), "%s", err);
	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	ck_assert_int_eq(kd_kube_config_in_cluster(&c, dir, &ke), -ENOENT);
	ck_assert_msg(strstr(err, "token") && strstr(err, dir), "%s", err);
	put("token", "t");
	ck_assert_int_eq(kd_kube_config_in_cluster(&c, dir, &ke), -ENOENT);
	ck_assert_msg(strstr(err, "ca.crt"), "%s", err);
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
}
END_TEST

#define KUBECONFIG_HEAD								\
	"apiVersion: v1\nkind: Config\ncurrent-context: a\n"			\
	"clusters:\n"								\
	"- name: ca\n  cluster:\n    server: https://a.example:6443/\n"	\
	"    certificate-authority-data: LS0tLS1CRUdJTg==\n"			\
	"- name: cb\n  cluster:\n    server: https://b.example:6443\n"		\
	"    certificate-authority: certs/b.crt\n"				\
	"contexts:\n"								\
	"- name: a\n  context: {cluster: ca, user: ua}\n"			\
	"- name: b\n  context: {cluster: cb, user: ub}\n"			\
	"- name: c\n  context: {cluster: cb, user: uc}\n"			\
	"- name: d\n  context: {cluster: cb, user: ud}\n"			\
	"- name: e\n  context: {cluster: cb, user: ue}\n"			\
	"users:\n"								\
	"- name: ua\n  user: {token: inline-token}\n"				\
	"- name: ub\n  user:\n    client-certificate: certs/u.crt\n    client-key: /abs/u.key\n" \
	"- name: uc\n  user:\n    exec: {command: aws}\n"			\
	"- name: ud\n  user: {username: admin}\n"				\
	"- name: ue\n  user:\n    client-certificate-data: '!!!'\n    client-key-data: Zm9v\n"

START_TEST(kubeconfig_contexts)
{
	const char *path = put("config", KUBECONFIG_HEAD);
	struct kd_kube_config c;
	struct kanary_err ke = { "" };
	char *err = ke.msg, want[PATH_MAX + 32];

	ck_assert_msg(kd_kube_config_load(&c, path, NULL, &ke) == 0, "%s", err);
	ck_assert_str_eq(c.server, "https://a.example:6443");	/* trailing slash dropped */
	ck_assert_str_eq(c.token, "inline-token");
	ck_assert_uint_eq(c.ca_len, 10);
	ck_assert_mem_eq(c.ca_pem, "-----BEGIN", 10);
	ck_assert_ptr_null(c.token_file);
	kd_kube_config_free(&c);

	ck_assert_msg(kd_kube_config_load(&c, path, "b", &ke) == 0, "%s", err);
	snprintf(want, sizeof(want), "%s/certs/b.crt", dir);	/* relative to the kubeconfig */
	ck_assert_str_eq(c.ca_file, want);
	snprintf(want, sizeof(want), "%s/certs/u.crt", dir);
	ck_assert_str_eq(c.cert_file, want);
	ck_assert_str_eq(c.key_file, "/abs/u.key");
	ck_assert_ptr_null(c.token);
	kd_kube_config_free(&c);
}
END_TEST

START_TEST(kubeconfig_errors)
{
	const char *path = put("config", KUBECONFIG_HEAD);
	struct kd_kube_config c;
	struct kanary_err ke = { "" };
	char *err = ke.msg;

	ck_assert_int_eq(kd_kube_config_load(&c, path, "c", &ke), -EINVAL);
	ck_assert_msg(strstr(err, "exec") && strstr(err, "uc"), "%s", err);
	ck_assert_int_eq(kd_kube_config_load(&c, path, "d", &ke), -EINVAL);
	ck_assert_msg(strstr(err, "no credentials") && strstr(err, "ud"), "%s", err);
	ck_assert_int_eq(kd_kube_config_load(&c, path, "e", &ke), -EINVAL);
	ck_assert_msg(strstr(err, "client-certificate-data") && strstr(err, "base64"), "%s", err);
	ck_assert_int_eq(kd_kube_config_load(&c, path, "nope", &ke), -EINVAL);
	ck_assert_msg(strstr(err, "context 'nope' not found"), "%s", err);

	path = put("noca", "current-context: x\ncontexts:\n- name: x\n  context: {cluster: k, user: u}\n"
		   "clusters:\n- name: k\n  cluster: {server: 'https://k:6443'}\n"
		   "users:\n- name: u\n  user: {token: t}\n");
	ck_assert_int_eq(kd_kube_config_load(&c, path, NULL, &ke), -EINVAL);
	ck_assert_msg(strstr(err, "certificate-authority"), "%s", err);
	path = put("noserver", "current-context: x\ncontexts:\n- name: x\n  context: {cluster: k, user: u}\n"
		   "clusters:\n- name: k\n  cluster: {server: 'k:6443'}\n");
	ck_assert_int_eq(kd_kube_config_load(&c, path, NULL, &ke), -EINVAL);
	ck_assert_msg(strstr(err, "expected server: https://HOST:PORT, got k:6443"), "%s", err);
	path = put("bad", "clusters: [\n");
	ck_assert_int_eq(kd_kube_config_load(&c, path, NULL, &ke), -EINVAL);
	ck_assert_msg(strstr(err, path), "%s", err);
	ck_assert_int_eq(kd_kube_config_load(&c, "/nonexistent/kubeconfig", NULL, &ke), -ENOENT);
	ck_assert_msg(strstr(err, "No such file"), "%s", err);
}
END_TEST

START_TEST(kubeconfig_token_file)
{
	const char *path;
	struct kd_kube_config c;
	struct kanary_err ke = { "" };
	char *err = ke.msg, *tok;

	put("tok", "file-token-1\n");
	path = put("config", "current-context: x\ncontexts:\n- name: x\n  context: {cluster: k, user: u}\n"
		   "clusters:\n- name: k\n  cluster: {server: 'https://k:6443', insecure-skip-tls-verify: true}\n"
		   "users:\n- name: u\n  user: {tokenFile: tok}\n");
	ck_assert_msg(kd_kube_config_load(&c, path, NULL, &ke) == 0, "%s", err);
	ck_assert(c.insecure);
	ck_assert_str_eq(c.token, "file-token-1");
	put("tok", "file-token-2\n");
	tok = kd_kube_config_token(&c, true);
	ck_assert_str_eq(tok, "file-token-2");
	free(tok);
	kd_kube_config_free(&c);
}
END_TEST

Suite *kube_config_suite(void)
{
	Suite *s = suite_create("kube_config");
	TCase *tc = tcase_create("config");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, base64_vectors);
	tcase_add_test(tc, in_cluster);
	tcase_add_test(tc, in_cluster_missing);
	tcase_add_test(tc, kubeconfig_contexts);
	tcase_add_test(tc, kubeconfig_errors);
	tcase_add_test(tc, kubeconfig_token_file);
	suite_add_tcase(s, tc);
	return s;
}
