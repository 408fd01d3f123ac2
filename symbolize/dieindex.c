/* SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <stdlib.h>

#include <dwarf.h>

#include "lib/base/search.h"
#include "lib/base/vec.h"
#include "symbolize/dieindex.h"

struct range {
	Dwarf_Addr low, high;
	Dwarf_Off die;
	uint32_t func; /* index into funcs */
};

struct func {
	Dwarf_Off die;
	int32_t parent; /* enclosing function, -1 at the top */
	uint32_t depth;
};

struct dieindex {
	struct range *ranges; /* sorted by low */
	size_t nranges, ranges_cap;
	struct func *funcs;
	size_t nfuncs, funcs_cap;
	uint32_t max_depth;
};

static bool is_function(int tag)
{
	return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
	       tag == DW_TAG_entry_point;
}

/* Walk die and its siblings (and their children) under function parent. */
static bool walk(struct dieindex *x, Dwarf_Die *first, int32_t parent, uint32_t depth)
{
	Dwarf_Die die = *first;

	if (depth > 256)
		return true; /* absurd nesting: stop descending, keep what we have */
	do {
		int tag = dwarf_tag(&die);
		int32_t here = parent;
		Dwarf_Die child;

		if (is_function(tag)) {
			Dwarf_Addr base, low, high;
			ptrdiff_t off = 0;

			if (VEC_PUSH_RESERVE(x->funcs, x->nfuncs, x->funcs_cap) < 0)
				return false;
			x->funcs[x->nfuncs] =
				(struct func){dwarf_dieoffset(&die), parent,
					      parent < 0 ? 0 : x->funcs[parent].depth + 1};
			here = (int32_t)x->nfuncs++;
			while ((off = dwarf_ranges(&die, off, &base, &low, &high)) > 0) {
				if (VEC_PUSH_RESERVE(x->ranges, x->nranges, x->ranges_cap) < 0)
					return false;
				x->ranges[x->nranges++] = (struct range){
					low, high, dwarf_dieoffset(&die), (uint32_t)here};
			}
		}
		if (dwarf_child(&die, &child) == 0 && !walk(x, &child, here, depth + 1))
			return false;
	} while (dwarf_siblingof(&die, &die) == 0);
	return true;
}

static int by_low(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	if (x->low != y->low)
		return x->low < y->low ? -1 : 1;
	/* Same start: the wider (outer) range first, so inner ones come later. */
	return x->high > y->high ? -1 : x->high < y->high;
}

struct dieindex *dieindex_new(Dwarf_Die *cu)
{
	struct dieindex *x = calloc(1, sizeof(*x));
	Dwarf_Die child;

	if (!x)
		return NULL;
	if (dwarf_child(cu, &child) == 0 && !walk(x, &child, -1, 0)) {
		dieindex_free(x);
		return NULL;
	}
	if (x->nranges > 1)
		qsort(x->ranges, x->nranges, sizeof(*x->ranges), by_low);
	return x;
}

void dieindex_free(struct dieindex *x)
{
	if (!x)
		return;
	free(x->ranges);
	free(x->funcs);
	free(x);
}

size_t dieindex_lookup(const struct dieindex *x, Dwarf_Addr pc, Dwarf_Off *ret, size_t max,
		       Dwarf_Addr span[2])
{
	const struct range *best = NULL;
	size_t lo = UPPER_BOUND(x->ranges, x->nranges, struct range, low, pc), n = 0;
	/* The walk below sees every range that can hold pc: their ends bound the span. */
	Dwarf_Addr from = 0, to = lo < x->nranges ? x->ranges[lo].low : UINT64_MAX;
	/*
	 * Ranges nest: of those containing pc, the innermost starts last. Walk
	 * back to the first containing one, and keep the deepest nearby in
	 * case ranges of siblings interleave.
	 */
	for (size_t i = lo; i-- > 0;) {
		const struct range *r = &x->ranges[i];

		if (r->low > from)
			from = r->low;
		if (pc >= r->high) {
			if (r->high > from)
				from = r->high;
			continue;
		}
		if (r->high < to)
			to = r->high;
		if (!best || x->funcs[r->func].depth > x->funcs[best->func].depth)
			best = r;
		if (x->funcs[r->func].parent < 0)
			break; /* an outermost function: nothing deeper starts before it */
	}
	if (span) {
		span[0] = from;
		span[1] = to;
	}
	for (int32_t f = best ? (int32_t)best->func : -1; f >= 0 && n < max; f = x->funcs[f].parent)
		ret[n++] = x->funcs[f].die;
	return n;
}
