/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_BASE_OUTFILE_H
#define CPROF_LIB_BASE_OUTFILE_H

#include <stdbool.h>
#include <stdio.h>

/*
 * Where cprof writes what it made: a profile, a view, a cache file. cprof
 * often runs as root, so the rules are those of the shell's `>`, made
 * atomic where that is possible and never destructive where it is not:
 *
 *  - A regular file, or a name that does not exist yet, is written as a
 *    new file in the same directory (unnamed, O_TMPFILE, where the file
 *    system allows; else PATH.tmp.XXXXXX) and renamed over the name only
 *    once complete. A reader never sees half a profile, a failed or
 *    interrupted run leaves the previous file whole, and with O_TMPFILE
 *    not even SIGKILL leaves a temporary behind. New files are mode 0600,
 *    like perf.data: profiles reveal what a machine runs.
 *  - Anything else is written into, never replaced: "-" is standard
 *    output; /dev/stdout, /dev/fd/N (a shell's >(gzip)), character devices
 *    (/dev/null, a terminal) and FIFOs are opened for writing as `>` opens
 *    them. A FIFO nobody reads yet is opened when the data is ready, so
 *    the recording is not held up waiting for its reader.
 *  - A symlink is followed to what it names, as `>` follows it (with the
 *    kernel's fs.protected_symlinks rules); a regular file there is
 *    replaced atomically in its own directory and the link stays. A
 *    symlink that names nothing is an error (-ENOENT), not a new file.
 */
struct outfile;

enum outfile_flags {
	/*
	 * The name is cprof's own (a cache file in a directory already checked
	 * to be private): whatever is there is replaced, nothing is followed or
	 * written into.
	 */
	OUTFILE_REPLACE = 1 << 0,
};

/*
 * Prepare to write path (relative to dirfd, AT_FDCWD for the working
 * directory), so an unwritable destination is reported before any work is
 * done. Returns 0 and *ret (caller owns; finish with outfile_commit or
 * outfile_abort), -EISDIR when path is a directory, -ENOENT for a dangling
 * symlink, or -errno from opening or creating.
 */
int outfile_open_at(int dirfd, const char *path, unsigned flags, struct outfile **ret);

/* outfile_open_at(AT_FDCWD, path, 0, ret). */
int outfile_open(const char *path, struct outfile **ret);

/*
 * The descriptor to write to; for a FIFO without a reader yet, opened now
 * (waiting for one). Returns it, or -errno.
 */
int outfile_fd(struct outfile *o);

/* Is the output replaced as a regular file (false: written into, or stdout)? */
bool outfile_is_regular(const struct outfile *o);

/*
 * The name to show for the output: the path given, or "standard output"
 * for "-". Borrowed until o is finished.
 */
const char *outfile_name(const struct outfile *o);

/*
 * Make the output final: flush and rename into place (regular files), or
 * close (everything else). Frees o either way. Returns 0 or -errno.
 */
int outfile_commit(struct outfile *o);

/* Drop what was written (the previous file stays) and free o. NULL-safe. */
void outfile_abort(struct outfile *o);

/*
 * A stdio stream writing to o. Its first write error is remembered with
 * its errno (ENOSPC, EPIPE…), which outfile_finish returns. NULL and errno
 * when none.
 */
FILE *outfile_stream(struct outfile *o);

/*
 * Close f, then commit o when r is 0 and f was written and closed cleanly,
 * else abort it. Returns 0, r, or -errno (the stream's own first error).
 */
int outfile_finish(struct outfile *o, FILE *f, int r);

#endif
