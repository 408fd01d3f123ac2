/* SPDX-License-Identifier: MIT */
/*
 * The live table of cprof top (lib/views/live.h), fed windows built by hand:
 * flat and cum per function and per process, the decaying span against the
 * cumulative one, the filter, and the pruning of per-process rows that no
 * longer count while per-function rows stay whole.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/views/live.h"
#include "tests/tap.h"

/* A window: count samples of value each, stack leaf first (names), in process pid "comm". */
static struct profile *window(const char *const *names, size_t n, int64_t value, int32_t pid,
			      const char *comm)
{
	struct profile *p = profile_new();
	struct profile_label l[3] = {0};
	uint32_t locs[8];

	if (!p || profile_add_type(p, "cpu", "nanoseconds") < 0)
		return p;
	for (size_t i = 0; i < n; i++) {
		struct profile_function f = {0};
		struct profile_line line = {0, 1};

		(void)profile_intern(p, names[i], &f.name);
		(void)profile_intern_function(p, &f, &line.function);
		(void)profile_add_location(p, 0, 0x1000 + i, 0, &line, 1, &locs[i]);
	}
	(void)profile_intern(p, "pid", &l[0].key);
	l[0].num = pid;
	(void)profile_intern(p, "tid", &l[1].key);
	l[1].num = pid;
	(void)profile_intern(p, "comm", &l[2].key);
	(void)profile_intern(p, comm, &l[2].str);
	(void)profile_add_sample(p, locs, n, &value, l, 3, 0);
	return p;
}

static int add(struct live *t, struct profile *p)
{
	struct stacks_options o = {.sample_index = 0};
	struct stacks *st = NULL;
	int r = p ? stacks_build(p, NULL, &o, &st) : -ENOMEM;

	if (r == 0)
		r = live_add(t, st);
	stacks_free(st);
	profile_free(p);
	return r;
}

/* The row of name (and owner, when not NULL) in t's grouping g and span. */
static const struct live_row *row(const struct live *t, enum live_group g, bool cumulative,
				  const char *name, const char *owner, double *total)
{
	static struct live_row *rows;
	size_t n = 0;

	free(rows);
	rows = NULL;
	if (live_rows(t, g, cumulative, NULL, &rows, &n, total) < 0)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strcmp(rows[i].name, name) == 0 &&
		    (!owner || strcmp(rows[i].owner, owner) == 0))
			return &rows[i];
	return NULL;
}

int main(void)
{
	static const char *const hot[] = {"hot", "work", "main"}, *const rec[] = {"rec", "rec"},
				 *const gone[] = {"gone", "main"};
	struct live *t = live_new();
	const struct live_row *r;
	struct live_row *rows = NULL;
	size_t n = 0, before;
	double total = 0;
	regex_t re;

	if (!t || add(t, window(hot, 3, 100, 1, "a")) < 0 ||
	    add(t, window(rec, 2, 50, 2, "b")) < 0) {
		ok(false, "the first windows");
		return tap_done();
	}
	r = row(t, LIVE_FUNCTION, true, "hot", NULL, &total);
	ok(r && r->flat == 100 && r->cum == 100 && total == 150, "hot: flat and cum 100 of 150");
	r = row(t, LIVE_FUNCTION, true, "main", NULL, &total);
	ok(r && r->flat == 0 && r->cum == 100, "main: cum 100, no flat");
	r = row(t, LIVE_FUNCTION, true, "rec", NULL, &total);
	ok(r && r->flat == 50 && r->cum == 50, "a recursive frame counts once per sample (cum 50)");
	/* The first window has decayed once by the second's arrival: 100 * 7/8. */
	r = row(t, LIVE_FUNCTION, false, "hot", NULL, &total);
	ok(r && fabs(r->flat - 87.5) < 1e-9 && fabs(total - 137.5) < 1e-9,
	   "decaying: hot counts 7/8 a window later (%.2f of %.2f)", r ? r->flat : -1.0, total);
	r = row(t, LIVE_PROCESS, true, "hot", "a[1]", &total);
	ok(r && r->flat == 100, "per process: hot under a[1]");
	ok(!row(t, LIVE_PROCESS, true, "hot", "b[2]", &total), "and not under b[2]");

	if (regcomp(&re, "^(hot|rec)$", REG_EXTENDED | REG_NOSUB) != 0 ||
	    live_rows(t, LIVE_FUNCTION, true, &re, &rows, &n, &total) < 0)
		n = 0;
	ok(n == 2 && strcmp(rows[0].name, "hot") == 0 && strcmp(rows[1].name, "rec") == 0 &&
		   total == 150,
	   "a filter keeps its rows, by flat, and the total of all (%zu rows)", n);
	regfree(&re);
	free(rows);

	/*
	 * A process seen once, then LIVE_PRUNE_EVERY windows of another: at the
	 * prune its per-process and per-thread rows go, its function row stays.
	 */
	ok(add(t, window(gone, 2, 1, 3, "old")) == 0, "a window of a process that leaves");
	before = live_entries(t);
	while (live_windows(t) % LIVE_PRUNE_EVERY != LIVE_PRUNE_EVERY - 1)
		(void)add(t, window(hot, 3, 1000, 1, "a"));
	ok(live_entries(t) == before, "nothing pruned before window %d (%zu entries)",
	   LIVE_PRUNE_EVERY, before);
	(void)add(t, window(hot, 3, 1000, 1, "a"));
	ok(live_entries(t) == before - 4, "at it, old[3]'s rows for gone and main go (%zu → %zu)",
	   before, live_entries(t));
	ok(!row(t, LIVE_PROCESS, true, "gone", "old[3]", &total), "old[3] is no longer a row");
	r = row(t, LIVE_FUNCTION, true, "gone", NULL, &total);
	ok(r && r->cum == 1, "gone's function row keeps its cumulative value (1)");
	r = row(t, LIVE_PROCESS, true, "hot", "a[1]", &total);
	ok(r != NULL, "a[1], still counting, keeps its rows");
	(void)row(t, LIVE_FUNCTION, true, "", NULL, &total); /* frees the last rows */
	live_free(t);
	return tap_done();
}
