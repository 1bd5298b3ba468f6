// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * kanaryd_partial_cost: CPU of one pod event's partial desired-state build
 * (kd_desired_build_some) in the shape --kube gives it, every API object a
 * set of its own, at growing cluster sizes.  No maps, no files, no API
 * server: make bench-pod-event measures the whole of an event on files;
 * this isolates the build, which on files sees 1,000 sets and with --kube
 * as many as there are objects.  Prints one JSON object.
 *
 *   kanaryd_partial_cost [--services 1000,10000] [--events 21]
 *
 * Each size has SERVICES Services (namespace scale, selector app: aI) of
 * 10 pods (labels app: aI, version: v0 or v1); an event replaces one pod's
 * set by one where it is not ready (then ready again), as the API
 * source does on a watch event.  CPU is this process's, per event.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "base/diag.h"
#include "decode/manifest.h"
#include "desired/desired_changed.h"
#include "desired/desired_partial.h"

#define PODS_PER_SERVICE 10
#define MAX_SIZES 8

static struct kd_objects *decode(const char *text)
{
	struct kd_objects *o = calloc(1, sizeof(*o));
	struct kd_diags diags = { 0 };

	if (!o || kd_manifest_decode("bench", text, strlen(text), o, &diags) != 0) {
		fprintf(stderr, "kanaryd_partial_cost: cannot decode:\n%s\n", text);
		exit(1);
	}
	kd_diags_free(&diags);
	return o;
}

static struct kd_objects *service(size_t i)
{
	char t[512];

	snprintf(t, sizeof(t), "apiVersion: v1\nkind: Service\nmetadata: {name: svc-%zu, namespace: scale}\n"
		 "spec: {clusterIP: 10.%zu.%zu.%zu, selector: {app: a%zu}, ports: [{name: http, port: 80}]}\n",
		 i, 100 + i / 65536, (i / 256) % 256, i % 256, i);
	return decode(t);
}

static struct kd_objects *pod(size_t n, bool ready)
{
	char t[512];

	snprintf(t, sizeof(t), "apiVersion: v1\nkind: Pod\nmetadata: {name: p-%zu, namespace: scale, "
		 "labels: {app: a%zu, version: v%zu}}\nstatus: {phase: Running, podIP: 10.%zu.%zu.%zu, "
		 "conditions: [{type: Ready, status: '%s'}]}\n",
		 n, n / PODS_PER_SERVICE, n % 2, 200 + n / 65536, (n / 256) % 256, n % 256,
		 ready ? "True" : "False");
	return decode(t);
}

static double cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One size: prints its JSON object (no newline); 0, or 1 when an event did not do what it should. */
static int measure(size_t nsvc, int events)
{
	size_t nsets = nsvc * (PODS_PER_SERVICE + 1), k = 0;
	struct kd_objects **sets = calloc(nsets, sizeof(*sets));
	struct kd_desired_cache cache = { 0 };
	struct kd_desired d = { 0 };
	struct kd_diags diags = { 0 };
	double *us = calloc((size_t)events, sizeof(*us)), full;
	int bad = 0;

	/* In the order an API source keeps them: by kind, then name. */
	for (size_t i = 0; i < nsvc * PODS_PER_SERVICE; i++)
		sets[k++] = pod(i, true);
	for (size_t i = 0; i < nsvc; i++)
		sets[k++] = service(i);
	full = cpu_us();
	kd_desired_build_full(&cache, sets, nsets, NULL, &d, &diags);
	full = cpu_us() - full;
	for (int e = 0; e < events; e++) {
		size_t at = ((size_t)e / 2 * 997 % nsvc) * PODS_PER_SERVICE + 3, rebuilt;
		struct kd_objects *was = sets[at];
		struct kd_changes ch = { 0 };
		double t0;
		int ret;

		sets[at] = pod(at, e % 2 == 1);
		t0 = cpu_us();
		ret = kd_desired_build_some(&cache, sets, nsets, NULL, &d, &diags, &ch, &rebuilt);
		us[e] = cpu_us() - t0;
		if (ret != 0 || ch.n != 1) {
			fprintf(stderr, "kanaryd_partial_cost: event %d: build %d, %zu services changed (want 0, 1)\n",
				e, ret, ch.n);
			bad = 1;
		}
		kd_changes_free(&ch);
		kd_objects_free(was);
		free(was);
	}
	printf("{\"services\": %zu, \"pods\": %zu, \"sets\": %zu, \"full_build_ms\": %.1f, \"event_us\": [",
	       nsvc, nsvc * PODS_PER_SERVICE, nsets, full / 1e3);
	for (int e = 0; e < events; e++)
		printf("%s%.0f", e ? ", " : "", us[e]);
	qsort(us, (size_t)events, sizeof(*us), cmp_double);
	printf("], \"event_median_us\": %.0f}", us[events / 2]);
	kd_desired_cache_free(&cache);
	kd_desired_free(&d);
	kd_diags_free(&diags);
	for (size_t i = 0; i < nsets; i++) {
		kd_objects_free(sets[i]);
		free(sets[i]);
	}
	free(sets);
	free(us);
	return bad;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "services", required_argument, NULL, 's' },
		{ "events", required_argument, NULL, 'e' },
		{ 0 }
	};
	size_t sizes[MAX_SIZES] = { 1000, 10000 }, nsizes = 2;
	int events = 21, c, bad = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char *s, *save = NULL;

		switch (c) {
		case 's':
			nsizes = 0;
			for (s = strtok_r(optarg, ",", &save); s && nsizes < MAX_SIZES; s = strtok_r(NULL, ",", &save))
				sizes[nsizes++] = strtoul(s, NULL, 10);
			break;
		case 'e':
			events = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: kanaryd_partial_cost [--services N,N...] [--events N]\n");
			return 2;
		}
	}
	for (size_t i = 0; i < nsizes; i++)
		if (!sizes[i] || events < 1) {
			fprintf(stderr, "kanaryd_partial_cost: sizes and events must be positive\n");
			return 2;
		}
	printf("{\"sizes\": [");
	for (size_t i = 0; i < nsizes; i++) {
		printf("%s", i ? ", " : "");
		fflush(stdout);
		bad |= measure(sizes[i], events);
	}
	printf("]}\n");
	return bad;
}
