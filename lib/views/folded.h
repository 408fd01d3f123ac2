/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_VIEWS_FOLDED_H
#define CPROF_LIB_VIEWS_FOLDED_H

#include <stdio.h>

#include "lib/views/stacks.h"

/*
 * Folded stacks, the input of flamegraph.pl, inferno and speedscope: one
 * line per distinct stack, "root;caller;…;leaf VALUE", sorted. A ';' inside
 * a name becomes ':', as stackcollapse-perf.pl does. Returns 0, -ENOMEM or -EIO.
 */
int folded_write(const struct stacks *st, FILE *out);

#endif
