/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Diagnostics collected while decoding manifests and computing the desired
 * state.  Each is a sentence that starts with FILE:LINE when it is about a
 * place in a file; they are logged and also shown by the status file.
 */
#ifndef KD_DIAG_H
#define KD_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdarg.h>
#include "base/log.h"

struct kd_diag {
	enum kd_level level;
	char *msg;
};

struct kd_diags {
	size_t n, cap;
	struct kd_diag *v;
};

void kd_diag_add(struct kd_diags *d, enum kd_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void kd_diag_addv(struct kd_diags *d, enum kd_level level, const char *fmt, va_list ap);
size_t kd_diag_count(const struct kd_diags *d, enum kd_level level);
/* First diagnostic of that level, or NULL. */
const char *kd_diag_first(const struct kd_diags *d, enum kd_level level);
bool kd_diag_has(const struct kd_diags *d, const char *msg);
void kd_diag_log(const struct kd_diags *d);
void kd_diag_move(struct kd_diags *to, struct kd_diags *from);
/* Appends copies of from's diagnostics at level or more severe. */
void kd_diag_copy(struct kd_diags *to, const struct kd_diags *from, enum kd_level level);
void kd_diags_free(struct kd_diags *d);

#endif
