// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "base/arena.h"
#include "source/api_config.h"
#include "base/log.h"
#include "decode/yamlnode.h"
#include "base/clock.h"

static void config_init(struct kd_kube_config *c)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
}

/* A whole small file, NUL-terminated, into *out. */
static int read_small(const char *path, char **out, size_t *len, struct kanary_err *e)
{
	size_t n = 0, cap = 4096;
	char *b;
	FILE *f = fopen(path, "re");

	*out = NULL;
	if (!f)
		return kanary_errf(e, errno, "%s: %s", path, strerror(errno));
	b = kd_xcalloc(cap, 1);
	for (;;) {
		size_t r = fread(b + n, 1, cap - n - 1, f);

		n += r;
		if (r == 0)
			break;
		if (n + 1 == cap) {
			if (cap >= (16u << 20)) {
				fclose(f);
				free(b);
				return kanary_errf(e, EFBIG, "%s: larger than 16 MiB", path);
			}
			cap *= 2;
			b = kd_xrealloc(b, cap, 1);
		}
	}
	if (ferror(f)) {
		int err = errno;

		fclose(f);
		free(b);
		return kanary_errf(e, err, "%s: cannot read: %s", path, strerror(err));
	}
	fclose(f);
	b[n] = '\0';
	if (len)
		*len = n;
	*out = b;
	return 0;
}

/* A token file's content without surrounding white space; NULL with e when empty or unreadable. */
static char *read_token(const char *path, struct kanary_err *e)
{
	char *t, *s, *end;

	if (read_small(path, &t, NULL, e))
		return NULL;
	for (s = t; *s == ' ' || *s == '\n' || *s == '\r' || *s == '\t'; s++)
		;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\n' || end[-1] == '\r' || end[-1] == '\t'))
		*--end = '\0';
	if (!*s) {
		kanary_errf(e, ENODATA, "%s: empty token", path);
		free(t);
		return NULL;
	}
	memmove(t, s, strlen(s) + 1);
	return t;
}

int kd_kube_config_in_cluster(struct kd_kube_config *c, const char *sa_dir, struct kanary_err *e)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	struct kanary_err te = { "" };
	char path[PATH_MAX];
	int err;

	config_init(c);
	if (!host || !*host || !port || !*port)
		return kanary_errf(e, ENOENT, "not running in a pod: KUBERNETES_SERVICE_HOST and "
				   "KUBERNETES_SERVICE_PORT are not set (use --kubeconfig FILE outside "
				   "the cluster)");
	/* An IPv6 service address needs brackets in a URL. */
	c->server = strchr(host, ':') ? kd_xasprintf("https://[%s]:%s", host, port)
				      : kd_xasprintf("https://%s:%s", host, port);
	snprintf(path, sizeof(path), "%s/token", sa_dir);
	c->token_file = kd_xstrdup(path);
	c->token = read_token(path, &te);
	if (!c->token) {
		kd_kube_config_free(c);
		return kanary_errf(e, ENOENT, "service account token: %s", te.msg);
	}
	c->token_ms = kd_mono_ms();
	snprintf(path, sizeof(path), "%s/ca.crt", sa_dir);
	if (access(path, R_OK)) {
		err = errno;
		kd_kube_config_free(c);
		return kanary_errf(e, err, "service account CA %s: %s", path, strerror(err));
	}
	c->ca_file = kd_xstrdup(path);
	c->source = kd_xasprintf("in-cluster service account (%s)", sa_dir);
	return 0;
}

int kd_base64_decode(const char *in, char **out, size_t *outlen)
{
	size_t n = 0, len = strlen(in);
	unsigned int acc = 0;
	int bits = 0, pad = 0;
	char *o = kd_xcalloc(len / 4 * 3 + 4, 1);

	for (const char *p = in; *p; p++) {
		int v;

		if (*p >= 'A' && *p <= 'Z')
			v = *p - 'A';
		else if (*p >= 'a' && *p <= 'z')
			v = *p - 'a' + 26;
		else if (*p >= '0' && *p <= '9')
			v = *p - '0' + 52;
		else if (*p == '+')
			v = 62;
		else if (*p == '/')
			v = 63;
		else if (*p == '=') {
			pad++;
			continue;
		} else if (*p == '\n' || *p == '\r' || *p == ' ')
			continue;
		else
			goto bad;
		if (pad)	/* data after padding */
			goto bad;
		acc = (acc << 6) | (unsigned int)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			o[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	if (pad > 2 || bits >= 6)
		goto bad;
	o[n] = '\0';
	*out = o;
	*outlen = n;
	return 0;
bad:
	free(o);
	return -EINVAL;
}

/* name -> its entry's `field` mapping in a kubeconfig list (clusters, users, contexts). */
static struct kd_node named(struct kd_node root, const char *list, const char *field,
			    const char *name)
{
	struct kd_node l = kd_get(root, list), none = { 0 };

	for (size_t i = 0; i < kd_len(l); i++) {
		const char *n = kd_str(kd_get(kd_at(l, i), "name"));

		if (n && strcmp(n, name) == 0)
			return kd_get(kd_at(l, i), field);
	}
	return none;
}

/* A path in a kubeconfig is relative to the kubeconfig's directory. */
static char *resolve(const char *kubeconfig, const char *p)
{
	char dir[PATH_MAX];

	if (p[0] == '/')
		return kd_xstrdup(p);
	snprintf(dir, sizeof(dir), "%s", kubeconfig);
	return kd_xasprintf("%s/%s", dirname(dir), p);
}

/* field-data (base64) or field (a path): either fills pem/file; -EINVAL with e when invalid. */
static int pem_or_file(struct kd_node m, const char *field, const char *kubeconfig,
		       const char *what, char **pem, size_t *len, char **file, struct kanary_err *e)
{
	char key[64];
	const char *v;

	snprintf(key, sizeof(key), "%s-data", field);
	v = kd_str(kd_get(m, key));
	if (v) {
		if (kd_base64_decode(v, pem, len) || !*len)
			return kanary_errf(e, EINVAL, "%s: %s.%s: not valid base64", kubeconfig, what,
					   key);
		return 0;
	}
	v = kd_str(kd_get(m, field));
	if (v)
		*file = resolve(kubeconfig, v);
	return 0;
}

int kd_kube_config_load(struct kd_kube_config *c, const char *path, const char *context,
			struct kanary_err *e)
{
	struct kd_node root, ctx, cluster, user;
	const char *cname, *uname, *server, *tok;
	struct kanary_err pe = { "" };
	struct kd_yaml y;
	size_t len;
	int ret;
	char *buf;
	bool b;

	config_init(c);
	ret = read_small(path, &buf, &len, &pe);
	if (ret)
		return kanary_errf(e, -ret, "kubeconfig %s", pe.msg);
	ret = kd_yaml_parse(&y, buf, len, &pe, NULL);
	free(buf);
	if (ret)
		return kanary_errf(e, -ret, "kubeconfig %s:%s", path, pe.msg);
	root = kd_yaml_root(&y, 0);
	if (!context)
		context = kd_str(kd_get(root, "current-context"));
	if (!context || !*context) {
		ret = kanary_errf(e, EINVAL, "kubeconfig %s: no current-context (name one with --context)", path);
		goto fail;
	}
	ctx = named(root, "contexts", "context", context);
	cname = kd_str(kd_get(ctx, "cluster"));
	uname = kd_str(kd_get(ctx, "user"));
	if (!kd_is_map(ctx) || !cname) {
		ret = kanary_errf(e, EINVAL, "kubeconfig %s: context '%s' not found, or without a cluster",
			 path, context);
		goto fail;
	}
	cluster = named(root, "clusters", "cluster", cname);
	server = kd_str(kd_get(cluster, "server"));
	if (!server || (strncmp(server, "https://", 8) != 0 && strncmp(server, "http://", 7) != 0)) {
		ret = kanary_errf(e, EINVAL, "kubeconfig %s: cluster '%s': expected server: https://HOST:PORT, got %s",
			 path, cname, server ? server : "nothing");
		goto fail;
	}
	c->server = kd_xstrdup(server);
	len = strlen(c->server);
	while (len > 8 && c->server[len - 1] == '/')
		c->server[--len] = '\0';
	if (!kd_bool(kd_get(cluster, "insecure-skip-tls-verify"), &b))
		c->insecure = b;
	ret = pem_or_file(cluster, "certificate-authority", path, "cluster", &c->ca_pem,
			  &c->ca_len, &c->ca_file, e);
	if (ret)
		goto fail;
	user = uname ? named(root, "users", "user", uname) : (struct kd_node){ 0 };
	if (kd_present(kd_get(user, "exec")) || kd_present(kd_get(user, "auth-provider"))) {
		ret = kanary_errf(e, EINVAL, "kubeconfig %s: user '%s': exec and auth-provider plugins are not "
			 "supported; use a token, a tokenFile or a client certificate", path, uname);
		goto fail;
	}
	ret = pem_or_file(user, "client-certificate", path, "user", &c->cert_pem, &c->cert_len,
			  &c->cert_file, e);
	if (!ret)
		ret = pem_or_file(user, "client-key", path, "user", &c->key_pem, &c->key_len,
				  &c->key_file, e);
	if (ret)
		goto fail;
	tok = kd_str(kd_get(user, "token"));
	if (tok)
		c->token = kd_xstrdup(tok);
	else if (kd_str(kd_get(user, "tokenFile"))) {
		c->token_file = resolve(path, kd_str(kd_get(user, "tokenFile")));
		c->token = read_token(c->token_file, &pe);
		if (!c->token) {
			ret = kanary_errf(e, ENOENT, "kubeconfig %s: user '%s': tokenFile %s", path,
					  uname, pe.msg);
			goto fail;
		}
		c->token_ms = kd_mono_ms();
	}
	if (strncmp(c->server, "https://", 8) == 0 && !c->ca_file && !c->ca_pem && !c->insecure) {
		ret = kanary_errf(e, EINVAL, "kubeconfig %s: cluster '%s': no certificate-authority or "
			 "certificate-authority-data to verify %s with", path, cname, c->server);
		goto fail;
	}
	if (!c->token && !((c->cert_file || c->cert_pem) && (c->key_file || c->key_pem))) {
		ret = kanary_errf(e, EINVAL, "kubeconfig %s: user '%s': no credentials: expected token, "
			 "tokenFile, or client-certificate and client-key", path, uname ? uname : "(none)");
		goto fail;
	}
	c->source = kd_xasprintf("kubeconfig %s, context %s", path, context);
	kd_yaml_free(&y);
	return 0;
fail:
	kd_yaml_free(&y);
	kd_kube_config_free(c);
	return ret;
}

char *kd_kube_config_token(struct kd_kube_config *c, bool force)
{
	struct kanary_err e = { "" };
	char *t, *copy;

	pthread_mutex_lock(&c->lock);
	if (c->token_file && (force || kd_mono_ms() - c->token_ms >= KD_TOKEN_REREAD_MS)) {
		t = read_token(c->token_file, &e);
		c->token_ms = kd_mono_ms();
		if (t) {
			if (c->token && strcmp(c->token, t) != 0)
				pr_info("bearer token changed in %s; using the new one", c->token_file);
			free(c->token);
			c->token = t;
		} else {
			/* Rotation writes a new file and swaps a link: keep the old token meanwhile. */
			pr_warn("cannot re-read the token: %s; using the last one", e.msg);
		}
	}
	copy = c->token ? kd_xstrdup(c->token) : NULL;
	pthread_mutex_unlock(&c->lock);
	return copy;
}

void kd_kube_config_free(struct kd_kube_config *c)
{
	free(c->server);
	free(c->source);
	free(c->ca_file);
	free(c->ca_pem);
	free(c->cert_file);
	free(c->key_file);
	free(c->cert_pem);
	free(c->key_pem);
	free(c->token_file);
	free(c->token);
	pthread_mutex_destroy(&c->lock);
	memset(c, 0, sizeof(*c));
}
