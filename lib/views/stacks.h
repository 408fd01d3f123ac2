/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_VIEWS_STACKS_H
#define CPROF_LIB_VIEWS_STACKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/profile/profile.h"

/*
 * The stacks every view draws: a profile's samples after the filters and
 * shaping shared by all views (labels, --focus, --ignore, --hide, --lines),
 * each as a list of frame nodes, leaf first, with one value (the chosen
 * sample type). A node is a distinct frame name ("hot_a", or "hot_a
 * hot.c:14" with --lines), named as pprof names it.
 */

struct stacks_options {
	int sample_index;      /* which value; see stacks_sample_index */
	const char *focus;     /* regex: keep samples with a matching frame */
	const char *ignore;    /* regex: drop samples with a matching frame */
	const char *hide;      /* regex: remove matching frames from every stack */
	bool lines;	       /* one node per function and source line, not per function */
	bool has_pid, has_tid; /* keep only samples with label pid / tid equal to: */
	int64_t pid, tid;
	const char *comm; /* keep only samples whose comm (or process) label is this */
	/*
	 * The most memory the stacks may take (0: STACKS_MAX_MEMORY): a
	 * location with many inline lines, on many stacks, many times each,
	 * multiplies a small file into billions of frames.
	 */
	size_t max_memory;
};

#define STACKS_MAX_MEMORY ((size_t)1 << 30)

struct stacks_frame {
	uint32_t node;
	uint32_t loc; /* the location it came from (1-based) */
	bool inlined; /* an inlined call: not the outermost line of its location */
};

struct stacks_sample {
	uint32_t off, n; /* frames[off…off+n), leaf first */
	uint32_t sample; /* index into its profile's samples */
	int64_t value;	 /* negative for a base profile's samples */
	bool from_base;	 /* sample and frames' loc refer to the base profile */
};

struct stacks {
	const struct profile *p;
	const struct profile *base; /* --diff-base, or NULL */
	char **names;		    /* per node: its printable name (owned) */
	size_t nnodes, names_cap;
	struct stacks_frame *frames;
	size_t nframes, frames_cap;
	struct stacks_sample *samples;
	size_t nsamples, samples_cap;
	int64_t total;	  /* sum of |value| over the kept samples; with a base, over the base's */
	const char *unit; /* of the chosen sample type; borrowed from p */
	const char *type;
};

/*
 * --sample-index NAME|N: NULL for the default (the profile's
 * default_sample_type, else its last type, as pprof does).
 * Returns the index or -EINVAL.
 */
int stacks_sample_index(const struct profile *p, const char *arg);

/*
 * Build the stacks of p as o asks; with base (--diff-base, may be NULL),
 * the base's samples are added with negated values, so every view shows
 * the difference. Returns 0 and *ret (caller owns; free with stacks_free),
 * -EINVAL for a regex that does not compile or a sample index either
 * profile lacks, -E2BIG past o->max_memory, -ENOMEM.
 */
int stacks_build(const struct profile *p, const struct profile *base,
		 const struct stacks_options *o, struct stacks **ret);

/* NULL-safe. */
void stacks_free(struct stacks *s);

/* Node of name, or -1: for views that add a few names of their own. */
int stacks_node_find(const struct stacks *s, const char *name);

#endif
