/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/sat.h"
#include "lib/views/folded.h"
#include "lib/base/hash.h"
#include "lib/views/text.h"
#include "lib/base/vec.h"

struct line {
	char *text; /* the folded stack without its value */
	int64_t value;
};

struct key {
	const struct line *lines;
	const char *text;
};

static bool line_eq(const void *ctx, uint32_t idx)
{
	const struct key *k = ctx;

	return strcmp(k->lines[idx].text, k->text) == 0;
}

static int by_text(const void *a, const void *b)
{
	return strcmp(((const struct line *)a)->text, ((const struct line *)b)->text);
}

int folded_write(const struct stacks *st, FILE *out)
{
	struct hashmap index = HASHMAP_INIT;
	struct line *lines = NULL;
	size_t n = 0, cap = 0;
	char *buf = NULL;
	size_t buf_size = 0;
	int r = 0;

	for (size_t s = 0; s < st->nsamples && r == 0; s++) {
		const struct stacks_sample *smp = &st->samples[s];
		FILE *mem = open_memstream(&buf, &buf_size);
		struct key k;
		uint64_t h;
		uint32_t idx;

		if (!mem) {
			r = -ENOMEM;
			break;
		}
		for (uint32_t i = smp->n; i-- > 0;) {
			text_folded(mem, st->names[st->frames[smp->off + i].node]);
			if (i)
				fputc(';', mem);
		}
		if (fclose(mem) != 0 || smp->n == 0) {
			free(buf);
			buf = NULL;
			continue;
		}
		k = (struct key){lines, buf};
		h = hash_bytes(buf, strlen(buf), 0);
		if (hashmap_find(&index, h, line_eq, &k, &idx)) {
			lines[idx].value = sat_add64(lines[idx].value, smp->value);
			free(buf);
		} else if ((r = VEC_PUSH_RESERVE(lines, n, cap)) == 0 &&
			   (r = hashmap_insert(&index, h, (uint32_t)n)) == 0) {
			lines[n++] = (struct line){buf, smp->value};
		} else {
			free(buf);
		}
		buf = NULL;
	}
	if (r == 0) {
		if (n > 1)
			qsort(lines, n, sizeof(*lines), by_text);
		for (size_t i = 0; i < n; i++)
			if (lines[i].value)
				fprintf(out, "%s %lld\n", lines[i].text, (long long)lines[i].value);
		r = ferror(out) ? -EIO : 0;
	}
	for (size_t i = 0; i < n; i++)
		free(lines[i].text);
	free(lines);
	hashmap_release(&index);
	return r;
}
