/* SPDX-License-Identifier: MIT */
#ifndef CPROF_SYMBOLIZE_PROBE_H
#define CPROF_SYMBOLIZE_PROBE_H

#include <stdint.h>

/*
 * Where a uprobe goes: the file offset of function symbol in the ELF file
 * at path (what perf_event_open's uprobe PMU takes as probe_offset), from
 * .symtab or, in a stripped file, .dynsym. Returns 0 and *ret, or -ENOENT
 * (no such file), -ENOEXEC (not an ELF file, or the symbol in no loaded
 * segment), -ESRCH (no function of that name), -errno.
 */
int probe_offset(const char *path, const char *symbol, uint64_t *ret);

#endif
