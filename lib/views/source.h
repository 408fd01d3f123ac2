/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_VIEWS_SOURCE_H
#define CPROF_LIB_VIEWS_SOURCE_H

#include <regex.h>
#include <stdio.h>

#include "lib/views/stacks.h"

/*
 * `go tool pprof -list`: for each function whose name matches, its source
 * lines with flat and cum, computed as pprof computes them at line
 * granularity. A node is a (function, file, line) frame: a sample adds its
 * value to the flat of its innermost frame and to the cum of every distinct
 * frame on its stack, once. A call inlined into a function shows at the
 * line of the call (the caller's frame), its own lines under its own name.
 * A function's header sums its lines' flat and cum, as pprof's does.
 */

/* One line of a function with a value. */
struct source_line {
	int64_t line;
	int64_t flat, cum;
};

/* One function in one source file. */
struct source_func {
	const char *name, *file;   /* borrowed from the profile */
	const char *build_id;	   /* a binary it was sampled in ("" unknown): for debuginfod */
	uint32_t mapping;	   /* that binary's mapping, 0 unknown */
	int64_t start_line;	   /* where the function begins, 0 unknown */
	int64_t flat, cum;	   /* sums over its lines */
	struct source_line *lines; /* sorted by line */
	size_t nlines;
};

/* The functions matching re in st, by name then file. */
struct source_funcs {
	struct source_func *v;
	size_t n;
	/* Matching functions with no file: pprof's "No source information for". */
	const char **no_source;
	size_t nno_source;
};

/* Returns 0 and *ret (release with source_funcs_release), or -ENOMEM. */
int source_collect(const struct stacks *st, const regex_t *re, struct source_funcs *ret);

void source_funcs_release(struct source_funcs *f);

/*
 * Where a listing finds a file's text: the callers' lookup (search path,
 * trimmed prefixes, debuginfod). Returns an open stream (the listing closes
 * it), or NULL with errno set.
 */
struct source_opener {
	void *ctx;
	FILE *(*open)(void *ctx, const char *file, const char *build_id);
};

/* The lines a listing shows of fn: from its start (or its first line with a value, less
 * a margin) to its last line with a value plus that margin, as pprof does. */
void source_window(const struct source_func *fn, int64_t *ret_start, int64_t *ret_end);

/*
 * Read line number want of f (whose next line is number *at) into buf,
 * its newline dropped and a line longer than size cut. False at the end.
 */
bool source_read_line(FILE *f, int64_t *at, int64_t want, char *buf, size_t size);

/* The longest source line read: longer ones are cut. */
#define SOURCE_LINE_MAX 4096

/*
 * Write the listing of the functions matching re: "Total:", then per
 * function and file a ROUTINE header with its sums and its lines, a few
 * of context around the ones with values, each "flat cum line:text" with
 * "." for zero. A file that cannot be found is said in one line, and its
 * lines with values are listed without their text. Returns 0, -ENOENT
 * when no function matches, -ENOMEM, or -EIO.
 */
int source_list_write(const struct stacks *st, const regex_t *re, const struct source_opener *src,
		      FILE *out);

#endif
