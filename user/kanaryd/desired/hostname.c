// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "desired/hostname.h"

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

void kd_host_fqdn(char *out, size_t len, const char *host, const char *ns, const char *domain)
{
	char h[KD_FQDN_LEN];
	size_t n, dots = 0;

	snprintf(h, sizeof(h), "%s", host);
	n = strlen(h);
	if (n && h[n - 1] == '.')
		h[--n] = '\0';
	for (size_t i = 0; i < n; i++)
		dots += h[i] == '.';
	if (dots == 0)
		snprintf(out, len, "%s.%s.svc.%s", h, ns, domain);
	else if (dots == 1)
		snprintf(out, len, "%s.svc.%s", h, domain);
	else if (dots == 2 && n > 4 && strcmp(h + n - 4, ".svc") == 0)
		snprintf(out, len, "%s.%s", h, domain);
	else
		snprintf(out, len, "%s", h);
	lower(out);
}

void kd_service_fqdn(char *out, size_t len, const char *name, const char *ns, const char *domain)
{
	snprintf(out, len, "%s.%s.svc.%s", name, ns, domain);
	lower(out);
}

bool kd_host_is_wildcard(const char *host)
{
	return host[0] == '*';
}
