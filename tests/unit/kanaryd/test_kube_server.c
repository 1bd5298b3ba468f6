// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <curl/curl.h>
#include "kdt.h"
#include "test_kube_server.h"

static char *slurp(const char *path)
{
	size_t len;

	return kdt_read(path, &len);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_msg(f, "cannot write %s: %s", path, strerror(errno));
	fputs(text, f);
	fclose(f);
}

static void spawn(struct kubet *t, const char *extra)
{
	const char *server = getenv(KUBET_SERVER_ENV) ? getenv(KUBET_SERVER_ENV) : "tests/lib/kube/apiserver.py";
	char portfile[PATH_MAX + 8], port[16], logf[PATH_MAX + 16], *tok;

	ck_assert_msg(access(server, R_OK) == 0, "test API server %s: %s (run from the repository root)",
		      server, strerror(errno));
	snprintf(portfile, sizeof(portfile), "%s/port", t->dir);
	snprintf(logf, sizeof(logf), "%s/apiserver.log", t->dir);
	unlink(portfile);
	snprintf(port, sizeof(port), "%d", t->port);
	tok = slurp(t->token_path);
	tok[strcspn(tok, "\n")] = '\0';
	t->pid = fork();
	ck_assert_msg(t->pid >= 0, "fork: %s", strerror(errno));
	if (t->pid == 0) {
		int fd = open(logf, O_WRONLY | O_CREAT | O_APPEND, 0644);

		if (fd >= 0)
			dup2(fd, 2);
		prctl(PR_SET_PDEATHSIG, SIGTERM);	/* a failed test exits without teardown */
		execlp("python3", "python3", server, "--dir", t->dir, "--port-file", portfile,
		       "--port", port, "--token", tok, extra, (char *)NULL);
		fprintf(stderr, "cannot run python3: %s\n", strerror(errno));
		_exit(127);
	}
	free(tok);
	for (int i = 0; i < 150; i++) {
		char *p = access(portfile, R_OK) == 0 ? slurp(portfile) : NULL;
		int st;

		if (p && atoi(p) > 0) {
			t->port = atoi(p);
			free(p);
			snprintf(t->url, sizeof(t->url), "https://127.0.0.1:%d", t->port);
			return;
		}
		free(p);
		if (waitpid(t->pid, &st, WNOHANG) == t->pid) {
			t->pid = 0;
			ck_abort_msg("the test API server exited (python3 and openssl are needed); see %s", logf);
		}
		usleep(100 * 1000);
	}
	ck_abort_msg("the test API server did not listen within 15 s; see %s", logf);
}

static struct kubet *current;

/* Check's forked test exits at a failed assertion, skipping teardown: clean up anyway. */
static void cleanup_at_exit(void)
{
	if (current)
		kubet_cleanup(current);
}

void kubet_start(struct kubet *t, const char *extra)
{
	static bool registered;

	if (!registered)
		atexit(cleanup_at_exit);
	registered = true;
	current = t;
	const char *base = getenv(KDT_BASE_ENV) ? getenv(KDT_BASE_ENV) : "/tmp";
	char kc[2048];

	memset(t, 0, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "%s/kube.XXXXXX", base);
	ck_assert_msg(mkdtemp(t->dir), "mkdtemp %s: %s", t->dir, strerror(errno));
	snprintf(t->token_path, sizeof(t->token_path), "%s/token", t->dir);
	snprintf(t->kubeconfig, sizeof(t->kubeconfig), "%s/kubeconfig", t->dir);
	snprintf(kc, sizeof(kc), "token-%d-%ld\n", getpid(), (long)time(NULL));
	write_file(t->token_path, kc);
	spawn(t, extra);
	snprintf(kc, sizeof(kc),
		 "apiVersion: v1\nkind: Config\nclusters:\n- name: t\n  cluster:\n    server: %s\n"
		 "    certificate-authority: apiserver.crt\nusers:\n- name: u\n  user:\n    tokenFile: token\n"
		 "contexts:\n- name: t\n  context: {cluster: t, user: u}\ncurrent-context: t\n", t->url);
	write_file(t->kubeconfig, kc);
}

void kubet_stop(struct kubet *t)
{
	if (t->pid > 0) {
		kill(t->pid, SIGTERM);
		waitpid(t->pid, NULL, 0);
	}
	t->pid = 0;
}

void kubet_restart(struct kubet *t, const char *extra)
{
	kubet_stop(t);
	spawn(t, extra);
}

void kubet_cleanup(struct kubet *t)
{
	char cmd[PATH_MAX + 16];

	kubet_stop(t);
	if (t->dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "kubet: cannot remove %s\n", t->dir);
	}
	t->dir[0] = '\0';
}

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
	char **buf = arg;
	size_t old = *buf ? strlen(*buf) : 0;

	*buf = realloc(*buf, old + size * n + 1);
	memcpy(*buf + old, p, size * n);
	(*buf)[old + size * n] = '\0';
	return size * n;
}

json_t *kubet_ctl(struct kubet *t, const char *method, const char *path, const char *body)
{
	char url[512], ca[PATH_MAX + 16], *out = NULL;
	CURL *c = curl_easy_init();
	json_t *j = NULL;
	long code = 0;

	snprintf(url, sizeof(url), "%s%s", t->url, path);
	snprintf(ca, sizeof(ca), "%s/apiserver.crt", t->dir);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CAINFO, ca);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	if (code == 200 && out)
		j = json_loads(out, 0, NULL);
	free(out);
	return j;
}

void kubet_put_json(struct kubet *t, json_t *obj)
{
	char *text = json_dumps(obj, 0);
	json_t *r = kubet_ctl(t, "POST", "/_test/objects", text);

	ck_assert_msg(r, "the test API server refused the object %.200s", text);
	json_decref(r);
	free(text);
}

void kubet_put_fixture(struct kubet *t, const char *name)
{
	char path[PATH_MAX];
	json_error_t je;
	json_t *o;

	snprintf(path, sizeof(path), "tests/lib/kube/fixtures/%s.json", name);
	o = json_load_file(path, 0, &je);
	ck_assert_msg(o, "%s: %s", path, je.text);
	kubet_put_json(t, o);
	json_decref(o);
}

void kubet_rotate_token(struct kubet *t)
{
	char tok[128], body[200], tmp[PATH_MAX + 32];
	json_t *r;

	snprintf(tok, sizeof(tok), "rotated-%d-%ld-%d", getpid(), (long)time(NULL), rand());
	snprintf(body, sizeof(body), "{\"token\": \"%s\"}", tok);
	r = kubet_ctl(t, "POST", "/_test/token", body);
	ck_assert_msg(r, "cannot change the server's token");
	json_decref(r);
	/* Written aside and renamed, as the kubelet swaps a projected token. */
	snprintf(tmp, sizeof(tmp), "%s.new", t->token_path);
	strcat(tok, "\n");
	write_file(tmp, tok);
	ck_assert(rename(tmp, t->token_path) == 0);
}

size_t kubet_count_requests(struct kubet *t, const char *path, const char *key, const char *value)
{
	json_t *log = kubet_ctl(t, "GET", "/_test/log", NULL), *e;
	size_t i, n = 0;

	ck_assert_msg(log, "cannot read the test server's request log");
	json_array_foreach(log, i, e) {
		json_t *q = json_object_get(e, "query"), *v;

		if (strcmp(json_string_value(json_object_get(e, "path")), path) != 0)
			continue;
		if (!key) {
			n++;
			continue;
		}
		v = json_array_get(json_object_get(q, key), 0);
		if (v && (!value || strcmp(json_string_value(v), value) == 0))
			n++;
	}
	json_decref(log);
	return n;
}

bool kubet_wait(bool (*cond)(void *), void *arg)
{
	for (int i = 0; i < 150; i++) {
		if (cond(arg))
			return true;
		usleep(100 * 1000);
	}
	return cond(arg);
}
