/* SPDX-License-Identifier: MIT */
#ifndef CPROF_SYMBOLIZE_ELFCOPY_H
#define CPROF_SYMBOLIZE_ELFCOPY_H

#include <stdbool.h>

#include <libelf.h>

/*
 * Distributions compress debug files' sections (SHF_COMPRESSED, zlib), and
 * libdw inflates every one of them before it answers anything: for
 * libc6-dbg some 110 ms of CPU, in every run, for every file. cprof keeps
 * an inflated copy of each debug file it reads in its cache, by build id
 * (debug-BUILDID), and later runs read that instead: the same sections,
 * the same bytes, no inflating.
 */

/* Does elf have a section compressed the gABI way (SHF_COMPRESSED)? */
bool elfcopy_is_compressed(Elf *elf);

/*
 * Write src to fd with every SHF_COMPRESSED section inflated: headers,
 * program headers and sections in their order, their data as libelf reads
 * it. src's compressed sections are inflated in place as a side effect
 * (as libdw leaves them). Returns 0, -EIO (libelf's error logged at
 * debug), or -ENOTSUP for the old .zdebug naming, which this does not
 * rename.
 */
int elfcopy_inflated(Elf *src, int fd);

#endif
