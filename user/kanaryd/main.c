// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * kanaryd: keeps kanary's maps equal to Kubernetes and Istio manifests.
 * Its configuration is its flags (see usage()); everything it knows is in
 * the manifests and the pinned maps, so a restart loses nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include "kanary.h"
#include "kanary/ct_expiry.h"
#include "status.h"
#include "base/arena.h"
#include "daemon.h"
#include "base/log.h"

#define CT_SIZE_MAX	(1u << 26)
#define MAX_SERVICES_MAX	(1u << 20)

static void usage(FILE *f)
{
	fprintf(f,
"Usage: kanaryd --manifests PATH [--iface GLOB]... [--pin-path DIR] [--detach-on-exit]\n"
"               [--ct-size N] [--max-services N] [--ct-linger-ms MS] [--ct-syn-timeout-ms MS]\n"
"               [--ho-per-source N|off]\n"
"               [--cluster-domain DOMAIN] [--cgroup DIR]\n"
"               [-v]\n"
"       kanaryd --kube [--kubeconfig FILE [--context NAME]] [--iface GLOB]... [...]\n"
"       kanaryd --manifests PATH --check\n"
"\n"
"Keeps kanary's maps equal to Kubernetes Services and Pods and Istio\n"
"DestinationRules and VirtualServices, as kubectl prints them (YAML, multi-\n"
"document YAML, kind: List, or -o json).  Each TCP port of a Service becomes\n"
"the kanary service NAMESPACE/NAME (NAMESPACE/NAME/PORT when the Service has\n"
"several TCP ports) at its cluster IP; its VirtualService's weights split the\n"
"connections among DestinationRule subsets, whose backends are the Running,\n"
"Ready, not terminating pods the Service selects.\n"
"\n"
"  -m, --manifests PATH     a file, or a directory of *.yaml, *.yml and *.json files\n"
"                           (not recursive; hidden files skipped).  Watched: a change\n"
"                           is in the maps within a second.  A bad file is reported\n"
"                           with file and line and ignored; its last good version stays\n"
"      --kube               read the objects from the Kubernetes API server instead: list\n"
"                           and watch Services, Pods, DestinationRules, VirtualServices.\n"
"                           In a pod: its service account; see docs/kube.md\n"
"      --kubeconfig FILE    outside the cluster: server, CA and token or client\n"
"                           certificate from FILE (implies --kube)\n"
"      --context NAME       the kubeconfig context (default: its current-context)\n"
"      --kube-page-size N   objects per LIST page (default %u)\n"
"      --api-gone-hold SECONDS  a kind the API server stops serving (an Istio CRD\n"
"                           reinstall) keeps its last objects applied this long, until\n"
"                           it is served and listed again (default %u; 0: drop at once)\n"
"      --health-listen ADDR:PORT  serve the probes /healthz (the loop runs) and\n"
"                           /readyz (the first sync is in the maps) on this address\n"
"                           (default with --kube: " KD_HEALTH_DEFAULT_LISTEN "; 'none': off)\n"
"      --metrics-listen ADDR:PORT  serve /metrics (Prometheus) on this address, a\n"
"                           port of its own (default: none)\n"
"      --istio-metrics      /metrics also has istio_requests_total and\n"
"                           istio_request_duration_milliseconds, labelled as Istio's\n"
"                           destination reporter, for Flagger and Istio dashboards\n"
"  -i, --iface GLOB         attach to every interface matching GLOB ('veth*', 'cali*',\n"
"                           'lxc*'), now and whenever one appears; repeatable\n"
"      --pin-path DIR       the kanary instance (default $%s, else %s)\n"
"      --ct-size N          conntrack entries if kanary is not loaded yet (default %u);\n"
"                           existing pins keep their size, and their connections\n"
"      --max-services N     service ids if kanary is not loaded yet (default %u);\n"
"                           existing pins keep their size\n"
"      --ct-linger-ms MS    how long a closed plain-path connection stays tracked\n"
"                           (default: the one in force, at first 10000)\n"
"      --ct-syn-timeout-ms MS  how long a SYN sent again may go unanswered before\n"
"                           its connection is forgotten (default: the one in force,\n"
"                           at first 60000)\n"
"      --server-first-ms MS  on a rule port, a client silent this long after its\n"
"                           handshake is bound by the weights, so that a protocol\n"
"                           whose server speaks first works (default %u; 0: off)\n"
"      --ho-per-source N|off  bound rule-path connections one client address may\n"
"                           hold; beyond it, first data is reset (default: the one in\n"
"                           force, at first an eighth of the handoff table)\n"
"      --cluster-domain D   DNS domain of Istio host names (default %s)\n"
"      --cgroup DIR|none    where the TCP health program (sockops) is attached (default:\n"
"                           the cgroup v2 root, from /proc/self/mountinfo); none: no\n"
"                           TCP health.  An attachment already there stays where it is\n"
"      --detach-on-exit     remove this kanaryd's attachments when it exits (interfaces\n"
"                           and cgroup); by default they stay, and so does traffic steering\n"
"      --check              print what the manifests mean (services, subsets, weights,\n"
"                           backends, problems) as JSON and exit; touches nothing and\n"
"                           needs no privileges; exit status 1 when a file is bad\n"
"      --once               apply once and exit; exit status 1 if anything was not applied\n"
"  -v, --verbose            debug messages, libbpf's included\n"
"  -h, --help               this text\n"
"\n"
"Ownership and precedence: kanaryd creates, rewrites and deletes only services whose\n"
"name contains '/'.  It rewrites a service only when that service's manifests change\n"
"(or it is missing from the maps), so 'kanaryctl weight set' takes effect at once and\n"
"stays until then.\n"
"\n"
"Signals: SIGHUP reloads (programs, interfaces, every manifest); SIGTERM and SIGINT exit.\n"
"Status: %s/<hash of the pin path>.status.json ($%s), shown by 'kanaryctl status'.\n"
"Logs go to stderr, one line each, with a level.  Exit status: 0 after SIGTERM,\n"
"1 on a startup error, 2 on a usage error.\n",
		KD_KUBE_PAGE_SIZE, KD_KUBE_GONE_HOLD_S, KANARY_PIN_PATH_ENV, KANARY_PIN_PATH_DEFAULT, KANARY_DEFAULT_CT_SIZE,
		KANARY_DEFAULT_MAX_SERVICES, KANARY_HO_DETECT_MS, KD_DEFAULT_DOMAIN, KANARY_RUN_DIR_DEFAULT,
		KANARY_RUN_DIR_ENV);
}

static int bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "kanaryd: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'kanaryd --help'.\n");
	return 2;
}

static bool bad_listen(const char *listen)
{
	struct sockaddr_storage ss;
	unsigned len;

	return kd_health_parse_listen(listen, &ss, &len) != 0;
}

static int parse_args(int argc, char **argv, struct kd_config *c)
{
	enum { OPT_PIN = 256, OPT_CT, OPT_DOMAIN, OPT_DETACH, OPT_CHECK, OPT_ONCE, OPT_KUBE,
	       OPT_KUBECONFIG, OPT_CONTEXT, OPT_PAGE, OPT_GONE_HOLD, OPT_HEALTH, OPT_METRICS,
	       OPT_MAX_SERVICES, OPT_ISTIO, OPT_CGROUP, OPT_LINGER, OPT_SYN_TIMEOUT,
	       OPT_PER_SOURCE, OPT_SERVER_FIRST };
	static const struct option opts[] = {
		{ "manifests", required_argument, NULL, 'm' },
		{ "iface", required_argument, NULL, 'i' },
		{ "pin-path", required_argument, NULL, OPT_PIN },
		{ "ct-size", required_argument, NULL, OPT_CT },
		{ "max-services", required_argument, NULL, OPT_MAX_SERVICES },
		{ "ct-linger-ms", required_argument, NULL, OPT_LINGER },
		{ "ct-syn-timeout-ms", required_argument, NULL, OPT_SYN_TIMEOUT },
		{ "ho-per-source", required_argument, NULL, OPT_PER_SOURCE },
		{ "server-first-ms", required_argument, NULL, OPT_SERVER_FIRST },
		{ "cluster-domain", required_argument, NULL, OPT_DOMAIN },
		{ "detach-on-exit", no_argument, NULL, OPT_DETACH },
		{ "cgroup", required_argument, NULL, OPT_CGROUP },
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "once", no_argument, NULL, OPT_ONCE },
		{ "kube", no_argument, NULL, OPT_KUBE },
		{ "kubeconfig", required_argument, NULL, OPT_KUBECONFIG },
		{ "context", required_argument, NULL, OPT_CONTEXT },
		{ "kube-page-size", required_argument, NULL, OPT_PAGE },
		{ "api-gone-hold", required_argument, NULL, OPT_GONE_HOLD },
		{ "health-listen", required_argument, NULL, OPT_HEALTH },
		{ "metrics-listen", required_argument, NULL, OPT_METRICS },
		{ "istio-metrics", no_argument, NULL, OPT_ISTIO },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool health_set = false;

	c->api_gone_hold_s = KD_KUBE_GONE_HOLD_S;
	c->server_first_ms = KANARY_HO_DETECT_MS;
	size_t cap = 0;
	int o;

	opterr = 0;
	while ((o = getopt_long(argc, argv, ":m:i:vh", opts, NULL)) != -1) {
		switch (o) {
		case 'm':
			c->manifests = optarg;
			break;
		case 'i':
			if (!*optarg)
				return bad_usage("--iface: expected an interface name or pattern, got '%s'", optarg);
			KD_PUSH(c->globs, c->nglobs, cap, optarg);
			break;
		case OPT_PIN:
			c->pin = optarg;
			break;
		case OPT_CT:
			if (kanary_parse_u32(optarg, "", 1, CT_SIZE_MAX, &c->ct_size, NULL))
				return bad_usage("--ct-size: expected a number of entries 1-67108864, got '%s'",
						 optarg);
			break;
		case OPT_MAX_SERVICES:
			if (kanary_parse_u32(optarg, "", 1, MAX_SERVICES_MAX, &c->max_services, NULL))
				return bad_usage("--max-services: expected a number of services 1-1048576, got '%s'",
						 optarg);
			break;
		case OPT_LINGER:
		case OPT_SYN_TIMEOUT:
			if (kanary_parse_u32(optarg, "", 1, KANARY_CT_TIMEOUT_MAX_MS,
					     o == OPT_LINGER ? &c->ct_linger_ms : &c->ct_syn_timeout_ms,
					     NULL))
				return bad_usage(o == OPT_LINGER ?
						 "--ct-linger-ms: expected milliseconds 1-3600000, got '%s'" :
						 "--ct-syn-timeout-ms: expected milliseconds 1-3600000, got '%s'",
						 optarg);
			break;
		case OPT_SERVER_FIRST:
			if (kanary_parse_u32(optarg, "", 0, KANARY_CT_TIMEOUT_MAX_MS, &c->server_first_ms,
					     NULL))
				return bad_usage("--server-first-ms: expected milliseconds 0-3600000, got '%s'",
						 optarg);
			break;
		case OPT_PER_SOURCE:
			if (!strcmp(optarg, "off"))
				c->ho_per_source = KANARY_HO_PER_SOURCE_OFF;
			else if (kanary_parse_u32(optarg, "", 1, KANARY_HO_PER_SOURCE_OFF - 1,
						  &c->ho_per_source, NULL))
				return bad_usage("--ho-per-source: expected a number of connections 1-4294967294 or off, got '%s'",
						 optarg);
			break;
		case OPT_DOMAIN:
			if (!*optarg || strchr(optarg, '/'))
				return bad_usage("--cluster-domain: expected a DNS domain such as cluster.local, got '%s'",
						 optarg);
			c->domain = optarg;
			break;
		case OPT_DETACH:
			c->detach_on_exit = true;
			break;
		case OPT_CGROUP:
			if (!*optarg)
				return bad_usage("--cgroup: expected a cgroup v2 directory or none, got '%s'",
						 optarg);
			c->cgroup = optarg;
			break;
		case OPT_CHECK:
			c->check = true;
			break;
		case OPT_ONCE:
			c->once = true;
			break;
		case OPT_KUBE:
			c->kube = true;
			break;
		case OPT_KUBECONFIG:
			c->kube = true;
			c->kubeconfig = optarg;
			break;
		case OPT_CONTEXT:
			c->context = optarg;
			break;
		case OPT_PAGE:
			if (kanary_parse_u32(optarg, "", 1, 100000, &c->kube_page_size, NULL))
				return bad_usage("--kube-page-size: expected a number of objects 1-100000, got '%s'",
						 optarg);
			break;
		case OPT_GONE_HOLD:
			if (kanary_parse_u32(optarg, "", 0, 86400, &c->api_gone_hold_s, NULL))
				return bad_usage("--api-gone-hold: expected seconds 0-86400, got '%s'", optarg);
			break;
		case OPT_HEALTH:
			health_set = true;
			c->health_listen = strcmp(optarg, "none") == 0 ? NULL : optarg;
			if (c->health_listen && bad_listen(optarg))
				return bad_usage("--health-listen: expected ADDR:PORT (127.0.0.1:9808, "
						 "[::1]:9808) or none, got '%s'", optarg);
			break;
		case OPT_METRICS:
			c->metrics_listen = optarg;
			if (bad_listen(optarg))
				return bad_usage("--metrics-listen: expected ADDR:PORT (10.0.0.5:9809, "
						 "[::1]:9809), got '%s'", optarg);
			break;
		case OPT_ISTIO:
			c->istio_metrics = true;
			break;
		case 'v':
			c->verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			return bad_usage("%s: expected a value", argv[optind - 1]);
		default:
			return bad_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bad_usage("unexpected argument '%s': every setting is a flag", argv[optind]);
	if (c->kube && c->manifests)
		return bad_usage("%s--manifests and --kube are two sources: choose one", "");
	if (c->kube && c->check)
		return bad_usage("%s--check reads --manifests only", "");
	if (c->context && !c->kubeconfig)
		return bad_usage("%s--context needs --kubeconfig FILE", "");
	if (!c->manifests && !c->kube)
		return bad_usage("%s--manifests PATH is required: a manifest file or a directory of "
				 "them (or --kube: the Kubernetes API server)", "");
	/* In a DaemonSet the kubelet probes it; a one-shot run has nothing to probe. */
	if (!health_set && c->kube && !c->once)
		c->health_listen = KD_HEALTH_DEFAULT_LISTEN;
	return 0;
}

static int check_only(struct kd_daemon *d)
{
	struct kd_desired_opts opts = { .domain = d->cfg.domain };
	struct kd_diags said = { 0 };
	struct kd_objects **sets;
	size_t nsets;
	json_t *out;
	int bad;

	kd_files_init(&d->files, d->cfg.manifests);
	kd_files_scan(&d->files, true, &said);
	kd_diag_log(&said);
	kd_diags_free(&said);
	sets = kd_source_good_sets(&d->files.source, &nsets);
	kd_desired_build(sets, nsets, &opts, &d->desired, &d->build_diags);
	free(sets);
	kd_diag_log(&d->build_diags);
	out = kd_report_json(d);
	json_dumpf(out, stdout, JSON_INDENT(2));
	putchar('\n');
	json_decref(out);
	bad = kd_source_bad(&d->files.source) != 0;
	kd_daemon_free(d);
	return bad ? 1 : 0;
}

static int mkdir_p(const char *dir)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", dir);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return mkdir(buf, 0755) && errno != EEXIST ? -errno : 0;
}

/* One kanaryd per pin path: a second would fight the first over the maps.  The fd, or -errno. */
static int take_instance_lock(const char *pin, struct kanary_err *e)
{
	char path[PATH_MAX];
	int fd, ret;

	ret = mkdir_p(kanary_run_dir());
	if (ret)
		return kanary_errf(e, -ret, "cannot create %s: %s (set %s to a writable directory)",
				   kanary_run_dir(), strerror(-ret), KANARY_RUN_DIR_ENV);
	ret = kanary_run_file(pin, "lock", path, sizeof(path), e);
	if (ret)
		return ret;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return kanary_errf(e, errno, "cannot open %s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		close(fd);
		return kanary_errf(e, EBUSY, "another kanaryd already manages pin path %s (lock %s "
				   "held); see 'kanaryctl status'", pin, path);
	}
	return fd;	/* held until exit */
}

/* Existing pins keep their size: say so when --max-services asked for another. */
static void warn_max_services_kept(const char *pin, __u32 want)
{
	struct kanary_err e = { "" };
	struct kanary_maps m;

	if (!want || kanary_maps_open(&m, pin, &e))
		return;
	if (m.max_services != want)
		pr_warn("--max-services %u not applied: the maps at %s were loaded with %u; "
			"'kanaryctl unload' and restart to resize them", want, pin, m.max_services);
	kanary_maps_close(&m);
}

/* The source chosen: the API server's watches, or the files (watched unless --once). */
static int start_source(struct kd_daemon *d, struct kd_kube_config *kc, struct kanary_err *e)
{
	if (d->cfg.kube) {
		pr_info("API server credentials: %s", kc->source);
		d->watch.fd = d->watch.wd = -1;
		d->kube = kd_xcalloc(1, sizeof(*d->kube));
		if (kd_kube_start(d->kube, kc, d->cfg.kube_page_size, d->cfg.api_gone_hold_s, e))
			return -EAGAIN;
		d->source = &d->kube->source;
		return 0;
	}
	kd_files_init(&d->files, d->cfg.manifests);
	d->source = &d->files.source;
	if (!d->cfg.once)
		kd_watch_init(&d->watch, d->cfg.manifests);
	else
		d->watch.fd = d->watch.wd = -1;
	return 0;
}

static int start(struct kd_daemon *d, struct kanary_err *e)
{
	struct kanary_load_opts lo = kd_load_opts(&d->cfg);
	struct kd_kube_config kc = { 0 };
	struct kanary_err le = { "" };
	struct stat st;
	int ret;

	if (d->cfg.kube) {
		ret = d->cfg.kubeconfig ? kd_kube_config_load(&kc, d->cfg.kubeconfig, d->cfg.context, e)
					: kd_kube_config_in_cluster(&kc, KD_SA_DIR, e);
		if (ret)
			return ret;
	} else if (stat(d->cfg.manifests, &st)) {
		return kanary_errf(e, errno, "--manifests %s: %s", d->cfg.manifests, strerror(errno));
	}
	ret = take_instance_lock(d->cfg.pin, e);
	if (ret < 0)
		return ret;
	ret = kanary_run_file(d->cfg.pin, "status.json", d->status_path, sizeof(d->status_path), e);
	if (!ret)
		ret = kanary_run_file(d->cfg.pin, "applied.json", d->applied_path,
				      sizeof(d->applied_path), e);
	if (ret)
		return ret;
	ret = kanary_load(d->cfg.pin, &lo, &le);
	if (ret)
		return kanary_errf(e, -ret, "cannot load kanary at %s: %s", d->cfg.pin, le.msg);
	pr_info("kanary loaded at %s (pins reused when present); %s %s", d->cfg.pin,
		d->cfg.kube ? "API server" : "manifests", d->cfg.kube ? kc.server : d->cfg.manifests);
	warn_max_services_kept(d->cfg.pin, d->cfg.max_services);
	/* With --once too: a run that could not detect should fail where the daemon would. */
	ret = kd_server_first_open(&d->server_first, d->cfg.pin, d->cfg.server_first_ms, e);
	if (ret)
		return ret;
	/* Not fatal: without the record, an operator's override is taken for drift. */
	if (kd_applied_load(&d->applied, d->applied_path, &le))
		pr_warn("%s", le.msg);
	ret = start_source(d, &kc, e);
	if (ret)
		return ret;
	if (d->cfg.health_listen || d->cfg.metrics_listen) {
		struct kd_health_opts ho = { .health_listen = d->cfg.health_listen,
					     .metrics_listen = d->cfg.metrics_listen, .pin_path = d->cfg.pin };

		ret = kd_health_start(&d->health, &ho, e);
		if (ret)
			return ret;
		if (ho.health_listen)
			pr_info("serving /healthz and /readyz on %s", ho.health_listen);
		if (ho.metrics_listen)
			pr_info("serving /metrics on %s", ho.metrics_listen);
	}
	if (d->cfg.nglobs && kd_links_init(&d->links, d->cfg.pin, d->cfg.globs, d->cfg.nglobs, &le)) {
		pr_err("%s", le.msg);
		if (!d->cfg.once)
			pr_warn("new interfaces will be attached only on SIGHUP");
	}
	if (!d->cfg.nglobs)
		d->links.fd = -1;
	time(&d->started);
	kd_daemon_apply(d, true);
	return 0;
}

/* --once: the exit status.  A bad file or API object fails it, even with a last good version. */
static bool all_applied(const struct kd_daemon *d)
{
	if (d->apply_error || d->source_bad)
		return false;
	for (size_t i = 0; i < d->results.n; i++)
		if (d->results.v[i].outcome == KD_OUT_FAILED || d->results.v[i].outcome == KD_OUT_HELD)
			return false;
	return true;
}

static void block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

/*
 * --once --kube: as --once reads the files once, one pass once every kind
 * has been listed (or a minute has passed).
 */
static void once_kube(struct kd_daemon *d)
{
	struct pollfd p = { .fd = d->kube->efd, .events = POLLIN };

	for (int i = 0; i < 600 && !d->source_synced; i++) {
		if (poll(&p, 1, 100) > 0)
			kd_kube_ack(d->kube);
		kd_daemon_apply(d, false);
	}
}

/* --detach-on-exit: the sockops program too, which the load attached (--cgroup). */
static void detach_tcp_health(const char *pin)
{
	struct kanary_err e = { "" };
	int err = kanary_sockops_detach(pin, &e);

	if (!err)
		pr_info("detached TCP health (sockops) from its cgroup");
	else if (err != -ENOENT)
		pr_warn("%s", e.msg);
}

int main(int argc, char **argv)
{
	struct kanary_err e = { "" };
	struct kd_daemon d;
	int ret;

	memset(&d, 0, sizeof(d));
	d.links.fd = d.watch.fd = d.watch.wd = -1;
	ret = parse_args(argc, argv, &d.cfg);
	if (ret)
		return ret;
	kd_log_level = d.cfg.verbose ? KD_DEBUG : KD_INFO;
	if (d.cfg.check)
		return check_only(&d);
	d.cfg.pin = kanary_pin_path(d.cfg.pin);
	signal(SIGPIPE, SIG_IGN);
	/* Before any thread starts (watches, health): they inherit it, so signals reach the loop's signalfd. */
	block_signals();
	if (start(&d, &e)) {
		pr_err("%s", e.msg);
		kd_daemon_free(&d);
		free(d.cfg.globs);
		return 1;
	}
	if (d.cfg.once && d.kube)
		once_kube(&d);
	if (d.cfg.once)
		ret = all_applied(&d) ? 0 : 1;
	else
		ret = kd_daemon_run(&d);
	if (d.cfg.detach_on_exit) {
		kd_links_detach_all(&d.links);
		detach_tcp_health(d.cfg.pin);
	}
	kd_report_write(&d);
	kd_daemon_free(&d);
	free(d.cfg.globs);
	return ret;
}
