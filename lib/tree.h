/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_TREE_H
#define CPROF_LIB_TREE_H

#include <stdio.h>

#include "lib/stacks.h"

/*
 * The call tree, root first, one line per path: its cumulative value and
 * share, its own (self) value, and the frame indented by depth; children
 * by value, largest first. Paths under nodefraction of the total are left
 * out. Returns 0, -ENOMEM or -EIO.
 */
int tree_write(const struct stacks *st, double nodefraction, FILE *out);

#endif
