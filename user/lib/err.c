// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Error sentences, the pin path and name rules. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include "internal.h"

int kanary_errf(struct kanary_err *e, int errnum, const char *fmt, ...)
{
	va_list ap;

	if (e) {
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return errnum > 0 ? -errnum : (errnum ? errnum : -EINVAL);
}

const char *kanary_pin_path(const char *from_flag)
{
	const char *env;

	if (from_flag && *from_flag)
		return from_flag;
	env = getenv(KANARY_PIN_PATH_ENV);
	if (env && *env)
		return env;
	return KANARY_PIN_PATH_DEFAULT;
}

int kanary_pin_join(char *buf, size_t len, const char *pin, const char *name,
		    struct kanary_err *e)
{
	int n = snprintf(buf, len, "%s/%s", pin, name);

	if (n < 0 || (size_t)n >= len)
		return kanary_errf(e, ENAMETOOLONG, "pin path '%s' is too long", pin);
	return 0;
}

bool kanary_name_valid(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n >= max)
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789._/-") == n;
}
