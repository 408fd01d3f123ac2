/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "lib/collect/kinds.h"

static const struct kind *const kinds[] = {
	&kind_cpu, &kind_offcpu, &kind_wall, &kind_mutex, &kind_threadcreate, &kind_alloc,
};

const struct kind *kind_at(size_t i)
{
	return i < sizeof(kinds) / sizeof(kinds[0]) ? kinds[i] : NULL;
}

const struct kind *kind_find(const char *name)
{
	const struct kind *k;

	for (size_t i = 0; (k = kind_at(i)); i++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

const struct kind *kind_default(void)
{
	return &kind_cpu;
}
