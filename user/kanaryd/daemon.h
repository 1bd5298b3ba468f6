/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* kanaryd's configuration and running state, shared by main, the loop and the report. */
#ifndef KD_DAEMON_H
#define KD_DAEMON_H

#include <limits.h>
#include <stdbool.h>
#include <time.h>
#include <jansson.h>
#include "kanary.h"
#include "apply/applied.h"
#include "desired/desired.h"
#include "desired/desired_changed.h"
#include "desired/desired_partial.h"
#include "apply/links.h"
#include "apply/server_first.h"
#include "apply/reconcile.h"
#include "source/manifest_files.h"
#include "source/source.h"
#include "source/file_watch.h"
#include "source/api_watch.h"
#include "report/health.h"
#include "report/status_pace.h"
#include "report/status_cache.h"
#include "report/status_files.h"

struct kd_config {
	const char *manifests;
	char **globs;
	size_t nglobs;
	const char *pin;
	const char *domain;
	bool detach_on_exit;
	bool verbose;
	bool check;		/* --check: print the desired state, touch nothing */
	bool once;		/* --once: apply, then exit */
	__u32 ct_size;
	__u32 max_services;	/* 0: the loader's default */
	__u32 ct_linger_ms;	/* --ct-linger-ms; 0: keep the one in force */
	__u32 ct_syn_timeout_ms;	/* --ct-syn-timeout-ms; 0: keep the one in force */
	__u32 ho_per_source;		/* --ho-per-source; 0: keep the one in force */
	unsigned int server_first_ms;	/* --server-first-ms: the detection delay; 0 off */
	const char *cgroup;	/* --cgroup: kanary_load_opts.cgroup */
	bool kube;		/* --kube: objects come from the API server, not --manifests */
	const char *kubeconfig;	/* NULL: in-cluster service account */
	const char *context;
	__u32 kube_page_size;
	__u32 api_gone_hold_s;	/* --api-gone-hold */
	const char *health_listen;	/* --health-listen ADDR:PORT, or NULL: none */
	const char *metrics_listen;	/* --metrics-listen ADDR:PORT, or NULL: none */
	bool istio_metrics;	/* --istio-metrics: istio_* families on /metrics too */
};

struct kd_daemon {
	struct kd_config cfg;
	struct kd_source *source;	/* &files.source or &kube->source, chosen at start */
	struct kd_files files;		/* --manifests; empty with --kube */
	struct kd_kube *kube;		/* --kube; NULL in file mode */
	bool source_synced;		/* the source has had something to go by */
	size_t source_bad;		/* its items whose last version is bad, at the last pass */
	struct kd_watch watch;
	struct kd_links links;
	struct kd_server_first server_first;	/* the datapath's timer for server-first detection */
	struct kd_applied applied;
	char applied_path[PATH_MAX];
	char status_path[PATH_MAX];
	struct kd_desired desired;
	bool have_desired;
	/*
	 * What the last build leaves for a partial one (desired_partial.h);
	 * partial_builds since the last full build, which the periodic full
	 * pass then makes (docs/kanaryd.md, "Full and partial builds").
	 */
	struct kd_desired_cache cache;
	size_t partial_builds;
	/*
	 * The services the last build changed (desired_changed.h); changes_ok
	 * when they can be applied alone.  Otherwise, and when full_due, the
	 * next pass is a full one (docs/kanaryd.md).
	 */
	struct kd_changes changes;
	bool changes_ok;
	bool full_due;		/* the periodic safety net: compare every service */
	size_t full_passes, partial_passes;	/* reconciles of each kind (status file: passes) */
	struct kd_diags build_diags;	/* warnings of the last desired build */
	struct kd_results results;	/* of the last reconcile */
	char *apply_error;		/* why the last pass applied nothing, or NULL */
	bool retry;			/* the last pass failed: try again on the next tick */
	time_t started, updated;
	bool ready;			/* the first full sync is in the maps (/readyz) */
	struct kd_health *health;	/* --health-listen, --metrics-listen; NULL without */
	struct kd_health_state hs;	/* what it was last told */
	struct kd_pace status_pace;	/* the status file's writes */
	struct kd_status_cache status_cache;	/* its service entries */
	struct kd_status_files status_files;	/* its "files" array */
};

/*
 * One pass: the source refreshed; when it changed (or force), the desired
 * state rebuilt and the maps reconciled; the status file written.
 */
void kd_daemon_apply(struct kd_daemon *d, bool force);
/* What kanary_load gets from the flags, at start and on SIGHUP. */
struct kanary_load_opts kd_load_opts(const struct kd_config *c);
/* Until SIGTERM/SIGINT; SIGHUP reloads everything. Returns the exit code. */
int kd_daemon_run(struct kd_daemon *d);
void kd_daemon_free(struct kd_daemon *d);

/* report/status_file.c: the status file (kanary_status_read reads it back), now. */
void kd_report_write(struct kd_daemon *d);
/* ... at most once a second (status_pace.h); a write held back is made by the loop. */
void kd_report_paced(struct kd_daemon *d);
/* Its content; with cfg.check, only what the manifests mean. */
json_t *kd_report_json(const struct kd_daemon *d);

#endif
