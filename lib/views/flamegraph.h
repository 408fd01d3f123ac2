/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_VIEWS_FLAMEGRAPH_H
#define CPROF_LIB_VIEWS_FLAMEGRAPH_H

#include <stdbool.h>
#include <stdio.h>

#include "lib/views/stacks.h"

/*
 * A self-contained interactive SVG flame graph: no network, no external
 * script. Click a frame to zoom into it (Reset Zoom to go back), Search to
 * highlight frames matching a regular expression with the share they
 * cover, hover for name, value and share. Colors tell frames apart by kind:
 * user code warm reds and yellows, kernel orange, JIT green, inlined aqua.
 * With base (--diff-base) frames are colored by their change instead: red
 * grew, blue shrank, as shares of each profile's total.
 * The page also obeys "#zoom=NAME" and "#search=REGEX" in its URL.
 */
struct flamegraph_options {
	const char *title;
	bool icicle;		   /* root at the top instead of the bottom */
	const struct stacks *base; /* for a differential flame graph, or NULL */
};

/* Returns 0, -ENOMEM or -EIO. */
int flamegraph_write(const struct stacks *st, const struct flamegraph_options *o, FILE *out);

#endif
