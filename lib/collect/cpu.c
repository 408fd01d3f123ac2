/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "lib/collect/kinds.h"

/*
 * The cpu kind: where threads run, sampled by a clock (cpu-clock) or a
 * counter (-e cycles, page-faults…) in frequency mode, as perf record
 * samples; with -c, or a tracepoint (-e sched:sched_wakeup), every Nth
 * event (every one by default), the value type the event's own name. Values samples/count and the
 * event's own value type (cpu/nanoseconds for the clocks, cycles/count…), the second being the
 * period type. For clock events the period is fixed by the frequency;
 * counted events' periods vary in frequency mode, so none.
 */

static int cpu_events(const struct kind_options *o, struct sampler_spec *ret)
{
	/* Tracepoints count every event unless -c says otherwise, as perf record does. */
	bool by_count = o->count || o->event->every;
	int n = 0;

	/*
	 * A probe is not inherited (sampler_spec.no_inherit): an event that
	 * never fires is, for the records of what the targets create.
	 */
	if (o->event->probe)
		ret[n++] = (struct sampler_spec){
			.type = PERF_TYPE_SOFTWARE, .config = PERF_COUNT_SW_DUMMY, .rate = 1};
	ret[n++] = (struct sampler_spec){
		.type = o->event->type,
		.config = o->event->config,
		.config1 = o->event->config1,
		.config2 = o->event->config2,
		.rate = by_count ? (o->count ? o->count : 1) : o->freq,
		.freq = !by_count,
		.stack = true,
		/* A kprobe traps in every task: one event per CPU costs nothing more. */
		.cpu_wide = o->event->kernel_probe,
		.no_inherit = o->event->probe && !o->event->kernel_probe,
	};
	return n;
}

static int cpu_setup(struct profile *p, const struct kind_options *o)
{
	int r = profile_add_type(p, "samples", "count");

	if (r == 0)
		r = profile_add_type(p, o->event->value_type, o->event->value_unit);
	if (r < 0)
		return r;
	profile_set_period(p, p->types[1],
			   strcmp(o->event->value_unit, "nanoseconds") == 0 && o->freq && !o->count
				   ? (int64_t)(1000000000ULL / o->freq)
				   : 0);
	return 0;
}

static void cpu_values(const struct perf_record *smp, size_t i, int64_t *ret)
{
	(void)i;
	ret[0] = 1;
	ret[1] = (int64_t)smp->u.s.period;
}

const struct kind kind_cpu = {
	.name = "cpu",
	.description = "on-CPU time: where the threads ran, sampled by a clock or a counter",
	.events = cpu_events,
	.setup = cpu_setup,
	.values = cpu_values,
};
