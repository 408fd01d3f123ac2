/* SPDX-License-Identifier: MIT */
#ifndef CPROF_CMD_SNAPSHOT_H
#define CPROF_CMD_SNAPSHOT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/profile/profile.h"

/* What cprof snapshot and serve's /threads take: processes, how often, how much stack. */
struct snapshot_run {
	const int32_t *pids; /* processes (not threads) */
	size_t npids;
	bool all; /* every process but cprof, instead of pids */
	uint64_t repeat, interval_ns;
	uint64_t max_stack;
	volatile sig_atomic_t *stop; /* non-zero (a signal): take no more snapshots; NULL: none */
};

/* What the snapshots met, for the summary. */
struct snapshot_tally {
	uint64_t snapshots;
	size_t threads, processes, vanished, refused, gone, stops;
	int64_t stopped_max_ns, stopped_sum_ns;
};

/*
 * Take run's snapshots into one symbolized threads profile: *ret (the
 * caller frees it with profile_free), argv the command line for its
 * comments. A -p process that cannot be taken at the first snapshot
 * fails the run; later, and under -a, such processes are counted. Returns
 * 0, or a negative errno with why (one line, what to do) unless it was
 * said already.
 */
int snapshot_collect(const struct snapshot_run *run, int argc, char **argv, struct profile **ret,
		     struct snapshot_tally *tl, char *why, size_t why_size);

#endif
