/* SPDX-License-Identifier: MIT */
#ifndef CPROF_TESTS_FIXTURE_H
#define CPROF_TESTS_FIXTURE_H

/*
 * A small profile built by hand, for the unit tests of what reads profiles
 * (stacks, the call tree). Two sample types, samples/count and
 * cpu/nanoseconds; stacks leaf first:
 *
 *	hot_a  <- [inl <- work] <- main     3 / 30   pid 1, comm "a"
 *	hot_b  <- [inl <- work] <- main     1 / 10   pid 2, comm "b"
 *	(libfoo.so, unsymbolized) <- main   2 / 20   pid 1, comm "a"
 *	(no mapping, no lines)              1 / 10   pid 2, comm "b"
 *
 * "[inl <- work]" is one location: inl inlined into work. Lines are at
 * /src/x.c, hot_a at line 5, hot_b 6, inl 7, work 8, main 9.
 */

#include <stdint.h>

#include "lib/profile/profile.h"

static uint32_t fixture_function(struct profile *p, const char *name)
{
	struct profile_function f = {0};
	uint32_t id = 0;

	(void)profile_intern(p, name, &f.name);
	f.system_name = f.name;
	(void)profile_intern(p, "/src/x.c", &f.filename);
	(void)profile_intern_function(p, &f, &id);
	return id;
}

static uint32_t fixture_location(struct profile *p, uint32_t mapping, uint64_t addr,
				 const uint32_t *fns, const int64_t *lines, size_t n)
{
	struct profile_line l[4];
	uint32_t id = 0;

	for (size_t i = 0; i < n; i++)
		l[i] = (struct profile_line){fns[i], lines[i]};
	(void)profile_add_location(p, mapping, addr, 0, l, n, &id);
	return id;
}

static void fixture_labels(struct profile *p, struct profile_label *l, int64_t pid,
			   const char *comm)
{
	l[0] = (struct profile_label){0};
	l[1] = (struct profile_label){0};
	(void)profile_intern(p, "pid", &l[0].key);
	l[0].num = pid;
	(void)profile_intern(p, "comm", &l[1].key);
	(void)profile_intern(p, comm, &l[1].str);
}

/* NULL when out of memory. */
static struct profile *fixture_profile(void)
{
	struct profile *p = profile_new();
	struct profile_mapping exe = {.start = 0x400000, .limit = 0x500000};
	struct profile_mapping lib = {.start = 0x7f0000000000, .limit = 0x7f0000100000};
	uint32_t fa, fb, finl, fwork, fmain, mexe = 0, mlib = 0, a, b, w, m, u, none;
	struct profile_label la[2], lb[2];

	if (!p)
		return NULL;
	(void)profile_add_type(p, "samples", "count");
	(void)profile_add_type(p, "cpu", "nanoseconds");
	(void)profile_intern(p, "/bin/x", &exe.file);
	(void)profile_intern(p, "/usr/lib/libfoo.so", &lib.file);
	(void)profile_intern_mapping(p, &exe, &mexe);
	(void)profile_intern_mapping(p, &lib, &mlib);
	fa = fixture_function(p, "hot_a");
	fb = fixture_function(p, "hot_b");
	finl = fixture_function(p, "inl");
	fwork = fixture_function(p, "work");
	fmain = fixture_function(p, "main");
	a = fixture_location(p, mexe, 0x401000, &fa, (const int64_t[]){5}, 1);
	b = fixture_location(p, mexe, 0x402000, &fb, (const int64_t[]){6}, 1);
	w = fixture_location(p, mexe, 0x403000, (const uint32_t[]){finl, fwork},
			     (const int64_t[]){7, 8}, 2);
	m = fixture_location(p, mexe, 0x404000, &fmain, (const int64_t[]){9}, 1);
	u = fixture_location(p, mlib, 0x7f0000001000, NULL, NULL, 0);
	none = fixture_location(p, 0, 0x1234, NULL, NULL, 0);
	fixture_labels(p, la, 1, "a");
	fixture_labels(p, lb, 2, "b");
	(void)profile_add_sample(p, (const uint32_t[]){a, w, m}, 3, (const int64_t[]){3, 30}, la, 2,
				 0);
	(void)profile_add_sample(p, (const uint32_t[]){b, w, m}, 3, (const int64_t[]){1, 10}, lb, 2,
				 0);
	(void)profile_add_sample(p, (const uint32_t[]){u, m}, 2, (const int64_t[]){2, 20}, la, 2,
				 0);
	(void)profile_add_sample(p, &none, 1, (const int64_t[]){1, 10}, lb, 2, 0);
	return p;
}

#endif
