/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * libkanary's values as JSON (jansson), written once for kanaryctl -j and
 * kanaryd's --check and status file.  Where the two print differently
 * today, a flag says which way.
 */
#ifndef KANARY_LIB_JSON_H
#define KANARY_LIB_JSON_H

#include <stdbool.h>
#include <jansson.h>
#include "kanary.h"
#include "rule_set.h"

/* A weight in thousandths as a JSON number: 80 or 0.5, or, when real, 80.0 (kanaryctl). */
json_t *kanary_weight_json(__u32 weight_milli, bool real);

/* {"type": "header"|"path", ["name": NAME,] "match": "exact"|"prefix"|"present", ["value": V]} */
json_t *kanary_cond_json(const struct kanary_cond *c);

#define KANARY_RULE_JSON_REAL_WEIGHTS	(1u << 0)	/* weights as kanary_weight_json(w, true) */
#define KANARY_RULE_JSON_PERCENT	(1u << 1)	/* each destination's share, "percent" */

/*
 * Adds rule `at` of rs to o, after the members the caller put there first:
 *   "match": [[cond, ...] (ANDed), ...] (ORed),
 *   "to": [{"subset": NAME, "weight": W[, "percent": P]}, ...]
 * names[i] is subset i's name, of at most KANARY_SUBSET_NAME_LEN bytes; a
 * subset index at or past n_names reads "#INDEX (missing)".  Returns o.
 */
json_t *kanary_rule_json(json_t *o, const struct kanary_rules *rs, __u32 at,
			 const char *const *names, __u32 n_names, unsigned int flags);

#endif /* KANARY_LIB_JSON_H */
