/* SPDX-License-Identifier: MIT */
#ifndef CPROF_PROTO_PPROF_H
#define CPROF_PROTO_PPROF_H

#include <stddef.h>

#include "lib/profile.h"

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
 * Decode a profile from size bytes at data (gzip or raw protobuf).
 * Returns 0 and *ret (caller owns; free with profile_free), or:
 *  -EBADMSG  corrupt or truncated gzip;
 *  -EINVAL   not a profile.proto message, or one whose references dangle;
 *  -EFBIG    decompresses past the size limit;
 *  -ENOMEM.
 */
int pprof_read(const void *data, size_t size, struct profile **ret);

/* pprof_read on the contents of path; also -errno from opening or reading it. */
int pprof_read_file(const char *path, struct profile **ret);

#endif
