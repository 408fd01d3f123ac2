/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_COLLECT_SESSION_H
#define CPROF_LIB_COLLECT_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/collect/kinds.h"
#include "lib/perf/sampler.h"
#include "lib/profile/profile.h"

/*
 * The recording pipeline as one reusable piece: open the events, drain the
 * rings, merge records in time order, keep the process model current, turn
 * each sample's stack into (mapping, address) locations while that address
 * space is still the one it was taken in, and aggregate into a profile.
 * One session records one or more profile kinds at once (kinds.h), each
 * into its own profile, from one list of events. The collector
 * (collector.h) drives it for record, periodic mode and serve.
 *
 *	session_open(&cfg, &s);
 *	session_start(s);
 *	while (!done) {
 *		session_poll(s, 100, &hup);
 *		if (window over)
 *			session_rotate(s, profiles);	a profile per kind; recording goes on
 *	}
 *	session_stop(s);
 *	session_rotate(s, profiles);		(then symbolize and write)
 */

struct proc;
struct proc_map;
struct perf_record;

/* One user stack frame from an unwinder. */
struct session_frame {
	uint64_t pc;
	bool caller; /* a return address, looked up at pc - 1 */
};

/*
 * How the session unwinds user stacks the kernel did not walk (DWARF mode).
 * symbolize/ implements it with libdwfl; lib/ knows only this interface.
 */
struct session_unwinder {
	void *ctx;
	/*
	 * Unwind the user stack of sample smp (with registers and a stack copy)
	 * taken in process p: at most max frames, innermost first, the first
	 * being the sampled pc. Returns the number of frames and sets
	 * *ret_complete when the walk reached the thread's outermost frame;
	 * a negative errno only for failures that must stop the recording.
	 */
	int (*unwind)(void *ctx, struct proc *p, const struct perf_record *smp,
		      struct session_frame *frames, size_t max, bool *ret_complete);
	/* Process pid exited, exec'd or was replaced: drop what was kept for it. */
	void (*forget)(void *ctx, int32_t pid);
};

/*
 * What the symbolizer does while a process still runs (symbolize/
 * implements it): the first sample in one of a process's mappings is the
 * moment to open the file behind it, or its JIT perf map. By the time the
 * profile is symbolized, a short-lived process and its /proc entries
 * (map_files, root) are gone.
 */
struct session_observer {
	void *ctx;
	/* Process pid's mapping m was sampled for the first time in a profile. */
	void (*map_sampled)(void *ctx, int32_t pid, const struct proc_map *m);
};

struct session_config {
	/* How to open the events; events and nevents are the session's to fill from the kinds. */
	struct sampler_config sampler;
	/* What the samples measure (kinds.h), a profile each; none: cpu. */
	const struct kind *const *kinds;
	size_t nkinds;
	struct kind_options kind_options; /* NULL event: cpu-clock; 0 freq: 999 */
	/*
	 * Processes to follow, with all their threads (a thread id stands for
	 * its process, as perf's -p takes it; each process counts once), or
	 * threads to follow alone with what they create (tids, as perf's -t).
	 */
	const int32_t *pids;
	size_t npids;
	const int32_t *tids;
	size_t ntids;
	int32_t child;		/* a child of ours stopped before exec (record -- COMMAND), or 0 */
	const char *child_comm; /* its name until its own COMM record arrives */
	const char *proc_root;	/* "/proc" unless a test says otherwise; NULL means "/proc" */
	const struct session_unwinder *unwinder; /* needed for SAMPLER_CALLGRAPH_DWARF */
	const struct session_observer *observer; /* optional */
	/*
	 * Keep every sample apart with its time and CPU (labels "time", in
	 * nanoseconds of CLOCK_MONOTONIC, and "cpu"), for perf-script output.
	 */
	bool keep_times;
};

/* Counters since session_start, over every window and kind. */
struct session_stats {
	uint64_t samples;	   /* samples taken into the profiles */
	uint64_t lost;		   /* records the kernel dropped (ring full) */
	uint64_t throttled;	   /* times the kernel throttled the sampling rate */
	uint64_t bad_records;	   /* records that could not be decoded */
	uint64_t unmapped;	   /* user frames outside every known mapping */
	uint64_t unnamed;	   /* samples of a process whose name could not be known */
	uint64_t unpaired;	   /* interval ends whose other end was lost (dropped) */
	uint64_t unwound;	   /* samples whose user stack was unwound (DWARF mode) */
	uint64_t truncated;	   /* ... of which stopped short of the thread's entry */
	uint64_t unwind_median_ns; /* median time to unwind one user stack */
	size_t processes;	   /* processes with at least one sample */
	size_t peak_queued;	   /* the most bytes of records read and not yet processed */
	size_t events, rings;
	int64_t start_realtime_ns, duration_ns;
};

struct session;

/*
 * Seed the process model from /proc and open the events (see sampler_open
 * for the errors; -ESRCH when a process in pids or a thread in tids does
 * not exist, -EACCES when it is not the caller's to read).
 * With no pids, tids or child, the whole system on the chosen CPUs.
 * Returns 0 and *ret (caller owns; free with session_free), or a negative errno.
 */
int session_open(const struct session_config *cfg, struct session **ret);

/* Stop if running and free everything, the profile included. NULL-safe. */
void session_free(struct session *s);

/* Enable the events (with a child they start at its exec). Returns 0 or a negative errno. */
int session_start(struct session *s);

/*
 * Wait up to timeout_ms for records (a thread of the session's reads the
 * rings all along, lib/perf/reader.h), then process what the time order allows.
 * *ret_hup tells that every target has exited. Returns 0 or a negative
 * errno.
 */
int session_poll(struct session *s, int timeout_ms, bool *ret_hup);

/* Disable the events, read what is left and process everything. Returns 0 or <0. */
int session_stop(struct session *s);

/*
 * Between windows of a periodic recording: disable the events, process
 * every record written before (waits still open end here, labelled
 * unfinished) and leave the window's time running until session_rotate.
 * Returns 0 or a negative errno.
 */
int session_pause(struct session *s);

/*
 * Read /proc again for what changed while paused (processes gone are
 * forgotten; with -a, new ones found) and enable the events. The caller
 * rotates first: the next window starts at its rotation. Returns 0 or <0.
 */
int session_resume(struct session *s);

/* The kinds recorded, and so the profiles: one per kind, in the config's order. */
size_t session_nkinds(const struct session *s);
const struct kind *session_kind(const struct session *s, size_t i);

/* Kind i's line for the summary (kind.summarize), "" when it has none. */
void session_kind_summary(const struct session *s, size_t i, char *buf, size_t size);

/* Kind i's profile built so far. Borrowed; valid until session_free or session_rotate. */
struct profile *session_profile(struct session *s, size_t i);

/*
 * Cut the window: hand over every kind's profile (ret[i] for kind i, the
 * caller owns each; free with profile_free), its time and duration those
 * of the window, and go on recording into fresh ones. The process model,
 * the events and everything the observer and unwinder keep stay as they
 * are. Records already polled belong to the window handed over; the rest
 * (still in the rings or held back for time order) to the next. Returns 0,
 * or -ENOMEM with nothing handed over.
 */
int session_rotate(struct session *s, struct profile **ret);

/* A kernel frame known by name only (a thread's /proc kernel stack). */
struct session_named_frame {
	const char *name;
	uint64_t offset; /* into the function */
	bool mark;	 /* not a kernel function: a mark such as "[zombie]", in no mapping */
};

/*
 * A stack taken outside the events, into kind 0's profile: for a session
 * of a kind with no events (kind_threads, for cprof snapshot). The kernel
 * frames by name, innermost first, then the user stack unwound from smp's
 * registers and stack copy as a sample's would be (smp: pid, tid,
 * regs_abi, regs, stack; no callchain; regs_abi 0 for no user stack).
 * comm, when not NULL, names the thread. Returns 0 or a negative errno.
 */
int session_add_stack(struct session *s, const struct perf_record *smp, const char *comm,
		      const struct session_named_frame *kernel, size_t nkernel,
		      const int64_t *values, const struct kind_label *labels, size_t nlabels);

/* Counters for the end-of-recording summary. Borrowed. */
const struct session_stats *session_stats(const struct session *s);

#endif
