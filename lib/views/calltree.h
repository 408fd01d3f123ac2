/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_VIEWS_CALLTREE_H
#define CPROF_LIB_VIEWS_CALLTREE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/views/stacks.h"

/*
 * The stacks merged root first into one tree, as a flame graph draws them:
 * each tree node is a frame reached by one path from the root, with the
 * total value of the stacks through it and of those ending in it.
 */

enum calltree_kind {
	CALLTREE_USER,
	CALLTREE_KERNEL,
	CALLTREE_JIT,
	CALLTREE_INLINED,
};

struct calltree_node {
	uint32_t node; /* the stacks node (its name); unused for the root */
	uint32_t parent, first_child, next_sibling; /* indexes, 0 meaning none (0 is the root) */
	uint32_t depth;
	enum calltree_kind kind;
	int64_t value; /* of every stack through here */
	int64_t self;  /* of the stacks ending here */
	int64_t base;  /* --diff-base: the same in the base profile */
};

struct calltree {
	struct calltree_node *nodes; /* nodes[0] is the root, "all" */
	size_t n, cap;
	uint32_t max_depth;
};

/*
 * Merge st into a new tree; with base, also the base stacks (by frame name)
 * into the base values. Returns 0 and *ret (caller owns; free with
 * calltree_free), or -ENOMEM.
 */
int calltree_build(const struct stacks *st, const struct stacks *base, struct calltree **ret);

/* NULL-safe. */
void calltree_free(struct calltree *t);

/* Sort every node's children by value, largest first (for text views). */
void calltree_sort(struct calltree *t);

#endif
