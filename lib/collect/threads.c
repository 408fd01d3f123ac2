/* SPDX-License-Identifier: MIT */
#include "lib/collect/kinds.h"

/*
 * threads: every thread's stack at an instant, counted (Go's goroutine
 * profile, for native processes). No events: cprof snapshot stops the
 * threads through ptrace (snapshot.h) and gives each stack to the
 * session with session_add_stack. Each thread is its own sample (the pid
 * and tid labels keep them apart); every view that sums by stack or by
 * function merges identical ones, as Go's merges goroutines.
 */

static int threads_events(const struct kind_options *o, struct sampler_spec *ret)
{
	(void)o;
	(void)ret;
	return 0;
}

static int threads_setup(struct profile *p, const struct kind_options *o)
{
	struct profile_value_type period = {0};
	int r;

	(void)o;
	r = profile_add_type(p, "threads", "count");
	if (r == 0)
		r = profile_intern(p, "threads", &period.type);
	if (r == 0)
		r = profile_intern(p, "count", &period.unit);
	if (r == 0)
		profile_set_period(p, period, 1);
	return r;
}

const struct kind kind_threads = {
	.name = "threads",
	.description = "every thread's stack at an instant (cprof snapshot)",
	.events = threads_events,
	.setup = threads_setup,
};
