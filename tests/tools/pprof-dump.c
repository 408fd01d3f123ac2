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
 */
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

int main(int argc, char **argv)
{
	Perftools__Profiles__Profile *p;
	unsigned char *data;
	size_t len;

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
