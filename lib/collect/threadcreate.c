/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>

#include "lib/collect/kinds.h"
#include "lib/perf/tracefs.h"

/*
 * threadcreate (Go's, which has been broken in Go itself since 2013): the
 * stack of every thread and process creation, exact counts. The stack is
 * the parent's, from a sched:sched_process_fork tracepoint sample taken in
 * the parent right after the clone; whether the child is a thread or a
 * process comes from the PERF_RECORD_FORK the kernel wrote just before it
 * (a child in its parent's thread group is a thread), remembered for the
 * few records in between.
 */

#define RECENT 256 /* forks remembered until their tracepoint sample: a ring */

struct threadcreate {
	struct tracefs_field child_pid;
	struct {
		int32_t tid;
		bool thread;
	} recent[RECENT];
	size_t next;
};

static int threadcreate_events(const struct kind_options *o, struct sampler_spec *ret)
{
	uint64_t id;
	int r = tracefs_event_id("sched", "sched_process_fork", &id);

	(void)o;
	if (r < 0)
		return r;
	ret[0] = (struct sampler_spec){
		.type = PERF_TYPE_TRACEPOINT,
		.config = id,
		.rate = 1,
		.stack = true,
		.raw = true,
	};
	return 1;
}

static int threadcreate_setup(struct profile *p, const struct kind_options *o)
{
	(void)o;
	return profile_add_type(p, "threadcreate", "count");
}

static int threadcreate_new(const struct kind_options *o, void **ret)
{
	struct threadcreate *k = calloc(1, sizeof(*k));
	int r;

	(void)o;
	if (!k)
		return -ENOMEM;
	r = tracefs_field("sched", "sched_process_fork", "child_pid", &k->child_pid);
	if (r < 0) {
		free(k);
		return r;
	}
	*ret = k;
	return 0;
}

static void threadcreate_free(void *state)
{
	free(state);
}

static int threadcreate_record(void *state, struct kind_out *out, const struct perf_record *rec)
{
	struct threadcreate *k = state;

	(void)out;
	if (rec->type != PERF_RECORD_FORK)
		return 0;
	k->recent[k->next].tid = rec->tid;
	k->recent[k->next].thread = rec->pid == rec->u.task.ppid;
	k->next = (k->next + 1) % RECENT;
	return 0;
}

static int threadcreate_sample(void *state, struct kind_out *out, const struct perf_record *smp,
			       size_t i)
{
	struct threadcreate *k = state;
	int64_t child = tracefs_read(&k->child_pid, smp->u.s.raw, smp->u.s.raw_size);
	struct kind_label l = {.key = "created", .str = "unknown"};
	int64_t one = 1;

	(void)i;
	/* The newest first: a recycled tid's latest fork is this one. */
	for (size_t j = 1; j <= RECENT; j++) {
		size_t at = (k->next + RECENT - j) % RECENT;

		if (k->recent[at].tid == child && child > 0) {
			l.str = k->recent[at].thread ? "thread" : "process";
			break;
		}
	}
	return kind_out_add(out, smp, &one, &l, 1);
}

const struct kind kind_threadcreate = {
	.name = "threadcreate",
	.description = "thread and process creation: the creating stack, exact counts",
	.events = threadcreate_events,
	.setup = threadcreate_setup,
	.state_new = threadcreate_new,
	.state_free = threadcreate_free,
	.sample = threadcreate_sample,
	.record = threadcreate_record,
};
