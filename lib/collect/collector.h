/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_COLLECT_COLLECTOR_H
#define CPROF_LIB_COLLECT_COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/collect/session.h"

/*
 * The record sequence, for every subcommand that records (record, its
 * periodic mode, serve): open the session, falling back as perf does when
 * the event or the kernel is refused; start it; poll it while its deadlines
 * (the duration, the end of each window) come due; cut windows, each handed
 * over as one symbolized profile per kind while recording goes on; stop it.
 * The subcommand decides when to stop (signals, a child's exit) and what
 * to do with each window's profiles.
 *
 *	collector_open(&cfg, &c);
 *	collector_start(c);
 *	while (!stopped && collector_poll(c, &due) == 0 && !(due & (COLLECTOR_END |
 *COLLECTOR_GONE))) if (due & COLLECTOR_CUT) collector_cut(c, &w), write w's profiles,
 *collector_window_release(&w); collector_stop(c, &w), write w's profiles,
 *collector_window_release(&w); collector_free(c);
 */

/* How the collector names a window's locations: symbolize/ implements it with libdw. */
struct collector_symbolizer {
	void *ctx;
	/*
	 * Give every location of p its frames. Returns 0, or a negative errno
	 * after naming what it could (the profile stays usable).
	 */
	int (*symbolize)(void *ctx, struct profile *p);
};

struct collector_config {
	struct session_config session;
	uint64_t duration_ns; /* stop after this long; 0: when told, or when the targets exit */
	uint64_t window_ns;   /* cut a window this often; 0: one window, cut at the stop */
	/*
	 * Periodic recording: a window starts this often (at least window_ns)
	 * and the events are off between its cut and the next start. 0: windows
	 * back to back.
	 */
	uint64_t every_ns;
	const struct collector_symbolizer *symbolizer; /* optional: NULL leaves addresses */
};

/* What the collector changed from the config to get the events opened. */
struct collector_fallbacks {
	/* The event asked for is not supported here (this errno): sampling cpu-clock instead. */
	int event_error;
	/* perf_event_paranoid (this level) allows user space only: kernel frames left out. */
	int user_only_paranoid;
};

/* One window: its profiles, one per kind in the config's order, owned by the window. */
struct collector_window {
	struct profile *profiles[SAMPLER_MAX_EVENTS];
	const struct kind *kinds[SAMPLER_MAX_EVENTS];
	size_t n;
	/* The first error of the symbolizer (the profiles are kept), or 0. */
	int symbolize_error;
};

struct collector;

/*
 * Open the session: cfg as session_open takes it, retried with cpu-clock
 * when the event is not supported (-ENOENT, -EOPNOTSUPP) and with user
 * space only when perf_event_paranoid refuses the kernel to a process
 * target (-EACCES, -EPERM at level 2 or more). Where allowed, the calling
 * thread runs at nice -20 from here to collector_free (collector.c says
 * why). Returns 0 and *ret (caller owns; free with collector_free), or
 * session_open's negative errno.
 */
int collector_open(const struct collector_config *cfg, struct collector **ret);

/*
 * Stop if running and free everything; the thread that opened it gets its
 * nice back (collector_open raises it where it may). NULL-safe.
 */
void collector_free(struct collector *c);

/* What collector_open fell back to, all zero when nothing. Borrowed. */
const struct collector_fallbacks *collector_fallbacks(const struct collector *c);

/* Start recording; the duration and the first window start now. Returns 0 or <0. */
int collector_start(struct collector *c);

enum collector_due {
	COLLECTOR_CUT = 1,  /* a window is over: collector_cut */
	COLLECTOR_END = 2,  /* the duration is over: collector_stop */
	COLLECTOR_GONE = 4, /* every target has exited (a launched command: reap it first) */
};

/*
 * Process records for at most 100 ms, less when a deadline comes sooner or
 * a signal arrives (then 0 with nothing due: the caller looks at its own
 * flags). Returns 0 and *ret_due (enum collector_due bits), or a negative
 * errno that ends the recording (collector_stop still hands over what was
 * recorded).
 */
int collector_poll(struct collector *c, unsigned *ret_due);

/*
 * Hand over the window recorded so far, symbolized, and go on recording
 * into the next — or, with every_ns, pause until the next window starts
 * (collector_poll resumes). Returns 0 and *ret (release with
 * collector_window_release), or a negative errno with nothing handed over.
 */
int collector_cut(struct collector *c, struct collector_window *ret);

/* Between windows: is the collector paused? */
bool collector_paused(const struct collector *c);

/* Start the next window now if paused (SIGHUP). Returns 0 or a negative errno. */
int collector_resume(struct collector *c);

/*
 * Stop recording and hand over the last window (everything recorded since
 * the previous cut), symbolized. Returns 0, or the negative errno of
 * reading the last records — *ret then holds what was recorded before
 * (the window is filled either way unless -ENOMEM).
 */
int collector_stop(struct collector *c, struct collector_window *ret);

/* Free the window's profiles. */
void collector_window_release(struct collector_window *w);

/* The session, for its counters and its kinds. Borrowed. */
struct session *collector_session(struct collector *c);

#endif
