// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The one output writer.  A command prints exactly one document (or one
 * error); stats --watch prints one compact document per line.  Plain text
 * goes to stdout, errors to stderr; in JSON mode errors are documents too.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "ctl.h"

static bool done;	/* the one document (or error) is out */
static bool streamed;	/* stats --watch lines are out; an error may still follow */
static json_t *warnings;

bool out_done(void)
{
	return done || streamed;
}

static size_t dump_flags(bool line)
{
	size_t f = JSON_REAL_PRECISION(15);

	return f | (pretty_output && !line ? JSON_INDENT(2) : JSON_COMPACT);
}

static int emit(json_t *doc, bool line)
{
	if (warnings && json_is_object(doc) && json_array_size(warnings))
		json_object_set(doc, "warnings", warnings);
	if (json_dumpf(doc, stdout, dump_flags(line) | JSON_ENCODE_ANY) == 0)
		fputc('\n', stdout);
	fflush(stdout);
	json_decref(doc);
	return 0;
}

int out_json(json_t *doc)
{
	if (done) {	/* one document per invocation, never two */
		json_decref(doc);
		return 0;
	}
	done = true;
	return emit(doc ? doc : json_null(), false);
}

int out_json_line(json_t *doc)
{
	streamed = true;
	return emit(doc, true);
}

static int verr(const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (json_output) {
		if (!done)
			out_json(json_pack("{s:s}", "error", msg));
	} else {
		fprintf(stderr, "Error: %s\n", msg);
	}
	done = true;
	return -1;
}

int p_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(fmt, ap);
	va_end(ap);
	return -1;
}

int p_kerr(const struct kanary_err *e)
{
	return p_err("%s", e->msg[0] ? e->msg : "unknown error");
}

void p_warn(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "Warning: %s\n", msg);
	if (json_output) {
		if (!warnings)
			warnings = json_array();
		json_array_append_new(warnings, json_string(msg));
	}
}

void p_note(const char *fmt, ...)
{
	va_list ap;

	if (json_output)
		return;
	va_start(ap, fmt);
	fputs("Note: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

int out_help(const char *text)
{
	if (json_output)
		return out_json(json_pack("{s:s}", "help", text));
	fputs(text, stdout);
	done = true;
	return 0;
}
