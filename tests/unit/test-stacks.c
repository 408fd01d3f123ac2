/* SPDX-License-Identifier: MIT */
/*
 * The stacks every view draws (lib/views/stacks.h) from the hand-built profile of
 * fixture.h: frame names as pprof gives them, inline chains, the sample
 * index, every filter, --lines, --diff-base and the memory bound.
 */
#include <errno.h>
#include <string.h>

#include "lib/views/stacks.h"
#include "tests/tap.h"
#include "tests/unit/fixture.h"

static struct profile *p;

/* The stacks of o, or NULL (with the error in *ret_err). */
static struct stacks *build(const struct stacks_options *o, const struct profile *base,
			    int *ret_err)
{
	struct stacks *st = NULL;
	struct stacks_options opts = *o;

	if (opts.sample_index < 0)
		opts.sample_index = stacks_sample_index(p, NULL);
	*ret_err = stacks_build(p, base, &opts, &st);
	return *ret_err ? NULL : st;
}

/* Sample i's frames as "leaf;...;root" with '+' after inlined ones. */
static const char *joined(const struct stacks *st, size_t i)
{
	static char buf[256];
	size_t len = 0;

	buf[0] = '\0';
	for (uint32_t k = 0; k < st->samples[i].n && len < sizeof(buf) - 64; k++) {
		const struct stacks_frame *f = &st->frames[st->samples[i].off + k];

		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s%s", k ? ";" : "",
					st->names[f->node], f->inlined ? "+" : "");
	}
	return buf;
}

/* Is there a sample whose frames join to want? */
static bool has_stack(const struct stacks *st, const char *want)
{
	for (size_t i = 0; i < st->nsamples; i++)
		if (strcmp(joined(st, i), want) == 0)
			return true;
	return false;
}

static int64_t total_of(const struct stacks_options *o)
{
	int err;
	struct stacks *st = build(o, NULL, &err);
	int64_t t = st ? st->total : -err;

	stacks_free(st);
	return t;
}

static void names_and_values(void)
{
	struct stacks_options o = {.sample_index = -1};
	struct stacks *st;
	int err;

	ok(stacks_sample_index(p, NULL) == 1,
	   "the default value is the last type's (pprof's rule)");
	ok(stacks_sample_index(p, "samples") == 0 && stacks_sample_index(p, "0") == 0 &&
		   stacks_sample_index(p, "cpu") == 1,
	   "--sample-index by name or number");
	ok(stacks_sample_index(p, "2") == -EINVAL &&
		   stacks_sample_index(p, "alloc_space") == -EINVAL,
	   "an index the profile lacks is -EINVAL");
	st = build(&o, NULL, &err);
	if (!ok(st != NULL, "stacks of the fixture (%d)", err))
		return;
	ok(st->nsamples == 4 && st->total == 70, "four samples, 70 ns in all (%zu, %lld)",
	   st->nsamples, (long long)st->total);
	ok(strcmp(st->type, "cpu") == 0 && strcmp(st->unit, "nanoseconds") == 0, "of type cpu/ns");
	ok(has_stack(st, "hot_a;inl+;work;main"),
	   "an inline chain is a frame each, innermost first");
	ok(has_stack(st, "[libfoo.so];main"),
	   "an unsymbolized frame is named for its file's base name");
	ok(has_stack(st, "<unknown>"), "and without a mapping, <unknown>");
	ok(stacks_node_find(st, "work") >= 0 && stacks_node_find(st, "nope") == -1,
	   "nodes are found by name");
	stacks_free(st);
	o.sample_index = 0;
	ok(total_of(&o) == 7, "--sample-index samples counts samples");
}

static void filters(void)
{
	struct stacks_options o = {.sample_index = -1};
	struct stacks *st;
	int err;

	o.focus = "^hot_";
	ok(total_of(&o) == 40, "--focus keeps the samples with a matching frame");
	o.focus = "inl";
	ok(total_of(&o) == 40, "an inlined frame matches like any other");
	o.focus = NULL;
	o.ignore = "hot_a";
	ok(total_of(&o) == 40, "--ignore drops them");
	o.ignore = "(";
	ok(total_of(&o) == EINVAL, "a regex that does not compile: -EINVAL");
	o.ignore = NULL;
	o.hide = "^work$";
	st = build(&o, NULL, &err);
	ok(st && has_stack(st, "hot_a;inl+;main") && st->total == 70,
	   "--hide takes the frame out, the value stays");
	stacks_free(st);
	o.hide = NULL;
	o.has_pid = true;
	o.pid = 1;
	ok(total_of(&o) == 50, "--pid");
	o.has_pid = false;
	o.comm = "b";
	ok(total_of(&o) == 20, "--comm");
	o.comm = NULL;
	o.lines = true;
	st = build(&o, NULL, &err);
	ok(st && has_stack(st, "hot_a /src/x.c:5;inl /src/x.c:7+;work /src/x.c:8;main /src/x.c:9"),
	   "--lines names a frame by function, file and line");
	stacks_free(st);
}

static void diff_and_bounds(void)
{
	struct stacks_options o = {.sample_index = -1};
	struct stacks *st;
	int64_t sum = 0;
	int err;

	st = build(&o, p, &err);
	if (st) {
		for (size_t i = 0; i < st->nsamples; i++)
			sum += st->samples[i].value;
	}
	ok(st && st->nsamples == 8 && sum == 0 && st->total == 70,
	   "against itself as --diff-base: every value cancels, the total is the base's");
	stacks_free(st);
	o.max_memory = 64;
	ok(total_of(&o) == E2BIG, "past --max-memory: -E2BIG");
}

int main(void)
{
	p = fixture_profile();
	if (!ok(p != NULL, "the fixture"))
		return tap_done();
	names_and_values();
	filters();
	diff_and_bounds();
	profile_free(p);
	return tap_done();
}
