/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: a JIT's perf map (/tmp/perf-PID.map, "START SIZE NAME" per
 * line), which any user can write and cprof, often root, reads (DESIGN.md,
 * Trust), through the parser of symbolize/jitmap.c and lookups at
 * addresses around its entries.
 *
 * The input is the file's contents, handed over as jitmaps_lookup hands
 * what it read: exactly its length, with no NUL after it.
 */
#include <stdlib.h>
#include <string.h>

#include "symbolize/jitmap.h"
#include "tests/fuzz/fuzz.h"

static volatile uint64_t sink;

static void lookup(const struct jitmap *m, uint64_t addr)
{
	const char *name = jitmap_lookup(m, addr);

	if (name)
		sink += strlen(name);
}

/* Lookups at the first addresses the input's lines start with, give or take one. */
static void lookups(const struct jitmap *m, const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *p;

	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	p = text;
	for (int i = 0; i < 64 && p; i++) {
		unsigned long long start = strtoull(p, NULL, 16);

		lookup(m, start);
		lookup(m, start - 1);
		lookup(m, start + 1);
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	free(text);
	lookup(m, 0);
	lookup(m, UINT64_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jitmap *m;
	char *buf;

	/* A copy of exactly size bytes, so that ASan sees a read past the end. */
	buf = malloc(size ? size : 1);
	if (!buf)
		abort();
	memcpy(buf, data, size);
	if (jitmap_parse(buf, size, &m) == 0) {
		lookups(m, data, size);
		jitmap_free(m);
	}
	free(buf);
	return 0;
}
