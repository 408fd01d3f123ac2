/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_VIEWS_DISASM_H
#define CPROF_LIB_VIEWS_DISASM_H

#include <regex.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/base/objcode.h"
#include "lib/views/stacks.h"

/*
 * `go tool pprof -disasm`: the instructions of each function whose symbol
 * matches, with the samples at each address, computed as pprof computes
 * them at address granularity without inlines: a sample's value goes to
 * the flat of its innermost location's address and to the cum of every
 * distinct address on its stack. Binaries and their disassembly come
 * through disasm_ops (symbolize/objtool.c: the binary by build id,
 * binutils' objdump), so this folder stays free of ELF.
 */

struct disasm_ops {
	void *ctx;
	/*
	 * The function symbols matching re in the binary of mapping id of p.
	 * Returns 0 and *ret (free with code_syms_free), -ENOENT when the
	 * binary cannot be had, or another negative errno.
	 */
	int (*symbols)(void *ctx, const struct profile *p, uint32_t mapping, const regex_t *re,
		       struct code_sym **ret, size_t *ret_n);
	/*
	 * The instructions of [start, end) in that binary. Returns 0 and *ret
	 * (free with code_insns_free), or a negative errno.
	 */
	int (*disasm)(void *ctx, const struct profile *p, uint32_t mapping, uint64_t start,
		      uint64_t end, struct code_insn **ret, size_t *ret_n);
};

/* A sampled address of one mapping (the profile's address), and its values. */
struct disasm_value {
	uint64_t addr;
	int64_t flat, cum;
	size_t last; /* private: the sample that last added to cum (+1) */
};

/*
 * The values at each sampled address of mapping m in st, sorted by
 * address. Returns 0 and *ret (caller frees), or -ENOMEM.
 */
int disasm_values(const struct stacks *st, uint32_t m, struct disasm_value **ret, size_t *ret_n);

/* The value at addr, or NULL. */
const struct disasm_value *disasm_value_at(const struct disasm_value *v, size_t n, uint64_t addr);

/*
 * Write "Total:", then per matching symbol a ROUTINE header with its sums
 * and its instructions, "flat cum address: instruction ;function file:line"
 * where the line changes. A symbol whose binary cannot be found is said in
 * one line. Returns 0, -ENOENT when nothing matches, -ENOMEM or -EIO.
 */
int disasm_write(const struct stacks *st, const regex_t *re, const struct disasm_ops *ops,
		 FILE *out);

#endif
