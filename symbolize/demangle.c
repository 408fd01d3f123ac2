/* SPDX-License-Identifier: MIT */
/*
 * C++ and Rust symbol demangling through libiberty's cplus_demangle, the
 * demangler binutils and gdb use: one function handles the Itanium C++ ABI
 * and both Rust schemes (legacy _ZN…17h<hash>E and v0 _R…).
 *
 * Names keep their parameters (overloads stay apart, as in perf) but not
 * the return type the Itanium ABI encodes for template functions
 * ("void std::vector<int>::_M_realloc_insert<int>(...)" would otherwise
 * stand apart from perf's and pprof's name for the same function). The
 * mangled symbol stays in the profile as the function's system_name:
 * c++filt gives the full form back.
 */
#include <stdlib.h>
#include <string.h>

#include <libiberty/demangle.h>

#include "symbolize/internal.h"

char *demangle(const char *sym)
{
	/* Cheap test first: only these prefixes can be mangled names. */
	if (strncmp(sym, "_Z", 2) != 0 && strncmp(sym, "_R", 2) != 0)
		return NULL;
	return cplus_demangle(sym, DMGL_PARAMS | DMGL_ANSI | DMGL_AUTO | DMGL_RET_DROP);
}
