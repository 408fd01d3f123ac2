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

/* The most values a kind writes per sample, events it opens, labels it adds. */
#define KIND_MAX_VALUES 4
#define KIND_MAX_EVENTS 6
#define KIND_MAX_LABELS 4

/* What the user chose that kinds follow: -e, -F and -c. */
struct kind_options {
	const struct sampler_event *event; /* the event to sample by (cpu-clock by default) */
	uint64_t freq;			   /* samples a second per CPU */
	uint64_t count;			   /* -c: one sample every count events; 0: by freq */
};

/*
 * What a kind hands the session. A kind with state (an interval opened by
 * one record and closed by another) keeps the opening sample's stack with
 * kind_out_hold — unwound at once, while the stack copy and the address
 * space are the sample's — and adds it when its value is known.
 */
struct kind_out;
struct kind_stack;

/* A label a kind adds to a sample: a string, or a number with an optional unit. */
struct kind_label {
	const char *key;
	const char *str; /* NULL: a number */
	int64_t num;
	const char *unit; /* for numbers; NULL: none */
};

/* Add a sample: smp's stack and thread, values (p->ntypes of them) and extra labels. */
int kind_out_add(struct kind_out *out, const struct perf_record *smp, const int64_t *values,
		 const struct kind_label *labels, size_t nlabels);

/* Keep smp's stack and thread for later. Returns 0 and *ret (free with kind_stack_free), or <0. */
int kind_out_hold(struct kind_out *out, const struct perf_record *smp, struct kind_stack **ret);

/* Add a sample with a held stack (into the profile of the window it ends in). */
int kind_out_add_held(struct kind_out *out, const struct kind_stack *st, const int64_t *values,
		      const struct kind_label *labels, size_t nlabels);

/* The thread and time of a held stack. */
int32_t kind_stack_tid(const struct kind_stack *st);
uint64_t kind_stack_time(const struct kind_stack *st);

void kind_stack_free(struct kind_stack *st);

/* Count a record the kind could not use (an interval whose other end was lost). */
void kind_out_unpaired(struct kind_out *out);

struct kind {
	const char *name;	 /* as a user names it: "cpu" */
	const char *description; /* one line, for --help */
	/*
	 * The events to open: fills ret (KIND_MAX_EVENTS at most) and returns
	 * how many, or a negative errno (tracefs_event_id's for tracepoints).
	 */
	int (*events)(const struct kind_options *o, struct sampler_spec *ret);
	/*
	 * Add the kind's sample types to the empty profile p, and its period
	 * type and period. Returns 0 or -ENOMEM.
	 */
	int (*setup)(struct profile *p, const struct kind_options *o);
	/*
	 * The values of a PERF_RECORD_SAMPLE of the kind's event i (as
	 * events() listed them), for kinds whose every sample is one profile
	 * sample. Kinds with state leave it NULL and give the hooks below.
	 */
	void (*values)(const struct perf_record *smp, size_t i, int64_t *ret);

	/* Optional: the state of one recording of the kind. Returns 0 and *ret, or <0. */
	int (*state_new)(const struct kind_options *o, void **ret);
	void (*state_free)(void *state);
	/* A PERF_RECORD_SAMPLE of the kind's event i. Returns 0, or <0 to end the recording. */
	int (*sample)(void *state, struct kind_out *out, const struct perf_record *smp, size_t i);
	/*
	 * Any other record that concerns the kind: its events' context
	 * switches, and every fork and exit. Returns 0 or <0.
	 */
	int (*record)(void *state, struct kind_out *out, const struct perf_record *rec);
	/*
	 * A window ends at time now (CLOCK_MONOTONIC ns, as records' times);
	 * final when the recording does. Close or carry what is open.
	 */
	int (*flush)(void *state, struct kind_out *out, uint64_t now, bool final);
};

/* The kind named name, or NULL. Borrowed, static. */
const struct kind *kind_find(const char *name);

/* The default kind: cpu. */
const struct kind *kind_default(void);

/* The kinds in the order --help lists them: kind_at(0), … until NULL. */
const struct kind *kind_at(size_t i);

/* The kinds, a file each (offcpu.c holds offcpu and wall). */
extern const struct kind kind_cpu;
extern const struct kind kind_offcpu;
extern const struct kind kind_wall;
extern const struct kind kind_mutex;
extern const struct kind kind_threadcreate;

/*
 * Every thread's stack at an instant (cprof snapshot): no events, stacks
 * come through session_add_stack. Not one of record's kinds.
 */
extern const struct kind kind_threads;

#endif
