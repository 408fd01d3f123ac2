/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_VIEWS_DOT_H
#define CPROF_LIB_VIEWS_DOT_H

#include <stddef.h>
#include <stdio.h>

#include "lib/views/stacks.h"

/*
 * A call graph for Graphviz's dot, like pprof's: the nodecount functions
 * with the largest cumulative value, boxes sized by their own value and
 * labelled "name / flat (share) / of cum (share)", and an edge for each
 * caller → callee pair (over hidden frames: dashed), labelled with the
 * value that went through it. Returns 0, -ENOMEM or -EIO.
 */
int dot_write(const struct stacks *st, size_t nodecount, FILE *out);

#endif
