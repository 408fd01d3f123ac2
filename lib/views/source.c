/* SPDX-License-Identifier: MIT */
/*
 * Source listings (source.h). Nodes are (function name, file, line) frames
 * of the functions that match, keyed by the profile's string ids; each
 * location expands into its lines, innermost (inlined) first, as pprof's
 * graph does at line granularity.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/hash.h"
#include "lib/base/sat.h"
#include "lib/base/units.h"
#include "lib/base/vec.h"
#include "lib/views/source.h"
#include "lib/views/text.h"

/* Context shown around the lines with values, as pprof's margin. */
#define MARGIN 5

struct node {
	uint32_t name, file; /* strings */
	int64_t line;
	int64_t flat, cum;
	int64_t start_line;
	uint32_t build_id; /* string */
	uint32_t mapping;
	size_t last; /* the sample that last added to cum (+1) */
};

struct table {
	const struct profile *p;
	struct node *v;
	size_t n, cap;
	struct hashmap index;
};

struct node_key {
	const struct table *t;
	uint32_t name, file;
	int64_t line;
};

static bool node_eq(const void *ctx, uint32_t idx)
{
	const struct node_key *k = ctx;
	const struct node *n = &k->t->v[idx];

	return n->name == k->name && n->file == k->file && n->line == k->line;
}

/* The node of (f's name and file, line), added when new. Returns its index or -ENOMEM. */
static int64_t node_get(struct table *t, const struct profile_function *f, int64_t line,
			uint32_t mapping, uint32_t build_id)
{
	struct node_key k = {t, f->name, f->filename, line};
	uint64_t h = hash_u64((uint64_t)line, hash_u64(((uint64_t)f->name << 32) | f->filename, 0));
	uint32_t idx;
	int r;

	if (VEC_PUSH_RESERVE(t->v, t->n, t->cap) < 0)
		return -ENOMEM;
	r = hashmap_find_or_add(&t->index, h, node_eq, &k, (uint32_t)t->n, &idx);
	if (r < 0)
		return r;
	if (r == 0)
		t->v[t->n++] = (struct node){.name = f->name, .file = f->filename, .line = line};
	if (f->start_line > 0 && (!t->v[idx].start_line || f->start_line < t->v[idx].start_line))
		t->v[idx].start_line = f->start_line;
	if (!t->v[idx].mapping) {
		t->v[idx].mapping = mapping;
		t->v[idx].build_id = build_id;
	}
	return idx;
}

/* Does function id's name match? Cached per function: 0 unknown, 1 yes, 2 no. */
static bool matches(const struct profile *p, const regex_t *re, uint8_t *seen, uint32_t id)
{
	if (!seen[id])
		seen[id] =
			regexec(re, profile_str(p, profile_function(p, id)->name), 0, NULL, 0) == 0
				? 1
				: 2;
	return seen[id] == 1;
}

static int add_no_source(struct source_funcs *f, size_t *cap, const char *name)
{
	for (size_t i = 0; i < f->nno_source; i++)
		if (strcmp(f->no_source[i], name) == 0)
			return 0;
	if (VEC_PUSH_RESERVE(f->no_source, f->nno_source, *cap) < 0)
		return -ENOMEM;
	f->no_source[f->nno_source++] = name;
	return 0;
}

/* Every matching frame of every sample into t. */
static int fill(struct table *t, const struct stacks *st, const regex_t *re, struct source_funcs *f)
{
	const struct profile *p = st->p;
	uint8_t *seen = calloc(p->nfunctions + 1, 1);
	size_t counted = 0, no_source_cap = 0;
	int r = 0;

	if (!seen)
		return -ENOMEM;
	for (size_t i = 0; i < st->nsamples && r == 0; i++) {
		const struct stacks_sample *s = &st->samples[i];
		const struct profile_sample *ps;
		bool leaf = true;

		if (s->from_base)
			continue;
		ps = &p->samples[s->sample];
		counted++;
		for (uint32_t k = 0; k < ps->nloc && r == 0; k++) {
			const struct profile_location *l =
				profile_location(p, p->locs[ps->loc_off + k]);
			const struct profile_mapping *m = profile_mapping(p, l->mapping);

			for (uint32_t j = 0; j < l->nline && r == 0; j++, leaf = false) {
				const struct profile_line *ln = &p->lines[l->line_off + j];
				const struct profile_function *fn;
				int64_t idx;

				if (!ln->function || !matches(p, re, seen, ln->function))
					continue;
				fn = profile_function(p, ln->function);
				if (!fn->filename || !profile_str(p, fn->filename)[0]) {
					r = add_no_source(f, &no_source_cap,
							  profile_str(p, fn->name));
					continue;
				}
				idx = node_get(t, fn, ln->line, l->mapping, m ? m->build_id : 0);
				if (idx < 0) {
					r = (int)idx;
					break;
				}
				if (leaf)
					t->v[idx].flat = sat_add64(t->v[idx].flat, s->value);
				if (t->v[idx].last != counted) {
					t->v[idx].last = counted;
					t->v[idx].cum = sat_add64(t->v[idx].cum, s->value);
				}
			}
			/* An unsymbolized location is a frame too: what follows is not the leaf. */
			if (!l->nline)
				leaf = false;
		}
	}
	free(seen);
	return r;
}

static const struct profile *sort_profile; /* for qsort's comparator; views are single-threaded */

static int node_order(const void *a, const void *b)
{
	const struct node *x = a, *y = b;
	int c = strcmp(profile_str(sort_profile, x->name), profile_str(sort_profile, y->name));

	if (!c)
		c = strcmp(profile_str(sort_profile, x->file), profile_str(sort_profile, y->file));
	if (!c)
		c = x->line < y->line ? -1 : x->line > y->line;
	return c;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int source_collect(const struct stacks *st, const regex_t *re, struct source_funcs *ret)
{
	struct table t = {.p = st->p};
	struct source_funcs f = {0};
	size_t cap = 0;
	int r;

	r = fill(&t, st, re, &f);
	hashmap_release(&t.index);
	if (r == 0 && t.n > 1) {
		sort_profile = st->p;
		qsort(t.v, t.n, sizeof(*t.v), node_order);
	}
	for (size_t i = 0; i < t.n && r == 0;) {
		size_t j = i;
		struct source_func *fn;

		while (j < t.n && t.v[j].name == t.v[i].name && t.v[j].file == t.v[i].file)
			j++;
		if (VEC_PUSH_RESERVE(f.v, f.n, cap) < 0 ||
		    !(f.v[f.n].lines = calloc(j - i, sizeof(struct source_line)))) {
			r = -ENOMEM;
			break;
		}
		fn = &f.v[f.n++];
		*fn = (struct source_func){
			.name = profile_str(st->p, t.v[i].name),
			.file = profile_str(st->p, t.v[i].file),
			.build_id = profile_str(st->p, t.v[i].build_id),
			.mapping = t.v[i].mapping,
			.lines = fn->lines,
			.nlines = j - i,
		};
		for (size_t k = i; k < j; k++) {
			fn->lines[k - i] =
				(struct source_line){t.v[k].line, t.v[k].flat, t.v[k].cum};
			fn->flat = sat_add64(fn->flat, t.v[k].flat);
			fn->cum = sat_add64(fn->cum, t.v[k].cum);
			if (t.v[k].start_line &&
			    (!fn->start_line || t.v[k].start_line < fn->start_line))
				fn->start_line = t.v[k].start_line;
		}
		i = j;
	}
	free(t.v);
	if (r == 0 && f.nno_source > 1)
		qsort(f.no_source, f.nno_source, sizeof(*f.no_source), by_name);
	if (r < 0)
		source_funcs_release(&f);
	*ret = f;
	return r;
}

void source_funcs_release(struct source_funcs *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i].lines);
	free(f->v);
	free(f->no_source);
	*f = (struct source_funcs){0};
}

/* A value as pprof's list shows it: "." for zero, else at its own scale. */
static void value_or_dot(char *buf, size_t size, int64_t v, const char *unit)
{
	if (v == 0)
		(void)snprintf(buf, size, ".");
	else
		units_format(buf, size, v, unit);
}

/* text with its tabs expanded to 8-column stops, as a terminal shows source. */
static void untab(const char *text, char *buf, size_t size)
{
	size_t n = 0;

	for (; *text && n + 1 < size; text++) {
		if (*text != '\t') {
			buf[n++] = *text;
			continue;
		}
		do
			buf[n++] = ' ';
		while (n % 8 && n + 1 < size);
	}
	buf[n] = '\0';
}

static void row(FILE *out, const struct source_line *l, int64_t line, const char *text,
		const char *unit, char *buf)
{
	char flat[32], cum[32];

	value_or_dot(flat, sizeof(flat), l ? l->flat : 0, unit);
	value_or_dot(cum, sizeof(cum), l ? l->cum : 0, unit);
	fprintf(out, "%10s %10s %6lld:", flat, cum, (long long)line);
	if (text) {
		untab(text, buf, SOURCE_LINE_MAX);
		text_term(out, buf);
	}
	fputc('\n', out);
}

bool source_read_line(FILE *f, int64_t *at, int64_t want, char *buf, size_t size)
{
	while (*at <= want) {
		size_t len;

		if (!fgets(buf, (int)size, f))
			return false;
		len = strlen(buf);
		/* A line longer than buf: the rest is skipped, the start shown. */
		if (len && buf[len - 1] != '\n') {
			int c;

			while ((c = fgetc(f)) != EOF && c != '\n')
				;
		}
		buf[strcspn(buf, "\n")] = '\0';
		(*at)++;
	}
	return true;
}

void source_window(const struct source_func *fn, int64_t *ret_start, int64_t *ret_end)
{
	int64_t start = fn->start_line > 0 ? fn->start_line : fn->lines[0].line - MARGIN;

	if (fn->lines[0].line - MARGIN < start)
		start = fn->lines[0].line - MARGIN;
	*ret_start = start < 1 ? 1 : start;
	*ret_end = fn->lines[fn->nlines - 1].line + MARGIN;
}

/* One function's lines, in its window. */
static void list_func(FILE *out, const struct source_func *fn, FILE *src, const char *unit)
{
	int64_t start, end, at = 1;
	size_t next = 0;
	char *buf = malloc(SOURCE_LINE_MAX), *shown = malloc(SOURCE_LINE_MAX);

	if (!buf || !shown) {
		free(buf);
		free(shown);
		return;
	}
	source_window(fn, &start, &end);
	for (int64_t line = start; line <= end; line++) {
		const struct source_line *l = NULL;

		while (next < fn->nlines && fn->lines[next].line < line)
			next++;
		if (next < fn->nlines && fn->lines[next].line == line)
			l = &fn->lines[next];
		if (src) {
			if (!source_read_line(src, &at, line, buf, SOURCE_LINE_MAX))
				break;
			row(out, l, line, buf, unit, shown);
		} else if (l) {
			row(out, l, line, NULL, unit, shown);
		}
	}
	free(buf);
	free(shown);
}

int source_list_write(const struct stacks *st, const regex_t *re, const struct source_opener *src,
		      FILE *out)
{
	struct source_funcs f;
	char total[32], flat[32], cum[32], pct[16];
	int r = source_collect(st, re, &f);

	if (r < 0)
		return r;
	if (!f.n && !f.nno_source) {
		source_funcs_release(&f);
		return -ENOENT;
	}
	units_format(total, sizeof(total), st->total, st->unit);
	fprintf(out, "Total: %s\n", total);
	for (size_t i = 0; i < f.nno_source; i++) {
		fputs("No source information for ", out);
		text_term(out, f.no_source[i]);
		fputc('\n', out);
	}
	for (size_t i = 0; i < f.n; i++) {
		const struct source_func *fn = &f.v[i];
		FILE *text = src ? src->open(src->ctx, fn->file, fn->build_id) : NULL;

		fputs("ROUTINE ======================== ", out);
		text_term(out, fn->name);
		fputs(" in ", out);
		text_term(out, fn->file);
		fputc('\n', out);
		units_format(flat, sizeof(flat), fn->flat, st->unit);
		units_format(cum, sizeof(cum), fn->cum, st->unit);
		units_percent(pct, sizeof(pct), fn->cum, st->total);
		fprintf(out, "%10s %10s (flat, cum) %s of Total\n", flat, cum,
			pct + strspn(pct, " "));
		if (!text) {
			fputs("    (source not found: --source-path DIRS or --trim-path PREFIX may find it; "
			      "the lines with values follow)\n",
			      out);
		}
		list_func(out, fn, text, st->unit);
		if (text)
			(void)fclose(text);
	}
	source_funcs_release(&f);
	return ferror(out) ? -EIO : 0;
}
