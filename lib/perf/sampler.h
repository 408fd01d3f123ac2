/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_PERF_SAMPLER_H
#define CPROF_LIB_PERF_SAMPLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/perf_event.h>

#include "lib/perf/ring.h"

/*
 * Opening the perf events: a list of events, each opened once per CPU for
 * the whole system, or once per (thread, CPU) with inherit for processes,
 * every event of a CPU writing into that CPU's one ring buffer
 * (PERF_EVENT_IOC_SET_OUTPUT joins only events of the same CPU, and an
 * inherited event must be per-CPU to be mmapped). With more than one event
 * in the list, records carry PERF_SAMPLE_IDENTIFIER and sampler_event_of
 * says which event wrote one.
 */

struct sampler_event {
	const char *name; /* as perf spells it: "cpu-clock", "cycles" */
	uint32_t type;	  /* PERF_TYPE_*, or a dynamic PMU's (kprobe, uprobe) */
	uint64_t config;
	/* The pprof value type for the summed periods: cpu/nanoseconds, cycles/count… */
	const char *value_type, *value_unit;
	bool every; /* sampled at every hit unless -c says otherwise (tracepoints, probes) */
	/* kprobe: the function's name; uprobe: the file's path (borrowed, as a u64). */
	uint64_t config1;
	uint64_t config2; /* uprobe: the file offset of the probed function */
	/*
	 * A kprobe or uprobe PMU event: never inherited (see no_inherit in
	 * sampler_spec). A kprobe traps in every task anyway: opened per CPU.
	 */
	bool probe, kernel_probe;
};

/* In a uprobe's config: a return probe (the PMU's format/retprobe, config:0). */
#define SAMPLER_UPROBE_RETURN 1ULL

/* The event named name (perf's spellings and aliases), or NULL. Borrowed, static. */
const struct sampler_event *sampler_event_find(const char *name);

/*
 * A probe on function func, at offset 0 of it: a kprobe on a kernel
 * function (path NULL) or a uprobe at file offset off of the ELF file path,
 * through the kernel's kprobe and uprobe PMUs. name, func and path are
 * borrowed and must outlive the sampler. Returns 0 and *ret, or -ENODEV
 * when this kernel has no such PMU (/sys/bus/event_source/devices).
 */
int sampler_event_probe(const char *name, const char *func, const char *path, uint64_t off,
			struct sampler_event *ret);

/* The default event: cpu-clock, which works without a hardware PMU. */
const struct sampler_event *sampler_event_default(void);

/*
 * One event of the list, as a profile kind asks for it. Every event's
 * records share one layout up to the cpu (identifier, ip, tid, time, cpu)
 * and the same sample_id trailer, so any of them gives a record's time and
 * id; events differ only in what follows: the period (absent with a fixed
 * period of more than one event: it is rate), the stack (by the config's
 * call graph) and the tracepoint's raw data.
 */
struct sampler_spec {
	uint32_t type; /* PERF_TYPE_*, or a dynamic PMU's */
	uint64_t config, config1, config2;
	/* Samples a second per CPU when freq, else one sample every rate events. */
	uint64_t rate;
	bool freq;
	bool stack;	     /* sample the call graph the config asks for */
	bool raw;	     /* PERF_SAMPLE_RAW: a tracepoint's fields */
	bool context_switch; /* PERF_RECORD_SWITCH records for the sampled tasks */
	bool user_stack;     /* the user part of the stack only: no kernel callchain */
	bool regs;	     /* the user registers, with or without a stack (a probe's arguments) */
	/*
	 * Following tasks, how this event follows them. By default it is
	 * inherited by the threads and processes they create. A uprobe PMU
	 * event cannot be: Linux reads its path again from the memory of the
	 * task that forks, and the fork fails (EFAULT). So such an event is
	 * either opened for the tasks alone (no_inherit), or once per CPU for
	 * every task (cpu_wide: a probe on a file only the targets map), the
	 * session then keeping the records of the processes it follows.
	 */
	bool no_inherit;
	bool cpu_wide;
	const char *filter; /* a tracepoint filter (PERF_EVENT_IOC_SET_FILTER), or NULL */
};

enum sampler_callgraph {
	SAMPLER_CALLGRAPH_NONE,
	SAMPLER_CALLGRAPH_FP, /* kernel and user callchains walked by the kernel */
	/* Kernel callchain, plus user registers and a copy of the user stack to unwind. */
	SAMPLER_CALLGRAPH_DWARF,
};

/* The largest user stack copy: the record's size field is 16 bits. */
#define SAMPLER_STACK_MAX 65528

/* The most events one sampler opens (a kind asks for a few, several kinds at once). */
#define SAMPLER_MAX_EVENTS 16

struct sampler_config {
	/*
	 * The events, at least one. The first also reports the side-band
	 * records (mmap, comm, fork, exit) that keep the process model current.
	 */
	const struct sampler_spec *events;
	size_t nevents;
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
 * Open every event for tids (ntids threads; each follows its future children)
 * or, when ntids is 0, for everything on the chosen CPUs, and map one ring
 * per CPU. Events start disabled unless enable_on_exec. Threads that vanish
 * while being opened are skipped.
 * Returns 0 and *ret (caller owns; free with sampler_free), or a negative
 * errno from perf_event_open: -EACCES/-EPERM (not allowed), -ESRCH (every
 * thread gone), -ENOENT/-EOPNOTSUPP (event not supported here), -EMFILE;
 * -EINVAL for an empty or too long list.
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

/*
 * Which of the config's events wrote rec: its index, or -1 for an id this
 * sampler did not open (a damaged record).
 */
int sampler_event_of(const struct sampler *s, const struct perf_event_header *rec);

/* Event i's sample_type, and the user registers every stack sample has, for decoding. */
uint64_t sampler_sample_type(const struct sampler *s, size_t i);
uint64_t sampler_regs_mask(const struct sampler *s);

/* Events open (threads × CPUs × events of the list), for the summary. */
size_t sampler_nevents(const struct sampler *s);

/* kernel.perf_event_paranoid, or 2 (the kernel's default) when it cannot be read. */
int sampler_paranoid(void);

/* Bitmap of online CPUs: ret[i] for i < ncpus. Returns the CPU count to index with, or <0. */
int sampler_online_cpus(bool **ret);

#endif
