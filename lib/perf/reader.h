/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_PERF_READER_H
#define CPROF_LIB_PERF_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/perf_event.h>

/*
 * The rings, read on a thread of their own. Unwinding and symbolizing a
 * burst of samples (a new binary, a cold cache, a storm of short-lived
 * processes) can take the session's thread hundreds of milliseconds, while
 * a ring holding ~130 DWARF samples overflows in a tenth of a second: so
 * the reader only copies records out — a sample's stack copy cut to the
 * bytes the kernel filled, often a few hundred of 16 KiB — into batches,
 * one per pass over every ring (a merge round, lib/perf/merge.h), and queues
 * them for the session. The queue is bounded in bytes: past the bound the
 * reader stops reading and the kernel counts what it drops, so memory
 * stays bounded however far behind the session falls.
 *
 *	reader_new(sampler, &cfg, &r);		the thread starts polling
 *	while (...)
 *		reader_take(r, 100, fn, ctx, &hup);	records in ring order, a round per batch
 *	reader_stop(r);				a last pass after the events are disabled
 *	reader_take(r, 0, fn, ctx, &hup);	what that pass read
 *	reader_free(r);
 */
struct reader;
struct sampler;

struct reader_config {
	size_t max_queued; /* bytes queued at most; 0 for the default, 64 MiB */
};

/* A pass's records, in the reader's memory. */
struct reader_batch;

/*
 * Called for each record taken, in the order read (each ring's own order,
 * rings one after another), with the batch holding it, and with rec and
 * batch NULL at the end of each pass. rec is valid until fn returns, or
 * while fn's hold on the batch lasts. A negative return stops the take and
 * is returned.
 */
typedef int (*reader_fn)(void *ctx, const struct perf_event_header *rec,
			 struct reader_batch *batch);

/*
 * Keep b's records valid past the take (the session's thread only), until
 * a matching reader_release: the time-ordered merge queues them without
 * copying.
 */
void reader_hold(struct reader_batch *b);

/* End a hold on b; the last one gives its memory back to the reader. */
void reader_release(struct reader *r, struct reader_batch *b);

/*
 * Start reading the sampler's rings (borrowed: free the reader first).
 * Returns 0 and *ret (caller owns; free with reader_free), or -errno.
 */
int reader_new(struct sampler *s, const struct reader_config *cfg, struct reader **ret);

/*
 * Wait up to timeout_ms for at least one pass's records, then hand every
 * pass read so far to fn. *ret_hup is set once every ring's events have
 * lost their tasks (all targets exited). Returns 0 or fn's negative value.
 */
int reader_take(struct reader *r, int timeout_ms, reader_fn fn, void *ctx, bool *ret_hup);

/*
 * Wait for a pass that began after this call: every record written before
 * it is queued when it returns (even past the queue's bound). With the
 * events disabled first, the rings are then empty.
 */
void reader_sync(struct reader *r);

/* Make a last pass over the rings (disable the events first) and end the thread. */
void reader_stop(struct reader *r);

/* Stop if still running, and free what is queued. NULL-safe. */
void reader_free(struct reader *r);

struct reader_stats {
	uint64_t corrupt;     /* ring reads ended by an impossible record */
	size_t peak_queued;   /* the most bytes waiting for the session at once */
	uint64_t full_passes; /* passes skipped because the queue was full */
	bool realtime;	      /* the reader ran SCHED_FIFO (allowed to) */
};

/* After reader_stop. */
void reader_get_stats(const struct reader *r, struct reader_stats *ret);

#endif
