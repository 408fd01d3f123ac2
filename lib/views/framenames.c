/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/views/framenames.h"

struct framenames {
	const struct profile *p;
	char **synthetic;   /* per location: its made-up name, or NULL when it has lines */
	const char **names; /* per line of p->lines: the function's name */
};

/*
 * pprof's name for a frame it has no function name for: the base name of
 * the mapped file in brackets ("[libc.so.6]"), or "<unknown>".
 */
static char *synthetic_name(const struct profile *p, const struct profile_location *l)
{
	const struct profile_mapping *m = profile_mapping(p, l->mapping);
	const char *file = m ? profile_str(p, m->file) : "";
	const char *base = strrchr(file, '/');
	char *s;

	base = base ? base + 1 : file;
	if (asprintf(&s, *base ? "[%s]" : "<unknown>", base) < 0)
		return NULL;
	return s;
}

int framenames_new(const struct profile *p, struct framenames **ret)
{
	struct framenames *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	f->p = p;
	f->synthetic = calloc(p->nlocations ? p->nlocations : 1, sizeof(*f->synthetic));
	f->names = calloc(p->nlines ? p->nlines : 1, sizeof(*f->names));
	if (!f->synthetic || !f->names)
		goto fail;
	for (size_t i = 0; i < p->nlocations; i++) {
		const struct profile_location *l = &p->locations[i];
		bool named = l->nline > 0;

		for (size_t j = 0; j < l->nline; j++) {
			const char *name = profile_str(
				p, profile_function(p, p->lines[l->line_off + j].function)->name);

			f->names[l->line_off + j] = name;
			named &= *name != '\0';
		}
		if (named)
			continue;
		/* Lines without a name share the location's one synthetic name. */
		f->synthetic[i] = synthetic_name(p, l);
		if (!f->synthetic[i])
			goto fail;
		for (size_t j = 0; j < l->nline; j++)
			if (!*f->names[l->line_off + j])
				f->names[l->line_off + j] = f->synthetic[i];
	}
	*ret = f;
	return 0;
fail:
	framenames_free(f);
	return -ENOMEM;
}

void framenames_free(struct framenames *f)
{
	if (!f)
		return;
	if (f->synthetic)
		for (size_t i = 0; i < f->p->nlocations; i++)
			free(f->synthetic[i]);
	free(f->synthetic);
	free(f->names);
	free(f);
}

size_t framenames_count(const struct framenames *f, uint32_t loc)
{
	uint32_t n = profile_location(f->p, loc)->nline;

	return n ? n : 1;
}

const char *framenames_name(const struct framenames *f, uint32_t loc, size_t i)
{
	const struct profile_location *l = profile_location(f->p, loc);

	if (!l->nline)
		return f->synthetic[loc - 1];
	return f->names[l->line_off + i];
}
