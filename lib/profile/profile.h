/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_PROFILE_PROFILE_H
#define CPROF_LIB_PROFILE_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/base/hash.h"

/*
 * The profile model: one in-memory profile shaped like pprof's
 * profile.proto, which `record` builds, the pprof reader fills, and every
 * view reads. Strings are interned in a table the profile owns (index 0 is
 * always ""), and everything refers to them by index, 1:1 with pprof's
 * string_table. Mappings, functions and locations are numbered from 1 as in
 * pprof; 0 means "none".
 *
 * The struct is visible so views can walk the arrays; change it only
 * through the functions below, which keep the indexes in step.
 * Not thread-safe.
 */

enum profile_mapping_flags {
	PROFILE_MAPPING_HAS_FUNCTIONS = 1 << 0,
	PROFILE_MAPPING_HAS_FILENAMES = 1 << 1,
	PROFILE_MAPPING_HAS_LINE_NUMBERS = 1 << 2,
	PROFILE_MAPPING_HAS_INLINE_FRAMES = 1 << 3,
	PROFILE_MAPPING_KERNEL = 1 << 4, /* kernel text or a module: symbolize via kallsyms */
	/* Anonymous or memfd code (JITs): one process's own, symbolized by its perf map. */
	PROFILE_MAPPING_ANON = 1 << 5,
};

struct profile_mapping {
	uint64_t start, limit, offset;
	uint32_t file;	   /* string */
	uint32_t build_id; /* string, lowercase hex; 0 when unknown */
	uint32_t flags;	   /* enum profile_mapping_flags */
	int32_t pid;	   /* a process that mapped it (finds /proc/PID/root); 0 unknown */
};

struct profile_function {
	uint32_t name, system_name, filename; /* strings */
	int64_t start_line;
};

struct profile_line {
	uint32_t function; /* id, 1-based */
	int64_t line;
};

enum profile_location_flags {
	/* The address is a return address: look it up at address - 1. */
	PROFILE_LOCATION_CALLER = 1 << 0,
	/* Symbolization was attempted; lines (possibly none) are final. */
	PROFILE_LOCATION_SYMBOLIZED = 1 << 1,
	/* sym_offset is known (symbolized in this run; pprof files do not keep it). */
	PROFILE_LOCATION_HAS_SYMOFF = 1 << 2,
};

struct profile_location {
	uint32_t mapping; /* id, 0 for none */
	uint32_t flags;	  /* enum profile_location_flags */
	uint64_t address;
	uint64_t sym_offset;	  /* address - start of its ELF/kernel symbol, for perf-script */
	uint32_t line_off, nline; /* p->lines[line_off…], innermost call first */
};

struct profile_label {
	uint32_t key; /* string */
	uint32_t str; /* string, 0 for a numeric label */
	int64_t num;
	uint32_t num_unit; /* string, 0 for none */
};

struct profile_sample {
	uint32_t loc_off, nloc;	    /* p->locs[loc_off…]: location ids, leaf first */
	uint32_t label_off, nlabel; /* p->labels[label_off…] */
	size_t value_off;	    /* p->values[value_off…], p->ntypes of them */
};

struct profile_value_type {
	uint32_t type, unit; /* strings */
};

struct profile {
	char **strs;
	size_t nstr, strs_cap;

	struct profile_value_type *types;
	size_t ntypes;
	struct profile_value_type period_type;
	int64_t period;
	int64_t time_nanos, duration_nanos;
	uint32_t default_sample_type; /* string, 0 when unset */
	uint32_t *comments;	      /* strings */
	size_t ncomments;

	struct profile_mapping *mappings;
	size_t nmappings, mappings_cap;
	struct profile_function *functions;
	size_t nfunctions, functions_cap;
	struct profile_location *locations;
	size_t nlocations, locations_cap;
	struct profile_line *lines;
	size_t nlines, lines_cap;

	struct profile_sample *samples;
	size_t nsamples, samples_cap;
	uint32_t *locs;
	size_t nlocs, locs_cap;
	struct profile_label *labels;
	size_t nlabels, labels_cap;
	int64_t *values;
	size_t nvalues, values_cap;

	/* Indexes for interning; private to profile.c. */
	struct hashmap str_index, mapping_index, function_index, location_index, sample_index;
	size_t comments_cap;
	uint32_t recent_locations[1024]; /* interned lately, by address: id, 0 for none */
};

/* A new empty profile; caller owns, free with profile_free. NULL when out of memory. */
struct profile *profile_new(void);

/* Free the profile and all it owns. NULL-safe. */
void profile_free(struct profile *p);

/* Intern a string (len bytes, need not be NUL-terminated). Returns 0 and *ret, or -ENOMEM. */
int profile_intern_n(struct profile *p, const char *s, size_t len, uint32_t *ret);

/* Intern a NUL-terminated string. */
int profile_intern(struct profile *p, const char *s, uint32_t *ret);

/* The string at idx; borrowed, valid while the profile lives. "" when idx is out of range. */
const char *profile_str(const struct profile *p, uint32_t idx);

/*
 * Append a sample type (strings interned here). Types must all be added
 * before the first sample. Returns 0, -ENOMEM, or -EBUSY after samples.
 */
int profile_add_type(struct profile *p, const char *type, const char *unit);

/* Index of the sample type named type, or -ENOENT. */
int profile_find_type(const struct profile *p, const char *type);

/* Append a comment line. Returns 0 or -ENOMEM. */
int profile_add_comment(struct profile *p, const char *comment);

/* Find or add a mapping equal to *m in every field but pid. Returns 0 and *ret_id. */
int profile_intern_mapping(struct profile *p, const struct profile_mapping *m, uint32_t *ret_id);

/*
 * Add a mapping or function as it is, even if an equal one exists (a pprof
 * file's are kept distinct, as its ids are). Returns 0 and *ret_id, or -ENOMEM.
 */
int profile_add_mapping(struct profile *p, const struct profile_mapping *m, uint32_t *ret_id);
int profile_add_function(struct profile *p, const struct profile_function *f, uint32_t *ret_id);

/*
 * Replace mapping id by *m: what symbolization learns of it (its flags,
 * its build id), the index kept in step. Returns 0, -EINVAL for an unknown
 * id, or -ENOMEM.
 */
int profile_set_mapping(struct profile *p, uint32_t id, const struct profile_mapping *m);

/* Find or add a function equal to *f. Returns 0 and *ret_id. */
int profile_intern_function(struct profile *p, const struct profile_function *f, uint32_t *ret_id);

/* Find or add the location (mapping, address, flags), without lines. Returns 0 and *ret_id. */
int profile_intern_location(struct profile *p, uint32_t mapping, uint64_t address, uint32_t flags,
			    uint32_t *ret_id);

/*
 * Add a location even if an equal one exists (pprof readers keep the file's
 * locations distinct), with nline lines. Returns 0 and *ret_id.
 */
int profile_add_location(struct profile *p, uint32_t mapping, uint64_t address, uint32_t flags,
			 const struct profile_line *lines, size_t nline, uint32_t *ret_id);

/*
 * Move location id to another mapping (a kernel address that turned out to
 * be a module's), the index kept in step. Returns 0, -EINVAL or -ENOMEM.
 */
int profile_set_location_mapping(struct profile *p, uint32_t id, uint32_t mapping);

/*
 * Add flags to location id (PROFILE_LOCATION_SYMBOLIZED; the caller bit is
 * part of its identity and is not changed here). -EINVAL for an unknown id.
 */
int profile_mark_location(struct profile *p, uint32_t id, uint32_t flags);

/* The offset of location id's address in its symbol, for perf-script. -EINVAL for an unknown id. */
int profile_set_sym_offset(struct profile *p, uint32_t id, uint64_t offset);

/* The period type and period (a sample type's strings), and the time span. */
void profile_set_period(struct profile *p, struct profile_value_type type, int64_t period);
void profile_set_time(struct profile *p, int64_t time_nanos, int64_t duration_nanos);

/* The sample type views show unless told (a string: its type's name), 0 for none. */
void profile_set_default_type(struct profile *p, uint32_t type);

/* Replace the lines of location id (innermost first). Returns 0, -ENOMEM or -EINVAL. */
int profile_set_lines(struct profile *p, uint32_t id, const struct profile_line *lines,
		      size_t nline);

enum profile_add_flags {
	/* Add the values to an existing sample with the same stack and labels. */
	PROFILE_ADD_MERGE = 1 << 0,
};

/*
 * Add a sample: nloc location ids (leaf first), p->ntypes values, nlabel
 * labels. Returns 0, -ENOMEM, or -EINVAL for an unknown location id.
 */
int profile_add_sample(struct profile *p, const uint32_t *locs, size_t nloc, const int64_t *values,
		       const struct profile_label *labels, size_t nlabel, unsigned flags);

/*
 * Add src's samples to dst, each sample's stack and labels found or added
 * in dst (with PROFILE_ADD_MERGE), and widen dst's time span to cover
 * src's. An empty dst takes src's sample types and period first. Returns
 * 0, -EINVAL when the sample types differ, or -ENOMEM (dst may then hold
 * part of src's samples).
 */
int profile_merge(struct profile *dst, const struct profile *src);

/* Convenience accessors for views. */
static inline const struct profile_location *profile_location(const struct profile *p, uint32_t id)
{
	return &p->locations[id - 1];
}

static inline const struct profile_function *profile_function(const struct profile *p, uint32_t id)
{
	return &p->functions[id - 1];
}

static inline const struct profile_mapping *profile_mapping(const struct profile *p, uint32_t id)
{
	return id ? &p->mappings[id - 1] : NULL;
}

#endif
