// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* What operators type, ADDR (A.B.C.D:PORT) and WEIGHT: parsed, and printed back the same way. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"


void kanary_addr_from_v4(union kanary_addr *a, __be32 v4)
{
	memset(a, 0, sizeof(*a));
	a->w[2] = htonl(0xffff);
	a->w[3] = v4;
}

static bool addr_is_v4_mapped(const union kanary_addr *a)
{
	return a->w[0] == 0 && a->w[1] == 0 && a->w[2] == htonl(0xffff);
}

void kanary_format_ipport(char *buf, size_t len, const union kanary_addr *addr, __be16 port)
{
	char ip[INET6_ADDRSTRLEN];

	if (addr_is_v4_mapped(addr)) {
		inet_ntop(AF_INET, &addr->w[3], ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, ntohs(port));
	} else {
		inet_ntop(AF_INET6, addr->b, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, ntohs(port));
	}
}

/* Whole string of 1..5 decimal digits, 1..65535. */
static int parse_port(const char *s, __u16 *port)
{
	unsigned long v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 5 || strspn(s, "0123456789") != n)
		return -EINVAL;
	for (; *s; s++)
		v = v * 10 + (unsigned long)(*s - '0');
	if (v < 1 || v > 65535)
		return -ERANGE;
	*port = (__u16)v;
	return 0;
}

int kanary_parse_ipport(const char *s, union kanary_addr *addr, __be16 *port,
			struct kanary_err *e)
{
	const char *colon;
	char ip[INET_ADDRSTRLEN + 1];
	struct in_addr in;
	__u16 p;
	__u32 h;
	int err;

	if (!s || !*s)
		return kanary_errf(e, EINVAL, "missing address: expected A.B.C.D:PORT");
	colon = strrchr(s, ':');
	if (s[0] == '[' || (colon && memchr(s, ':', (size_t)(colon - s))))
		return kanary_errf(e, EAFNOSUPPORT,
				   "'%s': IPv6 is not supported yet: expected A.B.C.D:PORT", s);
	if (!colon)
		return kanary_errf(e, EINVAL, "'%s' has no port: expected A.B.C.D:PORT", s);
	if ((size_t)(colon - s) >= sizeof(ip) || colon == s)
		return kanary_errf(e, EINVAL,
				   "'%s' is not an IPv4 address and port: expected A.B.C.D:PORT", s);
	memcpy(ip, s, (size_t)(colon - s));
	ip[colon - s] = '\0';
	if (inet_pton(AF_INET, ip, &in) != 1)
		return kanary_errf(e, EINVAL,
				   "'%s' is not an IPv4 address: expected A.B.C.D with each part 0-255",
				   ip);
	h = ntohl(in.s_addr);
	if (h == 0 || h == 0xffffffffu || (h >> 28) == 0xe)
		return kanary_errf(e, EINVAL,
				   "%s is not a unicast address: expected a pod or service IPv4 address",
				   ip);
	err = parse_port(colon + 1, &p);
	if (err)
		return kanary_errf(e, EINVAL, "port '%s' in '%s' is not valid: expected 1-65535",
				   colon + 1, s);
	kanary_addr_from_v4(addr, in.s_addr);
	*port = htons(p);
	return 0;
}

int kanary_parse_u32(const char *s, const char *what, __u32 min, __u32 max, __u32 *out,
		     struct kanary_err *e)
{
	size_t n = strlen(s);
	unsigned long long v;

	if (n == 0 || n > 10 || strspn(s, "0123456789") != n)
		return kanary_errf(e, EINVAL, "'%s' is not a valid %s: expected a whole number from %u to %u",
				   s, what, min, max);
	v = strtoull(s, NULL, 10);
	if (v < min || v > max)
		return kanary_errf(e, ERANGE, "%s %s is out of range: expected %u to %u", what, s, min, max);
	*out = (__u32)v;
	return 0;
}

/*
 * A decimal with at most `decimals` decimals into units of 10^-decimals,
 * parsed by hand, not strtod: exact, and nothing strtod would also take
 * ("1e3", "nan", "0x10", " 5").  0, or -EINVAL (not such a number),
 * -EDOM (too many decimals), -ERANGE (above max units).
 */
int kanary_parse_fixed(const char *s, int decimals, unsigned long long max,
		       unsigned long long *out)
{
	unsigned long long v = 0;
	const char *p = s;
	int nint = 0, nfrac = 0;

	for (; p && isdigit((unsigned char)*p); p++, nint++) {
		v = v * 10 + (unsigned)(*p - '0');
		if (v > max)
			return -ERANGE;	/* already, before its decimals */
	}
	if (!nint)
		return -EINVAL;
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++, nfrac++) {
			if (nfrac == decimals)
				return -EDOM;
			v = v * 10 + (unsigned)(*p - '0');
		}
		if (!nfrac)
			return -EINVAL;
	}
	if (*p)
		return -EINVAL;
	for (; nfrac < decimals; nfrac++)
		v *= 10;
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int kanary_parse_weight(const char *s, __u32 *milli, struct kanary_err *e)
{
	unsigned long long v;

	switch (kanary_parse_fixed(s, 3, KANARY_WEIGHT_MAX_MILLI, &v)) {
	case 0:
		*milli = (__u32)v;
		return 0;
	case -EDOM:
		return kanary_errf(e, EINVAL,
				   "weight '%s' has more than 3 decimals: expected e.g. 80, 0.5 or 99.125",
				   s);
	case -ERANGE:
		return kanary_errf(e, ERANGE, "weight '%s' is too large: expected 0 to %d", s,
				   KANARY_WEIGHT_MAX);
	}
	return kanary_errf(e, EINVAL,
			   "'%s' is not a weight: expected a number from 0 to %d with at most 3 decimals, e.g. 80 or 0.5",
			   s ? s : "", KANARY_WEIGHT_MAX);
}

/* The inverse of kanary_parse_weight: exact thousandths, never rounded or in e-notation. */
void kanary_weight_format(char *buf, size_t len, __u32 weight_milli)
{
	__u32 whole = weight_milli / KANARY_WEIGHT_MILLI, frac = weight_milli % KANARY_WEIGHT_MILLI;
	int n;

	if (!frac) {
		snprintf(buf, len, "%u", whole);
		return;
	}
	n = snprintf(buf, len, "%u.%03u", whole, frac);
	while (n > 0 && (size_t)n < len && buf[n - 1] == '0')	/* 0.500 -> 0.5 */
		buf[--n] = '\0';
}
