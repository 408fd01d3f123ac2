/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_VIEWS_FRAMENAMES_H
#define CPROF_LIB_VIEWS_FRAMENAMES_H

#include <stddef.h>
#include <stdint.h>

#include "lib/profile/profile.h"

/*
 * The display names of every location's frames, computed once for all
 * views: a location has one frame per line (inlined calls first, innermost
 * first), named by its function. A frame with no function name is named as
 * pprof names it at function granularity: the base name of its mapping's
 * file in brackets ("[libc.so.6]"), or "<unknown>" without a mapping, so all
 * unsymbolized frames of one file are one node in every view.
 */
struct framenames;

/* Caller owns; free with frames_free. Returns 0 and *ret, or -ENOMEM. */
int framenames_new(const struct profile *p, struct framenames **ret);

/* NULL-safe. */
void framenames_free(struct framenames *f);

/* The number of frames location id (1-based) expands to; at least 1. */
size_t framenames_count(const struct framenames *f, uint32_t loc);

/* The name of frame i of location loc, innermost first. Borrowed until frames_free. */
const char *framenames_name(const struct framenames *f, uint32_t loc, size_t i);

#endif
