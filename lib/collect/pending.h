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

/*
 * How the kind adds an interval to its profile: item's time up to end,
 * counted (once: when the wait ends, not at a window's cut), labelled
 * unfinished when the recording ended it. Returns 0 or <0.
 */
typedef int (*pending_add_fn)(struct kind_out *out, const struct pending *item, uint64_t end,
			      bool count, bool unfinished);

struct pending_table {
	pending_add_fn add; /* set by the kind */
	struct pending *items;
	size_t n, cap;
	struct hashmap index;
};

/*
 * What every interval kind does alike, through t->add:
 * pending_begin holds smp's stack and opens its thread's interval (one
 * already open lost its end: dropped and counted); pending_end adds item's
 * interval up to end and closes it; pending_record forgets an exiting
 * thread's interval and, when records were lost, drops every open one
 * (any may have lost its end), counted; pending_flush cuts every open
 * interval at a window's end (the rest goes to the next window) or, final,
 * closes it at the recording's.
 */
int pending_begin(struct pending_table *t, struct kind_out *out, const struct perf_record *smp,
		  int64_t note);
int pending_end(struct pending_table *t, struct kind_out *out, struct pending *item, uint64_t end);
void pending_record(struct pending_table *t, struct kind_out *out, const struct perf_record *rec);
int pending_flush(struct pending_table *t, struct kind_out *out, uint64_t now, bool final);

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
