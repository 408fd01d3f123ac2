/* SPDX-License-Identifier: MIT */
/*
 * The collector on a live process: two kinds recorded at once from one
 * event list (each record routed to its kind's profile by its
 * PERF_SAMPLE_IDENTIFIER, each event with its own sample layout in the
 * same rings), and windows cut while recording goes on (every sample in
 * exactly one window, the windows end to end in time, each symbolized).
 *
 * The target is a child of this test: for about 1.3 s it spins in
 * spin_cpu and, every 10 ms, maps, touches and unmaps 16 pages in
 * touch_pages. The second kind samples every page fault, without stacks.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/collect/collector.h"
#include "symbolize/symbolize.h"
#include "symbolize/unwind.h"
#include "tests/tap.h"

#define PAGES 16
#define ROUNDS 130 /* every 10 ms: 1.3 s */
#define WINDOW_NS 400000000ULL
#define DURATION_NS 1300000000ULL

static volatile unsigned long sink;

__attribute__((noinline)) static void touch_pages(void)
{
	long page = sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, (size_t)(PAGES * page), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
		return;
	for (long i = 0; i < PAGES; i++)
		((volatile char *)m)[i * page] = 1;
	(void)munmap(m, (size_t)(PAGES * page));
}

__attribute__((noinline)) static void spin_cpu(const struct timespec *until)
{
	struct timespec now;

	do {
		for (int i = 0; i < 10000; i++)
			sink = sink * 6364136223846793005UL + 1;
		(void)clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec < until->tv_sec ||
		 (now.tv_sec == until->tv_sec && now.tv_nsec < until->tv_nsec));
}

/* The target: waits for a byte on go, then works ROUNDS rounds of 10 ms. */
static void target(int go)
{
	struct timespec t;
	char c;

	if (read(go, &c, 1) != 1)
		_exit(1);
	(void)clock_gettime(CLOCK_MONOTONIC, &t);
	for (int i = 0; i < ROUNDS; i++) {
		touch_pages();
		t.tv_nsec += 10000000;
		if (t.tv_nsec >= 1000000000) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000;
		}
		spin_cpu(&t);
	}
	_exit(0);
}

/* A kind of the test's own: every page fault, a sample without a stack. */
static int faults_events(const struct kind_options *o, struct sampler_spec *ret)
{
	(void)o;
	ret[0] = (struct sampler_spec){
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_PAGE_FAULTS,
		.rate = 1,
	};
	return 1;
}

static int faults_setup(struct profile *p, const struct kind_options *o)
{
	(void)o;
	return profile_add_type(p, "faults", "count");
}

static void faults_values(const struct perf_record *smp, size_t i, int64_t *ret)
{
	(void)smp;
	(void)i;
	ret[0] = 1;
}

static const struct kind faults_kind = {
	.name = "faults",
	.description = "page faults (test)",
	.events = faults_events,
	.setup = faults_setup,
	.values = faults_values,
};

/* The sum of value i over p's samples. */
static int64_t total(const struct profile *p, size_t i)
{
	int64_t n = 0;

	for (size_t k = 0; k < p->nsamples; k++)
		n += p->values[p->samples[k].value_off + i];
	return n;
}

/* The value i of p's samples whose leaf (or any frame, when anywhere) is named name. */
static int64_t in_function(const struct profile *p, size_t i, const char *name, bool anywhere)
{
	int64_t n = 0;

	for (size_t k = 0; k < p->nsamples; k++) {
		const struct profile_sample *s = &p->samples[k];
		size_t frames = anywhere ? s->nloc : (s->nloc > 0);
		bool hit = false;

		for (size_t f = 0; f < frames && !hit; f++) {
			const struct profile_location *l =
				&p->locations[p->locs[s->loc_off + f] - 1];

			for (size_t j = 0; j < l->nline && !hit; j++) {
				const struct profile_line *ln = &p->lines[l->line_off + j];

				hit = strcmp(profile_str(p, p->functions[ln->function - 1].name),
					     name) == 0;
			}
		}
		if (hit)
			n += p->values[s->value_off + i];
	}
	return n;
}

/* The first value of the samples of more than one frame. */
static int64_t with_stacks(const struct profile *p)
{
	int64_t n = 0;

	for (size_t k = 0; k < p->nsamples; k++)
		if (p->samples[k].nloc > 1)
			n += p->values[p->samples[k].value_off];
	return n;
}

int main(void)
{
	const struct kind *kinds[] = {&kind_cpu, &faults_kind};
	struct collector_window w[8] = {0};
	struct symbolize_options so = {0};
	struct session_unwinder uops;
	struct session_observer obs;
	struct collector_symbolizer sym_ops;
	struct collector_config cfg = {0};
	struct symbolize *sym = NULL;
	struct unwind *u = NULL;
	struct collector *c = NULL;
	int64_t cpu_total = 0, faults_total = 0, faults_touch = 0, cpu_spin = 0;
	int64_t stacked_faults = 0, cpu_stacked = 0;
	size_t nw = 0, cpu_windows = 0;
	bool contiguous = true, named = true;
	int go[2], r, status;
	int32_t pid;
	unsigned due = 0;

	if (pipe(go) < 0)
		return 1;
	pid = fork();
	if (pid == 0) {
		(void)close(go[1]);
		target(go[0]);
	}
	(void)close(go[0]);

	if (symbolize_new(&so, &sym) < 0 || unwind_new(symbolize_files(sym), &u) < 0)
		return 1;
	symbolize_bind(sym, &obs);
	symbolize_bind_collector(sym, &sym_ops);
	unwind_bind(u, &uops);
	cfg.session.kinds = kinds;
	cfg.session.nkinds = 2;
	cfg.session.kind_options = (struct kind_options){.freq = 999};
	cfg.session.sampler.callgraph = SAMPLER_CALLGRAPH_DWARF;
	cfg.session.sampler.stack_size = 16384;
	cfg.session.pids = &pid;
	cfg.session.npids = 1;
	cfg.session.unwinder = &uops;
	cfg.session.observer = &obs;
	cfg.symbolizer = &sym_ops;
	cfg.duration_ns = DURATION_NS;
	cfg.window_ns = WINDOW_NS;

	r = collector_open(&cfg, &c);
	if (r == -EACCES || r == -EPERM) {
		const char *ci = getenv("CI");

		printf("%s # perf_event_open not allowed here\n",
		       ci && strcmp(ci, "true") == 0 ? "not ok 1 - collector_open" : "1..0");
		(void)kill(pid, SIGKILL);
		return ci && strcmp(ci, "true") == 0;
	}
	ok(r == 0, "two kinds open as one event list (%s)", r < 0 ? strerror(-r) : "ok");
	if (r < 0)
		return tap_done();
	ok(collector_start(c) == 0, "started");
	(void)!write(go[1], "g", 1);
	while (nw < 7 && collector_poll(c, &due) == 0 && !(due & COLLECTOR_END)) {
		if ((due & COLLECTOR_CUT) && collector_cut(c, &w[nw]) == 0)
			nw++;
	}
	ok(due & COLLECTOR_END, "the duration ended the recording");
	ok(collector_stop(c, &w[nw]) == 0, "stopped, the last window handed over");
	nw++;
	(void)waitpid(pid, &status, 0);

	ok(nw >= 3 && nw <= 5, "%zu windows of 0.4 s in 1.3 s", nw);
	for (size_t i = 0; i < nw; i++) {
		const struct profile *cpu = w[i].profiles[0], *faults = w[i].profiles[1];

		if (w[i].n != 2 || w[i].kinds[0] != &kind_cpu || w[i].kinds[1] != &faults_kind) {
			ok(false, "window %zu has a profile per kind", i);
			continue;
		}
		cpu_total += total(cpu, 0);
		faults_total += total(faults, 0);
		cpu_spin += in_function(cpu, 0, "spin_cpu", true);
		cpu_stacked += with_stacks(cpu);
		faults_touch += in_function(faults, 0, "touch_pages", false);
		stacked_faults += with_stacks(faults);
		cpu_windows += total(cpu, 0) > 0;
		named &= w[i].symbolize_error == 0;
		if (i + 1 < nw)
			contiguous &= cpu->time_nanos + cpu->duration_nanos ==
					      w[i + 1].profiles[0]->time_nanos &&
				      faults->time_nanos == cpu->time_nanos;
	}
	ok(contiguous, "each window starts where the one before ended");
	ok(cpu_windows + 1 >= nw, "%zu of %zu windows have CPU samples", cpu_windows, nw);
	ok((uint64_t)(cpu_total + faults_total) == session_stats(collector_session(c))->samples,
	   "every sample is in exactly one window (%lld cpu + %lld faults)", (long long)cpu_total,
	   (long long)faults_total);
	ok(cpu_total > 500 && cpu_total < 2000, "cpu-clock sampled at 999 Hz: %lld in 1.3 s",
	   (long long)cpu_total);
	ok(cpu_spin * 10 > cpu_total * 8, "%lld of %lld cpu samples are under spin_cpu",
	   (long long)cpu_spin, (long long)cpu_total);
	ok(cpu_stacked * 10 > cpu_total * 9, "%lld of %lld cpu samples have stacks",
	   (long long)cpu_stacked, (long long)cpu_total);
	ok(faults_total >= PAGES * ROUNDS / 2, "every page fault sampled: %lld (%d touched)",
	   (long long)faults_total, PAGES * ROUNDS);
	ok(faults_touch * 10 > faults_total * 8, "%lld of %lld faults are in touch_pages",
	   (long long)faults_touch, (long long)faults_total);
	ok(stacked_faults == 0, "fault samples have no stacks: their event asks for none");
	ok(named, "every window symbolized");

	for (size_t i = 0; i < nw; i++)
		collector_window_release(&w[i]);
	collector_free(c);
	unwind_free(u);
	symbolize_free(sym);
	return tap_done();
}
