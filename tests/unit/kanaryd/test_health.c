// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The probes' and metrics' listeners serve the published snapshot, never waiting on the loop's locks. */
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include "kdt.h"
#include "report/health.h"
#include "source/api_cache.h"

struct ht {
	struct kd_health *h;
	unsigned short probes, metrics;
	char body[16384];
};

/* Both listeners on loopback ports that are free (tries a few). */
static void ht_start(struct ht *t)
{
	char pl[32], ml[32], pin[128];
	struct kanary_err e = { "" };

	snprintf(pin, sizeof(pin), "%s/no-such-pins", getenv(KDT_BASE_ENV));
	for (int i = 0; i < 20; i++) {
		struct kd_health_opts o = { .health_listen = pl, .metrics_listen = ml, .pin_path = pin };

		t->probes = (unsigned short)(30000 + (getpid() * 7 + i * 131) % 20000);
		t->metrics = (unsigned short)(t->probes + 1);
		snprintf(pl, sizeof(pl), "127.0.0.1:%u", t->probes);
		snprintf(ml, sizeof(ml), "127.0.0.1:%u", t->metrics);
		if (!kd_health_start(&t->h, &o, &e))
			return;
	}
	ck_abort_msg("no free ports for the listeners: %s", e.msg);
}

/* GET path on port: the HTTP status, the body in t->body; 0 when nothing came back within 3 s. */
static int ht_get(struct ht *t, unsigned short port, const char *path)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct timeval tv = { .tv_sec = 3 };
	char buf[sizeof(t->body) + 1024], req[128];
	size_t n = 0;
	ssize_t r;
	int fd = socket(AF_INET, SOCK_STREAM, 0), code = 0;
	const char *body;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\n\r\n", path);
	ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while (n < sizeof(buf) - 1 && (r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += (size_t)r;
	close(fd);
	buf[n] = '\0';
	body = strstr(buf, "\r\n\r\n");
	snprintf(t->body, sizeof(t->body), "%s", body ? body + 4 : "");
	if (sscanf(buf, "HTTP/1.%*d %d", &code) != 1)
		return 0;
	return code;
}

START_TEST(metrics_answer_while_the_loop_holds_the_kube_lock)
{
	static const char *res[KD_KUBE_NKINDS] = { "services", "pods", "destinationrules", "virtualservices" };
	struct kd_health_state st = { .ready = true, .services = 3, .syncs = 7 };
	struct kd_kube k = { 0 };
	struct ht t = { 0 };

	pthread_mutex_init(&k.lock, NULL);
	for (int i = 0; i < KD_KUBE_NKINDS; i++)
		k.kinds[i].resource = res[i];
	k.kinds[KD_KUBE_PODS].st.events = 42;
	ht_start(&t);
	kd_health_publish(t.h, &st, &k, NULL);
	/* The loop holds it through a whole rebuild (seconds on a large cluster). */
	kd_kube_lock(&k);
	ck_assert_int_eq(ht_get(&t, t.metrics, "/metrics"), 200);
	ck_assert_msg(strstr(t.body, "\nkanaryd_ready 1\n"), "%s", t.body);
	ck_assert_msg(strstr(t.body, "\nkanaryd_services 3\n"), "%s", t.body);
	ck_assert_msg(strstr(t.body, "\nkanaryd_kube_events_total{resource=\"pods\"} 42\n"), "%s", t.body);
	ck_assert_msg(strstr(t.body, "\nkanaryd_maps_readable 0\n"), "%s", t.body);
	ck_assert_int_eq(ht_get(&t, t.probes, "/readyz"), 200);
	kd_kube_unlock(&k);
	kd_health_stop(t.h);
	pthread_mutex_destroy(&k.lock);
}
END_TEST

START_TEST(each_listener_serves_its_own_paths_from_the_last_snapshot)
{
	struct kd_health_state st = { .ready = false, .why = "waiting for the first list" };
	struct ht t = { 0 };

	ht_start(&t);
	ck_assert_int_eq(ht_get(&t, t.probes, "/readyz"), 503);
	ck_assert_msg(strstr(t.body, "kanaryd is starting"), "%s", t.body);
	kd_health_publish(t.h, &st, NULL, NULL);
	ck_assert_int_eq(ht_get(&t, t.probes, "/readyz"), 503);
	ck_assert_msg(strstr(t.body, "waiting for the first list"), "%s", t.body);
	ck_assert_int_eq(ht_get(&t, t.metrics, "/metrics"), 200);
	ck_assert_msg(strstr(t.body, "\nkanaryd_ready 0\n"), "%s", t.body);
	st.ready = true;
	kd_health_publish(t.h, &st, NULL, NULL);
	ck_assert_int_eq(ht_get(&t, t.probes, "/readyz"), 200);
	ck_assert_int_eq(ht_get(&t, t.probes, "/healthz"), 200);
	ck_assert_int_eq(ht_get(&t, t.metrics, "/metrics"), 200);
	ck_assert_msg(strstr(t.body, "\nkanaryd_ready 1\n"), "%s", t.body);
	/* Neither listener serves the other's paths. */
	ck_assert_int_eq(ht_get(&t, t.probes, "/metrics"), 404);
	ck_assert_int_eq(ht_get(&t, t.metrics, "/healthz"), 404);
	kd_health_stop(t.h);
}
END_TEST

Suite *health_suite(void)
{
	Suite *s = suite_create("health");
	TCase *tc = tcase_create("listeners");

	tcase_add_test(tc, metrics_answer_while_the_loop_holds_the_kube_lock);
	tcase_add_test(tc, each_listener_serves_its_own_paths_from_the_last_snapshot);
	suite_add_tcase(s, tc);
	return s;
}
