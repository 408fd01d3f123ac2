/* SPDX-License-Identifier: MIT */
#ifndef CPROF_SYMBOLIZE_UNWIND_H
#define CPROF_SYMBOLIZE_UNWIND_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/collect/session.h"

/*
 * Online DWARF unwinding of sampled user stacks: the session's unwinder.
 * Most samples are walked with each file's .eh_frame compiled into cached
 * per-pc rules (cfi.h); the rest, and anything those rules cannot say, by
 * libdwfl, whose answer the fast walk reproduces. One Dwfl per process, kept across samples and
 * re-reported when the process's maps change; one ELF handle per file, shared by every process that
 * maps it; libdwfl's Dwfl_Thread_Callbacks read the sampled registers and the stack copy of "the
 * current sample". Where CFI has no answer the walk continues by frame pointers while the chain
 * stays inside the stack copy and returns into mapped code.
 */
struct unwind;
struct elfcache;

/*
 * An unwinder opening files through files (borrowed: it must outlive the
 * unwinder; see symbolize.h). Caller owns; free with unwind_free after the
 * session using it. Returns 0 or -ENOMEM.
 */
int unwind_new(struct elfcache *files, struct unwind **ret);

/* NULL-safe. */
void unwind_free(struct unwind *u);

struct unwind_stats {
	uint64_t fast;	   /* samples unwound by cached CFI rules alone */
	uint64_t slow;	   /* samples libdwfl unwound (rules could not, or no process) */
	uint64_t verified; /* fast walks compared with libdwfl's (unwind_verify) */
	uint64_t differed; /* ... whose frames or completeness differed */
};

/*
 * Unwind every sample the fast way a second time with libdwfl and count
 * differences (debug log lists them): a self-test, about twice the cost.
 */
void unwind_verify(struct unwind *u, bool on);

void unwind_get_stats(const struct unwind *u, struct unwind_stats *ret);

/* The session_unwinder interface backed by u, filled into *ret. */
void unwind_bind(struct unwind *u, struct session_unwinder *ret);

#endif
