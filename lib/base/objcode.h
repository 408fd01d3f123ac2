/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_BASE_OBJCODE_H
#define CPROF_LIB_BASE_OBJCODE_H

#include <stddef.h>
#include <stdint.h>

/*
 * A binary's code as an annotated listing needs it: its function symbols
 * and the instructions of one, each with the source line the disassembler
 * gives it. symbolize/objtool.c reads them (ELF, objdump); the views
 * (lib/views/disasm.h, weblist.h) show them. Both sides share these types,
 * so nothing is copied between them.
 */

/* A function symbol of a binary. */
struct code_sym {
	char *name;	     /* demangled where it was mangled */
	uint64_t start, end; /* the binary's own addresses */
	int64_t bias;	     /* the profile's address of an instruction = its own + bias */
};

/* One instruction, and the source line the disassembler gives it. */
struct code_insn {
	uint64_t addr; /* the binary's own address */
	char *text;
	char *function, *file; /* NULL when none was said */
	int64_t line;
};

/* Free n symbols or instructions and the array. NULL-safe. */
void code_syms_free(struct code_sym *v, size_t n);
void code_insns_free(struct code_insn *v, size_t n);

#endif
