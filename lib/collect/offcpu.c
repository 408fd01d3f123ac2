/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/collect/kinds.h"
#include "lib/collect/pending.h"
#include "lib/perf/tracefs.h"

/*
 * offcpu (Go's block profile, for every thread) and wall (on-CPU samples
 * and off-CPU intervals together, as async-profiler's wall mode and fgprof
 * show a request's whole life).
 *
 * A thread's time off the CPU is charged to its stack at the moment it was
 * switched out: a sched:sched_switch tracepoint sample, taken in the
 * context of the task going out — its kernel callchain, and its user
 * registers as saved at syscall entry, so the DWARF copy unwinds. The
 * interval ends at the thread's next switch-in, wherever it happens: a
 * PERF_RECORD_SWITCH (or _CPU_WIDE) record of the same event, paired by
 * thread id in time order across CPUs. The thread's state is the
 * tracepoint's prev_state: S sleeping, D disk (uninterruptible), R
 * preempted (kept, and labelled, so a tag filter drops it), I idle kernel
 * threads, T/t stopped.
 *
 * Never silently wrong: a switch-out whose switch-in was lost (the thread
 * switches out again first) is dropped and counted; lost records drop
 * every open interval (any could be missing its end). An interval still
 * open when a window ends is cut there and carried into the next window;
 * one open when the recording ends is closed at its end and labelled
 * unfinished=yes. The idle task (pid 0) going out is a CPU going busy,
 * and dying threads never come back: neither opens an interval.
 */

#define REPORT_S 0x01 /* TASK_INTERRUPTIBLE, as the tracepoint reports states */
#define REPORT_D 0x02
#define REPORT_T 0x04
#define REPORT_TT 0x08
#define REPORT_X 0x10
#define REPORT_Z 0x20
#define REPORT_P 0x40
#define REPORT_I 0x80
#define REPORT_MAX 0x100 /* preempted: "R+" */

struct offcpu {
	bool wall;
	struct tracefs_field prev_state;
	struct pending_table open;
};

/* The state letter of a prev_state value. */
static const char *state_name(int64_t v)
{
	if (v == 0 || v >= REPORT_MAX)
		return "R";
	if (v & REPORT_S)
		return "S";
	if (v & REPORT_D)
		return "D";
	if (v & REPORT_I)
		return "I";
	if (v & REPORT_T)
		return "T";
	if (v & REPORT_TT)
		return "t";
	if (v & REPORT_P)
		return "P";
	return "?";
}

static int switch_event(struct sampler_spec *ret)
{
	uint64_t id;
	int r = tracefs_event_id("sched", "sched_switch", &id);

	if (r < 0)
		return r;
	*ret = (struct sampler_spec){
		.type = PERF_TYPE_TRACEPOINT,
		.config = id,
		.rate = 1,
		.stack = true,
		.raw = true,
		.context_switch = true,
		/* The idle task going out: a CPU becoming busy, not a thread waiting. */
		.filter = "prev_pid != 0",
	};
	return 1;
}

static int offcpu_events(const struct kind_options *o, struct sampler_spec *ret)
{
	(void)o;
	return switch_event(ret);
}

/* wall: the CPU samples (cpu-clock at -F), then the switches. */
static int wall_events(const struct kind_options *o, struct sampler_spec *ret)
{
	int r;

	ret[0] = (struct sampler_spec){
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.rate = o->freq,
		.freq = true,
		.stack = true,
	};
	r = switch_event(&ret[1]);
	return r < 0 ? r : 2;
}

static int offcpu_setup(struct profile *p, const struct kind_options *o)
{
	int r = profile_add_type(p, "switches", "count");

	(void)o;
	if (r == 0)
		r = profile_add_type(p, "offcpu", "nanoseconds");
	if (r == 0)
		profile_set_period(p, p->types[1], 0);
	return r;
}

static int wall_setup(struct profile *p, const struct kind_options *o)
{
	int r = profile_add_type(p, "samples", "count");

	(void)o;
	if (r == 0)
		r = profile_add_type(p, "wall", "nanoseconds");
	if (r == 0)
		profile_set_period(p, p->types[1], 0);
	return r;
}

/* Add the interval of item up to end: count it (once, when it closes) and label it. */
static int add_interval(struct kind_out *out, const struct pending *item, uint64_t end, bool count,
			bool unfinished)
{
	struct kind_label l[2] = {
		{.key = "state", .str = state_name(item->note)},
		{.key = "unfinished", .str = "yes"},
	};
	int64_t v[2] = {count, end > item->start ? (int64_t)(end - item->start) : 0};

	return kind_out_add_held(out, item->stack, v, l, unfinished ? 2 : 1);
}

static int state_new(bool wall, void **ret)
{
	struct offcpu *k = calloc(1, sizeof(*k));
	int r;

	if (!k)
		return -ENOMEM;
	k->wall = wall;
	k->open.add = add_interval;
	r = tracefs_field("sched", "sched_switch", "prev_state", &k->prev_state);
	if (r < 0) {
		free(k);
		return r;
	}
	*ret = k;
	return 0;
}

static int offcpu_new(const struct kind_options *o, void **ret)
{
	(void)o;
	return state_new(false, ret);
}

static int wall_new(const struct kind_options *o, void **ret)
{
	(void)o;
	return state_new(true, ret);
}

static void offcpu_free(void *state)
{
	struct offcpu *k = state;

	pending_release(&k->open);
	free(k);
}

static int offcpu_sample(void *state, struct kind_out *out, const struct perf_record *smp, size_t i)
{
	struct offcpu *k = state;
	int64_t prev;

	if (k->wall && i == 0) {
		/* On the CPU: the clock's period, in the running state. */
		int64_t v[2] = {1, (int64_t)smp->u.s.period};
		struct kind_label l = {.key = "state", .str = "running"};

		return kind_out_add(out, smp, v, &l, 1);
	}
	prev = tracefs_read(&k->prev_state, smp->u.s.raw, smp->u.s.raw_size);
	if (smp->pid <= 0 || smp->tid <= 0 || (prev & (REPORT_X | REPORT_Z) && prev < REPORT_MAX))
		return 0;
	return pending_begin(&k->open, out, smp, prev);
}

static int offcpu_record(void *state, struct kind_out *out, const struct perf_record *rec)
{
	struct offcpu *k = state;
	struct pending *item;

	/* A switch-in ends its thread's interval: the record's thread is the one coming in. */
	if ((rec->type == PERF_RECORD_SWITCH || rec->type == PERF_RECORD_SWITCH_CPU_WIDE) &&
	    !(rec->misc & PERF_RECORD_MISC_SWITCH_OUT)) {
		item = pending_find(&k->open, rec->tid);
		return item ? pending_end(&k->open, out, item, rec->time) : 0;
	}
	pending_record(&k->open, out, rec);
	return 0;
}

static int offcpu_flush(void *state, struct kind_out *out, uint64_t now, bool final)
{
	return pending_flush(&((struct offcpu *)state)->open, out, now, final);
}

const struct kind kind_offcpu = {
	.name = "offcpu",
	.description = "off-CPU time: where threads waited (sleep, I/O, locks, preemption), "
		       "from context switches",
	.events = offcpu_events,
	.setup = offcpu_setup,
	.state_new = offcpu_new,
	.state_free = offcpu_free,
	.sample = offcpu_sample,
	.record = offcpu_record,
	.flush = offcpu_flush,
};

const struct kind kind_wall = {
	.name = "wall",
	.description = "wall-clock time: on-CPU samples and off-CPU intervals together, per thread",
	.events = wall_events,
	.setup = wall_setup,
	.state_new = wall_new,
	.state_free = offcpu_free,
	.sample = offcpu_sample,
	.record = offcpu_record,
	.flush = offcpu_flush,
};
