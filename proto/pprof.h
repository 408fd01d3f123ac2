/* SPDX-License-Identifier: MIT */
#ifndef CPROF_PROTO_PPROF_H
#define CPROF_PROTO_PPROF_H

#include <stddef.h>

#include "lib/profile/profile.h"

/*
 * pprof files: profile.proto messages, gzip-compressed when written, gzip or
 * raw when read (Go's runtime/pprof, cprof, and anything else that writes
 * the format).
 */

/*
 * Write p to fd as gzip-compressed profile.proto. The model's 1-based ids
 * become pprof's ids. Returns 0, -EIO when writing failed (errno-specific
 * codes like -ENOSPC where known), or -ENOMEM.
 */
int pprof_write(const struct profile *p, int fd);

/*
 * The memory a profile may take while it is read (the file, its inflated
 * bytes, the decoded messages and the model), unless the caller says
 * otherwise: profiles are often someone else's files, and a few kilobytes
 * of gzip can ask for gigabytes.
 */
#define PPROF_MAX_MEMORY ((size_t)1 << 30)

/*
 * Decode a profile from size bytes at data (gzip or raw protobuf), using
 * at most about max_memory bytes (0: PPROF_MAX_MEMORY).
 * Returns 0 and *ret (caller owns; free with profile_free), or:
 *  -EBADMSG  corrupt or truncated gzip;
 *  -EINVAL   not a profile.proto message, or one whose references dangle;
 *  -E2BIG    inflates or decodes past max_memory;
 *  -ENOMEM.
 */
int pprof_read(const void *data, size_t size, size_t max_memory, struct profile **ret);

/*
 * pprof_read on the contents of path ("-": standard input); also -EFBIG
 * when the file alone is more than a quarter of max_memory, -ENODEV for a
 * device, and -errno from opening or reading it.
 */
int pprof_read_file(const char *path, size_t max_memory, struct profile **ret);

#endif
