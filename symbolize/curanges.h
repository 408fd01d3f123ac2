/* SPDX-License-Identifier: MIT */
#ifndef CPROF_SYMBOLIZE_CURANGES_H
#define CPROF_SYMBOLIZE_CURANGES_H

#include <stdbool.h>

#include <elfutils/libdw.h>

/*
 * Which compile unit holds an address, from the units' own DW_AT_ranges
 * and low/high pc, for DWARF without .debug_aranges: Go writes none, and
 * libdw 0.188 then finds no unit for any address (dwfl_module_addrdie
 * fails), so Go code would be named from the symbol table alone, without
 * lines or inlined calls. One walk over the units' top DIEs per file.
 */
struct curanges;

/* Index dbg's units. Returns it (caller owns; free with curanges_free) or NULL. */
struct curanges *curanges_new(Dwarf *dbg);

/* NULL-safe. */
void curanges_free(struct curanges *c);

/* The unit of dbg holding addr (DWARF's own address) into *ret. False when none does. */
bool curanges_lookup(const struct curanges *c, Dwarf *dbg, Dwarf_Addr addr, Dwarf_Die *ret);

#endif
