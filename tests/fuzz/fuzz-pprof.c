/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: a pprof file, as `cprof report` takes one from anybody
 * (DESIGN.md, Trust), through the reader, the writer and the reader again,
 * the stacks every view draws, and every view.
 *
 * The input is the file itself, gzip or raw: the seeds are real profiles,
 * and a crash file is a profile to hand to `cprof report`. The filter
 * options of the second pass are chosen by a hash of the input instead of
 * by a prefix, so that no input needs one.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/profile/profile.h"
#include "lib/views/stacks.h"
#include "lib/views/view.h"
#include "proto/pprof.h"
#include "tests/fuzz/fuzz.h"

/*
 * The reader's and the stacks' memory bound. cprof report's default (1 GiB)
 * is the same code with a larger number; this one leaves room under
 * libFuzzer's -rss_limit_mb=2048 for everything else an input may ask for.
 */
#define FUZZ_MAX_MEMORY ((size_t)256 << 20)

/* Every view there is: enum view_kind has no count of its own. */
static const enum view_kind views[] = {
	VIEW_TOP,	  VIEW_TREE,	   VIEW_TRACES,	   VIEW_FOLDED,
	VIEW_PERF_SCRIPT, VIEW_FLAMEGRAPH, VIEW_CALLGRIND, VIEW_DOT,
};

/* Fixed patterns: in real use the regexes come from the user, never from the file. */
static const char *const patterns[] = {
	NULL, "main", "^runtime\\.", "a|b", "\\[kernel", "hot.*:[0-9]+", ".", "libc|ld-linux",
};

/* Opened once: the views' output is not what is checked, their survival is. */
static FILE *devnull(void)
{
	static FILE *f;

	if (!f)
		f = fopen("/dev/null", "we");
	if (!f)
		abort(); /* no /dev/null: nothing here can run */
	return f;
}

/* FNV-1a: which options the second pass uses, stable for a given input. */
static uint32_t input_hash(const uint8_t *data, size_t size)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * 16777619u;
	return h;
}

/*
 * The perf-script view prints one record per event, as perf does: a sample
 * whose samples/count is N comes out N times, each with its whole stack.
 * Its bound (lib/views/script.c) is set for real recordings, millions of
 * records, and a few bytes of profile can reach it: output as designed,
 * but more than libFuzzer's -timeout allows. Such profiles skip that view
 * here. The estimate counts every sample's samples/count, even those a
 * time label makes print once.
 */
#define FUZZ_SCRIPT_MAX_LINES 200000

static bool script_is_long(const struct stacks *st)
{
	const struct profile *p = st->p;
	int count = profile_find_type(p, "samples");
	uint64_t lines = 0;

	for (size_t i = 0; i < st->nsamples && lines <= FUZZ_SCRIPT_MAX_LINES; i++) {
		const struct stacks_sample *s = &st->samples[i];
		int64_t n = 1;

		if (s->from_base)
			continue;
		if (count >= 0)
			n = p->values[p->samples[s->sample].value_off + (size_t)count];
		if (n > FUZZ_SCRIPT_MAX_LINES)
			return true;
		if (n > 0)
			lines += (uint64_t)n * ((uint64_t)s->n + 2);
	}
	return lines > FUZZ_SCRIPT_MAX_LINES;
}

static void write_views(const struct stacks *st, const struct view_options *opts)
{
	FILE *out = devnull();

	for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++) {
		struct view_options v = *opts;

		v.kind = views[i];
		if (v.kind == VIEW_PERF_SCRIPT && script_is_long(st))
			continue;
		(void)view_write_to(&v, st, out);
	}
	(void)fflush(out);
}

/*
 * What pprof_write makes of any profile pprof_read accepted (resymbolize
 * reads and writes profiles from anywhere), pprof_read takes back whole:
 * the same number of each thing, as both keep the file's items distinct.
 */
static void round_trip(const struct profile *p)
{
	static int fd = -1;
	struct profile *again;
	unsigned char *buf;
	off_t len;

	if (fd < 0)
		fd = memfd_create("fuzz-pprof", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0)
		abort();
	if (pprof_write(p, fd) < 0)
		return;
	len = lseek(fd, 0, SEEK_CUR);
	buf = malloc(len > 0 ? (size_t)len : 1);
	if (len < 0 || !buf || pread(fd, buf, (size_t)len, 0) != len)
		abort();
	if (pprof_read(buf, (size_t)len, FUZZ_MAX_MEMORY, &again) < 0)
		abort();
	if (again->ntypes != p->ntypes || again->nsamples != p->nsamples ||
	    again->nlocations != p->nlocations || again->nfunctions != p->nfunctions ||
	    again->nmappings != p->nmappings)
		abort();
	profile_free(again);
	free(buf);
}

/* What `cprof report --diff-base FILE FILE` does, for a table and the flame graph. */
static void diff_views(const struct profile *p, const struct stacks_options *o,
		       const struct stacks *st)
{
	struct view_options v = {.kind = VIEW_TOP};
	struct stacks *diff = NULL;

	/* The flame graph colors by difference: the base's own stacks beside p's. */
	v.kind = VIEW_FLAMEGRAPH;
	v.base_stacks = st;
	(void)view_write_to(&v, st, devnull());
	/* The other views show the base's values negated, in one set of stacks. */
	if (stacks_build(p, p, o, &diff) == 0) {
		v.base_stacks = NULL;
		v.kind = VIEW_TOP;
		(void)view_write_to(&v, diff, devnull());
		v.kind = VIEW_TRACES;
		(void)view_write_to(&v, diff, devnull());
	}
	(void)fflush(devnull());
	stacks_free(diff);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint32_t h = input_hash(data, size);
	const size_t npat = sizeof(patterns) / sizeof(patterns[0]);
	struct stacks_options o = {0};
	struct view_options v = {0};
	struct profile *p = NULL;
	struct stacks *st = NULL;
	int index;

	if (pprof_read(data, size, FUZZ_MAX_MEMORY, &p) < 0)
		return 0;
	round_trip(p);

	/* As `cprof report FILE` with every view. */
	index = stacks_sample_index(p, NULL);
	if (index < 0)
		goto out;
	o.sample_index = index;
	o.max_memory = FUZZ_MAX_MEMORY;
	if (stacks_build(p, NULL, &o, &st) < 0)
		goto out;
	write_views(st, &v);
	diff_views(p, &o, st);
	stacks_free(st);
	st = NULL;

	/* Again with filters and view options: --focus --ignore --hide --lines, -i 0, -n … */
	index = stacks_sample_index(p, (h & 1) ? "0" : NULL);
	if (index < 0)
		goto out;
	o.sample_index = index;
	o.focus = patterns[(h >> 1) % npat];
	o.ignore = patterns[(h >> 4) % npat];
	o.hide = patterns[(h >> 7) % npat];
	o.lines = true;
	o.comm = (h & (1u << 10)) ? "hot" : NULL;
	o.has_pid = h & (1u << 11);
	o.pid = 1;
	v.nodecount = (h >> 12) & 7;
	v.nodefraction = (h & (1u << 15)) ? 0.005 : 0;
	v.icicle = h & (1u << 16);
	v.title = (h & (1u << 17)) ? "<a title=\"&\">" : NULL;
	if (stacks_build(p, NULL, &o, &st) < 0)
		goto out;
	write_views(st, &v);
out:
	stacks_free(st);
	profile_free(p);
	return 0;
}
