/* SPDX-License-Identifier: MIT */
#ifndef CPROF_SYMBOLIZE_DIEINDEX_H
#define CPROF_SYMBOLIZE_DIEINDEX_H

#include <stddef.h>

#include <elfutils/libdw.h>

/*
 * The functions of one compile unit by address: every subprogram and
 * inlined subroutine with its pc ranges and its enclosing function.
 * Looking an address up is a binary search, where dwarf_getscopes walks
 * the CU's DIE tree for every address (most of the symbolization time for
 * big CUs such as CPython's ceval.c). The CU's outermost functions are
 * read when the index is made; the inside of each the first time an
 * address falls in it (dieindex.c says why).
 */
struct dieindex;

/*
 * Index the CU cu. Returns it (caller owns; free with dieindex_free) or
 * NULL. It keeps cu's DIE: look up only while the Dwarf is open.
 */
struct dieindex *dieindex_new(Dwarf_Die *cu);

/* NULL-safe. */
void dieindex_free(struct dieindex *x);

/*
 * The function scopes containing pc (CU-relative address as DWARF has it),
 * innermost first, up to max of them, as DIE offsets. Returns how many; 0
 * when pc is in no function of the CU. With span not NULL, also the
 * addresses [span[0], span[1]) around pc where no range of the index
 * starts or ends: every address there has the same scopes (the symbol
 * cache keeps one answer for all of them). Outside every outermost
 * function the whole CU is walked (once) and so is every range before pc.
 */
size_t dieindex_lookup(struct dieindex *x, Dwarf_Addr pc, Dwarf_Off *ret, size_t max,
		       Dwarf_Addr span[2]);

/* How many outermost functions have had their inside walked so far. */
size_t dieindex_expanded(const struct dieindex *x);

#endif
