/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/profile/profile.h"
#include "lib/base/sat.h"
#include "lib/base/vec.h"

struct profile *profile_new(void)
{
	struct profile *p = calloc(1, sizeof(*p));
	uint32_t empty;

	if (!p)
		return NULL;
	/* pprof requires string_table[0] == "". */
	if (profile_intern_n(p, "", 0, &empty) < 0) {
		profile_free(p);
		return NULL;
	}
	return p;
}

void profile_free(struct profile *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nstr; i++)
		free(p->strs[i]);
	free(p->strs);
	free(p->types);
	free(p->comments);
	free(p->mappings);
	free(p->functions);
	free(p->locations);
	free(p->lines);
	free(p->samples);
	free(p->locs);
	free(p->labels);
	free(p->values);
	hashmap_release(&p->str_index);
	hashmap_release(&p->mapping_index);
	hashmap_release(&p->function_index);
	hashmap_release(&p->location_index);
	hashmap_release(&p->sample_index);
	free(p);
}

/* Strings. */

struct str_key {
	const struct profile *p;
	const char *s;
	size_t len;
};

static bool str_eq(const void *ctx, uint32_t idx)
{
	const struct str_key *k = ctx;
	const char *have = k->p->strs[idx];

	return strncmp(have, k->s, k->len) == 0 && have[k->len] == '\0';
}

int profile_intern_n(struct profile *p, const char *s, size_t len, uint32_t *ret)
{
	struct str_key key;
	uint64_t h;
	char *copy;
	int r;

	/* A string cut at an embedded NUL is what every C consumer would see anyway. */
	len = strnlen(s, len);
	key = (struct str_key){p, s, len};
	h = hash_bytes(s, len, 0);
	if (hashmap_find(&p->str_index, h, str_eq, &key, ret))
		return 0;
	if (p->nstr >= UINT32_MAX)
		return -ENOMEM;
	r = VEC_PUSH_RESERVE(p->strs, p->nstr, p->strs_cap);
	if (r < 0)
		return r;
	copy = malloc(len + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, s, len);
	copy[len] = '\0';
	r = hashmap_insert(&p->str_index, h, (uint32_t)p->nstr);
	if (r < 0) {
		free(copy);
		return r;
	}
	p->strs[p->nstr] = copy;
	*ret = (uint32_t)p->nstr++;
	return 0;
}

int profile_intern(struct profile *p, const char *s, uint32_t *ret)
{
	return profile_intern_n(p, s, strlen(s), ret);
}

const char *profile_str(const struct profile *p, uint32_t idx)
{
	return idx < p->nstr ? p->strs[idx] : "";
}

/* Types and comments. */

int profile_add_type(struct profile *p, const char *type, const char *unit)
{
	struct profile_value_type vt;
	struct profile_value_type *types;
	int r;

	if (p->nsamples)
		return -EBUSY;
	r = profile_intern(p, type, &vt.type);
	if (r < 0)
		return r;
	r = profile_intern(p, unit, &vt.unit);
	if (r < 0)
		return r;
	types = realloc(p->types, (p->ntypes + 1) * sizeof(*types));
	if (!types)
		return -ENOMEM;
	types[p->ntypes++] = vt;
	p->types = types;
	return 0;
}

int profile_find_type(const struct profile *p, const char *type)
{
	for (size_t i = 0; i < p->ntypes; i++)
		if (strcmp(profile_str(p, p->types[i].type), type) == 0)
			return (int)i;
	return -ENOENT;
}

int profile_add_comment(struct profile *p, const char *comment)
{
	uint32_t s;
	int r;

	r = profile_intern(p, comment, &s);
	if (r < 0)
		return r;
	r = VEC_PUSH_RESERVE(p->comments, p->ncomments, p->comments_cap);
	if (r < 0)
		return r;
	p->comments[p->ncomments++] = s;
	return 0;
}

/* Mappings, functions, locations: interned by value through their hash indexes. */

/*
 * The pid is a hint for finding the file, not part of a mapping's identity,
 * except for anonymous memory, whose contents are the process's own.
 */
struct mapping_key {
	const struct profile *p;
	const struct profile_mapping *m;
};

/*
 * What a mapping is, among its flags: kernel or anonymous memory. The
 * HAS_* bits say what symbolization found in it, not which mapping it is:
 * a module's next frame must find the mapping its first one named.
 */
#define MAPPING_IDENTITY (PROFILE_MAPPING_KERNEL | PROFILE_MAPPING_ANON)

static bool mapping_eq(const void *ctx, uint32_t idx)
{
	const struct mapping_key *k = ctx;
	const struct profile_mapping *a = &k->p->mappings[idx], *b = k->m;

	return a->start == b->start && a->limit == b->limit && a->offset == b->offset &&
	       a->file == b->file && a->build_id == b->build_id &&
	       (a->flags & MAPPING_IDENTITY) == (b->flags & MAPPING_IDENTITY) &&
	       (!(a->flags & PROFILE_MAPPING_ANON) || a->pid == b->pid);
}

static uint64_t mapping_hash(const struct profile_mapping *m)
{
	uint64_t h = hash_u64(m->start, m->limit);

	h = hash_u64(m->offset, h);
	h = hash_u64(((uint64_t)m->file << 32) | m->build_id, h);
	return hash_u64(m->flags & MAPPING_IDENTITY, h);
}

int profile_intern_mapping(struct profile *p, const struct profile_mapping *m, uint32_t *ret_id)
{
	struct mapping_key key = {p, m};
	uint64_t h = mapping_hash(m);
	uint32_t idx;
	int r;

	r = VEC_PUSH_RESERVE(p->mappings, p->nmappings, p->mappings_cap);
	if (r < 0)
		return r;
	r = hashmap_find_or_add(&p->mapping_index, h, mapping_eq, &key, (uint32_t)p->nmappings,
				&idx);
	if (r < 0)
		return r;
	if (r == 0)
		p->mappings[p->nmappings++] = *m;
	*ret_id = idx + 1;
	return 0;
}

/*
 * Not indexed: a file's mappings are found by its ids, never by value, and
 * a hostile file's thousands of equal ones would pile up in one run of the
 * index (quadratic time). The same for functions.
 */
int profile_add_mapping(struct profile *p, const struct profile_mapping *m, uint32_t *ret_id)
{
	int r = VEC_PUSH_RESERVE(p->mappings, p->nmappings, p->mappings_cap);

	if (r < 0)
		return r;
	p->mappings[p->nmappings++] = *m;
	*ret_id = (uint32_t)p->nmappings;
	return 0;
}

int profile_set_mapping(struct profile *p, uint32_t id, const struct profile_mapping *m)
{
	uint64_t old, h = mapping_hash(m);
	int r;

	if (id == 0 || id > p->nmappings)
		return -EINVAL;
	old = mapping_hash(&p->mappings[id - 1]);
	/* Only an interned mapping is in the index, and only it must move there. */
	if (old != h && hashmap_remove(&p->mapping_index, old, id - 1)) {
		r = hashmap_insert(&p->mapping_index, h, id - 1);
		if (r < 0) {
			(void)hashmap_insert(&p->mapping_index, old,
					     id - 1); /* a slot just freed */
			return r;
		}
	}
	p->mappings[id - 1] = *m;
	return 0;
}

struct function_key {
	const struct profile *p;
	const struct profile_function *f;
};

static bool function_eq(const void *ctx, uint32_t idx)
{
	const struct function_key *k = ctx;
	const struct profile_function *a = &k->p->functions[idx], *b = k->f;

	return a->name == b->name && a->system_name == b->system_name &&
	       a->filename == b->filename && a->start_line == b->start_line;
}

static uint64_t function_hash(const struct profile_function *f)
{
	return hash_u64((uint64_t)f->start_line,
			hash_u64(((uint64_t)f->name << 32) | f->system_name, f->filename));
}

int profile_add_function(struct profile *p, const struct profile_function *f, uint32_t *ret_id)
{
	int r = VEC_PUSH_RESERVE(p->functions, p->nfunctions, p->functions_cap);

	if (r < 0)
		return r;
	p->functions[p->nfunctions++] = *f;
	*ret_id = (uint32_t)p->nfunctions;
	return 0;
}

int profile_intern_function(struct profile *p, const struct profile_function *f, uint32_t *ret_id)
{
	struct function_key key = {p, f};
	uint64_t h = function_hash(f);
	uint32_t idx;
	int r;

	r = VEC_PUSH_RESERVE(p->functions, p->nfunctions, p->functions_cap);
	if (r < 0)
		return r;
	r = hashmap_find_or_add(&p->function_index, h, function_eq, &key, (uint32_t)p->nfunctions,
				&idx);
	if (r < 0)
		return r;
	if (r == 0)
		p->functions[p->nfunctions++] = *f;
	*ret_id = idx + 1;
	return 0;
}

static int push_lines(struct profile *p, const struct profile_line *lines, size_t n,
		      uint32_t *ret_off)
{
	int r;

	for (size_t i = 0; i < n; i++)
		if (lines[i].function == 0 || lines[i].function > p->nfunctions)
			return -EINVAL;
	if (p->nlines + n > UINT32_MAX)
		return -ENOMEM;
	r = vec_reserve(&p->lines, &p->lines_cap, p->nlines + n, sizeof(*p->lines));
	if (r < 0)
		return r;
	if (n)
		memcpy(&p->lines[p->nlines], lines, n * sizeof(*lines));
	*ret_off = (uint32_t)p->nlines;
	p->nlines += n;
	return 0;
}

int profile_add_location(struct profile *p, uint32_t mapping, uint64_t address, uint32_t flags,
			 const struct profile_line *lines, size_t nline, uint32_t *ret_id)
{
	struct profile_location *l;
	uint32_t off;
	int r;

	if (mapping > p->nmappings)
		return -EINVAL;
	r = VEC_PUSH_RESERVE(p->locations, p->nlocations, p->locations_cap);
	if (r < 0)
		return r;
	r = push_lines(p, lines, nline, &off);
	if (r < 0)
		return r;
	l = &p->locations[p->nlocations++];
	*l = (struct profile_location){
		.mapping = mapping,
		.flags = flags,
		.address = address,
		.line_off = off,
		.nline = (uint32_t)nline,
	};
	*ret_id = (uint32_t)p->nlocations;
	return 0;
}

struct location_key {
	const struct profile *p;
	uint32_t mapping, flags;
	uint64_t address;
};

static bool location_eq(const void *ctx, uint32_t idx)
{
	const struct location_key *k = ctx;
	const struct profile_location *l = &k->p->locations[idx];

	/* Symbolization sets flags of its own: compare only the caller bit. */
	return l->mapping == k->mapping && l->address == k->address &&
	       (l->flags & PROFILE_LOCATION_CALLER) == k->flags;
}

static uint64_t location_hash(uint32_t mapping, uint32_t caller, uint64_t address)
{
	return hash_u64(address, ((uint64_t)mapping << 1) | caller);
}

/*
 * Where a location interned lately is remembered: every sample interns
 * each of its frames, and a program's stacks repeat a few hundred
 * addresses. An id found there is checked as the index would check it
 * (locations are only ever added, and one re-mapped is re-indexed too).
 */
static uint32_t *recent_location(struct profile *p, uint32_t mapping, uint64_t address)
{
	uint64_t x = (address ^ ((uint64_t)mapping << 40)) * 0x9e3779b97f4a7c15ULL;

	return &p->recent_locations[x >> 54];
}

int profile_intern_location(struct profile *p, uint32_t mapping, uint64_t address, uint32_t flags,
			    uint32_t *ret_id)
{
	struct location_key key = {p, mapping, flags & PROFILE_LOCATION_CALLER, address};
	uint32_t *recent = recent_location(p, mapping, address);
	uint64_t h;
	uint32_t idx;
	int r;

	if (*recent && *recent <= p->nlocations && location_eq(&key, *recent - 1)) {
		*ret_id = *recent;
		return 0;
	}
	h = location_hash(mapping, key.flags, address);
	if (hashmap_find(&p->location_index, h, location_eq, &key, &idx)) {
		*ret_id = *recent = idx + 1;
		return 0;
	}
	r = hashmap_insert(&p->location_index, h, (uint32_t)p->nlocations);
	if (r < 0)
		return r;
	r = profile_add_location(p, mapping, address, flags, NULL, 0, ret_id);
	if (r < 0)
		(void)hashmap_remove(&p->location_index, h, (uint32_t)p->nlocations);
	else
		*recent = *ret_id;
	return r;
}

int profile_set_location_mapping(struct profile *p, uint32_t id, uint32_t mapping)
{
	struct profile_location *l;
	uint32_t caller;

	if (id == 0 || id > p->nlocations || mapping > p->nmappings)
		return -EINVAL;
	l = &p->locations[id - 1];
	caller = l->flags & PROFILE_LOCATION_CALLER;
	/* Only an interned location is in the index, and only it must move there. */
	if (!hashmap_remove(&p->location_index, location_hash(l->mapping, caller, l->address),
			    id - 1)) {
		l->mapping = mapping;
		return 0;
	}
	l->mapping = mapping;
	return hashmap_insert(&p->location_index, location_hash(mapping, caller, l->address),
			      id - 1);
}

int profile_mark_location(struct profile *p, uint32_t id, uint32_t flags)
{
	if (id == 0 || id > p->nlocations)
		return -EINVAL;
	p->locations[id - 1].flags |= flags & ~(uint32_t)PROFILE_LOCATION_CALLER;
	return 0;
}

int profile_set_sym_offset(struct profile *p, uint32_t id, uint64_t offset)
{
	if (id == 0 || id > p->nlocations)
		return -EINVAL;
	p->locations[id - 1].sym_offset = offset;
	p->locations[id - 1].flags |= PROFILE_LOCATION_HAS_SYMOFF;
	return 0;
}

void profile_set_period(struct profile *p, struct profile_value_type type, int64_t period)
{
	p->period_type = type;
	p->period = period;
}

void profile_set_time(struct profile *p, int64_t time_nanos, int64_t duration_nanos)
{
	p->time_nanos = time_nanos;
	p->duration_nanos = duration_nanos;
}

void profile_set_default_type(struct profile *p, uint32_t type)
{
	p->default_sample_type = type;
}

int profile_set_lines(struct profile *p, uint32_t id, const struct profile_line *lines,
		      size_t nline)
{
	uint32_t off;
	int r;

	if (id == 0 || id > p->nlocations)
		return -EINVAL;
	/* Locations get lines once, after aggregation: appending wastes nothing in practice. */
	r = push_lines(p, lines, nline, &off);
	if (r < 0)
		return r;
	p->locations[id - 1].line_off = off;
	p->locations[id - 1].nline = (uint32_t)nline;
	return 0;
}

/* Samples. */

struct sample_key {
	const struct profile *p;
	const uint32_t *locs;
	size_t nloc;
	const struct profile_label *labels;
	size_t nlabel;
};

static bool sample_eq(const void *ctx, uint32_t idx)
{
	const struct sample_key *k = ctx;
	const struct profile_sample *s = &k->p->samples[idx];

	if (s->nloc != k->nloc || s->nlabel != k->nlabel)
		return false;
	if (memcmp(&k->p->locs[s->loc_off], k->locs, k->nloc * sizeof(*k->locs)) != 0)
		return false;
	for (size_t i = 0; i < k->nlabel; i++) {
		const struct profile_label *a = &k->p->labels[s->label_off + i], *b = &k->labels[i];

		if (a->key != b->key || a->str != b->str || a->num != b->num ||
		    a->num_unit != b->num_unit)
			return false;
	}
	return true;
}

static uint64_t sample_hash(const struct sample_key *k)
{
	uint64_t h = hash_bytes(k->locs, k->nloc * sizeof(*k->locs), k->nloc);

	for (size_t i = 0; i < k->nlabel; i++) {
		const struct profile_label *l = &k->labels[i];

		h = hash_u64(((uint64_t)l->key << 32) | l->str, h);
		h = hash_u64((uint64_t)l->num, h);
	}
	return h;
}

int profile_add_sample(struct profile *p, const uint32_t *locs, size_t nloc, const int64_t *values,
		       const struct profile_label *labels, size_t nlabel, unsigned flags)
{
	struct sample_key key = {p, locs, nloc, labels, nlabel};
	struct profile_sample *s;
	uint64_t h = 0;
	uint32_t idx;
	int r;

	for (size_t i = 0; i < nloc; i++)
		if (locs[i] == 0 || locs[i] > p->nlocations)
			return -EINVAL;
	if (flags & PROFILE_ADD_MERGE) {
		h = sample_hash(&key);
		if (hashmap_find(&p->sample_index, h, sample_eq, &key, &idx)) {
			int64_t *v = &p->values[p->samples[idx].value_off];

			for (size_t i = 0; i < p->ntypes; i++)
				v[i] += values[i];
			return 0;
		}
	}
	if (p->nlocs + nloc > UINT32_MAX || p->nlabels + nlabel > UINT32_MAX ||
	    p->nsamples >= UINT32_MAX)
		return -ENOMEM;
	r = VEC_PUSH_RESERVE(p->samples, p->nsamples, p->samples_cap);
	if (r < 0)
		return r;
	r = vec_reserve(&p->locs, &p->locs_cap, p->nlocs + nloc, sizeof(*p->locs));
	if (r < 0)
		return r;
	r = vec_reserve(&p->labels, &p->labels_cap, p->nlabels + nlabel, sizeof(*p->labels));
	if (r < 0)
		return r;
	r = vec_reserve(&p->values, &p->values_cap, p->nvalues + p->ntypes, sizeof(*p->values));
	if (r < 0)
		return r;
	if (flags & PROFILE_ADD_MERGE) {
		r = hashmap_insert(&p->sample_index, h, (uint32_t)p->nsamples);
		if (r < 0)
			return r;
	}

	s = &p->samples[p->nsamples++];
	s->loc_off = (uint32_t)p->nlocs;
	s->nloc = (uint32_t)nloc;
	s->label_off = (uint32_t)p->nlabels;
	s->nlabel = (uint32_t)nlabel;
	s->value_off = p->nvalues;
	if (nloc)
		memcpy(&p->locs[p->nlocs], locs, nloc * sizeof(*locs));
	p->nlocs += nloc;
	if (nlabel)
		memcpy(&p->labels[p->nlabels], labels, nlabel * sizeof(*labels));
	p->nlabels += nlabel;
	if (p->ntypes)
		memcpy(&p->values[p->nvalues], values, p->ntypes * sizeof(*values));
	p->nvalues += p->ntypes;
	return 0;
}

/* Merging. */

/* Whether dst can take src's values as they are: the same types, in order. */
static bool same_types(const struct profile *dst, const struct profile *src)
{
	if (dst->ntypes != src->ntypes)
		return false;
	for (size_t i = 0; i < dst->ntypes; i++)
		if (strcmp(profile_str(dst, dst->types[i].type),
			   profile_str(src, src->types[i].type)) ||
		    strcmp(profile_str(dst, dst->types[i].unit),
			   profile_str(src, src->types[i].unit)))
			return false;
	return true;
}

/* src's string, interned in dst. */
static int merge_str(struct profile *dst, const struct profile *src, uint32_t s, uint32_t *ret)
{
	if (s == 0) {
		*ret = 0;
		return 0;
	}
	return profile_intern(dst, profile_str(src, s), ret);
}

/* dst's types and period from src, for an empty dst. */
static int merge_types(struct profile *dst, const struct profile *src)
{
	struct profile_value_type pt;
	int r = 0;

	for (size_t i = 0; i < src->ntypes && r == 0; i++)
		r = profile_add_type(dst, profile_str(src, src->types[i].type),
				     profile_str(src, src->types[i].unit));
	if (r == 0)
		r = merge_str(dst, src, src->period_type.type, &pt.type);
	if (r == 0)
		r = merge_str(dst, src, src->period_type.unit, &pt.unit);
	if (r == 0)
		profile_set_period(dst, pt, src->period);
	if (r == 0 && src->default_sample_type)
		r = merge_str(dst, src, src->default_sample_type, &dst->default_sample_type);
	return r;
}

/* Maps of src's ids to dst's, for one merge. */
struct merge_ids {
	uint32_t *mappings, *functions, *locations;
};

static int merge_locations(struct profile *dst, const struct profile *src, struct merge_ids *ids)
{
	struct profile_line *lines = NULL;
	size_t lines_cap = 0;
	int r = 0;

	for (size_t i = 0; i < src->nmappings && r == 0; i++) {
		struct profile_mapping m = src->mappings[i];

		r = merge_str(dst, src, m.file, &m.file);
		if (r == 0)
			r = merge_str(dst, src, m.build_id, &m.build_id);
		if (r == 0)
			r = profile_intern_mapping(dst, &m, &ids->mappings[i]);
	}
	for (size_t i = 0; i < src->nfunctions && r == 0; i++) {
		struct profile_function f = src->functions[i];

		r = merge_str(dst, src, f.name, &f.name);
		if (r == 0)
			r = merge_str(dst, src, f.system_name, &f.system_name);
		if (r == 0)
			r = merge_str(dst, src, f.filename, &f.filename);
		if (r == 0)
			r = profile_intern_function(dst, &f, &ids->functions[i]);
	}
	for (size_t i = 0; i < src->nlocations && r == 0; i++) {
		const struct profile_location *l = &src->locations[i];
		uint32_t id;

		r = profile_intern_location(dst, l->mapping ? ids->mappings[l->mapping - 1] : 0,
					    l->address, l->flags & PROFILE_LOCATION_CALLER, &id);
		ids->locations[i] = id;
		/* Lines once: the first window to name a location names it for all. */
		if (r < 0 || dst->locations[id - 1].flags & PROFILE_LOCATION_SYMBOLIZED)
			continue;
		if (l->nline > lines_cap) {
			struct profile_line *n = realloc(lines, l->nline * sizeof(*lines));

			if (!n) {
				r = -ENOMEM;
				break;
			}
			lines = n;
			lines_cap = l->nline;
		}
		for (uint32_t k = 0; k < l->nline; k++)
			lines[k] = (struct profile_line){
				.function =
					ids->functions[src->lines[l->line_off + k].function - 1],
				.line = src->lines[l->line_off + k].line};
		r = profile_set_lines(dst, id, lines, l->nline);
		if (r == 0)
			r = profile_mark_location(dst, id, l->flags & ~PROFILE_LOCATION_CALLER);
		if (r == 0 && (l->flags & PROFILE_LOCATION_HAS_SYMOFF))
			r = profile_set_sym_offset(dst, id, l->sym_offset);
	}
	free(lines);
	return r;
}

static int merge_samples(struct profile *dst, const struct profile *src,
			 const struct merge_ids *ids)
{
	uint32_t *locs = NULL;
	struct profile_label *labels = NULL;
	size_t locs_cap = 0, labels_cap = 0;
	int r = 0;

	for (size_t i = 0; i < src->nsamples && r == 0; i++) {
		const struct profile_sample *s = &src->samples[i];

		if (s->nloc > locs_cap || s->nlabel > labels_cap) {
			uint32_t *nl = realloc(locs, (s->nloc + 1) * sizeof(*locs));
			struct profile_label *nb;

			if (nl)
				locs = nl;
			nb = nl ? realloc(labels, (s->nlabel + 1) * sizeof(*labels)) : NULL;
			if (!nb) {
				r = -ENOMEM;
				break;
			}
			labels = nb;
			locs_cap = s->nloc > locs_cap ? s->nloc : locs_cap;
			labels_cap = s->nlabel > labels_cap ? s->nlabel : labels_cap;
		}
		for (uint32_t k = 0; k < s->nloc; k++)
			locs[k] = ids->locations[src->locs[s->loc_off + k] - 1];
		for (uint32_t k = 0; k < s->nlabel && r == 0; k++) {
			const struct profile_label *l = &src->labels[s->label_off + k];

			labels[k] = (struct profile_label){.num = l->num};
			r = merge_str(dst, src, l->key, &labels[k].key);
			if (r == 0)
				r = merge_str(dst, src, l->str, &labels[k].str);
			if (r == 0)
				r = merge_str(dst, src, l->num_unit, &labels[k].num_unit);
		}
		if (r == 0)
			r = profile_add_sample(dst, locs, s->nloc, &src->values[s->value_off],
					       labels, s->nlabel, PROFILE_ADD_MERGE);
	}
	free(locs);
	free(labels);
	return r;
}

int profile_merge(struct profile *dst, const struct profile *src)
{
	struct merge_ids ids = {
		.mappings = calloc(src->nmappings + 1, sizeof(uint32_t)),
		.functions = calloc(src->nfunctions + 1, sizeof(uint32_t)),
		.locations = calloc(src->nlocations + 1, sizeof(uint32_t)),
	};
	int64_t end = sat_add64(dst->time_nanos, dst->duration_nanos),
		src_end = sat_add64(src->time_nanos, src->duration_nanos);
	bool empty = dst->ntypes == 0 && dst->nsamples == 0;
	int r = 0;

	if (empty)
		r = merge_types(dst, src);
	else if (!same_types(dst, src))
		r = -EINVAL;
	if (r == 0 && (!ids.mappings || !ids.functions || !ids.locations))
		r = -ENOMEM;
	if (r == 0)
		r = merge_locations(dst, src, &ids);
	if (r == 0)
		r = merge_samples(dst, src, &ids);
	if (r == 0) {
		if (empty || src->time_nanos < dst->time_nanos)
			dst->time_nanos = src->time_nanos;
		if (empty || src_end > end)
			end = src_end;
		dst->duration_nanos = end - dst->time_nanos;
	}
	free(ids.mappings);
	free(ids.functions);
	free(ids.locations);
	return r;
}
