// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A dark-release condition as operators type it ("header x-a=dark", "path
 * ^/api"): parsed, checked against what the matcher can see, printed back.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "internal.h"
#include "rule_set.h"

static bool is_tchar(unsigned char c)
{
	return c && (strchr("!#$%&'*+-.^_`|~", c) || (c >= '0' && c <= '9') ||
		     (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
}

static bool is_ows(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* Printable ASCII, or SP/HTAB inside: what a header value may hold here. */
static bool value_bytes_ok(const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (!(c >= 0x21 && c <= 0x7e) && !is_ows(c))
			return false;
	}
	return true;
}

static bool is_hex(char c)
{
	return c && strchr("0123456789abcdefABCDEF", c);
}

/* Why a path condition could never match a request (see http_match.h), or NULL. */
static const char *path_problem(const char *v, size_t n, bool exact)
{
	char dec[KANARY_COND_VALUE_MAX + 1];
	size_t dn = 0, seg = 1;

	if (n == 0 || v[0] != '/')
		return "it must start with '/'";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c < 0x21 || c > 0x7e)
			return "it may hold only printable ASCII without spaces";
		if (c == '#')
			return "requests with a '#' never match a path condition";
		if (exact && c == '?')
			return "an exact path excludes the query: use path ^PREFIX to match a query";
	}
	if (!exact)
		return NULL;
	/* The path as the matcher sees it: %2e is a dot, a backslash a slash. */
	for (size_t i = 0; i < n && dn < sizeof(dec) - 1; i++) {
		if (v[i] == '%') {
			if (i + 2 >= n || !is_hex(v[i + 1]) || !is_hex(v[i + 2]))
				return "a '%' must be followed by two hex digits";
			dec[dn++] = v[i + 1] == '2' && (v[i + 2] == 'e' || v[i + 2] == 'E') ? '.' : 'x';
			i += 2;
		} else {
			dec[dn++] = v[i] == '\\' ? '/' : v[i];
		}
	}
	for (size_t i = 1; i <= dn; i++) {
		if (i < dn && dec[i] != '/')
			continue;
		if ((i - seg == 1 && dec[seg] == '.') ||
		    (i - seg == 2 && dec[seg] == '.' && dec[seg + 1] == '.'))
			return "requests whose path has a dot segment (/./ or /../) never match";
		seg = i + 1;
	}
	return NULL;
}

int kanary_cond_check(const struct kanary_cond *c, struct kanary_err *e)
{
	const char *why;

	if (c->value_len > KANARY_COND_VALUE_MAX || c->name_len > KANARY_COND_NAME_MAX)
		return kanary_errf(e, EINVAL, "condition longer than %d bytes",
				   KANARY_COND_VALUE_MAX);
	/* Unused bytes are zero, so equal conditions are equal memory. */
	for (size_t i = c->name_len; i < sizeof(c->name); i++)
		if (c->name[i])
			return kanary_errf(e, EINVAL, "condition has bytes after its name");
	for (size_t i = c->value_len; i < sizeof(c->value); i++)
		if (c->value[i])
			return kanary_errf(e, EINVAL, "condition has bytes after its value");
	if (c->kind == KANARY_COND_PATH) {
		if (c->op != KANARY_OP_EXACT && c->op != KANARY_OP_PREFIX)
			return kanary_errf(e, EINVAL, "a path condition is exact or prefix (op %u)",
					   c->op);
		if (c->name_len)
			return kanary_errf(e, EINVAL, "a path condition has no name");
		why = path_problem(c->value, c->value_len, c->op == KANARY_OP_EXACT);
		if (why)
			return kanary_errf(e, EINVAL, "path '%.*s': %s", c->value_len, c->value, why);
		return 0;
	}
	if (c->kind != KANARY_COND_HEADER)
		return kanary_errf(e, EINVAL, "unknown condition kind %u", c->kind);
	if (c->name_len == 0)
		return kanary_errf(e, EINVAL, "a header condition needs a name");
	for (size_t i = 0; i < c->name_len; i++)
		if (!is_tchar((unsigned char)c->name[i]) || (c->name[i] >= 'A' && c->name[i] <= 'Z'))
			return kanary_errf(e, EINVAL, "header name '%.*s' is not a lowercase token",
					   c->name_len, c->name);
	if (!value_bytes_ok(c->value, c->value_len))
		return kanary_errf(e, EINVAL, "header value of '%.*s' is not printable ASCII",
				   c->name_len, c->name);
	switch (c->op) {
	case KANARY_OP_PRESENT:
		if (c->value_len)
			return kanary_errf(e, EINVAL, "a presence condition has no value");
		return 0;
	case KANARY_OP_PREFIX:
		if (c->value_len == 0)
			return kanary_errf(e, EINVAL,
					   "header %.*s^= has an empty prefix: for any value use 'header %.*s'",
					   c->name_len, c->name, c->name_len, c->name);
		/* fallthrough */
	case KANARY_OP_EXACT:
		if (c->value_len && is_ows((unsigned char)c->value[0]))
			return kanary_errf(e, EINVAL,
					   "header %.*s: the value starts with a space, which is never part of a header value",
					   c->name_len, c->name);
		if (c->op == KANARY_OP_EXACT && c->value_len &&
		    is_ows((unsigned char)c->value[c->value_len - 1]))
			return kanary_errf(e, EINVAL,
					   "header %.*s: the value ends with a space, which is never part of a header value",
					   c->name_len, c->name);
		return 0;
	default:
		return kanary_errf(e, EINVAL, "unknown header match %u", c->op);
	}
}

static int parse_header(const char *arg, struct kanary_cond *c, struct kanary_err *e)
{
	const char *eq = strchr(arg, '='), *value = NULL;
	size_t nlen, vlen = 0;

	c->kind = KANARY_COND_HEADER;
	if (!eq) {
		c->op = KANARY_OP_PRESENT;
		nlen = strlen(arg);
	} else if (eq > arg && eq[-1] == '^') {
		c->op = KANARY_OP_PREFIX;
		nlen = (size_t)(eq - 1 - arg);
		value = eq + 1;
	} else {
		c->op = KANARY_OP_EXACT;
		nlen = (size_t)(eq - arg);
		value = eq + 1;
	}
	if (nlen == 0)
		return kanary_errf(e, EINVAL,
				   "header '%s' has no name: expected NAME=VALUE, NAME^=PREFIX or NAME",
				   arg);
	if (nlen > KANARY_COND_NAME_MAX)
		return kanary_errf(e, EINVAL, "header name '%.*s' is %zu bytes: at most %d",
				   (int)nlen, arg, nlen, KANARY_COND_NAME_MAX);
	for (size_t i = 0; i < nlen; i++) {
		if (!is_tchar((unsigned char)arg[i]))
			return kanary_errf(e, EINVAL,
					   "header name '%.*s' has '%c': expected letters, digits and !#$%%&'*+-.^_`|~ (e.g. x-my-header)",
					   (int)nlen, arg, arg[i]);
		c->name[i] = (char)((arg[i] >= 'A' && arg[i] <= 'Z') ? arg[i] + 32 : arg[i]);
	}
	c->name_len = (__u8)nlen;
	if (value) {
		vlen = strlen(value);
		if (vlen > KANARY_COND_VALUE_MAX)
			return kanary_errf(e, EINVAL, "header %.*s: the value is %zu bytes: at most %d",
					   (int)nlen, c->name, vlen, KANARY_COND_VALUE_MAX);
		if (!value_bytes_ok(value, vlen))
			return kanary_errf(e, EINVAL,
					   "header %.*s: the value may hold only printable ASCII and spaces",
					   (int)nlen, c->name);
		memcpy(c->value, value, vlen);
		c->value_len = (__u8)vlen;
	}
	return kanary_cond_check(c, e);
}

static int parse_path(const char *arg, struct kanary_cond *c, struct kanary_err *e)
{
	size_t n;

	c->kind = KANARY_COND_PATH;
	if (arg[0] == '=')
		c->op = KANARY_OP_EXACT;
	else if (arg[0] == '^')
		c->op = KANARY_OP_PREFIX;
	else
		return kanary_errf(e, EINVAL,
				   "path '%s': expected =PATH (exact) or ^PREFIX (e.g. =/api or ^/api/)",
				   arg);
	n = strlen(arg + 1);
	if (n > KANARY_COND_VALUE_MAX)
		return kanary_errf(e, EINVAL, "path '%s' is %zu bytes: at most %d", arg + 1, n,
				   KANARY_COND_VALUE_MAX);
	memcpy(c->value, arg + 1, n);
	c->value_len = (__u8)n;
	return kanary_cond_check(c, e);
}

int kanary_cond_parse(const char *kind, const char *arg, struct kanary_cond *out,
		      struct kanary_err *e)
{
	memset(out, 0, sizeof(*out));
	if (!strcmp(kind, "header"))
		return parse_header(arg, out, e);
	if (!strcmp(kind, "path"))
		return parse_path(arg, out, e);
	return kanary_errf(e, EINVAL, "what is '%s'? expected header or path", kind);
}

/* Appends s to buf as one shell word. */
static void shell_word(char *buf, size_t len, const char *s, size_t n)
{
	size_t used = strlen(buf);
	bool plain = n > 0;

	for (size_t i = 0; i < n; i++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
			    "._-/:=^,@%+~", s[i]) || !s[i])
			plain = false;
	if (plain) {
		snprintf(buf + used, len - used, "%.*s", (int)n, s);
		return;
	}
	snprintf(buf + used, len - used, "'");
	for (size_t i = 0; i < n; i++) {
		used = strlen(buf);
		snprintf(buf + used, len - used, s[i] == '\'' ? "'\\''" : "%c", s[i]);
	}
	used = strlen(buf);
	snprintf(buf + used, len - used, "'");
}

void kanary_cond_format(const struct kanary_cond *c, char *buf, size_t len)
{
	char arg[KANARY_COND_NAME_MAX + KANARY_COND_VALUE_MAX + 4];
	int n;

	if (!len)
		return;
	buf[0] = '\0';
	if (c->kind == KANARY_COND_PATH) {
		n = snprintf(arg, sizeof(arg), "%c%.*s", c->op == KANARY_OP_EXACT ? '=' : '^',
			     c->value_len, c->value);
		snprintf(buf, len, "path ");
	} else {
		n = snprintf(arg, sizeof(arg), "%.*s%s%.*s", c->name_len, c->name,
			     c->op == KANARY_OP_EXACT ? "=" : c->op == KANARY_OP_PREFIX ? "^=" : "",
			     c->op == KANARY_OP_PRESENT ? 0 : c->value_len, c->value);
		snprintf(buf, len, "header ");
	}
	shell_word(buf, len, arg, n > 0 ? (size_t)n : 0);
}
