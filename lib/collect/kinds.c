/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "lib/collect/kinds.h"

/*
 * CPU time (or whatever the event counts): samples/count and the event's
 * own value type (cpu/nanoseconds for the clocks, cycles/count…), the
 * second being the period type. For clock events the period is fixed by
 * the frequency; counted events' periods vary in frequency mode, so none.
 */
static int cpu_setup(struct profile *p, const struct sampler_event *event, uint64_t freq)
{
	int r = profile_add_type(p, "samples", "count");

	if (r == 0)
		r = profile_add_type(p, event->value_type, event->value_unit);
	if (r < 0)
		return r;
	profile_set_period(p, p->types[1],
			   strcmp(event->value_unit, "nanoseconds") == 0 && freq
				   ? (int64_t)(1000000000ULL / freq)
				   : 0);
	return 0;
}

static void cpu_values(const struct perf_record *smp, int64_t *ret)
{
	ret[0] = 1;
	ret[1] = (int64_t)smp->u.s.period;
}

static const struct kind kinds[] = {
	{"cpu", "on-CPU time: where the threads ran, sampled by a clock or a counter", cpu_setup,
	 cpu_values},
};

const struct kind *kind_find(const char *name)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i].name, name) == 0)
			return &kinds[i];
	return NULL;
}

const struct kind *kind_default(void)
{
	return &kinds[0];
}
