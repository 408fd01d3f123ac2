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

int cmd_doctor(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_snapshot(int argc, char **argv);
int cmd_top(int argc, char **argv);

/*
 * Print "cprof: <what>: <strerror(-err)>" plus an optional hint, the one way
 * commands report a failed operation. Returns 1 (the failure exit code).
 */
int cmd_fail(int err, const char *hint, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * getopt_long's answer c for an option it did not take (':' a missing
 * value, else unknown), reported with the synopsis. Returns -1, for
 * parsers that return <0 on a usage error.
 */
int cmd_option_error(const char *cmd_usage, int c, char **argv);

/* An integer sysctl from path (under /proc/sys), or fallback when it cannot be read. */
long cmd_sysctl(const char *path, long fallback);

/* Print "cprof: <message>" and the command's synopsis to stderr; returns EXIT_USAGE. */
int cmd_usage_error(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
