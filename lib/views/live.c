/* SPDX-License-Identifier: MIT */
/*
 * The live top table (live.h). Entries are keyed by (grouping, owner id,
 * function name): a sample adds its value to the flat of its leaf's entry
 * in each grouping and to the cum of every distinct function on its stack,
 * once per sample however often it recurses. Function names are interned
 * in the table (each window's stacks go away); owners' names are kept in
 * their entries, so pruning an entry frees all it had.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/hash.h"
#include "lib/base/strset.h"
#include "lib/base/vec.h"
#include "lib/views/live.h"

#define COMM_MAX 16 /* the kernel's TASK_COMM_LEN */

struct entry {
	uint8_t group; /* enum live_group */
	int32_t id;    /* pid or tid; 0 for LIVE_FUNCTION */
	uint32_t name; /* string */
	char comm[COMM_MAX];
	double decaying, decaying_cum; /* flat and cum, decaying */
	double flat, cum;	       /* since the start */
	size_t last;		       /* the sample that last added to cum (+1) */
};

struct live {
	struct strset strs;
	struct entry *e;
	size_t n, cap;
	struct hashmap index;
	double total[2]; /* decaying, cumulative */
	size_t windows, samples;
};

static int intern(struct live *t, const char *s, uint32_t *ret)
{
	return strset_intern(&t->strs, s, ret);
}

struct entry_key {
	const struct live *t;
	uint8_t group;
	int32_t id;
	uint32_t name;
};

static bool entry_eq(const void *ctx, uint32_t idx)
{
	const struct entry_key *k = ctx;
	const struct entry *e = &k->t->e[idx];

	return e->group == k->group && e->id == k->id && e->name == k->name;
}

static uint64_t entry_hash(uint8_t group, int32_t id, uint32_t name)
{
	return hash_u64(((uint64_t)group << 32) | (uint32_t)id, hash_u64(name, 0));
}

/* The entry (group, id, name), added with comm when new. Returns its index or -ENOMEM. */
static int64_t entry_get(struct live *t, uint8_t group, int32_t id, uint32_t name, const char *comm)
{
	struct entry_key k = {t, group, id, name};
	uint32_t idx;
	int r;

	if (VEC_PUSH_RESERVE(t->e, t->n, t->cap) < 0)
		return -ENOMEM;
	r = hashmap_find_or_add(&t->index, entry_hash(group, id, name), entry_eq, &k,
				(uint32_t)t->n, &idx);
	if (r < 0)
		return r;
	if (r == 0) {
		t->e[t->n] = (struct entry){.group = group, .id = id, .name = name};
		(void)snprintf(t->e[t->n].comm, sizeof(t->e[t->n].comm), "%s", comm);
		t->n++;
	}
	return idx;
}

struct live *live_new(void)
{
	struct live *t = calloc(1, sizeof(*t));
	uint32_t empty;

	if (t && intern(t, "", &empty) < 0) {
		live_free(t);
		return NULL;
	}
	return t;
}

void live_free(struct live *t)
{
	if (!t)
		return;
	strset_release(&t->strs);
	free(t->e);
	hashmap_release(&t->index);
	free(t);
}

/* The sample's pid, tid, thread and process names, from cprof's labels. */
struct owner {
	int32_t pid, tid;
	const char *comm, *process;
};

static void sample_owner(const struct profile *p, const struct profile_sample *s, struct owner *o)
{
	*o = (struct owner){.comm = "", .process = ""};
	for (uint32_t i = 0; i < s->nlabel; i++) {
		const struct profile_label *l = &p->labels[s->label_off + i];
		const char *key = profile_str(p, l->key);

		if (strcmp(key, "pid") == 0)
			o->pid = (int32_t)l->num;
		else if (strcmp(key, "tid") == 0)
			o->tid = (int32_t)l->num;
		else if (strcmp(key, "comm") == 0)
			o->comm = profile_str(p, l->str);
		else if (strcmp(key, "process") == 0)
			o->process = profile_str(p, l->str);
	}
	if (!o->process[0])
		o->process = o->comm;
}

/* Forget the per-process and per-thread rows that no longer count in either span. */
static int prune(struct live *t)
{
	size_t kept = 0;
	int r = 0;

	hashmap_release(&t->index);
	for (size_t i = 0; i < t->n; i++) {
		const struct entry *e = &t->e[i];

		if (e->group != LIVE_FUNCTION && e->decaying_cum < t->total[0] * 1e-4 &&
		    e->cum < t->total[1] * 1e-4)
			continue;
		t->e[kept] = *e;
		if (r == 0)
			r = hashmap_insert(&t->index, entry_hash(e->group, e->id, e->name),
					   (uint32_t)kept);
		kept++;
	}
	t->n = kept;
	return r;
}

/* Add value to the entries of function name for the sample's owner, flat too for its leaf. */
static int add(struct live *t, uint32_t name, const struct owner *o, double value, bool leaf)
{
	static const uint8_t groups[LIVE_NGROUPS] = {LIVE_FUNCTION, LIVE_PROCESS, LIVE_THREAD};

	for (size_t g = 0; g < LIVE_NGROUPS; g++) {
		int32_t id = g == LIVE_PROCESS ? o->pid : g == LIVE_THREAD ? o->tid : 0;
		const char *comm = g == LIVE_PROCESS ? o->process : g == LIVE_THREAD ? o->comm : "";
		int64_t i = entry_get(t, groups[g], id, name, comm);
		struct entry *e;

		if (i < 0)
			return (int)i;
		e = &t->e[i];
		if (leaf) {
			e->decaying += value;
			e->flat += value;
		}
		if (e->last != t->samples) {
			e->last = t->samples;
			e->decaying_cum += value;
			e->cum += value;
		}
	}
	return 0;
}

int live_add(struct live *t, const struct stacks *st)
{
	uint32_t *names = malloc((st->nnodes + 1) * sizeof(*names));
	int r = 0;

	if (!names)
		return -ENOMEM;
	for (size_t i = 0; i < st->nnodes && r == 0; i++)
		r = intern(t, st->names[i], &names[i]);
	t->total[0] *= LIVE_DECAY;
	for (size_t i = 0; i < t->n; i++) {
		t->e[i].decaying *= LIVE_DECAY;
		t->e[i].decaying_cum *= LIVE_DECAY;
	}
	for (size_t i = 0; i < st->nsamples && r == 0; i++) {
		const struct stacks_sample *s = &st->samples[i];
		double v = (double)s->value;
		struct owner o;

		if (s->from_base)
			continue;
		t->samples++; /* from 1: an entry's last starts at 0 */
		t->total[0] += v;
		t->total[1] += v;
		sample_owner(st->p, &st->p->samples[s->sample], &o);
		for (uint32_t k = 0; k < s->n && r == 0; k++)
			r = add(t, names[st->frames[s->off + k].node], &o, v, k == 0);
	}
	free(names);
	if (r == 0 && ++t->windows % LIVE_PRUNE_EVERY == 0)
		r = prune(t);
	return r;
}

static int by_flat(const void *a, const void *b)
{
	const struct live_row *x = a, *y = b;

	if (x->flat != y->flat)
		return x->flat > y->flat ? -1 : 1;
	if (x->cum != y->cum)
		return x->cum > y->cum ? -1 : 1;
	return strcmp(x->name, y->name);
}

int live_rows(const struct live *t, enum live_group g, bool cumulative, const regex_t *filter,
	      struct live_row **ret, size_t *ret_n, double *ret_total)
{
	double total = t->total[cumulative], floor = total * 1e-9;
	struct live_row *rows = NULL;
	size_t n = 0, cap = 0;

	for (size_t i = 0; i < t->n; i++) {
		const struct entry *e = &t->e[i];
		double flat = cumulative ? e->flat : e->decaying,
		       cum = cumulative ? e->cum : e->decaying_cum;
		struct live_row *row;

		if (e->group != g || cum <= floor ||
		    (filter && regexec(filter, t->strs.strs[e->name], 0, NULL, 0) != 0))
			continue;
		if (VEC_PUSH_RESERVE(rows, n, cap) < 0) {
			free(rows);
			return -ENOMEM;
		}
		row = &rows[n++];
		*row = (struct live_row){.name = t->strs.strs[e->name], .flat = flat, .cum = cum};
		if (g != LIVE_FUNCTION)
			(void)snprintf(row->owner, sizeof(row->owner), "%s[%d]", e->comm, e->id);
	}
	if (n > 1)
		qsort(rows, n, sizeof(*rows), by_flat);
	*ret = rows;
	*ret_n = n;
	*ret_total = total;
	return 0;
}

size_t live_windows(const struct live *t)
{
	return t->windows;
}

size_t live_entries(const struct live *t)
{
	return t->n;
}
