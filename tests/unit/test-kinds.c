/* SPDX-License-Identifier: MIT */
/*
 * The kinds table (lib/collect/kinds.h): the cpu kind's sample types,
 * period and values, as DESIGN.md and pprof's CPU profiles have them.
 */
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

	ok(cpu && cpu == kind_default(), "cpu is a kind, and the default");
	ok(kind_find("nope") == NULL, "an unknown kind is NULL");
	if (!cpu || !p || !q)
		return tap_done();
	ok(cpu->setup(p, sampler_event_find("cpu-clock"), 999) == 0 && p->ntypes == 2 &&
		   type_is(p, 0, "samples", "count") && type_is(p, 1, "cpu", "nanoseconds"),
	   "cpu-clock: samples/count and cpu/nanoseconds");
	ok(strcmp(profile_str(p, p->period_type.type), "cpu") == 0 && p->period == 1001001,
	   "the period type is cpu, the period 1e9/999 ns (%lld)", (long long)p->period);
	ok(cpu->setup(q, sampler_event_find("cycles"), 999) == 0 &&
		   type_is(q, 1, "cycles", "count") && q->period == 0,
	   "a counter: its own name and count, no fixed period");
	smp.u.s.period = 1234567;
	cpu->values(&smp, v);
	ok(v[0] == 1 && v[1] == 1234567, "a sample is one sample and its period");
	ok(p->ntypes <= KIND_MAX_VALUES, "within KIND_MAX_VALUES");
	profile_free(p);
	profile_free(q);
	return tap_done();
}
