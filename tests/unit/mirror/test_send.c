// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The relay's mirror connections (user/mirror/send.c) against a pod played
 * by this test on loopback: requests in turn share one kept-alive
 * connection; a connection the pod closed while idle, or ended with
 * Connection: close, is not reused; a reused connection the pod closes
 * before answering gets a GET sent again on a new connection, once, but
 * never a POST (it may have been handled); each request is counted sent
 * once; a relay killed (SIGKILL) while a request is part written resets
 * its connection, so the pod never takes the part for a request, and one
 * killed after the request went whole ends it cleanly.  Targets and
 * counting are replaced by recorders.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <check.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include "relay.h"

#define SVC		7
#define MAX_PEERS	8

/* How the pod answers its nth request (from 1) on a connection. */
enum pod_act { ANSWER, ANSWER_AND_CLOSE, CLOSE_UNANSWERED };

static struct {
	int listen_fd;
	__be16 port;
	int peer[MAX_PEERS], n_peers;
	int reqs[MAX_PEERS];		/* requests read on each */
	enum pod_act (*act)(int peer, int nth);
} pod;

static struct { int sent, connects, ok, errors; } count;
static int epfd = -1;

void stats_sent(uint32_t svc_id, int subset)
{
	(void)svc_id, (void)subset;
	count.sent++;
}

void stats_connect(uint32_t svc_id, int subset)
{
	(void)svc_id, (void)subset;
	count.connects++;
}

void stats_response(uint32_t svc_id, int subset, int status)
{
	(void)svc_id, (void)subset;
	if (status == 200)
		count.ok++;
	else
		count.errors++;
}

bool targets_pick(uint32_t svc_id, int subset, union kanary_addr *addr, __be16 *port)
{
	(void)svc_id, (void)subset;
	memset(addr, 0, sizeof(*addr));
	addr->w[3] = htonl(INADDR_LOOPBACK);
	*port = pod.port;
	return true;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static enum pod_act always_answer(int peer, int nth)
{
	(void)peer, (void)nth;
	return ANSWER;
}

/* The pod's side, once: accepts, reads whole requests, acts on each. */
static void pod_turn(void)
{
	char buf[4096];
	int fd;

	while ((fd = accept(pod.listen_fd, NULL, NULL)) >= 0) {
		ck_assert_int_lt(pod.n_peers, MAX_PEERS);
		pod.peer[pod.n_peers++] = fd;
	}
	for (int i = 0; i < pod.n_peers; i++) {
		ssize_t n;

		if (pod.peer[i] < 0)
			continue;
		n = recv(pod.peer[i], buf, sizeof(buf), MSG_DONTWAIT);
		if (n <= 0)
			continue;
		/* The test's requests are heads only, each read whole. */
		for (char *p = buf; (p = memmem(p, (size_t)n - (size_t)(p - buf), "\r\n\r\n", 4)); p += 4) {
			enum pod_act a = pod.act(i, ++pod.reqs[i]);
			const char *ans = a == ANSWER_AND_CLOSE ?
				"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok" :
				"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

			if (a != CLOSE_UNANSWERED)
				ck_assert_int_gt(send(pod.peer[i], ans, strlen(ans), MSG_NOSIGNAL), 0);
			if (a != ANSWER) {
				close(pod.peer[i]);
				pod.peer[i] = -1;
				break;
			}
		}
	}
}

/* Runs relay and pod until answers (ok + errors) reach want, 2 s at most. */
static void run_until(int want)
{
	uint64_t end = now_ms() + 2000;

	while ((count.ok + count.errors) < want && now_ms() < end) {
		struct epoll_event evs[8];
		int n = epoll_wait(epfd, evs, 8, 5);

		for (int i = 0; i < n; i++)
			send_event(evs[i].data.ptr, evs[i].events, now_ms());
		pod_turn();
	}
	ck_assert_int_eq(count.ok + count.errors, want);
}

/* A little more time, for the relay to see what the pod did to an idle connection. */
static void settle(void)
{
	for (int i = 0; i < 10; i++) {
		struct epoll_event evs[8];
		int n = epoll_wait(epfd, evs, 8, 5);

		for (int k = 0; k < n; k++)
			send_event(evs[k].data.ptr, evs[k].events, now_ms());
		pod_turn();
	}
}

static void request(const char *method)
{
	char *req;

	ck_assert_int_gt(asprintf(&req, "%s /x HTTP/1.1\r\nHost: web-shadow\r\nContent-Length: 0\r\n\r\n",
				  method), 0);
	send_request(SVC, 1, (uint8_t *)req, strlen(req), NULL, now_ms());
}

static void setup(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	struct relay_limits lim = { .max_sends = 4, .timeout_ms = 2000 };

	memset(&count, 0, sizeof(count));
	memset(&pod, 0, sizeof(pod));
	pod.act = always_answer;
	pod.listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ck_assert_int_ge(pod.listen_fd, 0);
	ck_assert_int_eq(bind(pod.listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(pod.listen_fd, 16), 0);
	ck_assert_int_eq(getsockname(pod.listen_fd, (struct sockaddr *)&sa, &len), 0);
	pod.port = sa.sin_port;
	epfd = epoll_create1(0);
	ck_assert_int_ge(epfd, 0);
	send_init(epfd, &lim);
}

static void teardown(void)
{
	/* Every connection the relay holds ends: idle ones at their deadline. */
	send_expire(now_ms() + 60000);
	for (int i = 0; i < pod.n_peers; i++)
		if (pod.peer[i] >= 0)
			close(pod.peer[i]);
	close(pod.listen_fd);
	close(epfd);
}

START_TEST(requests_in_turn_share_one_connection)
{
	for (int i = 1; i <= 5; i++) {
		request("GET");
		run_until(i);
	}
	ck_assert_int_eq(count.ok, 5);
	ck_assert_int_eq(count.sent, 5);
	ck_assert_int_eq(count.connects, 1);
	ck_assert_int_eq(pod.n_peers, 1);
}
END_TEST

static enum pod_act close_after_first(int peer, int nth)
{
	(void)peer;
	return nth == 1 ? ANSWER_AND_CLOSE : ANSWER;
}

START_TEST(connection_close_is_not_reused)
{
	pod.act = close_after_first;
	request("GET");
	run_until(1);
	request("GET");
	run_until(2);
	ck_assert_int_eq(count.ok, 2);
	ck_assert_int_eq(count.connects, 2);
}
END_TEST

START_TEST(closed_while_idle_is_not_reused)
{
	request("GET");
	run_until(1);
	close(pod.peer[0]);	/* the pod's idle timeout */
	pod.peer[0] = -1;
	settle();
	request("POST");
	run_until(2);
	ck_assert_int_eq(count.ok, 2);
	ck_assert_int_eq(count.errors, 0);
	ck_assert_int_eq(count.connects, 2);
}
END_TEST

/* The first connection closes, unanswered, at its second request: a pod's idle close racing it. */
static enum pod_act drop_second_on_first(int peer, int nth)
{
	return peer == 0 && nth == 2 ? CLOSE_UNANSWERED : ANSWER;
}

/* A GET answered, then method on the same connection, which the pod closes unanswered. */
static void lost_to_a_closing_connection(const char *method)
{
	pod.act = drop_second_on_first;
	request("GET");
	run_until(1);
	request(method);
	run_until(2);
}

START_TEST(a_get_lost_to_a_closing_connection_goes_again_once)
{
	lost_to_a_closing_connection("GET");
	ck_assert_int_eq(count.ok, 2);
	ck_assert_int_eq(count.errors, 0);
	ck_assert_int_eq(count.connects, 2);
	ck_assert_int_eq(count.sent, 2);	/* the one sent twice counts once */
	ck_assert_int_eq(pod.reqs[0] + pod.reqs[1], 3);
}
END_TEST

START_TEST(a_post_lost_to_a_closing_connection_is_an_error)
{
	lost_to_a_closing_connection("POST");
	ck_assert_int_eq(count.ok, 1);
	ck_assert_int_eq(count.errors, 1);
	ck_assert_int_eq(count.connects, 1);
	ck_assert_int_eq(pod.reqs[0], 2);	/* the pod saw it once, and never again */
	ck_assert_int_eq(pod.n_peers, 1);
}
END_TEST

START_TEST(a_pod_that_refuses_is_an_error)
{
	close(pod.listen_fd);	/* nobody listens on the port any more */
	pod.listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	request("GET");
	run_until(1);
	ck_assert_int_eq(count.errors, 1);
	ck_assert_int_eq(count.sent, 0);
	ck_assert_int_eq(count.connects, 1);
}
END_TEST

/* The most a TCP socket's send buffer grows to here (tcp_wmem's max). */
static size_t wmem_max(void)
{
	unsigned long lo, def, max = 0;
	FILE *f = fopen("/proc/sys/net/ipv4/tcp_wmem", "r");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%lu %lu %lu", &lo, &def, &max), 3);
	fclose(f);
	return max;
}

/*
 * A relay, forked, sends one POST of body bytes to the pod, which reads
 * nothing until the relay has been killed (SIGKILL) with the request
 * written whole (*whole) or stopped part way.  Then the pod reads: the
 * bytes it got, and how its connection ended (0: a clean end, else errno).
 */
static int killed_relay(size_t body, bool *whole, size_t *got)
{
	static const char head[] = "POST /big HTTP/1.1\r\nHost: web-shadow\r\nContent-Length: %zu\r\n\r\n";
	struct timeval tv = { .tv_sec = 5 };
	int ready[2], fd, end = 0;
	char *req, buf[65536], r;
	size_t len;
	ssize_t n;
	pid_t pid;

	ck_assert_int_eq(pipe(ready), 0);
	req = malloc(sizeof(head) + 32 + body);
	ck_assert_ptr_nonnull(req);
	len = (size_t)sprintf(req, head, body);
	memset(req + len, 'b', body);
	len += body;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		uint64_t until = now_ms() + 300;	/* ample for loopback to fill what it can hold */

		send_request(SVC, 1, (uint8_t *)req, len, NULL, now_ms());
		while (!count.sent && now_ms() < until) {
			struct epoll_event evs[8];
			int k = epoll_wait(epfd, evs, 8, 5);

			for (int i = 0; i < k; i++)
				send_event(evs[i].data.ptr, evs[i].events, now_ms());
		}
		r = count.sent ? 'w' : 'p';
		if (write(ready[1], &r, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	free(req);
	ck_assert_int_eq(read(ready[0], &r, 1), 1);
	*whole = r == 'w';
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	close(ready[0]);
	close(ready[1]);
	fd = accept(pod.listen_fd, NULL, NULL);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	*got = 0;
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
		*got += (size_t)n;
	if (n < 0)
		end = errno;
	close(fd);
	return end;
}

START_TEST(killed_while_writing_resets_the_connection)
{
	size_t body = 2 * wmem_max() + (4u << 20), got;
	bool whole;
	int end = killed_relay(body, &whole, &got);

	ck_assert_msg(!whole, "a request of %zu bytes went whole to a pod reading nothing", body);
	ck_assert_uint_lt(got, body);
	/* A clean end here would hand the pod the part as if it were all. */
	ck_assert_msg(end == ECONNRESET, "the pod got %zu of %zu bytes, then %s", got, body,
		      end ? strerror(end) : "a clean end");
}
END_TEST

START_TEST(killed_after_writing_ends_cleanly)
{
	size_t got;
	bool whole;
	int end = killed_relay(1000, &whole, &got);

	ck_assert(whole);
	ck_assert_uint_eq(got, strlen("POST /big HTTP/1.1\r\nHost: web-shadow\r\nContent-Length: 1000\r\n\r\n") + 1000);
	ck_assert_msg(end == 0, "the pod got the whole request, then %s", strerror(end));
}
END_TEST

Suite *send_suite(void)
{
	Suite *s = suite_create("mirror_send");
	TCase *tc = tcase_create("mirror_send");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, requests_in_turn_share_one_connection);
	tcase_add_test(tc, connection_close_is_not_reused);
	tcase_add_test(tc, closed_while_idle_is_not_reused);
	tcase_add_test(tc, a_get_lost_to_a_closing_connection_goes_again_once);
	tcase_add_test(tc, a_post_lost_to_a_closing_connection_is_an_error);
	tcase_add_test(tc, a_pod_that_refuses_is_an_error);
	tcase_add_test(tc, killed_while_writing_resets_the_connection);
	tcase_add_test(tc, killed_after_writing_ends_cleanly);
	suite_add_tcase(s, tc);
	return s;
}
