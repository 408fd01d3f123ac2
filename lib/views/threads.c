/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/views/text.h"
#include "lib/views/threads.h"

/* Labels that tell threads apart rather than describe them: left out of a summary's. */
static bool identity_label(const char *key)
{
	return !strcmp(key, "pid") || !strcmp(key, "tid") || !strcmp(key, "time") ||
	       !strcmp(key, "cpu");
}

static const struct profile_label *labels_of(const struct stacks *st, uint32_t sample,
					     size_t *ret_n)
{
	const struct profile_sample *ps = &st->p->samples[sample];

	*ret_n = ps->nlabel;
	return &st->p->labels[ps->label_off];
}

static bool same_label(const struct profile_label *a, const struct profile_label *b)
{
	return a->key == b->key && a->str == b->str && a->num == b->num;
}

/* Sample s's label with key, or NULL. */
static const struct profile_label *label(const struct stacks *st, const struct stacks_sample *s,
					 const char *key)
{
	size_t n;
	const struct profile_label *l = labels_of(st, s->sample, &n);

	for (size_t i = 0; i < n; i++)
		if (!strcmp(profile_str(st->p, l[i].key), key))
			return &l[i];
	return NULL;
}

static void print_label_value(const struct stacks *st, const struct profile_label *l, FILE *out)
{
	if (l->str)
		text_term(out, profile_str(st->p, l->str));
	else
		fprintf(out, "%" PRId64, l->num);
}

/* Frame j of s: its location's line (innermost first within the location), or NULL. */
static const struct profile_line *line_of(const struct stacks *st, const struct stacks_sample *s,
					  uint32_t j)
{
	const struct stacks_frame *f = &st->frames[s->off + j];
	const struct profile_location *loc = &st->p->locations[f->loc - 1];
	uint32_t k = 0;

	/* A location's frames come together, innermost first: count the ones before this. */
	while (k < j && st->frames[s->off + j - k - 1].loc == f->loc)
		k++;
	return k < loc->nline ? &st->p->lines[loc->line_off + k] : NULL;
}

/* "file:line", or the mapping's file, or "?". */
static void print_place(const struct stacks *st, const struct stacks_sample *s, uint32_t j,
			FILE *out)
{
	const struct stacks_frame *f = &st->frames[s->off + j];
	const struct profile_location *loc = &st->p->locations[f->loc - 1];
	const struct profile_line *line = line_of(st, s, j);
	const char *file = "";

	if (line && line->function)
		file = profile_str(st->p, st->p->functions[line->function - 1].filename);
	if (*file) {
		text_term(out, file);
		fprintf(out, ":%" PRId64, line->line);
	} else if (loc->mapping && *profile_str(st->p, st->p->mappings[loc->mapping - 1].file)) {
		text_term(out, profile_str(st->p, st->p->mappings[loc->mapping - 1].file));
	} else {
		fputc('?', out);
	}
}

/* prefix"+0xOFF" for the outermost frame of a location whose offset into its symbol is known. */
static void print_offset(const struct stacks *st, const struct stacks_frame *f, const char *prefix,
			 FILE *out)
{
	const struct profile_location *loc = &st->p->locations[f->loc - 1];

	if (!f->inlined && (loc->flags & PROFILE_LOCATION_HAS_SYMOFF))
		fprintf(out, "%s+0x%" PRIx64, prefix, loc->sym_offset);
}

static int cmp_frames(const struct stacks *st, const struct stacks_sample *a,
		      const struct stacks_sample *b)
{
	if (a->n != b->n)
		return a->n < b->n ? -1 : 1;
	for (uint32_t j = 0; j < a->n; j++) {
		const struct stacks_frame *x = &st->frames[a->off + j],
					  *y = &st->frames[b->off + j];

		if (x->loc != y->loc)
			return x->loc < y->loc ? -1 : 1;
		if (x->node != y->node)
			return x->node < y->node ? -1 : 1;
	}
	return 0;
}

/* A distinct stack: the samples [first, first + n) of the sorted order, and their total. */
struct group {
	size_t first, n;
	int64_t value;
};

static int by_stack(const void *a, const void *b, void *ctx)
{
	const struct stacks *st = ctx;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int c = cmp_frames(st, &st->samples[x], &st->samples[y]);

	return c ? c : (x > y) - (x < y);
}

static int by_value(const void *a, const void *b)
{
	const struct group *x = a, *y = b;

	if (x->value != y->value)
		return x->value > y->value ? -1 : 1;
	return (x->first > y->first) - (x->first < y->first);
}

/* The labels every sample of g shares, but the identity ones. */
static void print_common_labels(const struct stacks *st, const uint32_t *order,
				const struct group *g, FILE *out)
{
	size_t n;
	const struct profile_label *first = labels_of(st, st->samples[order[g->first]].sample, &n);
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		const char *key = profile_str(st->p, first[i].key);
		bool shared = !identity_label(key);

		for (size_t m = 1; m < g->n && shared; m++) {
			size_t k;
			const struct profile_label *l =
				labels_of(st, st->samples[order[g->first + m]].sample, &k);

			shared = false;
			for (size_t q = 0; q < k && !shared; q++)
				shared = same_label(&l[q], &first[i]);
		}
		if (!shared)
			continue;
		fputs(any ? ", \"" : "# labels: {\"", out);
		text_term(out, key);
		fputs("\":\"", out);
		print_label_value(st, &first[i], out);
		fputc('"', out);
		any = true;
	}
	if (any)
		fputs("}\n", out);
}

int threads_write_summary(const struct stacks *st, FILE *out)
{
	uint32_t *order = malloc((st->nsamples + 1) * sizeof(*order));
	struct group *groups = malloc((st->nsamples + 1) * sizeof(*groups));
	size_t ngroups = 0;

	if (!order || !groups) {
		free(order);
		free(groups);
		return -ENOMEM;
	}
	for (size_t i = 0; i < st->nsamples; i++)
		order[i] = (uint32_t)i;
	qsort_r(order, st->nsamples, sizeof(*order), by_stack, (void *)st);
	for (size_t i = 0; i < st->nsamples; i++) {
		const struct stacks_sample *s = &st->samples[order[i]];

		if (!ngroups ||
		    cmp_frames(st, &st->samples[order[groups[ngroups - 1].first]], s) != 0)
			groups[ngroups++] = (struct group){.first = i};
		groups[ngroups - 1].n++;
		groups[ngroups - 1].value += s->value;
	}
	qsort(groups, ngroups, sizeof(*groups), by_value);

	fprintf(out, "%s profile: total %" PRId64 "\n", st->type, st->total);
	for (size_t g = 0; g < ngroups; g++) {
		const struct stacks_sample *s = &st->samples[order[groups[g].first]];
		uint32_t last = 0;

		fprintf(out, "%" PRId64 " @", groups[g].value);
		for (uint32_t j = 0; j < s->n; j++) {
			uint32_t loc = st->frames[s->off + j].loc;

			/* Kernel frames known by name only have no address to list. */
			if (loc != last && st->p->locations[loc - 1].address)
				fprintf(out, " 0x%" PRIx64, st->p->locations[loc - 1].address);
			last = loc;
		}
		fputc('\n', out);
		print_common_labels(st, order, &groups[g], out);
		for (uint32_t j = 0; j < s->n; j++) {
			const struct stacks_frame *f = &st->frames[s->off + j];

			fprintf(out, "#\t0x%" PRIx64 "\t", st->p->locations[f->loc - 1].address);
			text_term(out, st->names[f->node]);
			print_offset(st, f, "", out);
			fputc('\t', out);
			print_place(st, s, j, out);
			fputc('\n', out);
		}
		fputc('\n', out);
	}
	free(order);
	free(groups);
	return ferror(out) ? -EIO : 0;
}

static int64_t num_label(const struct stacks *st, const struct stacks_sample *s, const char *key)
{
	const struct profile_label *l = label(st, s, key);

	return l && !l->str ? l->num : 0;
}

static int by_thread(const void *a, const void *b, void *ctx)
{
	const struct stacks *st = ctx;
	const struct stacks_sample *x = &st->samples[*(const uint32_t *)a];
	const struct stacks_sample *y = &st->samples[*(const uint32_t *)b];
	int64_t px = num_label(st, x, "pid"), py = num_label(st, y, "pid");
	int64_t tx = num_label(st, x, "tid"), ty = num_label(st, y, "tid");

	if (px != py)
		return px < py ? -1 : 1;
	if (tx != ty)
		return tx < ty ? -1 : 1;
	return (x->sample > y->sample) - (x->sample < y->sample);
}

/* ", " then label key's value, when s has it. */
static void print_state_part(const struct stacks *st, const struct stacks_sample *s,
			     const char *key, const char *prefix, bool *first, FILE *out)
{
	const struct profile_label *l = label(st, s, key);

	if (!l)
		return;
	fputs(*first ? "" : ", ", out);
	fputs(prefix, out);
	print_label_value(st, l, out);
	*first = false;
}

int threads_write_each(const struct stacks *st, FILE *out)
{
	uint32_t *order = malloc((st->nsamples + 1) * sizeof(*order));

	if (!order)
		return -ENOMEM;
	for (size_t i = 0; i < st->nsamples; i++)
		order[i] = (uint32_t)i;
	qsort_r(order, st->nsamples, sizeof(*order), by_thread, (void *)st);
	for (size_t i = 0; i < st->nsamples; i++) {
		const struct stacks_sample *s = &st->samples[order[i]];
		const struct profile_label *comm = label(st, s, "comm"),
					   *proc = label(st, s, "process");
		bool first = true;

		fprintf(out, "thread %" PRId64 " \"", num_label(st, s, "tid"));
		if (comm)
			print_label_value(st, comm, out);
		fputs("\" [", out);
		print_state_part(st, s, "state", "", &first, out);
		print_state_part(st, s, "syscall", "", &first, out);
		print_state_part(st, s, "wchan", "wchan ", &first, out);
		fprintf(out, "] of process %" PRId64 " \"", num_label(st, s, "pid"));
		if (proc)
			print_label_value(st, proc, out);
		fputs("\":\n", out);
		for (uint32_t j = 0; j < s->n; j++) {
			const struct stacks_frame *f = &st->frames[s->off + j];

			text_term(out, st->names[f->node]);
			fputs("()\n\t", out);
			print_place(st, s, j, out);
			print_offset(st, f, " ", out);
			fputc('\n', out);
		}
		fputc('\n', out);
	}
	free(order);
	return ferror(out) ? -EIO : 0;
}
