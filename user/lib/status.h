/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * kanaryd's run files, one set per pin path: its status (what it loaded and
 * from where, for `kanaryctl status`), the record of what it applied, and
 * its instance lock.  bpffs cannot hold regular files, so they live in
 * $KANARY_RUN_DIR (default /run/kanary), named by a hash of the pin path.
 */
#ifndef KANARY_STATUS_H
#define KANARY_STATUS_H

#include <stddef.h>
#include <stdio.h>
#include <jansson.h>
#include "kanary.h"

#define KANARY_RUN_DIR_DEFAULT	"/run/kanary"
#define KANARY_RUN_DIR_ENV	"KANARY_RUN_DIR"

/* $KANARY_RUN_DIR, else the default. */
const char *kanary_run_dir(void);
/* <run dir>/<16 hex digits of the pin path's hash>.<suffix> ("status.json", ...). */
int kanary_run_file(const char *pin_path, const char *suffix, char *buf, size_t len,
		    struct kanary_err *e);

/*
 * The status kanaryd last wrote for pin_path, plus "running" (whether that
 * kanaryd process is alive) and "status_file".  -ENOENT with a sentence when
 * no kanaryd has run for this pin path.
 */
int kanary_status_read(const char *pin_path, json_t **out, struct kanary_err *e);
/* A few lines for people: the process, its manifests, files, services, problems. */
void kanary_status_print(FILE *f, const json_t *st);

#endif
