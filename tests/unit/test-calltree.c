/* SPDX-License-Identifier: MIT */
/*
 * The call tree (lib/views/calltree.h), root first, from the stacks of
 * fixture.h's profile: values through each node and ending in it, depths,
 * kinds, the children's order, and --diff-base values by frame name.
 */
#include <string.h>

#include "lib/views/calltree.h"
#include "tests/tap.h"
#include "tests/unit/fixture.h"

static const struct stacks *st;

/* The child of node parent named name, or 0. */
static uint32_t child(const struct calltree *t, uint32_t parent, const char *name)
{
	for (uint32_t c = t->nodes[parent].first_child; c; c = t->nodes[c].next_sibling)
		if (strcmp(st->names[t->nodes[c].node], name) == 0)
			return c;
	return 0;
}

int main(void)
{
	struct profile *p = fixture_profile();
	struct stacks_options o = {0};
	struct stacks *stacks = NULL, *base = NULL;
	struct calltree *t = NULL, *d = NULL;
	uint32_t main_, work, inl, hot_a, hot_b, lib, unknown;

	if (!p || (o.sample_index = stacks_sample_index(p, NULL)) < 0 ||
	    stacks_build(p, NULL, &o, &stacks) < 0 || calltree_build(stacks, NULL, &t) < 0) {
		ok(false, "the fixture's call tree");
		return tap_done();
	}
	st = stacks;
	ok(t->nodes[0].value == 70 && t->nodes[0].self == 0,
	   "the root holds all 70 ns, none its own");
	main_ = child(t, 0, "main");
	unknown = child(t, 0, "<unknown>");
	work = child(t, main_, "work");
	inl = child(t, work, "inl");
	hot_a = child(t, inl, "hot_a");
	hot_b = child(t, inl, "hot_b");
	lib = child(t, main_, "[libfoo.so]");
	ok(main_ && unknown && work && inl && hot_a && hot_b && lib,
	   "each stack is a path from the root, outermost frame first");
	ok(t->nodes[main_].value == 60 && t->nodes[work].value == 40 && t->nodes[inl].value == 40,
	   "a node's value is every stack's through it");
	ok(t->nodes[hot_a].self == 30 && t->nodes[hot_b].self == 10 && t->nodes[lib].self == 20 &&
		   t->nodes[work].self == 0,
	   "its self value, the stacks' ending in it");
	ok(t->nodes[hot_a].depth == 4 && t->nodes[main_].depth == 1 && t->max_depth == 4,
	   "depths count from the root's children at 1");
	ok(t->nodes[inl].kind == CALLTREE_INLINED && t->nodes[work].kind == CALLTREE_USER,
	   "an inlined frame is marked so (flame graph colours)");
	ok(t->nodes[hot_a].parent == inl && t->nodes[main_].parent == 0, "parents link back");
	calltree_sort(t);
	ok(strcmp(st->names[t->nodes[t->nodes[0].first_child].node], "main") == 0 &&
		   strcmp(st->names[t->nodes[t->nodes[inl].first_child].node], "hot_a") == 0,
	   "sorted: the largest child first");

	/* --diff-base: the base's values by frame name beside each node's own. */
	o.hide = "^hot_b$";
	if (stacks_build(p, NULL, &o, &base) == 0 && calltree_build(stacks, base, &d) == 0) {
		uint32_t dinl = child(d, child(d, child(d, 0, "main"), "work"), "inl");

		ok(d->nodes[0].value == 70 && d->nodes[0].base == 70,
		   "the root's base is the base's total");
		ok(dinl && d->nodes[dinl].base == 40 && d->nodes[child(d, dinl, "hot_b")].base == 0,
		   "a frame the base lacks has base 0, the base's own value stays on its parent");
	} else {
		ok(false, "a base call tree");
	}
	calltree_free(d);
	calltree_free(t);
	calltree_free(NULL);
	stacks_free(base);
	stacks_free(stacks);
	profile_free(p);
	return tap_done();
}
