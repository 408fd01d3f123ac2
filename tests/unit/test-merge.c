/* SPDX-License-Identifier: MIT */
/* The time-ordered merge: FINISHED_ROUND semantics and stable order. */
#include <string.h>

#include <linux/perf_event.h>

#include "lib/perf/merge.h"
#include "tests/tap.h"

struct rec {
	struct perf_event_header h;
	uint64_t time;
	uint64_t tag;
};

static uint64_t seen[64];
static size_t nseen;

static int collect(void *ctx, const struct perf_event_header *h)
{
	const struct rec *r = (const struct rec *)(const void *)h;

	(void)ctx;
	seen[nseen++] = r->tag;
	return 0;
}

static void push(struct merge *m, uint64_t time, uint64_t tag)
{
	struct rec r = {{PERF_RECORD_SAMPLE, 0, sizeof(r)}, time, tag};

	(void)merge_push(m, &r.h, time);
}

/* Releases by owner: each record queued by reference is let go of once, after its delivery. */
static struct rec recs[4];
static int releases[4];
static size_t nseen_at_release[4];

static void release(void *ctx, void *owner)
{
	size_t i = (size_t)((const struct rec *)owner - recs);

	(void)ctx;
	releases[i]++;
	nseen_at_release[i] = nseen;
}

static int stop_at_two(void *ctx, const struct perf_event_header *h)
{
	(void)h;
	return ++*(int *)ctx == 2 ? -5 : 0;
}

int main(void)
{
	struct merge *m = merge_new(NULL, NULL);
	int calls = 0;

	/* Pass 1: CPU 0 gives times 10, 30; CPU 1 gives 20, 40. */
	push(m, 10, 1);
	push(m, 30, 3);
	push(m, 20, 2);
	push(m, 40, 4);
	ok(merge_round(m, collect, NULL) == 0 && nseen == 0,
	   "nothing is delivered after the first pass: a later pass may still hold older records");

	/* Pass 2: both CPUs wrote more after we read them. */
	push(m, 45, 5);
	push(m, 50, 6);
	ok(merge_round(m, collect, NULL) == 0, "second pass");
	ok(nseen == 4 && seen[0] == 1 && seen[1] == 2 && seen[2] == 3 && seen[3] == 4,
	   "records up to the first pass's newest come out, in time order");
	ok(merge_pending(m) == 2, "newer records wait");

	push(m, 50, 7);
	ok(merge_flush(m, collect, NULL) == 0, "flush at the end");
	ok(nseen == 7 && seen[4] == 5 && seen[5] == 6 && seen[6] == 7,
	   "equal times keep arrival order");
	ok(merge_pending(m) == 0, "the queue is empty after a flush");

	push(m, 1, 1);
	push(m, 2, 2);
	push(m, 3, 3);
	ok(merge_flush(m, stop_at_two, &calls) == -5 && calls == 2,
	   "a callback error stops the flush");
	ok(merge_pending(m) == 1, "records after the error stay queued, none is lost or doubled");
	merge_free(m);

	/* Records written in place (merge_alloc) mix with copied ones, in time order. */
	m = merge_new(NULL, NULL);
	nseen = 0;
	push(m, 30, 3);
	for (uint64_t t = 10; t <= 20; t += 10) {
		struct rec *r = merge_alloc(m, sizeof(*r), t);

		if (r)
			*r = (struct rec){{PERF_RECORD_SAMPLE, 0, sizeof(*r)}, t, t / 10};
	}
	ok(merge_flush(m, collect, NULL) == 0 && nseen == 3 && seen[0] == 1 && seen[1] == 2 &&
		   seen[2] == 3,
	   "records written in place come out with their contents, in time order");
	merge_free(m);

	/* By reference: no copy, and each owner told once its record is out (or dropped). */
	{
		m = merge_new(release, NULL);
		nseen = 0;
		for (uint64_t i = 0; i < 4; i++) {
			recs[i] = (struct rec){
				{PERF_RECORD_SAMPLE, 0, sizeof(recs[i])}, 40 - 10 * i, 100 + i};
			ok(merge_push_ref(m, &recs[i].h, recs[i].time, &recs[i]) == 0,
			   "by reference %u", (unsigned)i);
		}
		ok(merge_round(m, collect, NULL) == 0 && nseen == 0 && releases[0] == 0,
		   "nothing is let go of while it waits");
		for (uint64_t i = 0; i < 4; i++)
			recs[i].tag =
				i; /* the merge reads the records themselves when it delivers */
		push(m, 45, 9);
		ok(merge_round(m, collect, NULL) == 0 && nseen == 4 && seen[0] == 3 &&
			   seen[1] == 2 && seen[2] == 1 && seen[3] == 0,
		   "records queued by reference come out in time order");
		ok(releases[0] == 1 && releases[1] == 1 && releases[2] == 1 && releases[3] == 1 &&
			   nseen_at_release[3] == 1 && nseen_at_release[0] == 4,
		   "each owner is let go of once, right after its record was delivered");
		recs[0].time = 50;
		ok(merge_push_ref(m, &recs[0].h, 50, &recs[0]) == 0, "one more by reference");
		merge_free(m);
		ok(releases[0] == 2, "merge_free lets go of what it still holds");
	}
	return tap_done();
}
