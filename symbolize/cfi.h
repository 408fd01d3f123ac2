/* SPDX-License-Identifier: MIT */
#ifndef CPROF_SYMBOLIZE_CFI_H
#define CPROF_SYMBOLIZE_CFI_H

#include <stdbool.h>
#include <stdint.h>

#include "symbolize/internal.h"

/*
 * A file's .eh_frame, compiled pc by pc into the few rules that nearly all
 * compiled code needs, and cached: the CFA is the stack or frame pointer
 * plus an offset, the return address is saved at the CFA plus an offset,
 * the frame pointer is unchanged, lost, or saved at the CFA plus an offset.
 * Samples hit the same pcs and return addresses over and over, so the fast
 * unwinder in unwind.c pays for libdw's CFI interpreter once per pc instead
 * of once per frame. Anything else (expressions, signal frames, other CFA
 * registers) is left to libdwfl.
 */

enum cfi_where {
	CFI_SAME,      /* the register keeps its value */
	CFI_UNDEFINED, /* lost: for the return address, the outermost frame */
	CFI_AT_CFA,    /* saved in memory at CFA + off */
	/*
	 * The return address only: held in DWARF register off, not in memory —
	 * vfork pops it into a register across the syscall, since the child
	 * runs on the same stack. Known at the sampled frame alone.
	 */
	CFI_IN_REG,
};

struct cfi_rule {
	uint8_t cfa_reg; /* DWARF register the CFA is computed from: sp or fp */
	uint8_t ra, fp;	 /* enum cfi_where of the return address and frame pointer */
	int32_t cfa_off, ra_off, fp_off;
};

/* The per-file cache, owned by the file (struct elf_file). */
struct cfi_rules;

enum cfi_found {
	CFI_FOUND,    /* *ret holds the rule */
	CFI_NO_FDE,   /* .eh_frame does not cover vaddr, has no usable FDE, or is missing */
	CFI_TOO_HARD, /* covered, but beyond these rules: ask libdwfl */
};

/*
 * Is the file's CFI (.eh_frame, .debug_frame) safe to give libdw? Every
 * instruction must name a register below 256: libdw allocates a table as
 * large as the highest register named, so a hostile binary could make it
 * allocate gigabytes. A file that is not sane has no CFI for cprof, and is
 * not given to libdwfl's unwinder either. Checked once per file.
 */
bool cfi_file_is_sane(struct elf_file *f);

/*
 * The rule at vaddr (the file's own address) of f, computed on first use:
 * from its .eh_frame, else from the .debug_frame of the file or its debug
 * file (found through c; NULL: .eh_frame alone), as libdwfl looks.
 */
enum cfi_found cfi_rule_at(struct elfcache *c, struct elf_file *f, uint64_t vaddr,
			   struct cfi_rule *ret);

/* Free a file's cache. NULL-safe. */
void cfi_rules_free(struct cfi_rules *r);

/* The file's Dwfl is ending (elfcache_trim): drop the .debug_frame handle taken from it. NULL-safe. */
void cfi_rules_forget_debug(struct cfi_rules *r);

#endif
