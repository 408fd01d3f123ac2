/* SPDX-License-Identifier: MIT */
#ifndef CPROF_CMD_ALLOCATOR_H
#define CPROF_CMD_ALLOCATOR_H

#include <limits.h>
#include <stdint.h>

#include "lib/collect/kinds.h"

/*
 * Where --kind alloc probes (lib/collect/alloc.c), for its target: a
 * launched command gets cprof's preload library, libcprof-alloc.so, and its
 * two hooks are probed; a running process started with the library
 * preloaded, the same; any other process, its allocator: malloc and the
 * rest of the family in its executable (static, or with an allocator of
 * its own) or its libc.
 */
struct allocator {
	struct kind_alloc_target target; /* its path points into path */
	char path[PATH_MAX + 32];
	char preload[PATH_MAX]; /* launched: the library LD_PRELOAD names */
};

/*
 * Ring pages for the preload library's hooks: 8 MiB a CPU. A program can
 * free and allocate sampled blocks in bursts (64 MiB of 64 KiB blocks in
 * 50 ms is some 2,000 hooks at a 32 KiB rate, each with a 16 KiB stack
 * copy); 2 MiB lost a quarter of them under ASan. Root only (uprobes), so
 * the lock limit does not apply.
 */
#define ALLOCATOR_HOOK_RING_PAGES 2048

/* Default bytes between samples: Go's runtime.MemProfileRate. */
#define ALLOCATOR_DEFAULT_RATE (512 * 1024)

/*
 * For a command about to be launched: the preload library, found as
 * CPROF_ALLOC_LIBRARY names it, else beside cprof in its build tree, else
 * where it is installed. Returns 0, or -ENOENT (not found), -ENOEXEC or
 * -ESRCH (not the library: its hooks are missing).
 */
int allocator_for_command(uint64_t rate, struct allocator *ret);

/*
 * For process pid: its preload library's hooks (at the rate its
 * environment set), else its allocator, sampled at rate. Returns 0, or
 * -ESRCH (the process is gone), -ENOENT (no malloc found), -errno.
 */
int allocator_for_process(int32_t pid, uint64_t rate, struct allocator *ret);

/*
 * What one hit of a uprobe taking a stack copy of stack_size bytes costs
 * the thread that hits it, measured on a function of cprof's own: set in
 * a->target.trap_ns, left 0 when it cannot be measured (no symbol table).
 */
void allocator_measure_trap(struct allocator *a, uint32_t stack_size);

/*
 * In the launched command's process, before exec: LD_PRELOAD (the
 * library first, then what was there) and CPROF_ALLOC_RATE. Returns 0 or -errno.
 */
int allocator_export(const struct allocator *a);

#endif
