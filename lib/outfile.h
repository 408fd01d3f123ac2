/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_OUTFILE_H
#define CPROF_LIB_OUTFILE_H

#include <stdio.h>

/*
 * An output file written under a temporary name beside it and renamed into
 * place when complete, so a reader never sees half a profile and an
 * interrupted run never clobbers the previous one. Created mode 0600, like
 * perf.data: profiles reveal what a machine runs.
 */
struct outfile;

/*
 * Create the temporary file for path now, so an unwritable destination is
 * reported before any work is done. Returns 0 and *ret (caller owns; finish
 * with outfile_commit or outfile_abort), -EISDIR when path is a directory,
 * or -errno from creating the file.
 */
int outfile_open(const char *path, struct outfile **ret);

/* The descriptor to write to. */
int outfile_fd(const struct outfile *o);

/* Flush, close and rename into place; frees o either way. Returns 0 or -errno. */
int outfile_commit(struct outfile *o);

/* Remove the temporary file and free o. NULL-safe. */
void outfile_abort(struct outfile *o);

/* A stdio stream writing to o (on a copy of its descriptor); NULL and errno when none. */
FILE *outfile_stream(struct outfile *o);

/*
 * Close f, then commit o when r is 0 and f was written and closed cleanly,
 * else abort it. Returns 0, r, or -errno.
 */
int outfile_finish(struct outfile *o, FILE *f, int r);

#endif
