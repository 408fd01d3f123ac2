/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_VIEWS_TOP_H
#define CPROF_LIB_VIEWS_TOP_H

#include <stdio.h>

#include "lib/views/stacks.h"

/*
 * The `go tool pprof -top` view: one row per function with its flat value
 * (samples where it is the innermost frame) and cumulative value (samples
 * with it anywhere on the stack, counted once however often it recurses),
 * computed and printed as pprof does (see top.c).
 */

struct top_options {
	size_t nodecount;    /* rows at most; 0 for all */
	double nodefraction; /* hide rows whose cum is under this share of the total */
};

/* Write the table of st to out. Returns 0, -ENOMEM, or -EIO when out fails. */
int top_write(const struct stacks *st, const struct top_options *opts, FILE *out);

#endif
