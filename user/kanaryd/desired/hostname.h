/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Istio host names to service FQDNs. */
#ifndef KD_HOSTNAME_H
#define KD_HOSTNAME_H

#include <stdbool.h>
#include <stddef.h>

#define KD_FQDN_LEN	256

/*
 * The FQDN host means in namespace ns, lowercased, without a trailing dot:
 * "greeting" -> greeting.NS.svc.DOMAIN (Istio's short-name rule), and, as a
 * pod's DNS search path would, "greeting.ns" -> greeting.ns.svc.DOMAIN and
 * "greeting.ns.svc" -> greeting.ns.svc.DOMAIN.  Longer names stay as written.
 */
void kd_host_fqdn(char *out, size_t len, const char *host, const char *ns, const char *domain);
/* NAME.NS.svc.DOMAIN */
void kd_service_fqdn(char *out, size_t len, const char *name, const char *ns, const char *domain);
/* "*" or "*.example.com": kanary steers only named services. */
bool kd_host_is_wildcard(const char *host);

#endif
