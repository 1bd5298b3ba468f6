// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdarg.h>
#include <stdio.h>
#include "base/log.h"

enum kd_level kd_log_level = KD_INFO;

const char *kd_level_name(enum kd_level level)
{
	switch (level) {
	case KD_ERROR: return "error";
	case KD_WARN: return "warning";
	case KD_INFO: return "info";
	default: return "debug";
	}
}

void kd_log(enum kd_level level, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	if (level > kd_log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One write per line, so lines from a crash-restart loop do not interleave. */
	fprintf(stderr, "kanaryd: %s: %s\n", kd_level_name(level), line);
	fflush(stderr);
}
