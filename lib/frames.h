/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_FRAMES_H
#define CPROF_LIB_FRAMES_H

#include <stddef.h>
#include <stdint.h>

#include "lib/profile.h"

/*
 * The display names of every location's frames, computed once for all
 * views: a location has one frame per line (inlined calls first, innermost
 * first), or one synthetic frame when it has no lines: "[unknown]" inside
 * its mapping's base name ("[libc.so.6]"), or the hex address when it has
 * no mapping. pprof would show each unsymbolized address on its own; a
 * per-mapping name keeps the views readable and is documented in docs/.
 */
struct frames;

/* Caller owns; free with frames_free. Returns 0 and *ret, or -ENOMEM. */
int frames_new(const struct profile *p, struct frames **ret);

/* NULL-safe. */
void frames_free(struct frames *f);

/* The number of frames location id (1-based) expands to; at least 1. */
size_t frames_count(const struct frames *f, uint32_t loc);

/* The name of frame i of location loc, innermost first. Borrowed until frames_free. */
const char *frames_name(const struct frames *f, uint32_t loc, size_t i);

#endif
