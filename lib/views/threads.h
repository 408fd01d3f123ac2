/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_VIEWS_THREADS_H
#define CPROF_LIB_VIEWS_THREADS_H

#include <stdio.h>

#include "lib/views/stacks.h"

/*
 * A snapshot's threads as Go prints goroutines, for any profile:
 *
 * threads_write_summary, as goroutine?debug=1: "threads profile: total N",
 * then each distinct stack with how many threads share it, most first:
 *
 *	3 @ 0x401196 0x4011f0 0x7f0c2a694fd4
 *	# labels: {"comm":"reader", "state":"S", "syscall":"read"}
 *	#	0x401196	read_site+0x26	/src/waits.c:210
 *
 * (labels: those every thread of the stack shares, but pid and tid).
 *
 * threads_write_each, as goroutine?debug=2: every thread, its state and
 * its whole stack, by process and thread id:
 *
 *	thread 1236 "reader" [S, read, wchan pipe_read] of process 1234 "waits":
 *	read_site()
 *		/src/waits.c:210 +0x26
 */
int threads_write_summary(const struct stacks *st, FILE *out);
int threads_write_each(const struct stacks *st, FILE *out);

#endif
