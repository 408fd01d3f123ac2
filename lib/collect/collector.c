/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "lib/collect/collector.h"

#define POLL_MS 100

struct collector {
	struct collector_config cfg;
	struct collector_fallbacks fallbacks;
	struct session *session;
	struct timespec start, window_start;
	bool started, stopped;
	bool paused; /* between windows of a periodic recording, until next_start */
	struct timespec next_start;
	int old_nice; /* the opening thread's, given back by collector_free */
	bool reniced;
};

/* Give the opening thread its nice back (a server's thread goes on serving). */
static void renice_back(const struct collector *c)
{
	if (c->reniced)
		(void)setpriority(PRIO_PROCESS, 0, c->old_nice);
}

static bool event_refused(int r)
{
	return r == -ENOENT || r == -EOPNOTSUPP;
}

static bool kernel_refused(int r)
{
	return r == -EACCES || r == -EPERM;
}

int collector_open(const struct collector_config *cfg, struct collector **ret)
{
	struct session_config *sc;
	struct collector *c;
	int r;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->cfg = *cfg;
	sc = &c->cfg.session;
	/*
	 * The caller's thread sets up, unwinds and finishes: where it may
	 * (root), it does so at nice -20. Among a thousand runnable threads an
	 * ordinary thread gets a thousandth of a CPU: attached as they had all
	 * just started, set-up and the end took 2.4-3.5 s past a -d of 10 s,
	 * and the queue behind it lost records (0.4-0.5 s and none at -20).
	 * It weighs as 87 ordinary tasks, not more: CFS still shares the CPU.
	 * (On Linux this is the calling thread's alone, and what it creates
	 * after; a command launched was forked before.)
	 */
	errno = 0;
	c->old_nice = getpriority(PRIO_PROCESS, 0);
	c->reniced = errno == 0 && c->old_nice != -20 && setpriority(PRIO_PROCESS, 0, -20) == 0;
	r = session_open(sc, &c->session);
	if (event_refused(r) && sc->kind_options.event &&
	    sc->kind_options.event != sampler_event_default()) {
		/* Many VMs and containers have no PMU: a CPU profile beats no profile. */
		c->fallbacks.event_error = r;
		sc->kind_options.event = sampler_event_default();
		r = session_open(sc, &c->session);
	}
	if (kernel_refused(r) && (sc->npids || sc->ntids || sc->child) && sampler_paranoid() >= 2) {
		/* As perf does: at paranoid 2 a user may sample their own code, not the kernel. */
		sc->sampler.exclude_kernel = true;
		r = session_open(sc, &c->session);
		if (r == 0)
			c->fallbacks.user_only_paranoid = sampler_paranoid();
	}
	if (r < 0) {
		renice_back(c);
		free(c);
		return r;
	}
	*ret = c;
	return 0;
}

void collector_free(struct collector *c)
{
	if (!c)
		return;
	session_free(c->session);
	renice_back(c);
	free(c);
}

const struct collector_fallbacks *collector_fallbacks(const struct collector *c)
{
	return &c->fallbacks;
}

struct session *collector_session(struct collector *c)
{
	return c->session;
}

int collector_start(struct collector *c)
{
	int r = session_start(c->session);

	if (r < 0)
		return r;
	(void)clock_gettime(CLOCK_MONOTONIC, &c->start);
	c->window_start = c->start;
	c->started = true;
	return 0;
}

static int64_t ns_since(const struct timespec *t, const struct timespec *now)
{
	return (int64_t)(now->tv_sec - t->tv_sec) * 1000000000 + (now->tv_nsec - t->tv_nsec);
}

/* Milliseconds until a deadline deadline_ns after t, at least 1; 0 when it has passed. */
static int64_t ms_until(const struct timespec *t, uint64_t deadline_ns, const struct timespec *now)
{
	int64_t left = (int64_t)deadline_ns - ns_since(t, now);

	return left <= 0 ? 0 : left / 1000000 + 1;
}

/* What is due at now, and how long the next wait may be. */
static unsigned due_at(const struct collector *c, const struct timespec *now, int *ret_timeout)
{
	unsigned due = 0;
	int64_t timeout = POLL_MS, left;

	if (c->cfg.duration_ns) {
		left = ms_until(&c->start, c->cfg.duration_ns, now);
		if (left == 0)
			due |= COLLECTOR_END;
		timeout = left < timeout ? left : timeout;
	}
	if (c->paused) {
		/* Nothing to cut: the wait ends when the next window starts (collector_poll). */
		left = ms_until(&c->next_start, 0, now);
		timeout = left < timeout ? left : timeout;
	} else if (c->cfg.window_ns) {
		left = ms_until(&c->window_start, c->cfg.window_ns, now);
		if (left == 0)
			due |= COLLECTOR_CUT;
		timeout = left < timeout ? left : timeout;
	}
	if (ret_timeout)
		*ret_timeout = (int)timeout;
	return due;
}

int collector_poll(struct collector *c, unsigned *ret_due)
{
	struct timespec now;
	bool hup = false;
	int timeout, r;

	*ret_due = 0;
	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	if (c->paused && ms_until(&c->next_start, 0, &now) == 0) {
		r = collector_resume(c);
		if (r < 0)
			return r;
	}
	*ret_due = due_at(c, &now, &timeout);
	if (*ret_due)
		return 0;
	r = session_poll(c->session, timeout, &hup);
	if (r == -EINTR)
		return 0; /* a signal: the caller's to look at */
	if (r < 0)
		return r;
	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	*ret_due = due_at(c, &now, NULL);
	if (hup)
		*ret_due |= COLLECTOR_GONE;
	return 0;
}

/* Hand over the profiles the session rotated out, symbolized. */
static void fill_window(struct collector *c, struct profile **profiles, struct collector_window *w)
{
	const struct collector_symbolizer *sym = c->cfg.symbolizer;

	memset(w, 0, sizeof(*w));
	w->n = session_nkinds(c->session);
	for (size_t k = 0; k < w->n; k++) {
		w->profiles[k] = profiles[k];
		w->kinds[k] = session_kind(c->session, k);
		if (sym) {
			int r = sym->symbolize(sym->ctx, profiles[k]);

			if (r < 0 && !w->symbolize_error)
				w->symbolize_error = r;
		}
	}
}

int collector_cut(struct collector *c, struct collector_window *ret)
{
	struct profile *profiles[SAMPLER_MAX_EVENTS];
	bool pause = !c->paused && c->cfg.every_ns > c->cfg.window_ns;
	int r = pause ? session_pause(c->session) : 0;

	if (r == 0)
		r = session_rotate(c->session, profiles);
	if (r < 0)
		return r;
	if (pause) {
		/* The next window starts every_ns after this one did. */
		uint64_t at = (uint64_t)c->window_start.tv_nsec + c->cfg.every_ns;

		c->next_start.tv_sec = c->window_start.tv_sec + (time_t)(at / 1000000000);
		c->next_start.tv_nsec = (long)(at % 1000000000);
		c->paused = true;
	}
	(void)clock_gettime(CLOCK_MONOTONIC, &c->window_start);
	fill_window(c, profiles, ret);
	return 0;
}

bool collector_paused(const struct collector *c)
{
	return c->paused;
}

int collector_resume(struct collector *c)
{
	int r;

	if (!c->paused)
		return 0;
	r = session_resume(c->session);
	if (r < 0)
		return r;
	c->paused = false;
	(void)clock_gettime(CLOCK_MONOTONIC, &c->window_start);
	return 0;
}

int collector_stop(struct collector *c, struct collector_window *ret)
{
	struct profile *profiles[SAMPLER_MAX_EVENTS];
	int stop = 0, r;

	if (c->started && !c->stopped) {
		c->stopped = true;
		stop = session_stop(c->session);
	}
	r = session_rotate(c->session, profiles);
	if (r < 0)
		return r;
	fill_window(c, profiles, ret);
	return stop;
}

void collector_window_release(struct collector_window *w)
{
	for (size_t k = 0; k < w->n; k++)
		profile_free(w->profiles[k]);
	memset(w, 0, sizeof(*w));
}
