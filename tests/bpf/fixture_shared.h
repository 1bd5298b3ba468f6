/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The one kanary a test binary loads, put back before each test (fixture_shared.c). */
#ifndef KT_FIXTURE_SHARED_H
#define KT_FIXTURE_SHARED_H

/* Loads it under base/shared and keeps a copy of what it holds; 0 or -errno, said on stderr. */
int kt_shared_load(const char *base);
/* Its directory, NULL before kt_shared_load succeeded. */
const char *kt_shared_dir(void);
/* Puts its pins and its maps' contents back as they were after the load (checked). */
void kt_shared_restore(void);

#endif
