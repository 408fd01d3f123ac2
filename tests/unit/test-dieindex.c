/* SPDX-License-Identifier: MIT */
/*
 * The per-CU function index (symbolize/dieindex.h) against libdw's own
 * answer: at every byte of every CU of the files given, the function
 * scopes dieindex_lookup returns must be those dwarf_getscopes finds
 * (subprograms, inlined subroutines, entry points), innermost first.
 *
 * Usage: test-dieindex FILE... (built with -g; -O2 for inline chains)
 */
#include <dwarf.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <elfutils/libdw.h>

#include "symbolize/dieindex.h"
#include "tests/tap.h"

#define MAX_SCOPES 64

struct counts {
	size_t pcs, in_function, deepest, wrong;
	size_t span_wrong, wide; /* spans whose ends libdw answers otherwise; spans past pc */
	size_t first_checked, first_walked; /* CUs; of them, named walking one function */
};

static bool is_function(int tag)
{
	return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
	       tag == DW_TAG_entry_point;
}

/*
 * libdw's function scopes at pc, innermost first: the innermost function
 * dwarf_getscopes finds and, when it is an inlined call, the functions
 * physically around it (dwarf_getscopes_die), as a symbolizer without the
 * index would walk them.
 */
static size_t expected(Dwarf_Die *cu, Dwarf_Addr pc, Dwarf_Off *out)
{
	Dwarf_Die *scopes = NULL, *chain = NULL;
	int n = dwarf_getscopes(cu, pc, &scopes), first = -1, nchain = 0;
	size_t k = 0;

	for (int i = 0; i < n && first < 0; i++)
		if (is_function(dwarf_tag(&scopes[i])))
			first = i;
	if (first >= 0 && dwarf_tag(&scopes[first]) == DW_TAG_inlined_subroutine)
		nchain = dwarf_getscopes_die(&scopes[first], &chain);
	if (first >= 0 && nchain <= 0)
		out[k++] = dwarf_dieoffset(&scopes[first]);
	for (int i = 0; i < nchain && k < MAX_SCOPES; i++)
		if (is_function(dwarf_tag(&chain[i])))
			out[k++] = dwarf_dieoffset(&chain[i]);
	free(chain);
	free(scopes);
	return k;
}

static void check_pc(struct dieindex *x, Dwarf_Die *cu, Dwarf_Addr pc, struct counts *n)
{
	Dwarf_Off want[MAX_SCOPES], got[MAX_SCOPES], end[MAX_SCOPES];
	Dwarf_Addr span[2];
	size_t nw = expected(cu, pc, want), ng = dieindex_lookup(x, pc, got, MAX_SCOPES, span);
	bool same = nw == ng;

	for (size_t i = 0; same && i < nw; i++)
		same = want[i] == got[i];
	/* libdw's own scopes at both ends of the span are those at pc. */
	if (span[0] > pc || span[1] <= pc) {
		n->span_wrong++;
	} else {
		n->wide += span[1] - span[0] > 1;
		for (int k = 0; k < 2; k++) {
			Dwarf_Addr at = k ? span[1] - 1 : span[0];
			size_t ne = expected(cu, at, end);
			bool agree = ne == nw;

			for (size_t i = 0; agree && i < nw; i++)
				agree = end[i] == want[i];
			if (!agree && n->span_wrong++ < 5)
				printf("# span [0x%" PRIx64 ", 0x%" PRIx64 ") of 0x%" PRIx64
				       ": libdw differs at 0x%" PRIx64 "\n",
				       (uint64_t)span[0], (uint64_t)span[1], (uint64_t)pc,
				       (uint64_t)at);
		}
	}
	n->pcs++;
	n->in_function += nw > 0;
	if (nw > n->deepest)
		n->deepest = nw;
	if (!same && n->wrong++ < 5)
		printf("# at 0x%" PRIx64 ": libdw %zu scopes (innermost 0x%" PRIx64
		       "), dieindex %zu "
		       "(0x%" PRIx64 ")\n",
		       (uint64_t)pc, nw, nw ? (uint64_t)want[0] : 0, ng, ng ? (uint64_t)got[0] : 0);
}

/*
 * The first address of cu in a function is named after walking the inside
 * of that one function alone (dieindex.c's levels), where the CU has more.
 */
static void first_function(struct dieindex *x, Dwarf_Die *cu, struct counts *n)
{
	Dwarf_Addr base, low, high, span[2];
	Dwarf_Off got[MAX_SCOPES];
	ptrdiff_t r = 0;

	while ((r = dwarf_ranges(cu, r, &base, &low, &high)) > 0)
		for (Dwarf_Addr pc = low; pc < high && pc - low < (1u << 20); pc++)
			if (dieindex_lookup(x, pc, got, MAX_SCOPES, span) > 0) {
				n->first_walked += dieindex_expanded(x) == 1;
				n->first_checked++;
				return;
			}
}

/* Returns the deepest chain of functions met. */
static size_t check_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Dwarf *dw = fd >= 0 ? dwarf_begin(fd, DWARF_C_READ) : NULL;
	Dwarf_Off off = 0, next;
	size_t hsize, ncus = 0;
	struct counts n = {0};

	if (!ok(dw != NULL, "%s has DWARF", path)) {
		if (fd >= 0)
			(void)close(fd);
		return 0;
	}
	while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu;
		struct dieindex *x;
		Dwarf_Addr base, low, high;
		ptrdiff_t r = 0;

		if (!dwarf_offdie(dw, off + hsize, &cu))
			break;
		off = next;
		x = dieindex_new(&cu);
		if (!x) {
			n.wrong++;
			continue;
		}
		ncus++;
		first_function(x, &cu, &n);
		/* Every byte the CU covers, and one past each of its ranges. */
		while ((r = dwarf_ranges(&cu, r, &base, &low, &high)) > 0)
			for (Dwarf_Addr pc = low; pc <= high && pc - low < (1u << 20); pc++)
				check_pc(x, &cu, pc, &n);
		dieindex_free(x);
	}
	ok(ncus > 0 && n.in_function > 0, "%s: %zu CUs, %zu pcs in functions", path, ncus,
	   n.in_function);
	ok(n.first_checked > 0 && n.first_walked == n.first_checked,
	   "the first function of a CU is named with its inside alone walked (%zu of %zu CUs)",
	   n.first_walked, n.first_checked);
	ok(n.wrong == 0, "dieindex agrees with dwarf_getscopes at all %zu pcs (%zu wrong)", n.pcs,
	   n.wrong);
	ok(n.span_wrong == 0 && n.wide > n.pcs / 2,
	   "the span of each pc holds the same scopes at both ends (%zu wrong); %zu of %zu spans "
	   "are wider than the pc",
	   n.span_wrong, n.wide, n.pcs);
	(void)dwarf_end(dw);
	(void)close(fd);
	return n.deepest;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		ok(false, "usage: test-dieindex FILE...");
		return tap_done();
	}
	size_t deepest = 0;

	for (int i = 1; i < argc; i++) {
		size_t d = check_file(argv[i]);

		if (d > deepest)
			deepest = d;
	}
	ok(deepest >= 2, "inline chains were among them (deepest: %zu functions)", deepest);
	dieindex_free(NULL);
	return tap_done();
}
