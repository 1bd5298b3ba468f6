/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * libkanary: what kanaryctl, kanaryd and the tests share to drive the
 * pinned maps.  Every function returns 0 or a negative errno, and on error
 * fills the caller's struct kanary_err with a sentence for the operator.
 */
#ifndef KANARY_LIB_H
#define KANARY_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/limits.h>
#include "kanary/abi.h"
#include "kanary/handoff.h"
#include "kanary/http_stats.h"
#include "kanary/tcp_stats.h"
#include "kanary/mirror.h"

#define KANARY_PIN_PATH_DEFAULT	"/sys/fs/bpf/kanary"
#define KANARY_PIN_PATH_ENV	"KANARY_PIN_PATH"

struct kanary_err {
	char msg[512];
};

/* Fills e->msg printf-style and returns -errnum (errnum > 0). */
int kanary_errf(struct kanary_err *e, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* --pin-path, else $KANARY_PIN_PATH, else the default. */
const char *kanary_pin_path(const char *from_flag);

/* ---- load / unload (loader.c) ---- */

struct kanary_load_opts {
	__u32 ct_size;		/* 0: KANARY_DEFAULT_CT_SIZE */
	__u32 max_services;	/* 0: KANARY_DEFAULT_MAX_SERVICES */
	__u32 max_backends;	/* 0: KANARY_DEFAULT_MAX_BACKENDS */
	/*
	 * A plain-path connection's linger and SYN timeout (docs/conntrack.md),
	 * kept across loads; 0 keeps the one in force (at first 10 s, 60 s).
	 */
	__u32 ct_linger_ms, ct_syn_timeout_ms;
	/*
	 * Where the TCP health program (sockops) is attached: NULL for the
	 * root of the cgroup v2 hierarchy (found in /proc/self/mountinfo, else
	 * mounted for the attach), or a cgroup v2 directory, or
	 * KANARY_CGROUP_NONE for no TCP health (an attachment is removed).
	 */
	const char *cgroup;
	/*
	 * Bound rule-path connections per client address (docs/conntrack.md):
	 * 0 keeps the bound in force (at first an eighth of the handoff
	 * table), KANARY_HO_PER_SOURCE_OFF for none.
	 */
	__u32 ho_per_source;
	/* HTTP accounting (docs/http-stats.md): 0 keeps it as it is (on at first), 1 on, -1 off. */
	int http_stats;
	bool verbose;		/* libbpf's own messages */
	/*
	 * The maps alone: no program is loaded, pinned or attached.  For tests
	 * of what userspace writes into the maps, which need none of the
	 * verifier's seconds a load of the datapath costs.
	 */
	bool maps_only;
};
#define KANARY_CGROUP_NONE	"none"

/*
 * Loads the BPF objects and pins maps and programs under pin_path, mounting
 * bpffs there when needed.  Idempotent: existing map pins are reused (their
 * sizes win over opts), the programs are replaced, and every interface
 * attached to the old programs in this netns is switched to the new ones.
 * The TCP health program is attached to opts->cgroup through a pinned
 * bpf_link (sockops_attach.c); a link already pinned is moved to the new
 * program where it is, unless opts->cgroup names another cgroup.
 */
int kanary_load(const char *pin_path, const struct kanary_load_opts *opts,
		struct kanary_err *e);
/* Detaches from every interface in this netns and the cgroup, and removes the pins. */
int kanary_unload(const char *pin_path, struct kanary_err *e);

/* ---- the TCP health attachment (sockops_attach.c) ---- */

/* Detaches the sockops program and removes its link's pin; -ENOENT when not attached. */
int kanary_sockops_detach(const char *pin_path, struct kanary_err *e);
/* Whether the sockops program is attached (its link pinned, its cgroup alive). */
bool kanary_sockops_attached(const char *pin_path);

/* ---- attachments (attach.c) ---- */

int kanary_attach(const char *pin_path, const char *ifname, struct kanary_err *e);
int kanary_detach(const char *pin_path, const char *ifname, struct kanary_err *e);

struct kanary_iface {
	char name[32];
	int ifindex;
	bool ingress;	/* our program is attached at clsact ingress */
	bool egress;
	bool current;	/* attached program is the one pinned now */
};
/* Interfaces of this netns with a kanary filter; *n in/out. */
int kanary_iface_list(const char *pin_path, struct kanary_iface *out, int *n,
		      struct kanary_err *e);

/* ---- maps (maps.c) ---- */

struct kanary_name_index;

struct kanary_maps {
	char pin_path[PATH_MAX];
	int svc, cfg, be, mag, ct, ct_new, ct_endq, ct_synq, ct_sweeper, ct_settings, stats, counters, globals, rules,
	    handoff, handshake, ho_sources, ho_settings, ho_detect, stash, ho_stats, http_stats, tcp_stats, mirror, mirror_buf, mirror_copy, mirror_relay,
	    mirror_diff;
	__u32 max_services;	/* from the pinned config map */
	int lock_fd;		/* flock on the pin dir, held while open */
	/*
	 * Service name -> id and the free ids, built on first use and kept
	 * up to date by libkanary's own changes.  Valid only while lock_fd
	 * is held: see service_index.c.
	 */
	struct kanary_name_index *index;
	/*
	 * Config slots that commits switched away from (id * 2 + slot), whose
	 * backends still take room in the backend map until
	 * kanary_slots_release (slots_release.c) frees them.
	 */
	__u32 *retired;
	size_t n_retired, cap_retired;
};

/* Opens the pinned maps and takes the instance lock. */
int kanary_maps_open(struct kanary_maps *m, const char *pin_path, struct kanary_err *e);
/* Releases the retired slots (kanary_slots_release), then closes. */
void kanary_maps_close(struct kanary_maps *m);
/*
 * Frees the backends and tables of the config slots commits switched away
 * from, once no datapath program can still be reading them (one RCU grace
 * period for all of them).  Without it, the backend map holds every
 * committed service twice.  Commits call it themselves when the backend
 * map is full, and kanary_maps_close calls it; a writer of many services
 * calls it once after the batch.  e may be NULL.
 */
int kanary_slots_release(struct kanary_maps *m, struct kanary_err *e);
/*
 * One pinned map by name (KANARY_MAP_*), its layout checked, without the
 * lock: for a long-lived reader such as the mirror relay.  Returns the fd.
 */
int kanary_map_open(const char *pin_path, const char *name, struct kanary_err *e);

/* ---- services (service_read.c, service_commit.c) ---- */

/* A whole service as userspace edits it; committed in one switch. */
struct kanary_service {
	bool exists;		/* found in the maps */
	__u32 id, slot;		/* live slot when it exists */
	struct kanary_svc_config cfg;
	struct kanary_backend backends[KANARY_MAX_SUBSETS][KANARY_MAX_BACKENDS];
};

int kanary_service_get(struct kanary_maps *m, const char *name,
		       struct kanary_service *out, struct kanary_err *e);
/*
 * The same, looked for first at key, where a caller that knows the
 * service's VIP:port expects it: two lookups, where kanary_service_get
 * builds the name index from every service on its first use after an open
 * (kanaryd's partial pass reads a few services of thousands).  Elsewhere
 * or nowhere at key: kanary_service_get.
 */
int kanary_service_get_at(struct kanary_maps *m, const char *name,
			  const struct kanary_svc_key *key, struct kanary_service *out,
			  struct kanary_err *e);
/* Calls fn for each service, in id order; stops when fn returns non-zero. */
int kanary_service_foreach(struct kanary_maps *m,
			   int (*fn)(const struct kanary_service *s, void *ctx),
			   void *ctx, struct kanary_err *e);
/* Creates: fails with -EEXIST if the name or the VIP:port/proto is taken. */
int kanary_service_add(struct kanary_maps *m, const char *name,
		       const struct kanary_svc_key *key, struct kanary_err *e);
int kanary_service_del(struct kanary_maps *m, const char *name, struct kanary_err *e);
/*
 * Writes s into its inactive slot (recomputing cum_weight), then switches
 * the service map entry to it in one update.
 */
int kanary_service_commit(struct kanary_maps *m, struct kanary_service *s,
			  struct kanary_err *e);

/* Index of subset name in s, creating it when create is true; -ENOENT/-ENOSPC. */
int kanary_subset_find(struct kanary_service *s, const char *name, bool create,
		       struct kanary_err *e);

/*
 * Recomputes cfg->cum_weight from weight_milli and n_backends: subsets
 * without backends get nothing, the rest share 10,000 parts in proportion
 * to their weights (largest remainder, so the parts add up exactly).
 */
void kanary_weights_normalize(struct kanary_svc_config *cfg);
/*
 * The rule behind it, also used for a rule's destinations: cum[i] is the
 * sum of the parts of weights 0..i, of n <= KANARY_MAX_SUBSETS weights (a
 * weight 0 gets no part); all 0 when every weight is 0.
 */
void kanary_weights_share(const __u32 *weight_milli, __u32 n, __u32 *cum);

/* ---- stats (stats.c) ---- */

int kanary_subset_stats_read(struct kanary_maps *m, __u32 svc_id, __u32 subset,
			     struct kanary_subset_stats *sum, struct kanary_err *e);
int kanary_counters_read(struct kanary_maps *m, __u64 out[KANARY_CNT__MAX],
			 struct kanary_err *e);
extern const char *const kanary_counter_names[KANARY_CNT__MAX];

/* ---- conntrack lifecycle (ct_lifecycle.c) ---- */

/* The plain path's lifecycle (docs/conntrack.md): the timeouts in force and the sweeper's work. */
struct kanary_ct_lifecycle {
	__u32	linger_ms;		/* the default when none was set */
	__u32	syn_timeout_ms;
	__u64	sweeps;			/* the sweeper's ticks since it was set up */
	__u64	sweep_max_ns;		/* its longest tick */
};
int kanary_ct_lifecycle_read(struct kanary_maps *m, struct kanary_ct_lifecycle *out,
			     struct kanary_err *e);

/*
 * The idle sweep (ct_idle.c, docs/conntrack.md "Idle connections"): deletes
 * both entries of every plain-path connection whose client has sent
 * nothing for timeout_s (at most kanary_ct_idle_timeout_max_s()).  Not
 * atomic with the datapath: a connection that wakes during the sweep may
 * lose its entries, and its next packet finds its backend again
 * (re-derived), as after an eviction.
 */
struct kanary_ct_idle {
	__u32	entries;	/* looked at */
	__u32	swept;		/* connections deleted */
};
int kanary_ct_idle_sweep(struct kanary_maps *m, __u32 timeout_s, struct kanary_ct_idle *out,
			 struct kanary_err *e);
__u32 kanary_ct_idle_timeout_max_s(void);

/* The rule path's per-source bound in force (KANARY_HO_PER_SOURCE_OFF: none). */
int kanary_ho_bound_read(struct kanary_maps *m, __u32 *per_source, struct kanary_err *e);
/*
 * Sets each client address's count of bound connections to what the
 * handoff table holds: the LRU evicts unseen, so counts drift upwards
 * once the table is full (docs/conntrack.md, "Per-source bound").  Not
 * atomic with the datapath: a connection bound or ended during the walk
 * may be off by one until the next recount.
 */
struct kanary_ho_recount {
	__u32	sources;	/* client addresses holding bound connections */
	__u32	connections;	/* bound connections in the table */
	__u32	corrected;	/* counts that were wrong */
	__u32	max_held;	/* the most one address holds */
};
int kanary_ho_sources_recount(struct kanary_maps *m, struct kanary_ho_recount *out,
			      struct kanary_err *e);

/*
 * Server-first detection (include/kanary/handoff.h): the marked ACK for a
 * queued handshake d, an Ethernet frame of KANARY_HO_DETECT_FRAME bytes
 * with its checksums; and what d's connection wants now, looked up in the
 * handshakes' and the handoff tables (fds of the pinned maps).
 */
#define KANARY_HO_DETECT_FRAME	54
void kanary_ho_detect_frame(const struct kanary_ho_detect *d, __u8 f[KANARY_HO_DETECT_FRAME]);
enum kanary_ho_detect_want {
	KANARY_HO_DETECT_NONE,		/* it has sent data, or is gone: nothing to do */
	KANARY_HO_DETECT_BIND,		/* still silent: its mark binds it */
	KANARY_HO_DETECT_RESEND,	/* bound silent, the backend has not answered: the mark sends the SYN again */
};
enum kanary_ho_detect_want kanary_ho_detect_want(int handshake_fd, int handoff_fd,
						 const struct kanary_ho_detect *d);

/* Handoff failures of a service (include/kanary/handoff.h), by reason. */
int kanary_ho_stats_read(struct kanary_maps *m, __u32 svc_id, struct kanary_ho_stats *sum,
			 struct kanary_err *e);
#define KANARY_HO_STAT_FIELDS	15
struct kanary_ho_stat_field {
	const char *name;
	size_t offset;
};
extern const struct kanary_ho_stat_field kanary_ho_stat_fields[KANARY_HO_STAT_FIELDS];
/* Field f (an index into kanary_ho_stat_fields) of ho. */
__u64 kanary_ho_stat_get(const struct kanary_ho_stats *ho, int f);

/* ---- HTTP figures (http_stats.c) ---- */

/* The datapath's counts of a subset: a snapshot, not atomic across fields. */
int kanary_http_stats_read(struct kanary_maps *m, __u32 svc_id, __u32 subset,
			   struct kanary_http_stats *out, struct kanary_err *e);
/* now -= before, field by field (a rate's numerator); a counter reset gives 0. */
void kanary_http_stats_sub(struct kanary_http_stats *now, const struct kanary_http_stats *before);
extern const __u32 kanary_http_latency_bounds_us[KANARY_HTTP_BOUNDS];
/* A codes[] slot as a label: "404", or "4xx" for the class of the others; -1: no such slot. */
#define KANARY_HTTP_SLOT_NAME_LEN	8
int kanary_http_slot_name(int slot, char buf[KANARY_HTTP_SLOT_NAME_LEN]);
/* The class (1-5) of a codes[] slot; 0: no such slot. */
int kanary_http_slot_class(int slot);
/* Responses of class cls (1-5: 1xx-5xx), exact codes and the rest alike. */
__u64 kanary_http_class_count(const struct kanary_http_stats *st, int cls);
__u64 kanary_http_responses(const struct kanary_http_stats *st);
/* The q-quantile (0-1) of the latency in microseconds, as histogram_quantile; -1: none. */
double kanary_http_quantile_us(const struct kanary_http_stats *st, double q);

/* ---- TCP health (tcp_stats.c) ---- */

/* One subset's TCP health (include/kanary/tcp_stats.h), summed over CPUs. */
int kanary_tcp_stats_read(struct kanary_maps *m, __u32 svc_id, __u32 subset,
			  struct kanary_tcp_stats *sum, struct kanary_err *e);
/* The mean smoothed RTT in microseconds; false when no connection was sampled. */
bool kanary_tcp_srtt_mean_us(const struct kanary_tcp_stats *s, double *us);

/* ---- traffic mirroring (mirror.c; include/kanary/mirror.h) ---- */

/* The service's mirrors into cfg (all 0 when it has none). */
int kanary_mirror_get(struct kanary_maps *m, __u32 svc_id, struct kanary_mirror_cfg *cfg,
		      struct kanary_err *e);
/*
 * A mirror's route, for kanary_mirror_set and _del: a rule's index (from
 * 0), or one of these.  The split's mirror copies the requests no rule
 * routed (all of them on a service without rules).
 */
#define KANARY_MIRROR_SPLIT		KANARY_RULE_NONE
#define KANARY_MIRROR_EVERY_ROUTE	(-2)	/* _del only: the subset's mirrors on every route */
/* subset's share on route (a rule's index or KANARY_MIRROR_SPLIT), in cfg. */
__u32 *kanary_mirror_share(struct kanary_mirror_cfg *cfg, int route, int subset);
/* subset's largest share on any route; 0: it is no mirror. */
__u32 kanary_mirror_share_max(const struct kanary_mirror_cfg *cfg, int subset);
/* Mirrors ppm (1 .. KANARY_MIRROR_PPM_MAX) of the requests route takes to service's subset. */
int kanary_mirror_set(struct kanary_maps *m, const char *service, const char *subset, int route,
		      __u32 ppm, struct kanary_err *e);
/*
 * Rules from index from on are about to change (a rule deleted): their
 * mirror shares are cleared first, so that a request routed between the
 * rules' write and the mirrors' is copied by no share rather than by another
 * rule's.  saved gets the shares as they were, for what follows.
 */
int kanary_mirror_rules_hold(struct kanary_maps *m, const struct kanary_service *s, __u32 from,
			     struct kanary_mirror_cfg *saved, struct kanary_err *e);
/* Rule at of s was removed: saved's shares written back, the rule's gone and the later rules' moved up. */
int kanary_mirror_rule_removed(struct kanary_maps *m, const struct kanary_service *s, __u32 at,
			       const struct kanary_mirror_cfg *saved, struct kanary_err *e);
/* Writes s's mirrors as cfg (by committed subset index), or removes the entry when cfg has none. */
int kanary_mirror_write(struct kanary_maps *m, const struct kanary_service *s,
			const struct kanary_mirror_cfg *cfg, struct kanary_err *e);
/*
 * Stops mirroring to subset on route (a rule's index, KANARY_MIRROR_SPLIT,
 * or KANARY_MIRROR_EVERY_ROUTE), or to every subset when subset is NULL.
 */
int kanary_mirror_del(struct kanary_maps *m, const char *service, const char *subset, int route,
		      struct kanary_err *e);
/* A service id freed or reused: no mirror, counts from zero. */
int kanary_mirror_clear(struct kanary_maps *m, __u32 svc_id, struct kanary_err *e);
int kanary_mirror_copy_stats_read(struct kanary_maps *m, __u32 svc_id,
				  struct kanary_mirror_copy_stats *sum, struct kanary_err *e);
int kanary_mirror_relay_stats_read(int relay_fd, __u32 svc_id, __u32 subset,
				   struct kanary_mirror_relay_stats *out, struct kanary_err *e);
extern const char *const kanary_mirror_drop_names[KANARY_MIRROR_DROP__MAX];
/* The q-quantile (0-1) in microseconds of a latency histogram of KANARY_HTTP_BUCKETS; -1: none. */
double kanary_latency_quantile_us(const __u64 *latency, double q);

/* One kind of disagreement between a mirror and the live answers (mirror_diff.c). */
struct kanary_mirror_diff {
	struct kanary_mirror_diff_key key;
	__u64 count;
};

/* svc_id's disagreements, most frequent first, in *out (free it), *n of them. */
int kanary_mirror_diff_read(struct kanary_maps *m, __u32 svc_id, struct kanary_mirror_diff **out,
			    size_t *n, struct kanary_err *e);
/* A service id freed or reused: its disagreements forgotten. */
int kanary_mirror_diff_clear(struct kanary_maps *m, __u32 svc_id, struct kanary_err *e);
/* "10", "0.5", "12.3456": a percentage of 0.0001 to 100 into parts per million. */
int kanary_parse_percent(const char *s, __u32 *ppm, struct kanary_err *e);
/* The inverse: exact, without trailing zeros ("10", "0.5"). */
#define KANARY_PERCENT_STR_LEN	16
void kanary_percent_format(char *buf, size_t len, __u32 ppm);
/* As a number, for JSON: parts per million over 10,000. */
static inline double kanary_percent_of(__u32 ppm)
{
	return ppm / (KANARY_MIRROR_PPM_MAX / 100.0);
}

/* ---- parsing (parse.c) ---- */

/* "A.B.C.D:PORT" into a v4-mapped address and a network-order port. */
int kanary_parse_ipport(const char *s, union kanary_addr *addr, __be16 *port,
			struct kanary_err *e);
/*
 * A whole number from min to max, digits only (no sign, space or base
 * prefix); e names it as what.
 */
int kanary_parse_u32(const char *s, const char *what, __u32 min, __u32 max, __u32 *out,
		     struct kanary_err *e);
/* Non-negative decimal weight ("80", "0.5") into thousandths. */
int kanary_parse_weight(const char *s, __u32 *milli, struct kanary_err *e);
/*
 * A weight in thousandths as the operator writes it: "80", "0.5", "1000.5".
 * Every text that shows a weight (kanaryctl, kanaryd's log and /metrics)
 * prints it with this.
 */
#define KANARY_WEIGHT_STR_LEN	16	/* "4294967.295" and its NUL */
void kanary_weight_format(char *buf, size_t len, __u32 weight_milli);
/* Formats a v4-mapped address and port as "A.B.C.D:PORT". */
void kanary_format_ipport(char *buf, size_t len, const union kanary_addr *addr, __be16 port);
void kanary_addr_from_v4(union kanary_addr *a, __be32 v4);

#endif /* KANARY_LIB_H */
