/* SPDX-License-Identifier: MIT */
/*
 * The profile model: strings interned 1:1 with pprof's string_table (0 is
 * ""), mappings, functions and locations numbered from 1 and found again
 * when equal, samples merged on equal stacks and labels when asked.
 */
#include <errno.h>
#include <string.h>

#include "lib/profile/profile.h"
#include "tests/tap.h"

static void strings(struct profile *p)
{
	uint32_t a = 0, b = 0, c = 0, e = 1;

	ok(p->nstr == 1 && strcmp(profile_str(p, 0), "") == 0, "a new profile's string 0 is \"\"");
	ok(profile_intern(p, "", &e) == 0 && e == 0, "\"\" interns to 0");
	ok(profile_intern(p, "main", &a) == 0 && a == 1, "the first string is 1");
	ok(profile_intern(p, "main", &b) == 0 && b == a, "an equal string is found again");
	ok(profile_intern_n(p, "mainly", 4, &c) == 0 && c == a, "a length-bounded one too");
	ok(profile_intern_n(p, "mai\0n", 5, &c) == 0 && c != a,
	   "bytes after a NUL make another string");
	ok(strcmp(profile_str(p, 4000), "") == 0, "an index out of range reads as \"\"");
}

static void types(struct profile *p)
{
	ok(profile_add_type(p, "samples", "count") == 0 &&
		   profile_add_type(p, "cpu", "nanoseconds") == 0,
	   "two sample types");
	ok(profile_find_type(p, "cpu") == 1 && profile_find_type(p, "samples") == 0,
	   "found by name, in order");
	ok(profile_find_type(p, "alloc_space") == -ENOENT, "an absent one is -ENOENT");
}

static void model(struct profile *p)
{
	struct profile_mapping m = {.start = 0x400000, .limit = 0x500000, .offset = 0, .pid = 1};
	struct profile_function f = {0};
	struct profile_line lines[2];
	uint32_t map = 0, map2 = 0, fn = 0, fn2 = 0, loc = 0, loc2 = 0, loc3 = 0;

	(void)profile_intern(p, "/bin/x", &m.file);
	ok(profile_intern_mapping(p, &m, &map) == 0 && map == 1, "the first mapping is 1");
	m.pid = 2;
	ok(profile_intern_mapping(p, &m, &map2) == 0 && map2 == map,
	   "the same mapping in another process is the same mapping");
	m.offset = 0x1000;
	ok(profile_intern_mapping(p, &m, &map2) == 0 && map2 == 2,
	   "another offset is another mapping");

	(void)profile_intern(p, "work", &f.name);
	f.system_name = f.name;
	f.start_line = 10;
	ok(profile_intern_function(p, &f, &fn) == 0 && fn == 1, "the first function is 1");
	ok(profile_intern_function(p, &f, &fn2) == 0 && fn2 == fn,
	   "an equal function is found again");
	f.start_line = 11;
	ok(profile_intern_function(p, &f, &fn2) == 0 && fn2 == 2,
	   "another start line, another one");

	ok(profile_intern_location(p, map, 0x401000, PROFILE_LOCATION_CALLER, &loc) == 0 &&
		   loc == 1,
	   "the first location is 1");
	ok(profile_intern_location(p, map, 0x401000, PROFILE_LOCATION_CALLER, &loc2) == 0 &&
		   loc2 == loc,
	   "an equal location is found again");
	ok(profile_intern_location(p, map, 0x401000, 0, &loc2) == 0 && loc2 != loc,
	   "a sampled pc is not the return address at the same place");
	ok(profile_add_location(p, map, 0x401000, PROFILE_LOCATION_CALLER, NULL, 0, &loc3) == 0 &&
		   loc3 != loc && loc3 != loc2,
	   "profile_add_location keeps a reader's equal locations apart");

	lines[0] = (struct profile_line){.function = fn2, .line = 12};
	lines[1] = (struct profile_line){.function = fn, .line = 20};
	ok(profile_set_lines(p, loc, lines, 2) == 0, "lines set on a location");
	ok(profile_location(p, loc)->nline == 2 &&
		   p->lines[profile_location(p, loc)->line_off].line == 12 &&
		   p->lines[profile_location(p, loc)->line_off + 1].function == fn,
	   "innermost first, as given");
	lines[0].function = 99;
	ok(profile_set_lines(p, loc, lines, 1) == -EINVAL,
	   "a line of an unknown function: -EINVAL");
	ok(profile_set_lines(p, 4000, lines, 1) == -EINVAL,
	   "lines of an unknown location: -EINVAL");
	ok(profile_mapping(p, 0) == NULL && p->mappings[map - 1].start == 0x400000,
	   "mapping 0 is none");
}

static void samples(struct profile *p)
{
	const uint32_t stack[] = {1, 2}, other[] = {2, 1}, bad[] = {1, 4000};
	const int64_t v1[] = {1, 1000}, v2[] = {2, 2000};
	struct profile_label l = {0}, l2 = {0};
	size_t n;

	(void)profile_intern(p, "thread", &l.key);
	(void)profile_intern(p, "a", &l.str);
	l2 = l;
	(void)profile_intern(p, "b", &l2.str);
	ok(profile_add_sample(p, stack, 2, v1, &l, 1, PROFILE_ADD_MERGE) == 0 && p->nsamples == 1,
	   "a sample");
	ok(profile_add_sample(p, stack, 2, v2, &l, 1, PROFILE_ADD_MERGE) == 0 && p->nsamples == 1 &&
		   p->values[p->samples[0].value_off] == 3 &&
		   p->values[p->samples[0].value_off + 1] == 3000,
	   "the same stack and labels merge, every value summed");
	ok(profile_add_sample(p, stack, 2, v1, &l2, 1, PROFILE_ADD_MERGE) == 0 && p->nsamples == 2,
	   "another label value does not merge");
	ok(profile_add_sample(p, other, 2, v1, &l, 1, PROFILE_ADD_MERGE) == 0 && p->nsamples == 3,
	   "nor does the same frames in another order");
	ok(profile_add_sample(p, stack, 2, v1, &l, 1, 0) == 0 && p->nsamples == 4,
	   "without PROFILE_ADD_MERGE an equal sample stays apart");
	n = p->nsamples;
	ok(profile_add_sample(p, bad, 2, v1, NULL, 0, 0) == -EINVAL && p->nsamples == n,
	   "a sample of an unknown location: -EINVAL, nothing added");
	ok(profile_add_type(p, "late", "count") == -EBUSY, "no new sample type after samples");
	ok(profile_add_comment(p, "recorded by a test") == 0 && p->ncomments == 1 &&
		   strcmp(profile_str(p, p->comments[0]), "recorded by a test") == 0,
	   "a comment");
}

/* What symbolization and readers change, the indexes kept in step. */
static void changes(struct profile *p)
{
	struct profile_mapping m = {.start = 0x10000, .limit = 0x20000}, m2;
	uint32_t id = 0, id2 = 0, again = 0, loc = 0, loc2 = 0;

	(void)profile_intern(p, "/lib/libz.so", &m.file);
	ok(profile_add_mapping(p, &m, &id) == 0 && profile_add_mapping(p, &m, &id2) == 0 &&
		   id != id2,
	   "profile_add_mapping keeps a file's equal mappings apart");
	ok(profile_intern_mapping(p, &m, &id) == 0 && id != id2, "interning does not find them");
	m2 = m;
	(void)profile_intern(p, "0123abcd", &m2.build_id);
	ok(profile_set_mapping(p, id, &m2) == 0 && p->mappings[id - 1].build_id == m2.build_id,
	   "profile_set_mapping changes a mapping");
	ok(profile_intern_mapping(p, &m2, &again) == 0 && again == id,
	   "and interning its new value finds it");
	ok(profile_intern_mapping(p, &m, &again) == 0 && again != id,
	   "its old value is another mapping now");
	m2.flags = PROFILE_MAPPING_HAS_FUNCTIONS | PROFILE_MAPPING_HAS_LINE_NUMBERS;
	ok(profile_set_mapping(p, id, &m2) == 0, "symbolization marks what it found");
	m2.flags = 0;
	ok(profile_intern_mapping(p, &m2, &again) == 0 && again == id,
	   "which is not part of the mapping's identity (HAS_* flags)");
	ok(profile_set_mapping(p, 4000, &m2) == -EINVAL, "an unknown mapping: -EINVAL");

	ok(profile_intern_location(p, id2, 0x10100, PROFILE_LOCATION_CALLER, &loc) == 0,
	   "a location in one mapping");
	ok(profile_set_location_mapping(p, loc, id) == 0 && p->locations[loc - 1].mapping == id,
	   "moved to another");
	ok(profile_intern_location(p, id, 0x10100, PROFILE_LOCATION_CALLER, &loc2) == 0 &&
		   loc2 == loc,
	   "is found under its new mapping");
	ok(profile_intern_location(p, id2, 0x10100, PROFILE_LOCATION_CALLER, &loc2) == 0 &&
		   loc2 != loc,
	   "and no longer under its old one");
	ok(profile_mark_location(p, loc, PROFILE_LOCATION_SYMBOLIZED) == 0 &&
		   (p->locations[loc - 1].flags & PROFILE_LOCATION_SYMBOLIZED),
	   "profile_mark_location adds flags");
	ok(profile_intern_location(p, id, 0x10200, 0, &loc2) == 0 &&
		   profile_mark_location(p, loc2, PROFILE_LOCATION_CALLER) == 0 &&
		   !(p->locations[loc2 - 1].flags & PROFILE_LOCATION_CALLER),
	   "but not the caller bit, part of a location's identity");
	ok(profile_set_sym_offset(p, loc, 0x20) == 0 && p->locations[loc - 1].sym_offset == 0x20 &&
		   (p->locations[loc - 1].flags & PROFILE_LOCATION_HAS_SYMOFF),
	   "profile_set_sym_offset sets the offset and says it is known");
	ok(profile_mark_location(p, 4000, 0) == -EINVAL &&
		   profile_set_sym_offset(p, 0, 1) == -EINVAL,
	   "an unknown location: -EINVAL");
}

int main(void)
{
	struct profile *p = profile_new();

	if (!ok(p != NULL, "profile_new"))
		return tap_done();
	strings(p);
	types(p);
	model(p);
	samples(p);
	changes(p);
	profile_free(p);
	profile_free(NULL);
	return tap_done();
}
