/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/sat.h"
#include "lib/views/calltree.h"
#include "lib/base/hash.h"
#include "lib/base/vec.h"

/* Children are found through a hash of (parent, name) so building stays linear. */
struct builder {
	struct calltree *t;
	const struct stacks *st;
	struct hashmap index;
};

struct child_key {
	const struct builder *b;
	uint32_t parent;
	const char *name;
};

static bool child_eq(const void *ctx, uint32_t idx)
{
	const struct child_key *k = ctx;
	const struct calltree_node *n = &k->b->t->nodes[idx];

	return n->parent == k->parent && strcmp(k->b->st->names[n->node], k->name) == 0;
}

static enum calltree_kind kind_of(const struct stacks *st, const struct stacks_frame *f)
{
	const struct profile_location *l = profile_location(st->p, f->loc);
	const struct profile_mapping *m = profile_mapping(st->p, l->mapping);

	if (f->inlined)
		return CALLTREE_INLINED;
	if (m && (m->flags & PROFILE_MAPPING_KERNEL))
		return CALLTREE_KERNEL;
	if (m && (m->flags & PROFILE_MAPPING_ANON))
		return CALLTREE_JIT;
	return CALLTREE_USER;
}

static int child(struct builder *b, uint32_t parent, const struct stacks *st,
		 const struct stacks_frame *f, bool create, uint32_t *ret)
{
	const char *name = st->names[f->node];
	struct child_key k = {b, parent, name};
	uint64_t h = hash_u64(parent, hash_bytes(name, strlen(name), 0));
	struct calltree *t = b->t;
	struct calltree_node *n;
	int r;

	if (!create) /* a base-only path has no node of ours to hang on */
		return hashmap_find(&b->index, h, child_eq, &k, ret) ? 0 : -ENOENT;
	r = VEC_PUSH_RESERVE(t->nodes, t->n, t->cap);
	if (r == 0)
		r = hashmap_find_or_add(&b->index, h, child_eq, &k, (uint32_t)t->n, ret);
	if (r != 0)
		return r < 0 ? r : 0;
	n = &t->nodes[t->n];
	*n = (struct calltree_node){
		.node = f->node,
		.parent = parent,
		.next_sibling = t->nodes[parent].first_child,
		.depth = t->nodes[parent].depth + 1,
		.kind = kind_of(st, f),
	};
	t->nodes[parent].first_child = (uint32_t)t->n;
	if (n->depth > t->max_depth)
		t->max_depth = n->depth;
	*ret = (uint32_t)t->n++;
	return 0;
}

static int add(struct builder *b, const struct stacks *st, bool is_base)
{
	struct calltree *t = b->t;
	int r;

	for (size_t s = 0; s < st->nsamples; s++) {
		const struct stacks_sample *smp = &st->samples[s];
		uint32_t at = 0;

		if (is_base)
			t->nodes[0].base = sat_add64(t->nodes[0].base, smp->value);
		else
			t->nodes[0].value = sat_add64(t->nodes[0].value, smp->value);
		for (uint32_t i = smp->n; i-- > 0;) {
			r = child(b, at, st, &st->frames[smp->off + i], !is_base, &at);
			if (r == -ENOENT)
				break;
			if (r < 0)
				return r;
			if (is_base)
				t->nodes[at].base = sat_add64(t->nodes[at].base, smp->value);
			else
				t->nodes[at].value = sat_add64(t->nodes[at].value, smp->value);
		}
		if (!is_base && smp->n)
			t->nodes[at].self = sat_add64(t->nodes[at].self, smp->value);
	}
	return 0;
}

int calltree_build(const struct stacks *st, const struct stacks *base, struct calltree **ret)
{
	struct builder b = {.st = st, .index = HASHMAP_INIT};
	int r;

	b.t = calloc(1, sizeof(*b.t));
	if (!b.t)
		return -ENOMEM;
	r = VEC_PUSH_RESERVE(b.t->nodes, b.t->n, b.t->cap);
	if (r == 0) {
		b.t->nodes[b.t->n++] = (struct calltree_node){0};
		r = add(&b, st, false);
	}
	if (r == 0 && base)
		r = add(&b, base, true);
	hashmap_release(&b.index);
	if (r < 0) {
		calltree_free(b.t);
		return r;
	}
	*ret = b.t;
	return 0;
}

void calltree_free(struct calltree *t)
{
	if (!t)
		return;
	free(t->nodes);
	free(t);
}

static int by_value(const void *a, const void *b)
{
	const struct calltree_node *x = *(const struct calltree_node *const *)a;
	const struct calltree_node *y = *(const struct calltree_node *const *)b;

	return x->value > y->value ? -1 : x->value < y->value;
}

void calltree_sort(struct calltree *t)
{
	struct calltree_node **kids = NULL;
	size_t cap = 0;

	for (size_t i = 0; i < t->n; i++) {
		size_t n = 0;

		for (uint32_t c = t->nodes[i].first_child; c; c = t->nodes[c].next_sibling) {
			if (vec_reserve(&kids, &cap, n + 1, sizeof(*kids)) < 0)
				goto out; /* out of memory: leave the rest unsorted */
			kids[n++] = &t->nodes[c];
		}
		if (n < 2)
			continue;
		qsort(kids, n, sizeof(*kids), by_value);
		t->nodes[i].first_child = (uint32_t)(kids[0] - t->nodes);
		for (size_t k = 0; k < n; k++)
			kids[k]->next_sibling = k + 1 < n ? (uint32_t)(kids[k + 1] - t->nodes) : 0;
	}
out:
	free(kids);
}
