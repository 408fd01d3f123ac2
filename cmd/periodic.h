/* SPDX-License-Identifier: MIT */
#ifndef CPROF_CMD_PERIODIC_H
#define CPROF_CMD_PERIODIC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * The files of a periodic recording (record --every): each window's named
 * by strftime of its start in local time, and the oldest windows this run
 * wrote removed once more than --keep of them, or more than --max-size
 * bytes, are kept. Only files this run wrote are ever removed: a pattern
 * may match other people's files in a shared directory, and cprof often
 * runs as root.
 */
struct periodic;

/*
 * pattern: a strftime pattern with at least one conversion (else
 * -EINVAL). keep: windows kept, 0 for no limit; max_bytes: bytes kept,
 * 0 for no limit. Returns 0 and *ret (free with periodic_free), or <0.
 */
int periodic_new(const char *pattern, uint64_t keep, uint64_t max_bytes, struct periodic **ret);

/* NULL-safe. */
void periodic_free(struct periodic *p);

/* The file name of a window that started at realtime_ns (CLOCK_REALTIME); NULL if none fits. */
char *periodic_name(const struct periodic *p, int64_t realtime_ns);

/*
 * A window's files were written (names copied; bytes their total size):
 * then remove the oldest windows' files while past the limits, the newest
 * always kept. Returns how many windows were removed, or -ENOMEM (the
 * window not remembered, so never removed). A file already gone counts as
 * removed; one that cannot be removed is left and forgotten.
 */
int periodic_written(struct periodic *p, char *const *names, size_t n, uint64_t bytes);

#endif
