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
 * events it opens, the sample types and period it writes into its profile,
 * and how one sample record becomes the sample's values. The session asks
 * its kinds and knows no kind of its own: a new kind is an entry in the
 * table (kinds.c) and a file of its own (cpu.c is the first).
 */

/* The most values a kind writes per sample, and the most events it opens. */
#define KIND_MAX_VALUES 4
#define KIND_MAX_EVENTS 4

/* What the user chose that kinds follow: -e and -F. */
struct kind_options {
	const struct sampler_event *event; /* the event to sample by (cpu-clock by default) */
	uint64_t freq;			   /* samples a second per CPU */
};

struct kind {
	const char *name;	 /* as a user names it: "cpu" */
	const char *description; /* one line, for --help */
	/* The events to open: fills ret (KIND_MAX_EVENTS at most) and returns how many. */
	size_t (*events)(const struct kind_options *o, struct sampler_spec *ret);
	/*
	 * Add the kind's sample types to the empty profile p, and its period
	 * type and period. Returns 0 or -ENOMEM.
	 */
	int (*setup)(struct profile *p, const struct kind_options *o);
	/* The values of a PERF_RECORD_SAMPLE of the kind's event i (as events() listed them). */
	void (*values)(const struct perf_record *smp, size_t i, int64_t *ret);
};

/* The kind named name, or NULL. Borrowed, static. */
const struct kind *kind_find(const char *name);

/* The default kind: cpu. */
const struct kind *kind_default(void);

/* The kinds in the order --help lists them: kind_at(0), … until NULL. */
const struct kind *kind_at(size_t i);

/* The kinds, a file each. */
extern const struct kind kind_cpu;

#endif
