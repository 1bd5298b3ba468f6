/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The test API server (tests/lib/kube/apiserver.py) from the Check suites:
 * started in a temp dir with its own certificate, fed and poked through
 * its /_test/ controls.  It listens on 127.0.0.1 only.
 */
#ifndef TEST_KUBE_SERVER_H
#define TEST_KUBE_SERVER_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>
#include <jansson.h>

#define KUBET_SERVER_ENV	"KD_KUBE_APISERVER"	/* default tests/lib/kube/apiserver.py */

struct kubet {
	char dir[PATH_MAX];
	char kubeconfig[PATH_MAX + 16];
	char token_path[PATH_MAX + 16];
	pid_t pid;
	int port;
	char url[64];
};

/* Starts the server (extra: NULL or one more flag, "--no-istio"); fails the test saying why. */
void kubet_start(struct kubet *t, const char *extra);
/* Stops it; its state stays for kubet_restart (same port). */
void kubet_stop(struct kubet *t);
void kubet_restart(struct kubet *t, const char *extra);
/* Stops it and removes its directory. */
void kubet_cleanup(struct kubet *t);
/* A control request; the answer as JSON (NULL when it failed). */
json_t *kubet_ctl(struct kubet *t, const char *method, const char *path, const char *body);
/* Adds or replaces a fixture of tests/lib/kube/fixtures (name without .json). */
void kubet_put_fixture(struct kubet *t, const char *name);
void kubet_put_json(struct kubet *t, json_t *obj);
/* A new token for the server and in the token file the kubeconfig names. */
void kubet_rotate_token(struct kubet *t);
/* Server log entries for path whose query has key (NULL: any); how many. */
size_t kubet_count_requests(struct kubet *t, const char *path, const char *key, const char *value);
/* Polls cond (up to 15 s); false when it never held. */
bool kubet_wait(bool (*cond)(void *), void *arg);

#endif
