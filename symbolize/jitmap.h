/* SPDX-License-Identifier: MIT */
#ifndef CPROF_SYMBOLIZE_JITMAP_H
#define CPROF_SYMBOLIZE_JITMAP_H

#include <stdint.h>

/*
 * Symbols of JIT-compiled code from the perf map files that JITs write
 * (/tmp/perf-PID.map: "START SIZE NAME" per line, hex with or without 0x;
 * node --perf-basic-prof, the JVM's perf-map-agent, LuaJIT, …). The file is
 * looked for in the process's own /tmp, under the pid it has in its own pid
 * namespace, then in ours; each process's file is read once.
 */
struct jitmaps;

/* Caller owns; free with jitmaps_free. Returns 0 or -ENOMEM. */
int jitmaps_new(struct jitmaps **ret);

/* NULL-safe. */
void jitmaps_free(struct jitmaps *j);

/* The name of the JIT symbol of process pid at addr, or NULL. Borrowed until jitmaps_free. */
const char *jitmaps_lookup(struct jitmaps *j, int32_t pid, uint64_t addr);

#endif
