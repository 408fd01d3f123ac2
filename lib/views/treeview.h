/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_VIEWS_TREEVIEW_H
#define CPROF_LIB_VIEWS_TREEVIEW_H

#include <stdio.h>

#include "lib/views/stacks.h"

/*
 * The call tree, root first, one line per path: its cumulative value and
 * share, its own (self) value, and the frame indented by depth; children
 * by value, largest first. Paths under nodefraction of the total are left
 * out. Returns 0, -ENOMEM or -EIO.
 */
int treeview_write(const struct stacks *st, double nodefraction, FILE *out);

#endif
