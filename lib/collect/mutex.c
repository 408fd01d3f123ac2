/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/collect/kinds.h"
#include "lib/collect/pending.h"
#include "lib/perf/tracefs.h"

/*
 * mutex (Go's mutex and block semantics for native locks): time spent
 * waiting in the kernel for a futex — FUTEX_WAIT, WAIT_BITSET, LOCK_PI,
 * LOCK_PI2, WAIT_REQUEUE_PI, futex_waitv and futex2's futex_wait — each
 * wait charged to the waiter's user stack at the syscall
 * (pthread_mutex_lock ← its caller), `contentions/count` and
 * `delay/nanoseconds` as Go's. An uncontended lock never enters the
 * kernel, so every sample is a contention, as in Go's profile.
 *
 * The waits come from the syscalls tracepoints: an entry opens an
 * interval for its thread (with the user stack, unwound then), the
 * thread's exit from the same syscall closes it. Entries of other futex
 * operations (wakes, requeues) are filtered out in the kernel where it
 * accepts the filter, and here in any case. Kernel-internal lock
 * contention (lock:contention_begin/end) is left to a kind of its own: its
 * waiters are kernel code paths, not an application's locks.
 */

#define FUTEX_CMD_MASK 0x7f
#define FUTEX_WAIT 0
#define FUTEX_LOCK_PI 6
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAIT_REQUEUE_PI 11
#define FUTEX_LOCK_PI2 13

/* The wait operations, with and without FUTEX_PRIVATE_FLAG (128) and FUTEX_CLOCK_REALTIME (256). */
static const char filter[] = "op == 0 || op == 128 || op == 256 || op == 384 || "
			     "op == 6 || op == 134 || op == 262 || op == 390 || "
			     "op == 9 || op == 137 || op == 265 || op == 393 || "
			     "op == 11 || op == 139 || op == 267 || op == 395 || "
			     "op == 13 || op == 141 || op == 269 || op == 397";

/* The syscalls that wait, by their tracepoints' names; the first has an op to check. */
static const char *const waits[] = {"futex", "futex_waitv", "futex_wait"};

struct mutex_kind {
	struct tracefs_field op;
	struct pending_table open;
};

static int mutex_events(const struct kind_options *o, struct sampler_spec *ret)
{
	int n = 0;

	(void)o;
	for (size_t i = 0; i < sizeof(waits) / sizeof(waits[0]); i++) {
		char enter[32], exit_[32];
		uint64_t in, out;
		int r;

		(void)snprintf(enter, sizeof(enter), "sys_enter_%s", waits[i]);
		(void)snprintf(exit_, sizeof(exit_), "sys_exit_%s", waits[i]);
		r = tracefs_event_id("syscalls", enter, &in);
		if (r == 0)
			r = tracefs_event_id("syscalls", exit_, &out);
		/* futex_waitv came in 5.16, futex_wait in 6.7: older kernels lack them. */
		if (r == -ENOENT && i > 0)
			continue;
		if (r < 0)
			return r;
		ret[n++] = (struct sampler_spec){
			.type = PERF_TYPE_TRACEPOINT,
			.config = in,
			.rate = 1,
			.stack = true,
			.user_stack = true,
			.raw = i == 0,
			.filter = i == 0 ? filter : NULL,
		};
		ret[n++] = (struct sampler_spec){
			.type = PERF_TYPE_TRACEPOINT, .config = out, .rate = 1};
	}
	return n;
}

static int mutex_setup(struct profile *p, const struct kind_options *o)
{
	int r = profile_add_type(p, "contentions", "count");

	(void)o;
	if (r == 0)
		r = profile_add_type(p, "delay", "nanoseconds");
	if (r == 0)
		profile_set_period(p, p->types[0], 1);
	return r;
}

/* A wait's delay up to end; counted when it ends, labelled unfinished when the recording ended it.
 */
static int add_wait(struct kind_out *out, const struct pending *item, uint64_t end, bool count,
		    bool unfinished)
{
	struct kind_label l = {.key = "unfinished", .str = "yes"};
	int64_t v[2] = {count, end > item->start ? (int64_t)(end - item->start) : 0};

	return kind_out_add_held(out, item->stack, v, &l, unfinished);
}

static int mutex_new(const struct kind_options *o, void **ret)
{
	struct mutex_kind *k = calloc(1, sizeof(*k));
	int r;

	(void)o;
	if (!k)
		return -ENOMEM;
	k->open.add = add_wait;
	r = tracefs_field("syscalls", "sys_enter_futex", "op", &k->op);
	if (r < 0) {
		free(k);
		return r;
	}
	*ret = k;
	return 0;
}

static void mutex_free(void *state)
{
	struct mutex_kind *k = state;

	pending_release(&k->open);
	free(k);
}

static bool is_wait(int64_t op)
{
	switch (op & FUTEX_CMD_MASK) {
	case FUTEX_WAIT:
	case FUTEX_LOCK_PI:
	case FUTEX_WAIT_BITSET:
	case FUTEX_WAIT_REQUEUE_PI:
	case FUTEX_LOCK_PI2:
		return true;
	default:
		return false;
	}
}

static int mutex_sample(void *state, struct kind_out *out, const struct perf_record *smp, size_t i)
{
	struct mutex_kind *k = state;
	struct pending *item;

	if (i % 2 == 0) {
		/* An entry: futex(2) only when its op waits; the others always do. */
		if (i == 0 && !is_wait(tracefs_read(&k->op, smp->u.s.raw, smp->u.s.raw_size)))
			return 0;
		return pending_begin(&k->open, out, smp, (int64_t)i);
	}
	/* An exit: of the syscall this thread entered, or of one we did not watch. */
	item = pending_find(&k->open, smp->tid);
	return item && item->note == (int64_t)i - 1 ? pending_end(&k->open, out, item, smp->time)
						    : 0;
}

static int mutex_record(void *state, struct kind_out *out, const struct perf_record *rec)
{
	pending_record(&((struct mutex_kind *)state)->open, out, rec);
	return 0;
}

/*
 * A window's end: waits still in progress are charged their time so far
 * (counted when they end); the recording's end closes them, counted, and
 * labelled unfinished.
 */
static int mutex_flush(void *state, struct kind_out *out, uint64_t now, bool final)
{
	return pending_flush(&((struct mutex_kind *)state)->open, out, now, final);
}

const struct kind kind_mutex = {
	.name = "mutex",
	.description = "lock contention: time threads waited in futex waits, by waiting stack",
	.events = mutex_events,
	.setup = mutex_setup,
	.state_new = mutex_new,
	.state_free = mutex_free,
	.sample = mutex_sample,
	.record = mutex_record,
	.flush = mutex_flush,
};
