// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* status: what the kanaryd of this pin path loaded, from where, and how it went. */
#include <stdio.h>
#include <string.h>
#include "ctl.h"
#include "help.h"
#include "status.h"

int do_status(int argc, char **argv)
{
	struct kanary_err e;
	json_t *st;
	int err;

	if (argc && !strcmp(*argv, "help"))
		return out_help("Usage: kanaryctl [OPTIONS] status\n"
				"Shows what the kanaryd serving this pin path last reported: whether it\n"
				"is running, its manifests and interfaces, the services it applied and\n"
				"any file it could not use.\n\n" HELP_PIN);
	NO_MORE_ARGS("nothing after 'status'");
	err = kanary_status_read(pin_path, &st, &e);
	if (err)
		return p_kerr(&e);
	if (json_output)
		return out_json(st);
	kanary_status_print(stdout, st);
	json_decref(st);
	return 0;
}
