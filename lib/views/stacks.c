/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/sat.h"
#include "lib/views/framenames.h"
#include "lib/base/hash.h"
#include "lib/base/parse.h"
#include "lib/views/stacks.h"
#include "lib/base/vec.h"

struct builder {
	struct stacks *s;
	struct framenames *frames;
	struct hashmap by_name;
	uint32_t *loc_first; /* per location: its first entry in loc_nodes */
	uint32_t *loc_nodes; /* per (location, line): node */
	regex_t focus, ignore, hide;
	bool has_focus, has_ignore, has_hide;
	bool *node_hidden, *node_focus, *node_ignore;
	size_t max_frames;
	int64_t base_total; /* sum of |value| over the base's kept samples */
};

struct name_key {
	const struct stacks *s;
	const char *name;
};

static bool name_eq(const void *ctx, uint32_t idx)
{
	const struct name_key *k = ctx;

	return strcmp(k->s->names[idx], k->name) == 0;
}

int stacks_node_find(const struct stacks *s, const char *name)
{
	for (size_t i = 0; i < s->nnodes; i++)
		if (strcmp(s->names[i], name) == 0)
			return (int)i;
	return -1;
}

/* The node for name (taken: freed if it already exists). */
static int node_take(struct builder *b, char *name, uint32_t *ret)
{
	struct stacks *s = b->s;
	struct name_key key = {s, name};
	uint64_t h = hash_bytes(name, strlen(name), 0);
	int r;

	r = VEC_PUSH_RESERVE(s->names, s->nnodes, s->names_cap);
	if (r == 0)
		r = hashmap_find_or_add(&b->by_name, h, name_eq, &key, (uint32_t)s->nnodes, ret);
	if (r != 0) {
		free(name); /* known already, or out of memory */
		return r < 0 ? r : 0;
	}
	s->names[s->nnodes++] = name;
	return 0;
}

/* Every (location, line) gets its node once. */
static int name_nodes(struct builder *b, const struct profile *p, bool lines)
{
	size_t total = 0;
	int r;

	b->loc_first = calloc(p->nlocations + 1, sizeof(*b->loc_first));
	if (!b->loc_first)
		return -ENOMEM;
	for (uint32_t loc = 1; loc <= p->nlocations; loc++) {
		b->loc_first[loc - 1] = (uint32_t)total;
		total += framenames_count(b->frames, loc);
	}
	b->loc_nodes = calloc(total + 1, sizeof(*b->loc_nodes));
	if (!b->loc_nodes)
		return -ENOMEM;
	for (uint32_t loc = 1; loc <= p->nlocations; loc++) {
		const struct profile_location *l = profile_location(p, loc);

		for (size_t j = 0; j < framenames_count(b->frames, loc); j++) {
			const char *base = framenames_name(b->frames, loc, j);
			char *name;

			if (lines && l->nline) {
				const struct profile_line *ln = &p->lines[l->line_off + j];
				const char *file =
					profile_str(p, profile_function(p, ln->function)->filename);

				if (asprintf(&name, "%s %s:%" PRId64, base, file, ln->line) < 0)
					name = NULL;
			} else {
				name = strdup(base);
			}
			if (!name)
				return -ENOMEM;
			r = node_take(b, name, &b->loc_nodes[b->loc_first[loc - 1] + j]);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int compile(regex_t *re, const char *pattern, bool *ret_has)
{
	*ret_has = false;
	if (!pattern)
		return 0;
	if (regcomp(re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
		return -EINVAL;
	*ret_has = true;
	return 0;
}

/* Which nodes each regex matches, decided once per node rather than per frame. */
static int match_nodes(struct builder *b)
{
	size_t n = b->s->nnodes ? b->s->nnodes : 1;

	free(b->node_hidden);
	free(b->node_focus);
	free(b->node_ignore);
	b->node_hidden = calloc(n, sizeof(bool));
	b->node_focus = calloc(n, sizeof(bool));
	b->node_ignore = calloc(n, sizeof(bool));
	if (!b->node_hidden || !b->node_focus || !b->node_ignore)
		return -ENOMEM;
	for (size_t i = 0; i < b->s->nnodes; i++) {
		const char *name = b->s->names[i];

		b->node_hidden[i] = b->has_hide && regexec(&b->hide, name, 0, NULL, 0) == 0;
		b->node_focus[i] = b->has_focus && regexec(&b->focus, name, 0, NULL, 0) == 0;
		b->node_ignore[i] = b->has_ignore && regexec(&b->ignore, name, 0, NULL, 0) == 0;
	}
	return 0;
}

static bool labels_match(const struct profile *p, const struct profile_sample *smp,
			 const struct stacks_options *o)
{
	bool pid_ok = !o->has_pid, tid_ok = !o->has_tid, comm_ok = !o->comm;

	for (uint32_t i = 0; i < smp->nlabel; i++) {
		const struct profile_label *l = &p->labels[smp->label_off + i];
		const char *key = profile_str(p, l->key);

		if (o->has_pid && !l->str && strcmp(key, "pid") == 0 && l->num == o->pid)
			pid_ok = true;
		if (o->has_tid && !l->str && strcmp(key, "tid") == 0 && l->num == o->tid)
			tid_ok = true;
		if (o->comm && l->str &&
		    (strcmp(key, "comm") == 0 || strcmp(key, "process") == 0) &&
		    strcmp(profile_str(p, l->str), o->comm) == 0)
			comm_ok = true;
	}
	return pid_ok && tid_ok && comm_ok;
}

static int add_sample(struct builder *b, const struct profile *p, uint32_t si, int64_t v,
		      bool from_base)
{
	const struct profile_sample *smp = &p->samples[si];
	struct stacks *s = b->s;
	bool focused = !b->has_focus;
	size_t start = s->nframes;
	int r;

	for (uint32_t i = 0; i < smp->nloc; i++) {
		uint32_t loc = p->locs[smp->loc_off + i];
		size_t count = framenames_count(b->frames, loc);

		for (size_t j = 0; j < count; j++) {
			uint32_t node = b->loc_nodes[b->loc_first[loc - 1] + j];

			if (b->node_ignore[node]) {
				s->nframes = start;
				return 0;
			}
			focused |= b->node_focus[node];
			if (b->node_hidden[node])
				continue;
			if (s->nframes >= b->max_frames)
				return -E2BIG;
			r = VEC_PUSH_RESERVE(s->frames, s->nframes, s->frames_cap);
			if (r < 0)
				return r;
			s->frames[s->nframes++] = (struct stacks_frame){
				.node = node,
				.loc = loc,
				.inlined = j + 1 < count,
			};
		}
	}
	if (!focused) {
		s->nframes = start;
		return 0;
	}
	r = VEC_PUSH_RESERVE(s->samples, s->nsamples, s->samples_cap);
	if (r < 0)
		return r;
	s->samples[s->nsamples++] = (struct stacks_sample){
		.off = (uint32_t)start,
		.n = (uint32_t)(s->nframes - start),
		.sample = si,
		.value = v,
		.from_base = from_base,
	};
	if (from_base)
		b->base_total = sat_add64(b->base_total, sat_abs64(v));
	else
		s->total = sat_add64(s->total, sat_abs64(v));
	return 0;
}

int stacks_sample_index(const struct profile *p, const char *arg)
{
	uint64_t n;
	int i;

	if (p->ntypes == 0)
		return -EINVAL;
	if (!arg) {
		i = p->default_sample_type
			    ? profile_find_type(p, profile_str(p, p->default_sample_type))
			    : -1;
		return i >= 0 ? i : (int)p->ntypes - 1;
	}
	if (parse_uint(arg, 0, p->ntypes - 1, &n) == 0)
		return (int)n;
	i = profile_find_type(p, arg);
	return i >= 0 ? i : -EINVAL;
}

void stacks_free(struct stacks *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nnodes; i++)
		free(s->names[i]);
	free(s->names);
	free(s->frames);
	free(s->samples);
	free(s);
}

/* One profile's samples into the stacks; a base profile's count negatively (--diff-base). */
static int add_profile(struct builder *b, const struct profile *p, const struct stacks_options *o,
		       bool from_base)
{
	int r;

	if (o->sample_index < 0 || (size_t)o->sample_index >= p->ntypes)
		return -EINVAL;
	r = framenames_new(p, &b->frames);
	if (r == 0)
		r = name_nodes(b, p, o->lines);
	if (r == 0)
		r = match_nodes(b);
	for (size_t i = 0; i < p->nsamples && r == 0; i++) {
		int64_t v = p->values[p->samples[i].value_off + (size_t)o->sample_index];

		bool all_zero = true;

		/*
		 * A sample zero in this value stays (-traces prints it; elsewhere it
		 * adds nothing); one zero in every value is dropped, as pprof does.
		 */
		for (size_t t = 0; t < p->ntypes; t++)
			all_zero &= p->values[p->samples[i].value_off + t] == 0;
		if (all_zero || !labels_match(p, &p->samples[i], o))
			continue;
		r = add_sample(b, p, (uint32_t)i, from_base ? sat_neg64(v) : v, from_base);
	}
	framenames_free(b->frames);
	b->frames = NULL;
	free(b->loc_first);
	free(b->loc_nodes);
	b->loc_first = b->loc_nodes = NULL;
	return r;
}

int stacks_build(const struct profile *p, const struct profile *base,
		 const struct stacks_options *o, struct stacks **ret)
{
	struct builder b = {.by_name = HASHMAP_INIT};
	int r;

	if (o->sample_index < 0 || (size_t)o->sample_index >= p->ntypes)
		return -EINVAL;
	b.s = calloc(1, sizeof(*b.s));
	if (!b.s)
		return -ENOMEM;
	/* Frames are nearly all of it; the array may double past what it holds. */
	b.max_frames = (o->max_memory ? o->max_memory : STACKS_MAX_MEMORY) /
		       (2 * sizeof(struct stacks_frame));
	b.s->p = p;
	b.s->base = base;
	b.s->unit = profile_str(p, p->types[o->sample_index].unit);
	b.s->type = profile_str(p, p->types[o->sample_index].type);
	r = compile(&b.focus, o->focus, &b.has_focus);
	if (r == 0)
		r = compile(&b.ignore, o->ignore, &b.has_ignore);
	if (r == 0)
		r = compile(&b.hide, o->hide, &b.has_hide);
	if (r == 0)
		r = add_profile(&b, p, o, false);
	if (r == 0 && base)
		r = add_profile(&b, base, o, true);
	/*
	 * A difference is shown as shares of the base, as go tool pprof
	 * -diff_base computes its total (report.computeTotal): what changed,
	 * against what there was.
	 */
	if (r == 0 && base && b.base_total)
		b.s->total = b.base_total;
	if (b.has_focus)
		regfree(&b.focus);
	if (b.has_ignore)
		regfree(&b.ignore);
	if (b.has_hide)
		regfree(&b.hide);
	hashmap_release(&b.by_name);
	free(b.node_hidden);
	free(b.node_focus);
	free(b.node_ignore);
	if (r < 0) {
		stacks_free(b.s);
		return r;
	}
	*ret = b.s;
	return 0;
}
