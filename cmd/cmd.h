/* SPDX-License-Identifier: MIT */
#ifndef CPROF_CMD_CMD_H
#define CPROF_CMD_CMD_H

/*
 * The cprof subcommands.
 *
 * To add a command, as git's builtin.h asks:
 *  1. Write cmd/<name>.c with `int cmd_<name>(int argc, char **argv)`.
 *     argv[0] is the command name; parse with getopt_long and a leading '+'
 *     into a struct <name>_opts, resetting optind = 0 first.
 *  2. Give it a usage string: synopsis, options, examples. --help prints it
 *     to stdout and returns 0; bad usage prints a line and the synopsis to
 *     stderr and returns 2.
 *  3. Declare it below and add it to commands[] in main.c, sorted by name.
 *  4. Add it to cmd/meson.build and to the --help loop in tests/cli.
 *  5. Only this folder prints for the user, handles signals and picks exit
 *     codes: 0 success, 1 failure, 2 usage (record -- COMMAND: the command's).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes. */
#define EXIT_USAGE 2

int cmd_record(int argc, char **argv);
int cmd_report(int argc, char **argv);

struct stacks;

/* The views a profile can be shown as (cmd/view.c). */
enum view_kind {
	VIEW_TOP,
	VIEW_TREE,
	VIEW_TRACES,
	VIEW_FOLDED,
	VIEW_PERF_SCRIPT,
	VIEW_FLAMEGRAPH,
	VIEW_CALLGRIND,
	VIEW_DOT,
};

struct view_opts {
	enum view_kind kind;
	const char *file;    /* NULL or "-": stdout */
	size_t nodecount;    /* top and dot: rows or nodes at most, 0 for the default */
	double nodefraction; /* top and tree */
	bool icicle;	     /* flame graph: root at the top */
	const char *title;   /* flame graph */
	const struct stacks *base_stacks; /* flame graph: --diff-base */
};

/*
 * Write view v of st, to stdout or to v->file (temporary name, then
 * renamed). Returns 0 or a negative errno.
 */
int view_write(const struct view_opts *v, const struct stacks *st);

/* Write view v of st to out (v->file is not used). Returns 0 or a negative errno. */
int view_write_to(const struct view_opts *v, const struct stacks *st, FILE *out);

/*
 * Print "cprof: <what>: <strerror(-err)>" plus an optional hint, the one way
 * commands report a failed operation. Returns 1 (the failure exit code).
 */
int cmd_fail(int err, const char *hint, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Print "cprof: <message>" and the command's synopsis to stderr; returns EXIT_USAGE. */
int cmd_usage_error(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
