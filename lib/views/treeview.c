/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>

#include "lib/views/calltree.h"
#include "lib/views/text.h"
#include "lib/views/treeview.h"
#include "lib/base/units.h"
#include "lib/base/vec.h"

/*
 * Indentation stops deepening here, and the depth is printed instead: a
 * 100,000-frame recursion would otherwise print some 10 GB of spaces.
 */
#define TREE_MAX_INDENT 64

int treeview_write(const struct stacks *st, double nodefraction, FILE *out)
{
	int64_t cutoff = (int64_t)((double)st->total * nodefraction);
	struct calltree *t;
	uint32_t *todo = NULL;
	size_t n = 0, cap = 0;
	int r;

	r = calltree_build(st, NULL, &t);
	if (r < 0)
		return r;
	calltree_sort(t);
	fprintf(out, "%10s %7s %10s  %s\n", "cum", "cum%", "self", "call tree");
	/* Depth first, children in order: push them in reverse. */
	for (uint32_t c = t->nodes[0].first_child; c; c = t->nodes[c].next_sibling) {
		r = vec_reserve(&todo, &cap, n + 1, sizeof(*todo));
		if (r < 0)
			goto out;
		todo[n++] = c;
	}
	for (size_t i = 0, j = n; j > i + 1; i++, j--) {
		uint32_t x = todo[i];

		todo[i] = todo[j - 1];
		todo[j - 1] = x;
	}
	while (n) {
		const struct calltree_node *node = &t->nodes[todo[--n]];
		char cum[32], self[32], pct[16];
		size_t first = n;

		if (node->value < cutoff || node->value == 0)
			continue;
		units_format(cum, sizeof(cum), node->value, st->unit);
		units_format(self, sizeof(self), node->self, st->unit);
		units_percent(pct, sizeof(pct), node->value, st->total);
		fprintf(out, "%10s %7s %10s  ", cum, pct, self);
		if (node->depth - 1 > TREE_MAX_INDENT)
			fprintf(out, "%*s[depth %u] ", 2 * TREE_MAX_INDENT, "", node->depth);
		else
			fprintf(out, "%*s", (int)(2 * (node->depth - 1)), "");
		text_term(out, st->names[node->node]);
		fputc('\n', out);
		for (uint32_t c = node->first_child; c; c = t->nodes[c].next_sibling) {
			r = vec_reserve(&todo, &cap, n + 1, sizeof(*todo));
			if (r < 0)
				goto out;
			todo[n++] = c;
		}
		for (size_t i = first, j = n; j > i + 1; i++, j--) {
			uint32_t x = todo[i];

			todo[i] = todo[j - 1];
			todo[j - 1] = x;
		}
	}
	r = ferror(out) ? -EIO : 0;
out:
	free(todo);
	calltree_free(t);
	return r;
}
