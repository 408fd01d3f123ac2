/* SPDX-License-Identifier: MIT */
#ifndef CPROF_SYMBOLIZE_OBJTOOL_H
#define CPROF_SYMBOLIZE_OBJTOOL_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/base/objcode.h"
#include "lib/profile/profile.h"

/*
 * What --disasm reads from binaries: a profile mapping's file found as
 * symbolization finds it (by build id and path, a file whose build id
 * differs refused), its function symbols (the file's or its debug file's
 * table, demangled), and the disassembly of a range by binutils' objdump,
 * as pprof does: the one disassembler every distribution has, for every
 * architecture it builds. objdump reads the file through the descriptor
 * cprof opened and checked (/proc/self/fd/N), under CPU and memory limits,
 * since the binary is as untrusted as the profile that names it.
 */
struct objtool;

/* Returns 0 and *ret (free with objtool_free), or -ENOMEM. */
int objtool_new(struct objtool **ret);

void objtool_free(struct objtool *t);

/*
 * The function symbols matching re in the binary of mapping id of p.
 * Returns 0 and *ret (free with code_syms_free), -ENOENT when the
 * binary cannot be had (a kernel or JIT mapping, a file gone or changed),
 * or -ENOMEM.
 */
int objtool_symbols(struct objtool *t, const struct profile *p, uint32_t mapping, const regex_t *re,
		    struct code_sym **ret, size_t *ret_n);

/*
 * The instructions of [start, end) in that binary, by objdump. Returns 0
 * and *ret (free with code_insns_free), -ENOENT, -ENOEXEC when objdump
 * cannot be run, -EIO when it fails, or -ENOMEM.
 */
int objtool_disasm(struct objtool *t, const struct profile *p, uint32_t mapping, uint64_t start,
		   uint64_t end, struct code_insn **ret, size_t *ret_n);

#endif
