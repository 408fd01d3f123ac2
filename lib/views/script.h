/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_VIEWS_SCRIPT_H
#define CPROF_LIB_VIEWS_SCRIPT_H

#include <stdio.h>

#include "lib/views/stacks.h"

/*
 * The text `perf script -F comm,pid,tid,cpu,time,period,event,ip,sym,symoff,dso`
 * prints for a sampled event with a callchain, so that stackcollapse-perf.pl,
 * speedscope and the Firefox Profiler read it as they read perf's:
 *
 *	comm PID/TID [CPU] SECS.USECS:     PERIOD EVENT:
 *		<16-wide hex address> symbol+0xoff (dso)
 *		<address> inlined_function (inlined)
 *	<blank line>
 *
 * Samples recorded with their own time and CPU ("time" and "cpu" labels,
 * `record --format=perf-script`) are printed one by one in time order. An
 * aggregated profile prints each sample as many times as it was counted
 * (its samples/count value), with times spread over the profile's duration.
 * User addresses are relative to their mapping, as perf prints them.
 * Returns 0 or -EIO / -ENOMEM.
 */
int script_write(const struct stacks *st, FILE *out);

#endif
