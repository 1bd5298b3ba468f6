// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Small steps most commands share: open the maps, read a service, parse numbers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "ctl.h"

int maps_open_or_err(struct kanary_maps *m)
{
	struct kanary_err e = {};

	if (kanary_maps_open(m, pin_path, &e))
		return p_kerr(&e);
	return 0;
}

struct kanary_service *service_get_or_err(struct kanary_maps *m, const char *name)
{
	struct kanary_service *s = malloc(sizeof(*s));
	struct kanary_err e = {};

	if (!s) {
		p_err("out of memory");
		return NULL;
	}
	if (kanary_service_get(m, name, s, &e)) {
		p_kerr(&e);
		free(s);
		return NULL;
	}
	return s;
}

struct kanary_service *service_arg_read(int argc, char **argv)
{
	struct kanary_service *s;
	struct kanary_maps m;

	if (argc < 1) {
		p_err("missing argument: expected SERVICE");
		return NULL;
	}
	if (argc > 1) {
		p_err("what is '%s'? expected nothing after SERVICE", argv[1]);
		return NULL;
	}
	if (maps_open_or_err(&m))
		return NULL;
	s = service_get_or_err(&m, argv[0]);
	kanary_maps_close(&m);
	return s;
}

int parse_u32_arg(const char *arg, const char *what, __u32 min, __u32 max, __u32 *out)
{
	struct kanary_err e;

	if (kanary_parse_u32(arg, what, min, max, out, &e))
		return p_err("%s", e.msg);
	return 0;
}
