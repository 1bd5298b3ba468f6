/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Where the Kubernetes API server is and how to authenticate to it: the
 * pod's service account (in-cluster), or a kubeconfig file.  A token read
 * from a file is read again every minute, because bound service-account
 * tokens rotate, and at once after a 401.
 */
#ifndef KD_KUBE_CONFIG_H
#define KD_KUBE_CONFIG_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include "kanary.h"

#define KD_SA_DIR		"/var/run/secrets/kubernetes.io/serviceaccount"
#define KD_TOKEN_REREAD_MS	60000

struct kd_kube_config {
	char *server;		/* https://host:port, no trailing slash */
	char *source;		/* "in-cluster service account", "kubeconfig FILE, context NAME" */
	char *ca_file;		/* these two: NULL, or the CA that signs the server's certificate */
	char *ca_pem;
	size_t ca_len;
	char *cert_file, *key_file;	/* client certificate, from files ... */
	char *cert_pem, *key_pem;	/* ... or inline (kubeconfig *-data) */
	size_t cert_len, key_len;
	bool insecure;		/* insecure-skip-tls-verify: true */
	char *token_file;	/* re-read; NULL when the token is inline or absent */
	pthread_mutex_t lock;	/* token and token_ms: several watch threads ask */
	char *token;
	long long token_ms;	/* when token_file was last read */
};

/*
 * From $KUBERNETES_SERVICE_HOST/PORT and sa_dir's token and ca.crt.
 * Returns 0, or -errno with e saying what is missing.
 */
int kd_kube_config_in_cluster(struct kd_kube_config *c, const char *sa_dir, struct kanary_err *e);
/* From a kubeconfig (context NULL: its current-context).  Returns 0 or -errno with e. */
int kd_kube_config_load(struct kd_kube_config *c, const char *path, const char *context,
			struct kanary_err *e);
/*
 * The bearer token to send now (a copy for the caller to free, NULL when
 * none): read again from token_file when it is older than a minute, or
 * when force (the server said 401).
 */
char *kd_kube_config_token(struct kd_kube_config *c, bool force);
void kd_kube_config_free(struct kd_kube_config *c);

/* Standard base64, as kubeconfig's *-data fields hold; -EINVAL when invalid. */
int kd_base64_decode(const char *in, char **out, size_t *outlen);

#endif
