/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_COLLECT_KINDS_H
#define CPROF_LIB_COLLECT_KINDS_H

#include <stddef.h>
#include <stdint.h>

#include "lib/perf/decode.h"
#include "lib/perf/sampler.h"
#include "lib/profile/profile.h"

/*
 * Profile kinds: what a recording measures, as a table. For each kind, the
 * sample types and period it writes into the profile and how one sample
 * record becomes the sample's values. The session asks its kind and knows
 * no kind of its own; a new kind is an entry here and a file of its own.
 *
 * The events a kind opens are still the sampler's one event (-e, or
 * cpu-clock) in frequency mode: kinds that need other events (context
 * switches, tracepoints, uprobes) need the sampler to open a list of
 * them first (issue 13's notes).
 */

/* The most values a kind writes per sample. */
#define KIND_MAX_VALUES 4

struct kind {
	const char *name;	 /* as a user names it: "cpu" */
	const char *description; /* one line, for --help */
	/*
	 * Add the kind's sample types to the empty profile p, and its period
	 * type and period, for event sampled freq times a second. Returns 0
	 * or -ENOMEM.
	 */
	int (*setup)(struct profile *p, const struct sampler_event *event, uint64_t freq);
	/* The values of one PERF_RECORD_SAMPLE, p->ntypes of them. */
	void (*values)(const struct perf_record *smp, int64_t *ret);
};

/* The kind named name, or NULL. Borrowed, static. */
const struct kind *kind_find(const char *name);

/* The default kind: cpu. */
const struct kind *kind_default(void);

#endif
