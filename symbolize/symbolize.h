/* SPDX-License-Identifier: MIT */
#ifndef CPROF_SYMBOLIZE_SYMBOLIZE_H
#define CPROF_SYMBOLIZE_SYMBOLIZE_H

#include <stdint.h>

#include "lib/collect/collector.h"
#include "lib/collect/session.h"
#include "lib/profile/profile.h"

/*
 * Names for the locations of a profile, once per unique location after
 * aggregation:
 *  - user code: DWARF where present (libdw), with the inline chain — every
 *    inlined call its own line, innermost first, with file and line — and
 *    separate debug info found by build id, .gnu_debuglink, .gnu_debugdata
 *    or debuginfod; else the ELF symbol (.symtab, .dynsym);
 *  - C++ and Rust names demangled into name, the mangled one in system_name;
 *  - JIT code in anonymous memory from /tmp/perf-PID.map;
 *  - the kernel from a vmlinux with DWARF when one is found (inline chains,
 *    lines), else /proc/kallsyms; module symbols in a mapping per module.
 * Files are opened once each, keyed by build id, and shared with the
 * unwinder (symbolize_files), which opens them while their processes run.
 */
struct symbolize;
struct elfcache;
struct cache;

struct symbolize_options {
	const char *debuginfo_path; /* libdwfl's search path; NULL for ":.debug:/usr/lib/debug" */
	/*
	 * The kernel image with DWARF, as perf's --vmlinux; NULL to look in the
	 * usual places (/usr/lib/debug/boot/vmlinux-RELEASE, …) for one whose
	 * build id is the running kernel's (/sys/kernel/notes).
	 */
	const char *vmlinux;
	/*
	 * cprof's cache (lib/base/cache.h), borrowed: the core kernel's symbols are
	 * kept there for the current boot (kallsyms-BOOT_ID), so later runs
	 * need not read all of /proc/kallsyms. NULL for no cache.
	 */
	struct cache *cache;
};

struct symbolize_stats {
	uint64_t locations;	/* locations looked at */
	uint64_t resolved;	/* got a function name */
	uint64_t cached;	/* user addresses named by the symbol cache */
	uint64_t computed;	/* ... and from their files, not found there */
	uint64_t files_missing; /* mapped files that could not be opened */
	/* JIT perf maps not believed (jitmap.h), and why the first was not; borrowed. */
	size_t jitmaps_refused;
	const char *jitmap_refused_why;
	/*
	 * Why the cached kernel symbols (kernel_cache, borrowed) were not used:
	 * -ELOOP, -EPERM (cache_read's refusals), -EFBIG, -EBADMSG (damaged or
	 * another version); 0 when used, absent or not needed.
	 */
	int kernel_cache_error;
	const char *kernel_cache;
};

/* Caller owns; free with symbolize_free. Returns 0 and *ret, or -ENOMEM. */
int symbolize_new(const struct symbolize_options *opts, struct symbolize **ret);

/* Close every file. Free any unwinder borrowing symbolize_files first. NULL-safe. */
void symbolize_free(struct symbolize *s);

/* The file cache, for unwind_new. Borrowed until symbolize_free. */
struct elfcache *symbolize_files(struct symbolize *s);

/*
 * The session_observer backed by s, filled into *ret: files and JIT maps
 * are opened at a mapping's first sample, while its process runs.
 */
void symbolize_bind(struct symbolize *s, struct session_observer *ret);

/*
 * The collector_symbolizer backed by s, filled into *ret: each window's
 * profiles through symbolize_profile, its counters summed for
 * symbolize_get_stats.
 */
void symbolize_bind_collector(struct symbolize *s, struct collector_symbolizer *ret);

/* The counters of the profiles symbolized through symbolize_bind_collector so far. */
void symbolize_get_stats(const struct symbolize *s, struct symbolize_stats *ret);

/*
 * Give every location of p that has not been symbolized its lines, set the
 * mappings' has_* flags, and fill in missing build ids. A location that
 * cannot be resolved keeps no lines; that is counted, not an error.
 * Returns 0 or -ENOMEM.
 */
int symbolize_profile(struct symbolize *s, struct profile *p, struct symbolize_stats *ret_stats);

#endif
