/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * kanary-mirror, the mirror relay: rebuilds the requests the datapath
 * copied (include/kanary/mirror.h), sends each whole to a pod of its
 * mirror subsets, reads their status lines and compares them with the
 * live answers.  One thread, one epoll loop.
 */
#ifndef KANARY_MIRROR_RELAY_H
#define KANARY_MIRROR_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <http_parser.h>
#include "kanary.h"

/* The limits that bound the relay's memory (docs/mirror.md). */
struct relay_limits {
	uint32_t max_conns;	/* connections being reassembled at once */
	uint32_t max_request;	/* bytes of one request, head and body */
	uint64_t max_bytes;	/* bytes held in reassembly, all connections */
	uint32_t max_sends;	/* mirror connections open at once */
	uint32_t timeout_ms;	/* a request not complete, or a mirror not answering, by then is given up */
};

/* ---- counts (stats.c): the relay's share of kanary_mirrelay_v3 ---- */

/* Opens the map; 0 or -1 after saying why. */
int stats_open(const char *pin_path);
void stats_drop(uint32_t svc_id, uint8_t subsets, int why);	/* enum kanary_mirror_drop */
void stats_sent(uint32_t svc_id, int subset);
void stats_connect(uint32_t svc_id, int subset);	/* a new connection to a mirror pod */
void stats_response(uint32_t svc_id, int subset, int status);	/* 0: an error */
/* A mirror's answer compared with the live one (mirror_status 0: an error). */
void stats_compare(uint32_t svc_id, int subset, bool agree, int mirror_status, uint32_t live_us,
		   uint32_t mirror_us);
/* Requests sent to subsets whose answers could not be compared. */
void stats_unpaired(uint32_t svc_id, uint8_t subsets);
/* Adds what was counted since the last flush to the pinned map. */
void stats_flush(void);

/* ---- disagreements (diff.c): kanary_mirdiff_v1 ---- */

int diff_open(const char *pin_path);
/* One more request of svc_id where subset answered mirror (0: error) and the live pod live. */
void diff_count(uint32_t svc_id, int subset, const char *method, const char *path, int live,
		int mirror);
void diff_flush(void);

/* ---- the comparison (pair.c) ---- */

/* A mirrored request: its connection and its first sequence number. */
struct pair_key {
	uint32_t svc_id;
	union kanary_addr client;
	__be16 port;
	uint32_t seq;
};

/* What pairing did, for tests and the log. */
struct pair_stats {
	uint64_t open;		/* entries in use now */
	uint64_t live;		/* LIVE events matched to a request */
	uint64_t compared;	/* mirror answers compared */
	uint64_t expired;	/* entries given up with mirrors uncompared */
	uint64_t full;		/* STARTs not kept: the table was full */
};

/* max_pairs entries at most; one older than expire_ms is given up. 0 or -1 (no memory). */
int pair_init(uint32_t max_pairs, uint32_t expire_ms);
/* A START event: the request exists (its sequence number is only known here). */
void pair_start(const struct kanary_mirror_event *ev, uint64_t now_ms);
/*
 * The connection's request is whole and handed on (req, len): its key in
 * *key for the mirrors' answers; false when it is not kept.
 */
bool pair_request(uint32_t svc_id, const union kanary_addr *client, __be16 port,
		  const uint8_t *req, size_t len, struct pair_key *key);
/* A LIVE event (header and struct kanary_mirror_live), size bytes. */
void pair_live(const void *data, size_t size);
/* Mirror subset's answer to key: status, 0 for an error, -1 when it was never sent. */
void pair_mirror(const struct pair_key *key, int subset, int status, uint32_t latency_us);
void pair_expire(uint64_t now_ms);
struct pair_stats pair_stats(void);

/* ---- where mirrors are (targets.c) ---- */

/* Re-reads the mirror subsets' backends from the maps; keeps the last good on error. */
void targets_refresh(const char *pin_path);
/* Whether the last read knew subset as a mirror of svc_id. */
bool targets_known(uint32_t svc_id, int subset);
/* The next backend of a mirror subset (round robin); false when it has none. */
bool targets_pick(uint32_t svc_id, int subset, union kanary_addr *addr, __be16 *port);

/* ---- reassembly (reasm.c) ---- */

/* What reassembly gives back: one whole request, head and body, and the client connection it came on. */
typedef void (*reasm_done_fn)(uint32_t svc_id, const union kanary_addr *client, __be16 port,
			      uint8_t subsets, const uint8_t *req, size_t len);

int reasm_init(const struct relay_limits *lim, reasm_done_fn done);
/* One ring event (struct kanary_mirror_event and its payload). */
void reasm_event(const void *data, size_t size, uint64_t now_ms);
/* Drops the requests idle past the timeout, as incomplete. */
void reasm_expire(uint64_t now_ms);

/* ---- the request's framing (http.c) ---- */

enum http_head_result { HEAD_PARTIAL, HEAD_COMPLETE, HEAD_CHUNKED, HEAD_UNFRAMED };
/*
 * Frames the request head in buf[0..len): on HEAD_COMPLETE, *total is
 * head plus Content-Length body; HEAD_CHUNKED: the body is chunked, its
 * end for http_chunks to find.  Another coding, Content-Length and
 * chunked both, or malformed: HEAD_UNFRAMED.
 */
enum http_head_result http_frame(const uint8_t *buf, size_t len, uint64_t *total);

/* Where a chunked request ends, found as its bytes come, from its first. */
struct http_chunks {
	http_parser p;
	uint64_t seen;		/* bytes fed and taken: once done, the request's length */
	bool done;
};
void http_chunks_init(struct http_chunks *c);
/* Feeds the request's next bytes: 1 once its end is seen (c->seen), 0 for more, -1 malformed. */
int http_chunks_feed(struct http_chunks *c, const uint8_t *buf, size_t len);
/*
 * req (len bytes) as a mirror gets it, in a new heap buffer of *out_len
 * bytes: "-shadow" appended to its Host header's value, its hop-by-hop
 * headers left out; NULL when out of memory.
 */
uint8_t *http_mirror_request(const uint8_t *req, size_t len, size_t *out_len);

/* ---- a mirror's answer (answer.c) ---- */

struct answer {
	http_parser p;
	bool head_request;	/* the request was a HEAD: no body follows */
	int status;		/* the final answer's, once its head is read; else 0 */
	uint64_t body;		/* body bytes read */
	bool complete, keep;	/* the answer ended; the connection may carry another */
};

enum answer_result {
	ANSWER_MORE,	/* not ended yet */
	ANSWER_REUSE,	/* ended, and the connection can take the next request */
	ANSWER_CLOSE,	/* ended (or its status is known): close the connection */
	ANSWER_BAD,	/* no answer: malformed, or no status before it stopped */
};

void answer_init(struct answer *a, bool head_request);
enum answer_result answer_feed(struct answer *a, const uint8_t *buf, size_t len);
/* The mirror closed its side. */
enum answer_result answer_eof(struct answer *a);

/* ---- mirror connections (send.c) ---- */

int send_init(int epfd, const struct relay_limits *lim);
/*
 * Sends req (takes it, heap) to a pod of svc_id's subset; counts what
 * happens, and gives the answer to pair_mirror under key (NULL: not paired).
 */
void send_request(uint32_t svc_id, int subset, uint8_t *req, size_t len,
		  const struct pair_key *key, uint64_t now_ms);
/* An epoll event for the connection ptr (from send's registrations). */
void send_event(void *ptr, uint32_t events, uint64_t now_ms);
void send_expire(uint64_t now_ms);

#endif /* KANARY_MIRROR_RELAY_H */
