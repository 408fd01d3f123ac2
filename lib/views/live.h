/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_VIEWS_LIVE_H
#define CPROF_LIB_VIEWS_LIVE_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/views/stacks.h"

/*
 * The table `cprof top` shows: functions by flat and cum, fed one window
 * of stacks at a time, over two spans at once so a key can switch between
 * them: decaying (each window's values count 7/8 as much as the one after
 * it, as perf top decays its entries) and cumulative (everything since the
 * start). Rows per function, or per function within each process or each
 * thread.
 *
 * Memory stays bounded on a busy host: every LIVE_PRUNE_EVERY windows,
 * per-process and per-thread rows whose share has dropped under 1/10,000
 * in both spans are forgotten (processes come and go by the hundred a
 * second there); rows per function are never pruned, so the function
 * grouping's cumulative figures stay exact.
 */

enum live_group {
	LIVE_FUNCTION, /* one row per function */
	LIVE_PROCESS,  /* per function and process (pid) */
	LIVE_THREAD,   /* per function and thread (tid) */
	LIVE_NGROUPS,
};

#define LIVE_DECAY 0.875
#define LIVE_PRUNE_EVERY 64

struct live_row {
	const char *name; /* function; borrowed until live_free */
	char owner[40];	  /* "comm[pid]" or "comm[tid]"; "" for LIVE_FUNCTION */
	double flat, cum;
};

struct live;

/* An empty table; caller owns, free with live_free. NULL when out of memory. */
struct live *live_new(void);

void live_free(struct live *t);

/*
 * Add a window's stacks (built from a profile with cprof's pid, tid, comm
 * and process labels; samples without them count under pid 0): the
 * decaying span decays first. Returns 0 or -ENOMEM.
 */
int live_add(struct live *t, const struct stacks *st);

/*
 * The rows of grouping g over one span, those whose function matches
 * filter (NULL: all), sorted by flat then cum, largest first. *ret (caller
 * frees; the strings are the table's) and *ret_n; *ret_total the span's
 * total over every sample, filtered or not. Returns 0 or -ENOMEM.
 */
int live_rows(const struct live *t, enum live_group g, bool cumulative, const regex_t *filter,
	      struct live_row **ret, size_t *ret_n, double *ret_total);

/* Windows added, and entries kept (for a test of the pruning, and -v). */
size_t live_windows(const struct live *t);
size_t live_entries(const struct live *t);

#endif
