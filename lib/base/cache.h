/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_BASE_CACHE_H
#define CPROF_LIB_BASE_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/*
 * cprof's cache directory ($CPROF_CACHE_DIR, $XDG_CACHE_HOME/cprof or
 * ~/.cache/cprof): results that are costly to compute and cannot change
 * for what they are keyed by (the kernel's symbols for a boot id, …).
 *
 * cprof often runs as root, and a cache is input it will believe, so the
 * directory is used only when it is the user's own: a real directory (not
 * a symlink), owned by the effective user, writable by nobody else. Each
 * file must be the same: a regular file of the user's, writable by nobody
 * else, within a size bound; it is opened without following symlinks and
 * without blocking, so a FIFO or a link to /dev/zero planted there is
 * refused, not read. Files are written whole or not at all (outfile.h),
 * mode 0600. What is read must still be validated by its reader: the
 * rules above only say who wrote it.
 */
struct cache;

/*
 * The directory to use: $CPROF_CACHE_DIR, else $XDG_CACHE_HOME/cprof (an
 * absolute one), else $HOME/.cache/cprof. Returns 0 and *ret (caller
 * frees), -ENOENT when none can be named, -ECANCELED when CPROF_CACHE_DIR
 * is set but empty (the cache is turned off), or -ENOMEM.
 */
int cache_dir_path(char **ret);

/*
 * Open dir, creating it (and missing parents) mode 0700. Returns 0 and
 * *ret (caller owns; free with cache_free), or: -ELOOP when dir is a
 * symlink, -ENOTDIR, -EPERM when it is another user's, -EACCES when others
 * may write to it, or -errno from creating or opening it.
 */
int cache_open(const char *dir, struct cache **ret);

/* NULL-safe. */
void cache_free(struct cache *c);

/*
 * Read file name whole, at most max bytes. Returns 0 with *ret (caller
 * frees; NUL-terminated after *ret_len bytes), or: -ENOENT, -ELOOP for a
 * symlink, -EPERM when it is not a regular file of the user's writable by
 * nobody else, -EFBIG past max, -errno.
 */
int cache_read(struct cache *c, const char *name, size_t max, char **ret, size_t *ret_len);

/*
 * Open file name for reading under the same rules as cache_read, for files
 * read in place (mmap). Returns the descriptor (caller closes) or -errno
 * as cache_read.
 */
int cache_open_file(struct cache *c, const char *name);

/*
 * Map file name read-only, under the same rules as cache_read, at most max
 * bytes: for a file read often and large, where a copy costs more than
 * what is read of it (a run reads the names it needs of a file it must
 * check whole). Files are replaced, never written in place, so the map
 * stays what was checked. Returns 0 with *ret and *ret_len (give it back
 * with cache_unmap), -ENODATA for an empty file, or -errno as cache_read.
 */
int cache_map(struct cache *c, const char *name, size_t max, const void **ret, size_t *ret_len);

/* NULL-safe. */
void cache_unmap(const void *map, size_t len);

/*
 * A new file name to write, replacing it atomically on outfile_commit
 * (outfile.h), mode 0600. Returns 0 and *ret, or -errno.
 */
struct outfile;
int cache_create(struct cache *c, const char *name, struct outfile **ret);

/* Replace file name with len bytes of data, atomically, mode 0600. Returns 0 or -errno. */
int cache_write(struct cache *c, const char *name, const void *data, size_t len);

/* cache_write of the n pieces of iov, one after the other (none copied together). */
int cache_writev(struct cache *c, const char *name, const struct iovec *iov, size_t n);

/* Mark file name as just used, so cache_trim removes it last. */
void cache_touch(struct cache *c, const char *name);

/*
 * Keep the files whose names start with prefix under max_bytes together,
 * removing the least recently used first. Returns 0 or -errno.
 */
int cache_trim(struct cache *c, const char *prefix, uint64_t max_bytes);

#endif
