/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Leveled logging to stderr, one line per message, for a supervisor
 * (systemd, a container runtime) to collect.  -v shows debug.
 */
#ifndef KD_LOG_H
#define KD_LOG_H

enum kd_level {
	KD_ERROR,
	KD_WARN,
	KD_INFO,
	KD_DEBUG,
};

extern enum kd_level kd_log_level;

void kd_log(enum kd_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *kd_level_name(enum kd_level level);

#define pr_err(...)	kd_log(KD_ERROR, __VA_ARGS__)
#define pr_warn(...)	kd_log(KD_WARN, __VA_ARGS__)
#define pr_info(...)	kd_log(KD_INFO, __VA_ARGS__)
#define pr_debug(...)	kd_log(KD_DEBUG, __VA_ARGS__)

#endif
