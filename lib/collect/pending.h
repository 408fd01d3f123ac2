/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_COLLECT_PENDING_H
#define CPROF_LIB_COLLECT_PENDING_H

#include <stddef.h>
#include <stdint.h>

#include "lib/base/hash.h"
#include "lib/collect/kinds.h"

/*
 * Intervals opened and not yet closed, one per thread at most: the held
 * stack of the record that opened it, when it started and what the kind
 * noted of it. The off-CPU kinds open one at a switch-out and close it at
 * the thread's next switch-in; mutex at a futex wait's entry and exit.
 */
struct pending {
	int32_t tid;
	uint64_t start; /* when the interval (or its part in this window) started */
	int64_t note;	/* the kind's: a thread state, a futex op */
	struct kind_stack *stack;
};

struct pending_table {
	struct pending *items;
	size_t n, cap;
	struct hashmap index;
};

/* The interval open for tid, or NULL. Borrowed until the table changes. */
struct pending *pending_find(struct pending_table *t, int32_t tid);

/*
 * Open an interval for tid, taking stack. When one was open already (its
 * end was lost), it is dropped and *ret_replaced set. Returns 0 or -ENOMEM
 * (the stack is freed).
 */
int pending_open(struct pending_table *t, int32_t tid, uint64_t start, int64_t note,
		 struct kind_stack *stack, bool *ret_replaced);

/* Forget item (from pending_find or the items array), freeing its stack. */
void pending_close(struct pending_table *t, struct pending *item);

/* Forget every interval; returns how many there were. */
size_t pending_clear(struct pending_table *t);

void pending_release(struct pending_table *t);

#endif
