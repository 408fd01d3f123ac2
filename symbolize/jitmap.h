/* SPDX-License-Identifier: MIT */
#ifndef CPROF_SYMBOLIZE_JITMAP_H
#define CPROF_SYMBOLIZE_JITMAP_H

#include <stddef.h>
#include <stdint.h>

/*
 * Symbols of JIT-compiled code from the perf map files that JITs write
 * (/tmp/perf-PID.map: "START SIZE NAME" per line, hex with or without 0x;
 * node --perf-basic-prof, the JVM's perf-map-agent, LuaJIT, …).
 *
 * The file lies in a world-writable directory and names what cprof, often
 * root, puts in the profile, so it is believed only when it is what the
 * process itself would have written: a regular file (not a symlink, FIFO
 * or device), owned by the process's user or by root, writable by nobody
 * else. It is opened without blocking and read up to a size bound, once
 * per process. It is looked for in the process's own /tmp (its mount
 * namespace) under the pid it has in its own pid namespace, then in ours.
 */

/* One parsed perf map. */
struct jitmap;

/*
 * Parse len bytes of perf map text. Lines that do not parse are skipped;
 * of overlapping entries the later one wins, as the JIT replaced the code.
 * Returns 0 and *ret (free with jitmap_free), or -ENOMEM.
 */
int jitmap_parse(const char *text, size_t len, struct jitmap **ret);

/* NULL-safe. */
void jitmap_free(struct jitmap *m);

/* The name at addr, or NULL. Borrowed until jitmap_free. */
const char *jitmap_lookup(const struct jitmap *m, uint64_t addr);

/* The perf maps of many processes. */
struct jitmaps;

/* Caller owns; free with jitmaps_free. Returns 0 or -ENOMEM. */
int jitmaps_new(struct jitmaps **ret);

/* NULL-safe. */
void jitmaps_free(struct jitmaps *j);

/*
 * Process pid runs JIT code: find its perf map now, while the process (its
 * mount namespace, its uid) can still be asked, and keep the file open;
 * it is read at the first lookup, by which time the JIT has written more.
 * A map that fails the rules above is refused and counted. Returns 0 or
 * -ENOMEM; a process without a map is not an error.
 */
int jitmaps_open(struct jitmaps *j, int32_t pid);

/*
 * The name of the JIT symbol of process pid at addr, or NULL. A process
 * never given to jitmaps_open is looked up now. Borrowed until jitmaps_free.
 */
const char *jitmaps_lookup(struct jitmaps *j, int32_t pid, uint64_t addr);

/*
 * How many perf maps were refused, and why the first one was ("/tmp/perf-
 * 42.map: owned by uid 1, not by the process's (65534) or root"). The
 * reason is borrowed until jitmaps_free, "" when none was refused.
 */
size_t jitmaps_refused(const struct jitmaps *j, const char **ret_first_reason);

#endif
