/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_VIEWS_VIEW_H
#define CPROF_LIB_VIEWS_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "lib/views/disasm.h"
#include "lib/views/source.h"
#include "lib/views/stacks.h"

/*
 * Every view a profile can be shown as, by kind: a new view is a file in
 * this folder, a kind here and a case in view_write_to
 * (docs/architecture.md).
 */
enum view_kind {
	VIEW_TOP,
	VIEW_TREE,
	VIEW_TRACES,
	VIEW_FOLDED,
	VIEW_PERF_SCRIPT,
	VIEW_FLAMEGRAPH,
	VIEW_CALLGRIND,
	VIEW_DOT,
	VIEW_THREADS_SUMMARY, /* distinct stacks with their thread counts (goroutine?debug=1) */
	VIEW_THREADS,	      /* every thread and its stack (goroutine?debug=2) */
	VIEW_LIST,	      /* source lines of the functions matching symbol */
	VIEW_DISASM,	      /* instructions of the functions matching symbol */
	VIEW_WEBLIST,	      /* both, as one HTML page */
};

struct view_options {
	enum view_kind kind;
	const char *file;    /* NULL or "-": stdout */
	size_t nodecount;    /* top and dot: rows or nodes at most, 0 for the default */
	double nodefraction; /* top and tree */
	bool icicle;	     /* flame graph: root at the top */
	const char *title;   /* flame graph */
	const struct stacks *base_stacks;   /* flame graph: --diff-base */
	const regex_t *symbol;		    /* list, disasm, weblist: the functions to show */
	const struct source_opener *source; /* list, weblist: where source files are found */
	const struct disasm_ops *disasm;    /* disasm, weblist: binaries and objdump */
};

/*
 * Write view v of st, to stdout or to v->file (outfile.h). Returns 0 or a
 * negative errno; a file that could not be written whole is not left
 * half-written.
 */
int view_write(const struct view_options *v, const struct stacks *st);

/* Write view v of st to out (v->file is not used). Returns 0 or a negative errno. */
int view_write_to(const struct view_options *v, const struct stacks *st, FILE *out);

#endif
