/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * An object from the API server, already taken apart by jansson, as the
 * decoder's node tree: one document built in place of printing the JSON
 * and parsing the text again.  Each node's line is the one it would have in
 * the object printed as indented JSON (json_dumps with JSON_INDENT(2)), so
 * diagnostics read "api:Pod/default/greeting-1:LINE" as they always have.
 */
#ifndef KD_YAMLNODE_JSON_H
#define KD_YAMLNODE_JSON_H

#include <jansson.h>
#include "kanary.h"
#include "decode/yamlnode.h"

/*
 * One document holding obj; strings are quoted scalars, numbers and literals
 * plain ones.  -E2BIG when obj nests deeper than KD_YAML_MAX_DEPTH.
 */
int kd_yaml_from_json(struct kd_yaml *y, json_t *obj, struct kanary_err *e);

#endif
