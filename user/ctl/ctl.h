/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* kanaryctl's shared pieces: command tables, argument helpers, output. */
#ifndef KANARYCTL_H
#define KANARYCTL_H

#include <stdbool.h>
#include <jansson.h>
#include "kanary.h"
#include "kanary_json.h"

#define KANARYCTL_VERSION	"0.1.0"

/* Set once by main() from the global options. */
extern bool json_output;
extern bool pretty_output;
extern bool verbose;
extern const char *pin_path;	/* resolved: flag, $KANARY_PIN_PATH or default */
extern const char *bin_name;

struct cmd {
	const char *name;
	int (*func)(int argc, char **argv);
};

/*
 * Runs the command argv[0] names, by its full name or any unique prefix.
 * With no argument, runs `dflt` (a table name) or, when NULL, reports
 * which commands were expected.  `what` names the level in messages.
 */
int cmd_select(const struct cmd *cmds, int argc, char **argv, const char *what,
	       const char *dflt);
/* Index of arg among the NULL-terminated words (full or unique prefix); -1 none, -2 ambiguous. */
int match_word(const char *arg, const char *const *words);

/* Argument walking, bpftool style; every use site returns -1 through p_err. */
#define NEXT_ARG()	do { argc--; argv++; } while (0)
#define REQ_ARGS(n, usage)						\
	do {								\
		if (argc < (n))						\
			return p_err("missing argument: expected %s", usage); \
	} while (0)
#define NO_MORE_ARGS(usage)						\
	do {								\
		if (argc > 0)						\
			return p_err("what is '%s'? expected %s", *argv, usage); \
	} while (0)
#define BAD_ARG(expected) p_err("what is '%s'? expected %s", *argv, expected)

/* ---- output (json.c) ---- */

/* Reports an error ("Error: ..." on stderr, or {"error": ...} on stdout); returns -1. */
int p_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Reports a library error sentence. */
int p_kerr(const struct kanary_err *e);
/* "Warning: ..." on stderr; with -j also added to the document as "warnings". */
void p_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "Note: ..." on stderr, plain mode only: guidance an operator would want. */
void p_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the command's one JSON document (takes the reference); returns 0. */
int out_json(json_t *doc);
/* One compact document on its own line, for streams (stats --watch). */
int out_json_line(json_t *doc);
/* True once a command has printed its document or its error. */
bool out_done(void);
/* Help text: plain to stdout, or {"help": text} in JSON mode; returns 0. */
int out_help(const char *text);

/* ---- HTTP figures of stats (stats_http.c) ---- */

struct http_summary {
	__u64 requests;
	double rate;		/* requests per second; -1: no interval */
	double error_percent;	/* 5xx among the responses; -1: no response */
	double p50_ms, p90_ms, p99_ms;	/* -1: no response */
};
/* st over secs seconds (a delta), or since the start (secs 0: no rate). */
void http_summarise(const struct kanary_http_stats *st, double secs, struct http_summary *s);
/* requests, responses by class and exact code, no_response, latency_ms quantiles. */
json_t *http_json(const struct kanary_http_stats *st);
/* A latency ("0.42", "17") or a percentage ("9.8"); "-" when negative (none). */
void fmt_ms(char *buf, size_t len, double ms);
void fmt_percent(char *buf, size_t len, double pct);
/* One line: the canary's 5xx share and p99 beside the baseline's, worse ones highlighted. */
void http_print_compare(const char *service, const char *canary, const struct http_summary *c,
			const char *baseline, const struct http_summary *b, bool color);

/* ---- a mirror's comparison with the live answers (mirror_compare.c) ---- */

struct mirror_compare {
	__u64 compared, agree, differ, unpaired;
	double agree_percent;			/* -1: nothing compared */
	double p50_live_ms, p99_live_ms;	/* over the requests the mirror answered; -1: none */
	double p50_mirror_ms, p99_mirror_ms;
};
void mirror_compare_of(const struct kanary_mirror_relay_stats *r, struct mirror_compare *c);
json_t *mirror_compare_json(const struct mirror_compare *c);

/* ---- a mirror subset's shares per route (mirror_share.c) ---- */
/* Room for every route's share in mirror_shares_format. */
#define MIRROR_SHARES_LEN	((KANARY_RULES_MAX + 1) * (KANARY_PERCENT_STR_LEN + 5))
/* Subset i's shares on the rules' routes: [{"route": INDEX, "percent": P}]. */
json_t *mirror_routes_json(const struct kanary_mirror_cfg *cfg, int i);
/* Subset i's shares as SHARE prints them: "10%", "10%,r2:100%", "r1:5%". */
void mirror_shares_format(char *buf, size_t len, const struct kanary_mirror_cfg *cfg, int i);
/* An agreement percentage, two decimals, or "-". */
void fmt_agree(char *buf, size_t len, double pct);

/* ---- tables (table.c): plain output in aligned columns ---- */

struct table;
struct table *table_new(int ncols, const char *const *headers);
void table_add(struct table *t, ...);	/* ncols strings */
void table_print(struct table *t);	/* prints and frees */
void table_free(struct table *t);

/* ---- shared rendering (format.c) ---- */

#define ADDR_STR_LEN	64
/* Effective share of subset i in parts per 10,000. */
__u32 subset_parts(const struct kanary_svc_config *c, __u32 i);
json_t *service_json(const struct kanary_service *s);
void service_print(const struct kanary_service *s);
/* Why subset i gets no share, or NULL when it gets one. */
const char *subset_why_empty(const struct kanary_svc_config *c, __u32 i);
void fmt_ipport(char *buf, const struct kanary_backend *b);
void fmt_vip(char *buf, const struct kanary_svc_config *c);

/* Opens the maps under the lock, reporting the error; 0 or -1. */
int maps_open_or_err(struct kanary_maps *m);
/* A heap service read by name; NULL after reporting the error. */
struct kanary_service *service_get_or_err(struct kanary_maps *m, const char *name);
/* For "CMD SERVICE" read-only commands: checks the one argument, reads the service. */
struct kanary_service *service_arg_read(int argc, char **argv);

/* Parses a positive decimal integer argument for keyword `what`. */
int parse_u32_arg(const char *arg, const char *what, __u32 min, __u32 max, __u32 *out);

/* ---- commands, one file per object ---- */
int do_load(int argc, char **argv);
int do_unload(int argc, char **argv);
int do_attach(int argc, char **argv);
int do_detach(int argc, char **argv);
int do_iface(int argc, char **argv);
int do_service(int argc, char **argv);
int do_backend(int argc, char **argv);
int do_weight(int argc, char **argv);
int do_route(int argc, char **argv);
int do_mirror(int argc, char **argv);
int do_stats(int argc, char **argv);
int do_counters(int argc, char **argv);
int do_status(int argc, char **argv);

#endif /* KANARYCTL_H */
