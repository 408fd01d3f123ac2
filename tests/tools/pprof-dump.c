/* SPDX-License-Identifier: MIT */
/*
 * Print what a pprof file holds, decoded with zlib and the protobuf-c code
 * generated from profile.proto (not with cprof's reader), one fact a line,
 * for tests to grep:
 *	mapping FILE build_id=ID functions=0|1 filenames=0|1 lines=0|1 inline=0|1
 *	range ID START LIMIT OFFSET		 (hex; the mapping before it)
 *	function NAME | SYSTEM_NAME | FILE | START_LINE
 *	location 0xADDR M=ID: NAME FILE:LINE; NAME FILE:LINE; ...   (innermost first)
 * Usage: pprof-dump FILE
 *
 * pprof-dump --check-stacks FILE... checks instead that no stack could not
 * be real (issue 12): every return address in user space lies in its
 * mapping (cprof's mappings are executable ones; only the [truncated] mark
 * has none; the interrupted pc may lie in one never seen), and no stack
 * ends with a run of three frames it holds before, as a walk that took
 * another stack for its own would (repeated_tail). Only profiles cprof recorded are checked (their
 * comment says "cprof record"): the suite's synthetic and hostile files
 * are passed over. Prints each offence and the number of profiles
 * checked; exits 1 if there is any offence.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "proto/profile.pb-c.h"

static unsigned char *slurp_gz(const char *path, size_t *len)
{
	gzFile f = gzopen(path, "rb");
	size_t cap = 1 << 20, n = 0;
	unsigned char *buf = malloc(cap);
	int r;

	if (!f || !buf)
		return NULL;
	while ((r = gzread(f, buf + n, (unsigned)(cap - n))) > 0) {
		n += (size_t)r;
		if (n == cap)
			buf = realloc(buf, cap *= 2);
	}
	gzclose(f);
	*len = n;
	return r < 0 ? NULL : buf;
}

static const Perftools__Profiles__Mapping *mapping(const Perftools__Profiles__Profile *p,
						   uint64_t id)
{
	for (size_t i = 0; i < p->n_mapping; i++)
		if (p->mapping[i]->id == id)
			return p->mapping[i];
	return NULL;
}

/* The location of an id; NULL when there is none. */
static const Perftools__Profiles__Location *location(const Perftools__Profiles__Profile *p,
						     uint64_t id)
{
	for (size_t k = 0; k < p->n_location; k++)
		if (p->location[k]->id == id)
			return p->location[k];
	return NULL;
}

/* The function of a location's outermost line: the one whose code holds the address. 0 for none. */
static uint64_t function_of(const Perftools__Profiles__Profile *p, uint64_t location_id)
{
	for (size_t k = 0; k < p->n_location; k++)
		if (p->location[k]->id == location_id)
			return p->location[k]->n_line ? p->location[k]
								->line[p->location[k]->n_line - 1]
								->function_id
						      : 0;
	return 0;
}

/*
 * Does a whole stack end as it went before? A walk that takes another
 * stack for its own walks frames it already walked, to the end: the last
 * three frames are found earlier in the stack. Recursion repeats runs too,
 * but not up to the outermost frames, unless the walk was cut inside it:
 * such a stack says [truncated], and is not looked at. Nor is a run within
 * one function (msort calling itself from two call sites), as where the
 * kernel cut a frame-pointer walk. Returns the index of the earlier run
 * plus one, or 0 for none.
 */
static size_t repeated_tail(const Perftools__Profiles__Profile *p,
			    const Perftools__Profiles__Sample *s)
{
	const uint64_t *ids = s->location_id;
	size_t end = s->n_location_id;
	const Perftools__Profiles__Location *last = end ? location(p, ids[end - 1]) : NULL;
	uint64_t f;

	if (end < 4 || (last && last->address == 0 && last->mapping_id == 0))
		return 0;
	f = function_of(p, ids[end - 3]);
	if (f && function_of(p, ids[end - 2]) == f && function_of(p, ids[end - 1]) == f)
		return 0;
	for (size_t a = 0; a + 3 < end; a++)
		if (ids[a] == ids[end - 3] && ids[a + 1] == ids[end - 2] &&
		    ids[a + 2] == ids[end - 1])
			return a + 1;
	return 0;
}

/* Did cprof record this profile? Its comments say so. */
static bool recorded(const Perftools__Profiles__Profile *p)
{
	for (size_t i = 0; i < p->n_comment; i++)
		if ((size_t)p->comment[i] < p->n_string_table &&
		    strncmp(p->string_table[p->comment[i]], "cprof record", 12) == 0)
			return true;
	return false;
}

/* A stack's frames, innermost first: each location's address and outermost function. */
static void print_stack(const Perftools__Profiles__Profile *p, const Perftools__Profiles__Sample *s)
{
	for (size_t i = 0; i < s->n_location_id; i++) {
		const char *name = "?";
		uint64_t addr = 0;

		for (size_t k = 0; k < p->n_location; k++) {
			const Perftools__Profiles__Location *l = p->location[k];

			if (l->id != s->location_id[i])
				continue;
			addr = l->address;
			for (size_t f = 0; l->n_line && f < p->n_function; f++)
				if (p->function[f]->id == l->line[l->n_line - 1]->function_id &&
				    (size_t)p->function[f]->name < p->n_string_table)
					name = p->string_table[p->function[f]->name];
		}
		printf(" %s@%#llx", name, (unsigned long long)addr);
	}
	printf("\n");
}

static bool in_mapping(const Perftools__Profiles__Profile *p,
		       const Perftools__Profiles__Location *l)
{
	const Perftools__Profiles__Mapping *m = mapping(p, l->mapping_id);

	return m && l->address >= m->memory_start && l->address < m->memory_limit;
}

static int check_stacks(const char *path, const Perftools__Profiles__Profile *p)
{
	int bad = 0;

	for (size_t i = 0; i < p->n_sample; i++) {
		const Perftools__Profiles__Sample *s = p->sample[i];
		const size_t n = s->n_location_id;
		bool user = false;
		size_t at;

		/*
		 * Each user-space return address: the first user frame is where
		 * the thread was interrupted, code even where no mapping of it was
		 * seen (a process gone before it could be read).
		 */
		for (size_t k = 0; k < n; k++) {
			const Perftools__Profiles__Location *l = location(p, s->location_id[k]);

			if (!l || l->address >= 0xffff800000000000ull ||
			    (l->address == 0 && l->mapping_id == 0))
				continue; /* the kernel's, or the [truncated] mark */
			if (user && !in_mapping(p, l)) {
				printf("%s: sample %zu: frame %zu at %#llx lies in no mapping:",
				       path, i, k, (unsigned long long)l->address);
				print_stack(p, s);
				bad = 1;
				break;
			}
			user = true;
		}
		if ((at = repeated_tail(p, s))) {
			printf("%s: sample %zu ends with the frames at %zu:", path, i, at - 1);
			print_stack(p, s);
			bad = 1;
		}
	}
	return bad;
}

int main(int argc, char **argv)
{
	Perftools__Profiles__Profile *p;
	unsigned char *data;
	size_t len;

	if (argc >= 2 && strcmp(argv[1], "--check-stacks") == 0) {
		int bad = 0, checked = 0;

		for (int i = 2; i < argc; i++) {
			data = slurp_gz(argv[i], &len);
			p = data ? perftools__profiles__profile__unpack(NULL, len, data) : NULL;
			if (p && recorded(p)) {
				bad |= check_stacks(argv[i], p);
				checked++;
			}
			if (p)
				perftools__profiles__profile__free_unpacked(p, NULL);
			free(data);
		}
		printf("checked %d profiles\n", checked);
		return bad;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: pprof-dump FILE\n");
		return 2;
	}
	data = slurp_gz(argv[1], &len);
	p = data ? perftools__profiles__profile__unpack(NULL, len, data) : NULL;
	if (!p) {
		fprintf(stderr, "pprof-dump: cannot decode %s\n", argv[1]);
		return 1;
	}
#define S(i) ((size_t)(i) < p->n_string_table ? p->string_table[i] : "<bad>")
	for (size_t i = 0; i < p->n_mapping; i++) {
		const Perftools__Profiles__Mapping *m = p->mapping[i];

		printf("mapping %s build_id=%s functions=%d filenames=%d lines=%d inline=%d\n",
		       S(m->filename), S(m->build_id), m->has_functions, m->has_filenames,
		       m->has_line_numbers, m->has_inline_frames);
		printf("range %llu %#llx %#llx %#llx\n", (unsigned long long)m->id,
		       (unsigned long long)m->memory_start, (unsigned long long)m->memory_limit,
		       (unsigned long long)m->file_offset);
	}
	for (size_t i = 0; i < p->n_function; i++) {
		const Perftools__Profiles__Function *f = p->function[i];

		printf("function %s | %s | %s | %lld\n", S(f->name), S(f->system_name),
		       S(f->filename), (long long)f->start_line);
	}
	for (size_t i = 0; i < p->n_location; i++) {
		const Perftools__Profiles__Location *l = p->location[i];

		printf("location %#llx M=%llu:", (unsigned long long)l->address,
		       (unsigned long long)l->mapping_id);
		for (size_t j = 0; j < l->n_line; j++) {
			const Perftools__Profiles__Function *f = NULL;

			for (size_t k = 0; k < p->n_function; k++)
				if (p->function[k]->id == l->line[j]->function_id)
					f = p->function[k];
			printf(" %s %s:%lld;", f ? S(f->name) : "<bad>", f ? S(f->filename) : "",
			       (long long)l->line[j]->line);
		}
		printf("\n");
	}
	perftools__profiles__profile__free_unpacked(p, NULL);
	free(data);
	return 0;
}
