/* SPDX-License-Identifier: MIT */
/*
 * Two levels, because a miss is what costs: a recording looks up a handful
 * of functions in a CU of thousands (CPython's ceval.c, a C++ unit with its
 * headers). The CU's outermost functions and their ranges come from one
 * pass over its top-level DIEs, which dwarf_siblingof crosses by their
 * DW_AT_sibling without reading their bodies; a function's own subtree
 * (its inlined calls, nested to any depth) is walked the first time an
 * address falls in it. An address in no outermost function (padding, a
 * nested function outside its parent) walks the whole CU once, as the index
 * did before it had levels, so the answer is the same either way.
 */
#include <stdint.h>
#include <stdlib.h>

#include <dwarf.h>

#include "lib/base/search.h"
#include "lib/base/vec.h"
#include "symbolize/dieindex.h"

struct range {
	Dwarf_Addr low, high;
	uint32_t func; /* index into funcs */
};

struct func {
	Dwarf_Off die;
	int32_t parent; /* enclosing function, -1 at the top */
	uint32_t depth;
};

/* Functions and their ranges, the ranges sorted by low once built. */
struct level {
	struct range *ranges;
	size_t nranges, ranges_cap;
	struct func *funcs;
	size_t nfuncs, funcs_cap;
};

struct dieindex {
	struct level top;    /* the CU's outermost functions */
	Dwarf_Die *top_dies; /* top.funcs[i]'s DIE, to walk its subtree */
	size_t top_dies_cap;
	struct level **inside; /* per outermost function, its subtree once walked */
	size_t expanded;
	Dwarf_Die cu;
	struct level *all; /* every function of the CU, once an address needed it */
	bool all_failed;
};

static bool is_function(int tag)
{
	return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
	       tag == DW_TAG_entry_point;
}

/*
 * DIEs that hold function definitions among their children at the top:
 * C++ namespaces, Fortran modules. Not types: the code of a member function
 * comes out of line, beside its class (an exception would still be found
 * through the whole CU's walk).
 */
static bool is_container(int tag)
{
	return tag == DW_TAG_namespace || tag == DW_TAG_module;
}

/* Add die, a function under parent, with its ranges. Returns its index or -1 (no memory). */
static int32_t add_function(struct level *l, Dwarf_Die *die, int32_t parent)
{
	Dwarf_Addr base, low, high;
	ptrdiff_t off = 0;
	int32_t here;

	if (l->nfuncs >= INT32_MAX || VEC_PUSH_RESERVE(l->funcs, l->nfuncs, l->funcs_cap) < 0)
		return -1;
	l->funcs[l->nfuncs] = (struct func){dwarf_dieoffset(die), parent,
					    parent < 0 ? 0 : l->funcs[parent].depth + 1};
	here = (int32_t)l->nfuncs++;
	while ((off = dwarf_ranges(die, off, &base, &low, &high)) > 0) {
		if (VEC_PUSH_RESERVE(l->ranges, l->nranges, l->ranges_cap) < 0)
			return -1;
		l->ranges[l->nranges++] = (struct range){low, high, (uint32_t)here};
	}
	return here;
}

/* Walk die and its siblings (and their children) under function parent. */
static bool walk(struct level *l, Dwarf_Die *first, int32_t parent, uint32_t depth)
{
	Dwarf_Die die = *first;

	if (depth > 256)
		return true; /* absurd nesting: stop descending, keep what we have */
	do {
		int32_t here = parent;
		Dwarf_Die child;

		if (is_function(dwarf_tag(&die)) && (here = add_function(l, &die, parent)) < 0)
			return false;
		if (dwarf_child(&die, &child) == 0 && !walk(l, &child, here, depth + 1))
			return false;
	} while (dwarf_siblingof(&die, &die) == 0);
	return true;
}

/* Walk the outermost functions among die and its siblings, into containers only. */
static bool walk_top(struct dieindex *x, Dwarf_Die *first, uint32_t depth)
{
	Dwarf_Die die = *first;

	if (depth > 256)
		return true;
	do {
		int tag = dwarf_tag(&die);
		size_t nranges = x->top.nranges;
		Dwarf_Die child;

		if (is_function(tag)) {
			if (add_function(&x->top, &die, -1) < 0)
				return false;
			/* A declaration or an abstract instance: nothing at an address. */
			if (x->top.nranges == nranges) {
				x->top.nfuncs--;
				continue;
			}
			if (VEC_PUSH_RESERVE(x->top_dies, x->top.nfuncs - 1, x->top_dies_cap) < 0)
				return false;
			x->top_dies[x->top.nfuncs - 1] = die;
		} else if (is_container(tag) && dwarf_child(&die, &child) == 0 &&
			   !walk_top(x, &child, depth + 1)) {
			return false;
		}
	} while (dwarf_siblingof(&die, &die) == 0);
	return true;
}

static int by_low(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	if (x->low != y->low)
		return x->low < y->low ? -1 : 1;
	/* Same start: the wider (outer) range first, so inner ones come later. */
	if (x->high != y->high)
		return x->high > y->high ? -1 : 1;
	/* The same range: the enclosing function first (walk adds it before what it holds). */
	return x->func < y->func ? -1 : x->func > y->func;
}

static void level_sort(struct level *l)
{
	if (l->nranges > 1)
		qsort(l->ranges, l->nranges, sizeof(*l->ranges), by_low);
}

static void level_free(struct level *l)
{
	if (!l)
		return;
	free(l->ranges);
	free(l->funcs);
}

struct dieindex *dieindex_new(Dwarf_Die *cu)
{
	struct dieindex *x = calloc(1, sizeof(*x));
	Dwarf_Die child;

	if (!x)
		return NULL;
	x->cu = *cu;
	if (dwarf_child(cu, &child) == 0 && !walk_top(x, &child, 0)) {
		dieindex_free(x);
		return NULL;
	}
	level_sort(&x->top);
	return x;
}

void dieindex_free(struct dieindex *x)
{
	if (!x)
		return;
	for (size_t i = 0; x->inside && i < x->top.nfuncs; i++) {
		level_free(x->inside[i]);
		free(x->inside[i]);
	}
	free(x->inside);
	free(x->top_dies);
	level_free(&x->top);
	level_free(x->all);
	free(x->all);
	free(x);
}

/* A new level of what walk finds from die (with its siblings when siblings), or NULL. */
static struct level *level_walk(Dwarf_Die *die, bool siblings)
{
	struct level *l = calloc(1, sizeof(*l));
	Dwarf_Die child;
	int32_t here;
	bool ok;

	if (!l)
		return NULL;
	if (siblings) {
		ok = walk(l, die, -1, 0);
	} else {
		here = add_function(l, die, -1);
		ok = here >= 0 && (dwarf_child(die, &child) != 0 || walk(l, &child, here, 1));
	}
	if (!ok) {
		level_free(l);
		free(l);
		return NULL;
	}
	level_sort(l);
	return l;
}

/* Outermost function f's subtree, walked on first use; NULL without memory. */
static const struct level *inside(struct dieindex *x, uint32_t f)
{
	if (!x->inside && !(x->inside = calloc(x->top.nfuncs, sizeof(*x->inside))))
		return NULL;
	if (!x->inside[f] && (x->inside[f] = level_walk(&x->top_dies[f], false)))
		x->expanded++;
	return x->inside[f];
}

/* Every function of the CU, walked on first use; NULL without memory. */
static const struct level *everything(struct dieindex *x)
{
	Dwarf_Die child;

	if (!x->all && !x->all_failed) {
		if (dwarf_child(&x->cu, &child) == 0)
			x->all = level_walk(&child, true);
		else
			x->all = calloc(1, sizeof(*x->all));
		x->all_failed = !x->all;
	}
	return x->all;
}

/*
 * The innermost range of l holding pc, or NULL; span narrowed to the
 * addresses around pc where no range of l starts or ends.
 */
static const struct range *level_lookup(const struct level *l, Dwarf_Addr pc, Dwarf_Addr span[2])
{
	const struct range *best = NULL;
	size_t lo = UPPER_BOUND(l->ranges, l->nranges, struct range, low, pc);
	/* The walk below sees every range that can hold pc: their ends bound the span. */
	Dwarf_Addr from = span[0], to = span[1];

	if (lo < l->nranges && l->ranges[lo].low < to)
		to = l->ranges[lo].low;
	/*
	 * Ranges nest: of those containing pc, the innermost starts last. Walk
	 * back to the first containing one, and keep the deepest nearby in
	 * case ranges of siblings interleave.
	 */
	for (size_t i = lo; i-- > 0;) {
		const struct range *r = &l->ranges[i];

		if (r->low > from)
			from = r->low;
		if (pc >= r->high) {
			if (r->high > from)
				from = r->high;
			continue;
		}
		if (r->high < to)
			to = r->high;
		if (!best || l->funcs[r->func].depth > l->funcs[best->func].depth)
			best = r;
		if (l->funcs[r->func].parent < 0)
			break; /* an outermost function: nothing deeper starts before it */
	}
	span[0] = from;
	span[1] = to;
	return best;
}

size_t dieindex_lookup(struct dieindex *x, Dwarf_Addr pc, Dwarf_Off *ret, size_t max,
		       Dwarf_Addr span[2])
{
	Dwarf_Addr sp[2] = {0, UINT64_MAX};
	const struct level *l = &x->top;
	const struct range *best = level_lookup(l, pc, sp);
	const struct level *deeper = best ? inside(x, best->func) : everything(x);
	size_t n = 0;

	if (deeper) {
		l = deeper;
		best = level_lookup(l, pc, sp);
	} else {
		/* Short of memory: the outermost function alone, for pc alone (not to be kept). */
		sp[0] = pc;
		sp[1] = pc + 1;
	}
	if (span) {
		span[0] = sp[0];
		span[1] = sp[1];
	}
	for (int32_t f = best ? (int32_t)best->func : -1; f >= 0 && n < max; f = l->funcs[f].parent)
		ret[n++] = l->funcs[f].die;
	return n;
}

size_t dieindex_expanded(const struct dieindex *x)
{
	return x->expanded;
}
