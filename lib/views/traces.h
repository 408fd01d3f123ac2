/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_VIEWS_TRACES_H
#define CPROF_LIB_VIEWS_TRACES_H

#include <stdio.h>

#include "lib/views/stacks.h"

/*
 * The `go tool pprof -traces` view: a header describing the profile, then
 * every sample's labels, value and frames (leaf first, inlined ones marked
 * "(inline)") between separator lines, in the profile's own order.
 * Returns 0 or -EIO when out fails.
 */
int traces_write(const struct stacks *st, FILE *out);

/* The header lines pprof prints above a report (File:, Build ID:, comments, Type:, …). */
void traces_header(const struct stacks *st, FILE *out);

#endif
