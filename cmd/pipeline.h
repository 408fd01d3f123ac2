/* SPDX-License-Identifier: MIT */
#ifndef CPROF_CMD_PIPELINE_H
#define CPROF_CMD_PIPELINE_H

#include <stdbool.h>

#include "lib/base/outfile.h"
#include "lib/collect/collector.h"
#include "lib/views/view.h"
#include "symbolize/symbolize.h"
#include "symbolize/unwind.h"

/*
 * 16 KiB of stack per sample: whole stacks for ordinary programs (perf's
 * 8 KiB default cuts deep ones short), at twice perf's copying cost. The
 * stack copy is unwound and dropped at once; it is never written out.
 */
#define DEFAULT_STACK_SIZE 16384

/*
 * What a recording needs beside its events, for record and serve alike:
 * the cache directory, the symbolizer, and (DWARF mode) the unwinder,
 * bound to a collector's config.
 */
struct pipeline {
	struct cache *cache;
	struct symbolize *sym;
	struct unwind *unwinder;
	struct session_unwinder unwinder_ops;
	struct session_observer observer;
	struct collector_symbolizer symbolizer;
};

/*
 * Set up p with opts (its cache is the user's cache directory, opened
 * here) and bind it to cfg: its observer, symbolizer and, when
 * cfg->session.sampler.callgraph is DWARF, unwinder. Returns 0, or the
 * exit code of the failure, said; pipeline_close either way.
 */
int pipeline_open(struct pipeline *p, struct symbolize_options opts, struct collector_config *cfg);

/* Why a cache directory or file was not used, for -v. */
const char *cache_refusal(int r);

/* Free what p holds. */
void pipeline_close(struct pipeline *p);

/* The profile's comments: the command line (argv: the subcommand's), host and kernel. */
void pipeline_add_comments(struct profile *p, int argc, char **argv);

/*
 * cprof's own cost so far as a comment of p (and, with say, at -v on
 * stderr): CPU seconds, peak resident memory, records lost, the median
 * time to unwind a stack (st: the session's counters; NULL for none).
 */
void pipeline_add_cost(struct profile *p, const struct session_stats *st, bool say);

/* What cprof itself has used so far. */
struct own_cost {
	double cpu_seconds;	    /* user and system */
	double resident_bytes;	    /* now */
	double peak_resident_bytes; /* at most, so far */
};

/* cprof's own cost now (0 for what cannot be read). */
void pipeline_own_cost(struct own_cost *ret);

/* Write p's stacks as view format (not VIEW_TOP: pprof is pipeline_write's) to f. Returns 0 or <0.
 */
int pipeline_view(const struct profile *p, enum view_kind format, FILE *f);

/*
 * Write p as format (VIEW_TOP: the pprof file itself; any other view of
 * its stacks) into out, committed or aborted. Returns 0 or a negative errno.
 */
int pipeline_write(const struct profile *p, enum view_kind format, struct outfile *out);

#endif
