/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_TOP_H
#define CPROF_LIB_TOP_H

#include <stdio.h>

#include "lib/profile.h"

/*
 * The `go tool pprof -top` view: one row per function with its flat value
 * (samples where it is the innermost frame) and cumulative value (samples
 * with it anywhere on the stack, counted once however often it recurses),
 * computed and printed as pprof does (see top.c).
 */

struct top_options {
	int sample_index; /* which value to show; see top_sample_index */
	size_t nodecount; /* rows at most; 0 for all */
	double nodefraction; /* hide rows whose cum is at most this share of the total */
};

/*
 * Resolve a --sample-index argument: NULL for the default (the profile's
 * default_sample_type, else the last type, as pprof does), a type name, or
 * a number. Returns the index or -EINVAL.
 */
int top_sample_index(const struct profile *p, const char *arg);

/* Write the table to out. Returns 0, -ENOMEM, or -EIO when out fails. */
int top_write(const struct profile *p, const struct top_options *opts, FILE *out);

#endif
