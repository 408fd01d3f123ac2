/* SPDX-License-Identifier: MIT */
#ifndef CPROF_SYMBOLIZE_UNWIND_H
#define CPROF_SYMBOLIZE_UNWIND_H

#include "lib/session.h"

/*
 * Online DWARF unwinding of sampled user stacks with libdwfl: the session's
 * unwinder. One Dwfl per process, kept across samples and re-reported when
 * the process's maps change; one ELF handle per file, shared by every
 * process that maps it; libdwfl's Dwfl_Thread_Callbacks read the sampled
 * registers and the stack copy of "the current sample". Where CFI has no
 * answer the walk continues by frame pointers while the chain stays inside
 * the stack copy and returns into mapped code.
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

/* The session_unwinder interface backed by u, filled into *ret. */
void unwind_bind(struct unwind *u, struct session_unwinder *ret);

#endif
