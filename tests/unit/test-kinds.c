/* SPDX-License-Identifier: MIT */
/*
 * The kinds table (lib/collect/kinds.h): the cpu kind's sample types,
 * period and values, as DESIGN.md and pprof's CPU profiles have them.
 */
#include <errno.h>
#include <string.h>

#include "lib/collect/kinds.h"
#include "tests/tap.h"

static bool type_is(const struct profile *p, size_t i, const char *type, const char *unit)
{
	return i < p->ntypes && strcmp(profile_str(p, p->types[i].type), type) == 0 &&
	       strcmp(profile_str(p, p->types[i].unit), unit) == 0;
}

int main(void)
{
	const struct kind *cpu = kind_find("cpu");
	struct profile *p = profile_new(), *q = profile_new();
	struct perf_record smp = {.type = PERF_RECORD_SAMPLE};
	int64_t v[KIND_MAX_VALUES] = {0};
	struct kind_options clock = {.event = sampler_event_find("cpu-clock"), .freq = 999};
	struct kind_options cycles = {.event = sampler_event_find("cycles"), .freq = 999};
	struct sampler_spec specs[KIND_MAX_EVENTS];
	size_t nkinds = 0;

	ok(cpu && cpu == kind_default(), "cpu is a kind, and the default");
	ok(kind_find("nope") == NULL, "an unknown kind is NULL");
	while (kind_at(nkinds))
		nkinds++;
	for (size_t i = 0; i < nkinds; i++) {
		const struct kind *k = kind_at(i);
		int n = k->events(&clock, specs);

		/* Kinds on tracepoints need tracefs, which a unit test may not have. */
		ok(kind_find(k->name) == k && k->description[0] &&
			   ((n >= 1 && n <= KIND_MAX_EVENTS) || n == -ENODEV || n == -EACCES),
		   "%s: found by name, described, opens 1..%d events (%d)", k->name,
		   KIND_MAX_EVENTS, n);
	}
	if (!cpu || !p || !q)
		return tap_done();
	ok(cpu->events(&cycles, specs) == 1 && specs[0].type == PERF_TYPE_HARDWARE &&
		   specs[0].config == PERF_COUNT_HW_CPU_CYCLES && specs[0].freq &&
		   specs[0].rate == 999 && specs[0].stack && !specs[0].raw,
	   "cpu opens the event asked for, 999 times a second, with stacks");
	ok(cpu->setup(p, &clock) == 0 && p->ntypes == 2 && type_is(p, 0, "samples", "count") &&
		   type_is(p, 1, "cpu", "nanoseconds"),
	   "cpu-clock: samples/count and cpu/nanoseconds");
	ok(strcmp(profile_str(p, p->period_type.type), "cpu") == 0 && p->period == 1001001,
	   "the period type is cpu, the period 1e9/999 ns (%lld)", (long long)p->period);
	ok(cpu->setup(q, &cycles) == 0 && type_is(q, 1, "cycles", "count") && q->period == 0,
	   "a counter: its own name and count, no fixed period");
	smp.u.s.period = 1234567;
	cpu->values(&smp, 0, v);
	ok(v[0] == 1 && v[1] == 1234567, "a sample is one sample and its period");
	ok(p->ntypes <= KIND_MAX_VALUES, "within KIND_MAX_VALUES");
	profile_free(p);
	profile_free(q);
	return tap_done();
}
