// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The loop: signals, manifest changes (debounced), link notifications, and
 * a slow periodic re-read as a safety net for filesystems inotify misses.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include "base/arena.h"
#include "daemon.h"
#include "report/istio_ids.h"
#include "base/log.h"
#include "base/sorted_names.h"
#include "base/clock.h"

/*
 * Manifest changes are read once their files are complete and the burst is
 * over.  Complete is known, not guessed: the watch sees a file written in
 * place being closed (IN_CLOSE_WRITE), and a file renamed into place (by
 * editors, mv, ConfigMap volumes) is whole.  So the quiet time only gathers
 * the files of one change, which cp, tar or git write far closer together
 * than DEBOUNCE_MS; a file still open for writing holds the read back by
 * itself.  Two commands of a script may land in two passes, each of whole
 * files.  It used to be 100 ms, most of an edit's way to the kernel.
 */
#define DEBOUNCE_MS		10	/* quiet time after the last complete file */
#define DEBOUNCE_MAX_MS		500	/* ... but never longer than this after the first change */
#define WRITING_MS		800	/* while a file is still open for writing */
#define RESCAN_MS		30000
#define REARM_MS		1000
#define RETRY_MS		2000	/* after a failed write or unreadable maps */
#define KUBE_GATHER_MS		20	/* after a watch event */

static void set_apply_error(struct kd_daemon *d, const char *msg)
{
	if (msg && (!d->apply_error || strcmp(d->apply_error, msg) != 0))
		pr_err("%s", msg);
	free(d->apply_error);
	d->apply_error = msg ? kd_xstrdup(msg) : NULL;
}

static void log_result(const struct kd_result *r, const struct kd_result *before)
{
	bool same = before && before->outcome == r->outcome &&
		    !!before->msg == !!r->msg && (!r->msg || strcmp(before->msg, r->msg) == 0);

	switch (r->outcome) {
	case KD_OUT_CREATED:
	case KD_OUT_UPDATED:
	case KD_OUT_DELETED:
		pr_info("%s: %s: %s", r->name, kd_outcome_name(r->outcome), r->msg ? r->msg : "");
		break;
	case KD_OUT_FAILED:
		if (!same)	/* retried every few seconds: said once */
			pr_err("%s: not applied: %s", r->name, r->msg ? r->msg : "");
		break;
	case KD_OUT_HELD:
		if (!same)
			pr_warn("%s: left as it is in the maps: %s", r->name, r->msg ? r->msg : "");
		break;
	case KD_OUT_OVERRIDDEN:
		if (!same)
			pr_info("%s: %s", r->name, r->msg);
		break;
	case KD_OUT_UNCHANGED:
		pr_debug("%s: unchanged", r->name);
		break;
	}
}

/* Warnings of a new build that the previous one did not have (all of them when forced). */
static void log_new_diags(const struct kd_diags *now, const struct kd_diags *before, bool all)
{
	struct kd_name_index said = { 0 };	/* thousands of warnings: not O(n^2) */

	for (size_t i = 0; i < before->n; i++)
		kd_name_index_add(&said, before->v[i].msg, i);
	kd_name_index_sort(&said);
	for (size_t i = 0; i < now->n; i++)
		if (all || kd_name_index_find(&said, now->v[i].msg) < 0)
			kd_log(now->v[i].level, "%s", now->v[i].msg);
	kd_name_index_free(&said);
}

/* The per-source bound's counts made right again from the handoff table (ho_sources.c). */
static void recount_sources(struct kanary_maps *m)
{
	struct kanary_err e = { "" };
	struct kanary_ho_recount rc;

	if (kanary_ho_sources_recount(m, &rc, &e))
		pr_warn("cannot recount the rule path's connections per client address: %s", e.msg);
	else if (rc.corrected)
		pr_info("rule path: %u per-address counts corrected (%u connections from %u addresses, at most %u from one)",
			rc.corrected, rc.connections, rc.sources, rc.max_held);
}

static void reconcile(struct kd_daemon *d, bool full)
{
	struct kanary_err e = { "" };
	struct kd_results res;
	struct kanary_maps m;
	char err[600];

	if (kanary_maps_open(&m, d->cfg.pin, &e)) {
		snprintf(err, sizeof(err), "cannot open the maps: %s; retrying", e.msg);
		set_apply_error(d, err);
		d->retry = true;
		return;
	}
	if (full ? kd_reconcile(&m, &d->desired, &d->applied, &res, &e) :
		   kd_reconcile_some(&m, &d->desired, &d->changes, &d->applied, &d->results, &res, &e)) {
		kanary_maps_close(&m);
		snprintf(err, sizeof(err), "cannot read the maps: %s; retrying", e.msg);
		set_apply_error(d, err);
		d->retry = true;
		return;
	}
	if (full)
		recount_sources(&m);
	kanary_maps_close(&m);
	d->retry = false;
	for (size_t i = 0; i < res.n; i++) {
		/* A partial pass copies the others' results: said when they were new. */
		if (full || kd_changes_has(&d->changes, res.v[i].name))
			log_result(&res.v[i], kd_results_find(&d->results, res.v[i].name));
		d->retry |= res.v[i].outcome == KD_OUT_FAILED;
	}
	if (full)
		d->full_passes++;
	else
		d->partial_passes++;
	pr_debug("%s pass: %zu service%s compared", full ? "full" : "partial",
		 full ? d->desired.n : d->changes.n, (full ? d->desired.n : d->changes.n) == 1 ? "" : "s");
	kd_results_free(&d->results);
	d->results = res;
	set_apply_error(d, NULL);
	if (d->applied.dirty && kd_applied_save(&d->applied, d->applied_path, &e))
		pr_warn("%s: kanaryctl overrides will not be recognised after a restart", e.msg);
	if (res.writes)
		time(&d->updated);
}

/* The loop's state for /readyz and /metrics; every pass is also /healthz's heartbeat. */
static void publish_health(struct kd_daemon *d)
{
	size_t owned = 0;

	if (!d->health)
		return;
	for (size_t i = 0; i < d->desired.n; i++)
		owned += !d->desired.v[i].hold;
	d->hs.ready = d->ready;
	d->hs.services = owned;
	d->hs.results = &d->results;
	snprintf(d->hs.why, sizeof(d->hs.why), "%s", d->apply_error ? d->apply_error : "");
	kd_health_publish(d->health, &d->hs, d->kube,
			  d->cfg.istio_metrics ? kd_istio_ids_build(&d->desired, d->cfg.domain) : NULL);
}

/* Expected at start, not an error: said once, shown as why nothing is applied yet. */
static void set_waiting(struct kd_daemon *d, const char *msg)
{
	if (!d->apply_error)
		pr_info("%s", msg);
	free(d->apply_error);
	d->apply_error = kd_xstrdup(msg);
}

/*
 * Stage 1: the source reads what changed.  1 when there is something new
 * to build from (the source is then held until the build is done), 0 when
 * nothing changed, -1 when the source cannot be read.
 */
static int refresh_source(struct kd_daemon *d, bool force, struct kd_refresh *r)
{
	struct kanary_err e = { "" };
	struct kd_diags said = { 0 };
	int ret = kd_source_refresh(d->source, force, r, &said, &e);

	kd_diag_log(&said);
	kd_diags_free(&said);
	if (ret) {
		set_waiting(d, e.msg);
		kd_source_release(d->source);
		return -1;
	}
	d->source_synced = true;
	d->source_bad = kd_source_bad(d->source);
	/* Unchanged, but partial builds since the last full one: the full pass rebuilds too. */
	if (!r->changed && !force && !d->retry && d->have_desired && !(d->full_due && d->partial_builds)) {
		kd_source_release(d->source);
		return 0;
	}
	return 1;
}

/*
 * A partial build is tried after a successful full pass only: a failure,
 * SIGHUP and the periodic full pass rebuild everything.
 */
static bool partial_build(struct kd_daemon *d, struct kd_objects *const *sets, size_t nsets,
			  struct kd_diags *build, size_t *rebuilt)
{
	struct kd_desired_opts opts = { .domain = d->cfg.domain };

	if (!d->have_desired || d->retry || d->apply_error || !d->ready)
		return false;
	/* Its warnings are the last build's, and those of the services it builds. */
	kd_diag_copy(build, &d->build_diags, KD_DEBUG);
	if (kd_desired_build_some(&d->cache, sets, nsets, &opts, &d->desired, build, &d->changes,
				  rebuilt) == 0)
		return true;
	kd_diags_free(build);
	kd_changes_free(&d->changes);
	return false;
}

/* Stage 2: the desired state from the good objects; releases the source. */
static bool build_desired(struct kd_daemon *d, bool force, bool full)
{
	struct kd_desired_opts opts = { .domain = d->cfg.domain };
	struct kd_desired fresh;
	size_t nsets, rebuilt = 0, unknown = kd_source_unknown(d->source);
	struct kd_diags build = { 0 };
	struct kd_objects **sets;
	bool partial;
	char msg[512];

	if (unknown) {
		kd_source_release(d->source);
		/* What those items held is unknown: deleting or rewriting could undo a good state. */
		snprintf(msg, sizeof(msg), "%zu %s%s bad with no good version seen since "
			 "kanaryd started; nothing is applied until %s fixed (the maps keep their state)",
			 unknown, kd_source_item(d->source), unknown == 1 ? " is" : "s are",
			 unknown == 1 ? "it is" : "they are");
		set_apply_error(d, msg);
		return false;
	}
	sets = kd_source_good_sets(d->source, &nsets);
	kd_changes_free(&d->changes);
	partial = !full && partial_build(d, sets, nsets, &build, &rebuilt);
	if (!partial) {
		kd_desired_build_full(&d->cache, sets, nsets, &opts, &fresh, &build);
		if (d->have_desired)
			kd_desired_changed(&d->desired, &fresh, &d->changes);
		kd_desired_free(&d->desired);
		d->desired = fresh;
	}
	free(sets);
	kd_source_release(d->source);
	d->changes_ok = d->have_desired && !d->changes.structural;
	d->partial_builds = partial ? d->partial_builds + 1 : 0;
	pr_debug("%s build: %zu service%s built", partial ? "partial" : "full",
		 partial ? rebuilt : d->desired.n, (partial ? rebuilt : d->desired.n) == 1 ? "" : "s");
	d->have_desired = true;
	log_new_diags(&build, &d->build_diags, force);
	kd_diags_free(&d->build_diags);
	d->build_diags = build;
	return true;
}

/*
 * Stage 3: the maps made equal to the desired state (services, then
 * rules): only the services the build changed when that is safe, else
 * every service (docs/kanaryd.md, "Full and partial passes").
 */
static void apply_desired(struct kd_daemon *d, long long event_ms, bool full)
{
	bool ran;

	full |= !d->changes_ok || d->retry || d->apply_error || !d->ready;
	ran = full || d->changes.n;	/* else rebuilt the same: nothing to compare */
	if (ran)
		reconcile(d, full);
	if (full)
		d->full_due = false;
	d->ready |= !d->apply_error;
	if (!d->apply_error && !d->retry) {
		d->hs.syncs++;
		time(&d->hs.last_sync);
	} else {
		d->hs.sync_failures++;
	}
	if (ran && event_ms && d->results.writes)	/* printed, never asserted: see the e2e tests */
		pr_info("watch event to kernel maps: %lld ms", kd_mono_ms() - event_ms);
}

/* Stage 4: the status file and /healthz, /readyz, /metrics. */
static void report(struct kd_daemon *d)
{
	kd_report_paced(d);
	publish_health(d);
}

void kd_daemon_apply(struct kd_daemon *d, bool force)
{
	struct kd_refresh r = { 0 };
	bool full = force || d->full_due;
	int fresh = refresh_source(d, force, &r);

	if (fresh > 0 && build_desired(d, force, full))
		apply_desired(d, r.event_ms, full);
	else if (fresh == 0 && full && d->have_desired && !d->apply_error)
		apply_desired(d, 0, true);	/* nothing new: the safety net against drift */
	report(d);
}

/* The fd, or -errno. */
static int signals_fd(void)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

struct kanary_load_opts kd_load_opts(const struct kd_config *c)
{
	return (struct kanary_load_opts){ .ct_size = c->ct_size, .max_services = c->max_services,
					  .ct_linger_ms = c->ct_linger_ms,
					  .ct_syn_timeout_ms = c->ct_syn_timeout_ms,
					  .ho_per_source = c->ho_per_source,
					  .cgroup = c->cgroup, .verbose = c->verbose };
}

/* SIGHUP: load again (programs, pins), look at every interface, re-read everything. */
static void reload(struct kd_daemon *d)
{
	struct kanary_load_opts lo = kd_load_opts(&d->cfg);
	struct kanary_err e = { "" };

	pr_info("SIGHUP: reloading");
	if (kanary_load(d->cfg.pin, &lo, &e))
		pr_err("cannot load kanary at %s: %s", d->cfg.pin, e.msg);
	if (kd_server_first_reopen(&d->server_first, d->cfg.pin, &e))
		pr_err("%s", e.msg);
	kd_links_sync(&d->links);
	kd_watch_rearm(&d->watch);
	kd_daemon_apply(d, true);
}

int kd_daemon_run(struct kd_daemon *d)
{
	long long deadline = 0, first = 0, next_scan = kd_mono_ms() + RESCAN_MS;
	struct pollfd pfd[4];
	int sfd = signals_fd();

	if (sfd < 0) {
		pr_err("cannot set up signal handling: %s", strerror(-sfd));
		return 1;
	}
	pfd[0] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = d->watch.fd, .events = POLLIN };
	pfd[2] = (struct pollfd){ .fd = d->links.fd, .events = POLLIN };
	pfd[3] = (struct pollfd){ .fd = d->kube ? d->kube->efd : -1, .events = POLLIN };
	for (;;) {
		long long now = kd_mono_ms(), wake = next_scan, sf;
		int timeout;

		sf = kd_server_first_run(&d->server_first, now);
		if (sf >= 0 && sf < wake)
			wake = sf;
		if (deadline && deadline < wake)
			wake = deadline;
		if (kd_pace_due(&d->status_pace) && kd_pace_due(&d->status_pace) < wake)
			wake = kd_pace_due(&d->status_pace);
		if (d->watch.fd >= 0 && d->watch.wd < 0 && now + REARM_MS < wake)
			wake = now + REARM_MS;
		timeout = wake > now ? (int)(wake - now) : 0;
		if (poll(pfd, 4, timeout) < 0 && errno != EINTR) {
			pr_err("poll: %s", strerror(errno));
			close(sfd);
			return 1;
		}
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP) {
					reload(d);
					deadline = 0;
					continue;
				}
				pr_info("%s: exiting", strsignal((int)si.ssi_signo));
				close(sfd);
				return 0;
			}
		}
		if ((pfd[2].revents & POLLIN)) {
			kd_links_read(&d->links);
			if (d->links.changed) {
				d->links.changed = false;
				kd_report_paced(d);
			}
		}
		now = kd_mono_ms();
		if ((pfd[1].revents & POLLIN) && kd_watch_read(&d->watch)) {
			if (!deadline)
				first = now;
			if (kd_watch_writing(&d->watch)) {
				/* Usually closed within milliseconds; a slow writer is read after WRITING_MS anyway. */
				deadline = first + WRITING_MS;
			} else {
				deadline = now + DEBOUNCE_MS;
				if (deadline > first + DEBOUNCE_MAX_MS)
					deadline = first + DEBOUNCE_MAX_MS;
			}
		}
		if (pfd[3].revents & POLLIN) {
			/* A short gather: a relist or a burst of events is applied at once. */
			kd_kube_ack(d->kube);
			if (!deadline)
				deadline = now + KUBE_GATHER_MS;
		}
		if (d->watch.fd >= 0 && d->watch.wd < 0 && kd_watch_rearm(&d->watch) && !deadline)
			deadline = now;	/* the directory is back: read it */
		if (kd_pace_due(&d->status_pace) && now >= kd_pace_due(&d->status_pace))
			kd_report_paced(d);	/* the write held back within the last second */
		if ((deadline && now >= deadline) || now >= next_scan) {
			deadline = 0;
			d->full_due |= now >= next_scan;
			kd_daemon_apply(d, false);
			next_scan = now + (d->retry ? RETRY_MS : RESCAN_MS);
		}
	}
}

void kd_daemon_free(struct kd_daemon *d)
{
	kd_health_stop(d->health);
	d->health = NULL;
	if (d->kube) {
		kd_kube_stop(d->kube);
		free(d->kube);
		d->kube = NULL;
	}
	kd_files_free(&d->files);
	kd_watch_free(&d->watch);
	kd_links_free(&d->links);
	kd_server_first_close(&d->server_first);
	kd_applied_free(&d->applied);
	kd_desired_free(&d->desired);
	kd_desired_cache_free(&d->cache);
	kd_changes_free(&d->changes);
	kd_status_cache_free(&d->status_cache);
	kd_status_files_free(&d->status_files);
	kd_diags_free(&d->build_diags);
	kd_results_free(&d->results);
	free(d->apply_error);
}
