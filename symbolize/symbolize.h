/* SPDX-License-Identifier: MIT */
#ifndef CPROF_SYMBOLIZE_SYMBOLIZE_H
#define CPROF_SYMBOLIZE_SYMBOLIZE_H

#include <stdint.h>

#include "lib/profile.h"

/*
 * Names for the locations of a profile: ELF symbols (.symtab, else
 * .dynsym) of user-space files through libdwfl, and /proc/kallsyms for the
 * kernel. Runs once per unique location, after aggregation. Files are
 * opened once each, however many mappings and processes share them.
 * Exports cprof types only: nothing here leaks a Dwfl.
 */
struct symbolize;

struct symbolize_stats {
	uint64_t locations; /* locations looked at */
	uint64_t resolved; /* got a function name */
	uint64_t files_missing; /* mapped files that could not be opened */
};

/* Caller owns; free with symbolize_free. Returns 0 and *ret, or -ENOMEM. */
int symbolize_new(struct symbolize **ret);

/* Close every file. NULL-safe. */
void symbolize_free(struct symbolize *s);

/*
 * Give every location of p that has not been symbolized its lines (one per
 * function here; inline chains come from DWARF later), set the mappings'
 * has_functions flag and fill in missing build ids. A location that cannot
 * be resolved keeps no lines; that is counted, not an error.
 * Returns 0 or -ENOMEM.
 */
int symbolize_profile(struct symbolize *s, struct profile *p, struct symbolize_stats *ret_stats);

#endif
