/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/sat.h"
#include "lib/views/dot.h"
#include "lib/base/hash.h"
#include "lib/views/text.h"
#include "lib/base/units.h"
#include "lib/base/vec.h"

struct gnode {
	int64_t flat, cum;
	size_t last_sample;
	bool kept;
};

struct gedge {
	uint32_t from, to;
	int64_t value;
	bool residual; /* passes over frames that are not shown */
	size_t last_sample;
};

struct edge_key {
	const struct gedge *v;
	uint32_t from, to;
	bool residual;
};

static bool edge_eq(const void *ctx, uint32_t idx)
{
	const struct edge_key *k = ctx;

	return k->v[idx].from == k->from && k->v[idx].to == k->to &&
	       k->v[idx].residual == k->residual;
}

static int by_cum(const void *a, const void *b, void *ctx)
{
	const struct gnode *n = ctx;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	if (n[x].cum != n[y].cum)
		return n[x].cum > n[y].cum ? -1 : 1;
	return x < y ? -1 : (x > y);
}

int dot_write(const struct stacks *st, size_t nodecount, FILE *out)
{
	struct gnode *nodes = calloc(st->nnodes + 1, sizeof(*nodes));
	uint32_t *order = calloc(st->nnodes + 1, sizeof(*order));
	struct hashmap index = HASHMAP_INIT;
	struct gedge *edges = NULL;
	size_t nedges = 0, cap = 0, kept;
	char a[32], b[32], pa[16], pb[16];
	int r = 0;

	if (!nodes || !order) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t s = 0; s < st->nsamples; s++) {
		const struct stacks_sample *smp = &st->samples[s];

		if (smp->n)
			nodes[st->frames[smp->off].node].flat =
				sat_add64(nodes[st->frames[smp->off].node].flat, smp->value);
		for (uint32_t i = 0; i < smp->n; i++) {
			struct gnode *n = &nodes[st->frames[smp->off + i].node];

			if (n->last_sample != s + 1) {
				n->cum = sat_add64(n->cum, smp->value);
				n->last_sample = s + 1;
			}
		}
	}
	for (uint32_t i = 0; i < st->nnodes; i++)
		order[i] = i;
	qsort_r(order, st->nnodes, sizeof(*order), by_cum, nodes);
	kept = nodecount && nodecount < st->nnodes ? nodecount : st->nnodes;
	for (size_t i = 0; i < kept; i++)
		nodes[order[i]].kept = nodes[order[i]].cum != 0;

	/* Edges between the nearest shown frames of each stack. */
	for (size_t s = 0; s < st->nsamples && r == 0; s++) {
		const struct stacks_sample *smp = &st->samples[s];
		int64_t callee = -1;
		bool residual = false;

		for (uint32_t i = 0; i < smp->n && r == 0; i++) {
			uint32_t node = st->frames[smp->off + i].node;
			struct edge_key k;
			uint64_t h;
			uint32_t idx;

			if (!nodes[node].kept) {
				residual = callee >= 0;
				continue;
			}
			if (callee >= 0 && (uint32_t)callee != node) {
				k = (struct edge_key){edges, node, (uint32_t)callee, residual};
				h = hash_u64(((uint64_t)node << 32) | (uint32_t)callee, residual);
				if (!hashmap_find(&index, h, edge_eq, &k, &idx)) {
					r = VEC_PUSH_RESERVE(edges, nedges, cap);
					if (r == 0)
						r = hashmap_insert(&index, h, (uint32_t)nedges);
					if (r < 0)
						break;
					edges[nedges] = (struct gedge){node, (uint32_t)callee, 0,
								       residual, 0};
					idx = (uint32_t)nedges++;
				}
				if (edges[idx].last_sample != s + 1) {
					edges[idx].value = sat_add64(edges[idx].value, smp->value);
					edges[idx].last_sample = s + 1;
				}
			}
			callee = node;
			residual = false;
		}
	}
	if (r < 0)
		goto out;

	fprintf(out, "digraph \"cprof\" {\nnode [style=filled fillcolor=\"#f8f8f8\"]\n");
	units_format(a, sizeof(a), st->total, st->unit);
	fprintf(out, "subgraph cluster_L { \"Type: ");
	text_dot(out, st->type);
	fprintf(out, "\" [shape=box fontsize=16 label=\"Type: ");
	text_dot(out, st->type);
	fprintf(out, "\\lTotal: %s\\lShowing %zu of %zu nodes\\l\"] }\n", a, kept, st->nnodes);
	for (size_t i = 0; i < kept; i++) {
		uint32_t n = order[i];
		double share = st->total ? (double)nodes[n].flat / (double)st->total : 0;

		if (!nodes[n].kept)
			continue;
		units_format(a, sizeof(a), nodes[n].flat, st->unit);
		units_format(b, sizeof(b), nodes[n].cum, st->unit);
		units_percent(pa, sizeof(pa), nodes[n].flat, st->total);
		units_percent(pb, sizeof(pb), nodes[n].cum, st->total);
		fprintf(out, "N%u [label=\"", n + 1);
		text_dot(out, st->names[n]);
		fprintf(out, "\\n%s (%s)\\nof %s (%s)\" shape=box fontsize=%d]\n", a,
			pa + strspn(pa, " "), b, pb + strspn(pb, " "), 8 + (int)(24 * share));
	}
	for (size_t i = 0; i < nedges; i++) {
		units_format(a, sizeof(a), edges[i].value, st->unit);
		fprintf(out, "N%u -> N%u [label=\" %s\"%s]\n", edges[i].from + 1, edges[i].to + 1,
			a, edges[i].residual ? " style=dashed" : "");
	}
	fprintf(out, "}\n");
	r = ferror(out) ? -EIO : 0;
out:
	free(nodes);
	free(order);
	free(edges);
	hashmap_release(&index);
	return r;
}
