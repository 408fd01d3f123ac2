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
#define KIND_MAX_EVENTS 14
#define KIND_MAX_LABELS 4

/*
 * The allocator --kind alloc probes (alloc.c), as cmd/ finds it for the
 * target: the functions of the malloc family in the target's libc (or
 * static binary), or the two hooks of cprof's preload library.
 */
enum kind_alloc_func {
	KIND_ALLOC_MALLOC,
	KIND_ALLOC_CALLOC,
	KIND_ALLOC_REALLOC,
	KIND_ALLOC_MEMALIGN,
	KIND_ALLOC_ALIGNED_ALLOC, /* 0 where it is memalign under another name */
	KIND_ALLOC_POSIX_MEMALIGN,
	KIND_ALLOC_FREE,
	KIND_ALLOC_NFUNCS,
	/* With hooks: */
	KIND_ALLOC_HOOK_SAMPLED = 0, /* cprof_alloc_sampled(size, address, rate) */
	KIND_ALLOC_HOOK_FREED = 1,   /* cprof_alloc_freed(address) */
};

struct kind_alloc_target {
	const char *path; /* the ELF file, as cprof reaches it (/proc/PID/root/...) */
	bool hooks;	  /* libcprof-alloc.so's hooks, not the allocator itself */
	uint64_t offsets[KIND_ALLOC_NFUNCS]; /* file offsets, by kind_alloc_func; 0: none */
	uint64_t rate;	  /* probing the allocator: average bytes between samples */
	uint64_t trap_ns; /* what one probe hit costs the target, as measured here; 0: unknown */
};

/* What the user chose that kinds follow: -e, -F and -c, and what --kind alloc probes. */
struct kind_options {
	const struct sampler_event *event;     /* the event to sample by (cpu-clock by default) */
	uint64_t freq;			       /* samples a second per CPU */
	uint64_t count;			       /* -c: one sample every count events; 0: by freq */
	const struct kind_alloc_target *alloc; /* NULL: none found (kind alloc cannot open) */
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

/* Drop a held stack's innermost frame (a hook the samples come from, not code of interest). */
void kind_stack_drop_leaf(struct kind_stack *st);

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
	 * switches, every fork, exit and exec (COMM with
	 * PERF_RECORD_MISC_COMM_EXEC) and every loss. Returns 0 or <0.
	 */
	int (*record)(void *state, struct kind_out *out, const struct perf_record *rec);
	/*
	 * A window ends at time now (CLOCK_MONOTONIC ns, as records' times);
	 * final when the recording does. Close or carry what is open.
	 */
	int (*flush)(void *state, struct kind_out *out, uint64_t now, bool final);
	/* Optional: a line for the end-of-recording summary (what the kind cost), or "". */
	void (*summarize)(void *state, char *buf, size_t size);
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
extern const struct kind kind_alloc;

/*
 * Every thread's stack at an instant (cprof snapshot): no events, stacks
 * come through session_add_stack. Not one of record's kinds.
 */
extern const struct kind kind_threads;

#endif
