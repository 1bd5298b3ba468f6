/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Grammar fragments shared by every help text, so a word means one thing. */
#ifndef KANARYCTL_HELP_H
#define KANARYCTL_HELP_H

/* A number macro as a string literal, to paste into the texts below. */
#define HELP_STR_(x)	#x
#define HELP_STR(x)	HELP_STR_(x)

#define HELP_OPTIONS \
	"OPTIONS := { -j|--json | -p|--pretty | --pin-path DIR | -v|--verbose |\n" \
	"             -h|--help | -V|--version }\n"
#define HELP_SERVICE	"SERVICE := NAME (1-63 characters of A-Z a-z 0-9 . _ / -, e.g. default/greeting)\n"
#define HELP_SUBSET	"SUBSET  := NAME (1-31 characters of A-Z a-z 0-9 . _ / -, e.g. safe, risky)\n"
#define HELP_ADDR	"ADDR    := A.B.C.D:PORT (IPv4, PORT 1-65535)\n"
#define HELP_WEIGHT	"WEIGHT  := 0 to " HELP_STR(KANARY_WEIGHT_MAX) " with at most 3 decimals (80, 0.5); shares are\n" \
			"           weight / sum of weights of the subsets that have backends\n"
#define HELP_IFACE	"IFACE   := an interface of this network namespace (host side of a pod's veth)\n"
#define HELP_COND	"COND    := { header NAME=VALUE | header NAME^=PREFIX | header NAME |\n" \
			"             path =PATH | path ^PREFIX }\n" \
			"           NAME is a header name, matched in any case; VALUE is matched\n" \
			"           exactly, the spaces around a header value aside; PATH is the\n" \
			"           request path without its query; ^PREFIX compares the start of\n" \
			"           the value, or of the path with its query (at most 64 bytes each)\n"
#define HELP_INDEX	"INDEX   := a rule's position in 'kanaryctl route list', from 1\n"
#define HELP_PIN	"The pin path is --pin-path, else $KANARY_PIN_PATH, else " KANARY_PIN_PATH_DEFAULT ".\n"

#endif /* KANARYCTL_HELP_H */
