/* SPDX-License-Identifier: MIT */
/*
 * Write synthetic pprof files for the view tests:
 *	make-profile weird FILE	 names with ';', spaces, <>, quotes, non-ASCII and invalid UTF-8
 *	make-profile empty FILE	 sample types, no samples
 *	make-profile nosym FILE	 locations with addresses and mappings but no symbols
 *	make-profile kernel FILE ADDR	 one kernel location at ADDR (hex), unsymbolized
 *	make-profile large FILE SAMPLES STACKS	 many samples over many distinct stacks
 * and hostile ones, small files that ask for unbounded work:
 *	make-profile deep FILE DEPTH	 one stack DEPTH frames deep (a recursion)
 *	make-profile count FILE N	 one sample counted N times
 *	make-profile extreme FILE	 values at INT64_MIN and INT64_MAX, sums that overflow
 *	make-profile inlines FILE N	 a location N lines deep, N times on N stacks: N^3 frames
 *	make-profile escapes FILE	 names and labels holding terminal escape sequences
 * and for the symbolizer, a file's code at given addresses, to be symbolized:
 *	make-profile at FILE BINARY BASE VADDR...	 one mapping of BINARY as loaded at
 *						 its own addresses (file offset 0 at
 *						 BASE, its first PT_LOAD's address),
 *						 one sample per VADDR (all hex)
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/profile/profile.h"
#include "proto/pprof.h"

static uint32_t function_location(struct profile *p, const char *name, uint64_t addr)
{
	struct profile_function f = {0};
	struct profile_line line = {.line = 1};
	uint32_t loc;

	profile_intern(p, name, &f.name);
	f.system_name = f.name;
	profile_intern_function(p, &f, &line.function);
	profile_add_location(p, 0, addr, PROFILE_LOCATION_SYMBOLIZED, &line, 1, &loc);
	return loc;
}

static struct profile *start(void)
{
	struct profile *p = profile_new();

	profile_add_type(p, "samples", "count");
	profile_add_type(p, "cpu", "nanoseconds");
	p->period_type = p->types[1];
	p->period = 1000000;
	return p;
}

static void add_values(struct profile *p, const uint32_t *locs, size_t n, int64_t count,
		       int64_t cpu)
{
	int64_t v[2] = {count, cpu};
	struct profile_label label = {0};

	profile_intern(p, "comm", &label.key);
	profile_intern(p, "weird comm", &label.str);
	profile_add_sample(p, locs, n, v, &label, 1, PROFILE_ADD_MERGE);
}

static void add(struct profile *p, const uint32_t *locs, size_t n, int64_t count)
{
	add_values(p, locs, n, count, count * 1000000);
}

int main(int argc, char **argv)
{
	struct profile *p;
	int fd, r;

	if (argc < 3) {
		fprintf(stderr, "usage: make-profile weird|empty|large FILE [SAMPLES STACKS]\n");
		return 2;
	}
	p = start();
	if (strcmp(argv[1], "weird") == 0) {
		static const char *const names[] = {
			"semi;colon",
			"with spaces (int, char)",
			"tmpl<std::pair<int, int> >",
			"quote\"and'apos&amp",
			"\xc3\xbcnic\xc3\xb8"
			"de",
			"bad\xff\xfeutf8",
			"ctl\tchar",
		};
		uint32_t locs[7];

		for (int i = 0; i < 7; i++)
			locs[i] = function_location(p, names[i], 0x1000 + (uint64_t)i);
		add(p, locs, 7, 3);
		add(p, locs + 2, 5, 2);
		add(p, locs + 5, 2, 1);
	} else if (strcmp(argv[1], "large") == 0 && argc == 5) {
		long samples = atol(argv[3]), stacks = atol(argv[4]);
		uint32_t fn[1000], locs[24];

		for (int i = 0; i < 1000; i++) {
			char name[32];

			snprintf(name, sizeof(name), "function_%03d", i);
			fn[i] = function_location(p, name, 0x1000 + (uint64_t)i);
		}
		/* Each stack: a depth and frames drawn from a fixed generator, so runs repeat. */
		for (long s = 0; s < stacks; s++) {
			unsigned long x = (unsigned long)s * 2654435761UL + 1;
			size_t depth = 8 + s % 16;

			for (size_t d = 0; d < depth; d++) {
				x = x * 6364136223846793005UL + 1442695040888963407UL;
				locs[d] = fn[(x >> 33) % 1000];
			}
			add(p, locs, depth, samples / stacks);
		}
	} else if (strcmp(argv[1], "kernel") == 0 && argc == 4) {
		struct profile_mapping m = {.start = 0xffff800000000000ULL, .limit = UINT64_MAX};
		uint32_t mapping, loc;

		m.flags = PROFILE_MAPPING_KERNEL;
		profile_intern(p, "[kernel.kallsyms]", &m.file);
		profile_intern_mapping(p, &m, &mapping);
		profile_add_location(p, mapping, strtoull(argv[3], NULL, 16), 0, NULL, 0, &loc);
		add(p, &loc, 1, 1);
	} else if (strcmp(argv[1], "at") == 0 && argc >= 5) {
		struct profile_mapping m = {.limit = UINT64_MAX >> 1};
		uint32_t mapping, loc;

		m.start = strtoull(argv[4], NULL, 16);
		profile_intern(p, argv[3], &m.file);
		profile_intern_mapping(p, &m, &mapping);
		for (int i = 5; i < argc; i++) {
			profile_intern_location(p, mapping, strtoull(argv[i], NULL, 16), 0, &loc);
			add(p, &loc, 1, 1);
		}
	} else if (strcmp(argv[1], "nosym") == 0) {
		struct profile_mapping m = {.start = 0x400000, .limit = 0x500000};
		uint32_t mapping, locs[3];

		profile_intern(p, "/usr/lib/libgone.so", &m.file);
		profile_intern_mapping(p, &m, &mapping);
		for (int i = 0; i < 3; i++)
			profile_add_location(p, i == 2 ? 0 : mapping, 0x401000 + 0x10 * (uint64_t)i,
					     PROFILE_LOCATION_SYMBOLIZED, NULL, 0, &locs[i]);
		add(p, locs, 3, 4);
		add(p, locs + 1, 2, 1);
	} else if (strcmp(argv[1], "deep") == 0 && argc == 4) {
		long depth = atol(argv[3]);
		uint32_t *locs = calloc((size_t)depth, sizeof(*locs)), loc;

		loc = function_location(p, "recurse", 0x1000);
		for (long i = 0; i < depth; i++)
			locs[i] = loc;
		add(p, locs, (size_t)depth, 1);
		free(locs);
	} else if (strcmp(argv[1], "count") == 0 && argc == 4) {
		uint32_t loc = function_location(p, "counted", 0x1000);

		add_values(p, &loc, 1, atoll(argv[3]), 1000000);
	} else if (strcmp(argv[1], "extreme") == 0) {
		uint32_t locs[2] = {function_location(p, "big", 0x1000),
				    function_location(p, "small", 0x2000)};

		/* Distinct label values keep the samples apart: their sums are the views' to make.
		 */
		add_values(p, locs, 1, INT64_MAX, INT64_MAX);
		add_values(p, locs, 2, INT64_MAX, INT64_MAX - 1);
		add_values(p, locs + 1, 1, INT64_MIN, INT64_MIN);
		add_values(p, locs + 1, 1, INT64_MIN + 1, INT64_MIN + 1);
	} else if (strcmp(argv[1], "inlines") == 0 && argc == 4) {
		long n = atol(argv[3]);
		struct profile_line *lines = calloc((size_t)n, sizeof(*lines));
		uint32_t *locs = calloc((size_t)n, sizeof(*locs)), loc, top;
		struct profile_function f = {0};

		for (long i = 0; i < n; i++) {
			char name[32];

			snprintf(name, sizeof(name), "inlined_%ld", i);
			profile_intern(p, name, &f.name);
			f.system_name = f.name;
			profile_intern_function(p, &f, &lines[i].function);
			lines[i].line = i + 1;
		}
		profile_add_location(p, 0, 0x1000, PROFILE_LOCATION_SYMBOLIZED, lines, (size_t)n,
				     &loc);
		for (long i = 0; i < n; i++)
			locs[i] = loc;
		/* n distinct stacks (their leaves differ), each with the deep location n times. */
		for (long i = 0; i < n; i++) {
			char name[32];

			snprintf(name, sizeof(name), "leaf_%ld", i);
			top = function_location(p, name, 0x2000 + (uint64_t)i);
			locs[0] = top;
			add(p, locs, (size_t)n, 1);
		}
		free(locs);
		free(lines);
	} else if (strcmp(argv[1], "escapes") == 0) {
		uint32_t locs[2] = {function_location(p, "evil\033]0;pwned\007\033[2J", 0x1000),
				    function_location(p,
						      "c1\xc2\x9b"
						      "31mred",
						      0x2000)};
		struct profile_label label = {0};
		int64_t v[2] = {1, 1000000};

		profile_intern(p, "comm", &label.key);
		profile_intern(p, "\033[31mcomm", &label.str);
		profile_add_sample(p, locs, 2, v, &label, 1, 0);
	} else if (strcmp(argv[1], "empty") != 0) {
		fprintf(stderr, "make-profile: unknown kind '%s'\n", argv[1]);
		return 2;
	}
	fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		perror(argv[2]);
		return 1;
	}
	r = pprof_write(p, fd);
	close(fd);
	profile_free(p);
	return r < 0;
}
