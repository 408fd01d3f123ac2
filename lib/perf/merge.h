/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_PERF_MERGE_H
#define CPROF_LIB_PERF_MERGE_H

#include <stddef.h>
#include <stdint.h>

#include <linux/perf_event.h>

/*
 * The time-ordered merge of records from every ring. Each ring is in time
 * order on its own, but an MMAP2 on one CPU must reach the process model
 * before a sample taken after it on another. Records are queued as they
 * are read — by reference where their memory outlives the wait (the
 * reader's batches: a copy per record was a fifth of the session's CPU on a
 * CPython profile), or copied in. At the end of each pass over all rings,
 * the ones older than everything the previous pass saw are handed out in
 * time order (perf's
 * FINISHED_ROUND rule: a record not read by the end of pass N was written
 * after pass N started, so after every record of pass N-1).
 */
struct merge;

/* Called with each record in time order; a negative return stops the flush. */
typedef int (*merge_fn)(void *ctx, const struct perf_event_header *rec);

/*
 * Called with the owner of each record queued by reference once it has been
 * delivered, or dropped by merge_free: its memory may go then.
 */
typedef void (*merge_release_fn)(void *ctx, void *owner);

/*
 * Caller owns; free with merge_free. release (NULL when nothing is queued by
 * reference) is called with ctx. NULL when out of memory.
 */
struct merge *merge_new(merge_release_fn release, void *ctx);

/* Free the merge and any records still queued. NULL-safe. */
void merge_free(struct merge *m);

/* Queue a copy of rec stamped time. Returns 0 or -ENOMEM. */
int merge_push(struct merge *m, const struct perf_event_header *rec, uint64_t time);

/*
 * Queue rec itself, stamped time: it stays valid until the merge hands
 * owner (not NULL) to its release function. Returns 0 or -ENOMEM.
 */
int merge_push_ref(struct merge *m, const struct perf_event_header *rec, uint64_t time,
		   void *owner);

/*
 * Queue a record of size bytes (8-aligned) stamped time that the caller
 * writes at the address returned, header first, before the next call:
 * a record rewritten on the way in costs one copy, not two. NULL when out
 * of memory.
 */
void *merge_alloc(struct merge *m, size_t size, uint64_t time);

/*
 * End a pass over the rings: deliver what is now safe to deliver.
 * Returns 0 or the first negative value fn returned.
 */
int merge_round(struct merge *m, merge_fn fn, void *ctx);

/* Deliver everything still queued, in time order (at the end of recording). */
int merge_flush(struct merge *m, merge_fn fn, void *ctx);

/* Records waiting in the queue. */
size_t merge_pending(const struct merge *m);

#endif
