/* SPDX-License-Identifier: MIT */
#include <stdlib.h>

#include "lib/base/search.h"
#include "lib/base/vec.h"
#include "symbolize/curanges.h"

struct curange {
	Dwarf_Addr low, high;
	Dwarf_Off cu; /* the unit's DIE */
};

struct curanges {
	struct curange *r; /* sorted by low; units do not overlap */
	size_t n, cap;
};

static int by_low(const void *a, const void *b)
{
	const struct curange *x = a, *y = b;

	return x->low < y->low ? -1 : x->low > y->low;
}

struct curanges *curanges_new(Dwarf *dbg)
{
	struct curanges *c = calloc(1, sizeof(*c));
	Dwarf_Off off = 0, next;
	size_t header;

	if (!c)
		return NULL;
	while (dwarf_nextcu(dbg, off, &next, &header, NULL, NULL, NULL) == 0) {
		Dwarf_Addr base, low, high;
		ptrdiff_t r = 0;
		Dwarf_Die cu;

		if (dwarf_offdie(dbg, off + header, &cu)) {
			while ((r = dwarf_ranges(&cu, r, &base, &low, &high)) > 0) {
				if (low >= high)
					continue;
				if (VEC_PUSH_RESERVE(c->r, c->n, c->cap) < 0) {
					curanges_free(c);
					return NULL;
				}
				c->r[c->n++] = (struct curange){low, high, dwarf_dieoffset(&cu)};
			}
		}
		off = next;
	}
	if (c->n > 1)
		qsort(c->r, c->n, sizeof(*c->r), by_low);
	return c;
}

void curanges_free(struct curanges *c)
{
	if (!c)
		return;
	free(c->r);
	free(c);
}

bool curanges_lookup(const struct curanges *c, Dwarf *dbg, Dwarf_Addr addr, Dwarf_Die *ret)
{
	size_t lo = UPPER_BOUND(c->r, c->n, struct curange, low, addr);

	return lo > 0 && addr < c->r[lo - 1].high && dwarf_offdie(dbg, c->r[lo - 1].cu, ret);
}
