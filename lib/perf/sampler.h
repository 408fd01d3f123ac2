/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_PERF_SAMPLER_H
#define CPROF_LIB_PERF_SAMPLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/perf/ring.h"

/*
 * Opening the perf events: one event per CPU for the whole system, or one per
 * (thread, CPU) with inherit for processes, all events of a CPU writing into
 * that CPU's one ring buffer (PERF_EVENT_IOC_SET_OUTPUT joins only events of
 * the same CPU, and an inherited event must be per-CPU to be mmapped).
 */

struct sampler_event {
	const char *name; /* as perf spells it: "cpu-clock", "cycles" */
	uint32_t type;	  /* PERF_TYPE_* */
	uint64_t config;
	/* The pprof value type for the summed periods: cpu/nanoseconds, cycles/count… */
	const char *value_type, *value_unit;
};

/* The event named name (perf's spellings and aliases), or NULL. Borrowed, static. */
const struct sampler_event *sampler_event_find(const char *name);

/* The default event: cpu-clock, which works without a hardware PMU. */
const struct sampler_event *sampler_event_default(void);

enum sampler_callgraph {
	SAMPLER_CALLGRAPH_NONE,
	SAMPLER_CALLGRAPH_FP, /* kernel and user callchains walked by the kernel */
	/* Kernel callchain, plus user registers and a copy of the user stack to unwind. */
	SAMPLER_CALLGRAPH_DWARF,
};

/* The largest user stack copy: the record's size field is 16 bits. */
#define SAMPLER_STACK_MAX 65528

struct sampler_config {
	const struct sampler_event *event;
	uint64_t freq; /* samples per second per CPU (frequency mode) */
	enum sampler_callgraph callgraph;
	uint32_t stack_size; /* DWARF: bytes of user stack per sample, a multiple of 8 */
	bool exclude_kernel;
	bool enable_on_exec; /* start counting when the target execs (record -- COMMAND) */
	const bool *cpus;    /* CPUs to open, indexed by CPU number; NULL: every online CPU */
	size_t ncpus;	     /* entries in cpus */
	/*
	 * Data pages per ring, a power of two. 0: a default fitting the mode
	 * (512 KiB, 2 MiB with stack copies); when the kernel refuses that much
	 * locked memory (unprivileged users) the ring is halved until it fits.
	 */
	size_t ring_pages;
};

struct sampler;

/*
 * Open the events for tids (ntids threads; each follows its future children)
 * or, when ntids is 0, for everything on the chosen CPUs, and map one ring
 * per CPU. Events start disabled unless enable_on_exec. Threads that vanish
 * while being opened are skipped.
 * Returns 0 and *ret (caller owns; free with sampler_free), or a negative
 * errno from perf_event_open: -EACCES/-EPERM (not allowed), -ESRCH (every
 * thread gone), -ENOENT/-EOPNOTSUPP (event not supported here), -EMFILE.
 */
int sampler_open(const struct sampler_config *cfg, const int32_t *tids, size_t ntids,
		 struct sampler **ret);

/* Close every event and unmap the rings. NULL-safe. */
void sampler_free(struct sampler *s);

/* Start or stop every event. Returns 0 or a negative errno. */
int sampler_enable(struct sampler *s);
int sampler_disable(struct sampler *s);

/* The rings, one per opened CPU. Borrowed until sampler_free. */
size_t sampler_nrings(const struct sampler *s);
struct ring *sampler_ring(const struct sampler *s, size_t i);

/*
 * Wait up to timeout_ms for a ring to pass its wakeup watermark, or for
 * sampler_wake. Returns 0, or -EINTR when a signal arrived. *ret_hup is
 * set when every ring's events have lost their tasks (all targets exited).
 */
int sampler_wait(struct sampler *s, int timeout_ms, bool *ret_hup);

/* End a sampler_wait in progress, from another thread. */
void sampler_wake(struct sampler *s);

/* The attr's sample_type and sample_regs_user, for decoding records. */
uint64_t sampler_sample_type(const struct sampler *s);
uint64_t sampler_regs_mask(const struct sampler *s);

/* Events open (threads × CPUs), for the summary. */
size_t sampler_nevents(const struct sampler *s);

/* Bitmap of online CPUs: ret[i] for i < ncpus. Returns the CPU count to index with, or <0. */
int sampler_online_cpus(bool **ret);

#endif
