/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/vec.h"
#include "symbolize/internal.h"

struct ksym {
	uint64_t addr;
	uint32_t name; /* offset into names */
	uint32_t module; /* offset into names; 0 is "" */
};

struct kallsyms {
	struct ksym *syms;
	size_t n, cap;
	char *names;
	size_t names_len, names_cap;
};

static int add_name(struct kallsyms *k, const char *s, size_t len, uint32_t *ret)
{
	int r = vec_reserve(&k->names, &k->names_cap, k->names_len + len + 1, 1);

	if (r < 0)
		return r;
	memcpy(k->names + k->names_len, s, len);
	k->names[k->names_len + len] = '\0';
	*ret = (uint32_t)k->names_len;
	k->names_len += len + 1;
	return 0;
}

static int by_addr(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

void kallsyms_free(struct kallsyms *k)
{
	if (!k)
		return;
	free(k->syms);
	free(k->names);
	free(k);
}

int kallsyms_load(const char *path, struct kallsyms **ret)
{
	struct kallsyms *k = calloc(1, sizeof(*k));
	char *line = NULL, *last_module = NULL;
	uint32_t empty, module = 0;
	bool any_address = false;
	size_t cap = 0;
	FILE *f = NULL;
	int r;

	if (!k)
		return -ENOMEM;
	r = add_name(k, "", 0, &empty);
	if (r < 0)
		goto out;
	f = fopen(path, "re");
	if (!f) {
		r = -errno;
		goto out;
	}
	while (getline(&line, &cap, f) > 0) {
		unsigned long long addr;
		char type, *name, *mod, *save;
		int n = 0;

		if (sscanf(line, "%llx %c %n", &addr, &type, &n) < 2 || n == 0)
			continue;
		/* Text symbols only (t, T, w, W): samples land in code. */
		if (type != 't' && type != 'T' && type != 'w' && type != 'W')
			continue;
		name = strtok_r(line + n, " \t\n", &save);
		mod = strtok_r(NULL, " \t\n[]", &save);
		if (!name)
			continue;
		any_address |= addr != 0;
		if (mod && (!last_module || strcmp(mod, last_module) != 0)) {
			/* Module symbols come grouped: store each module name once. */
			r = add_name(k, mod, strlen(mod), &module);
			if (r < 0)
				goto out;
			last_module = k->names + module;
		} else if (!mod) {
			module = 0;
			last_module = NULL;
		}
		r = VEC_PUSH_RESERVE(k->syms, k->n, k->cap);
		if (r < 0)
			goto out;
		k->syms[k->n] = (struct ksym){.addr = addr, .module = module};
		r = add_name(k, name, strlen(name), &k->syms[k->n].name);
		if (r < 0)
			goto out;
		/* names may have moved: re-point the cached module name. */
		if (last_module)
			last_module = k->names + module;
		k->n++;
	}
	if (!any_address) {
		r = -ENODATA;
		goto out;
	}
	qsort(k->syms, k->n, sizeof(*k->syms), by_addr);
	r = 0;
out:
	free(line);
	if (f)
		(void)fclose(f);
	if (r < 0) {
		kallsyms_free(k);
		return r;
	}
	*ret = k;
	return 0;
}

const char *kallsyms_lookup(const struct kallsyms *k, uint64_t addr, const char **ret_module,
			    uint64_t *ret_start)
{
	size_t lo = 0, hi = k->n;

	/* The last symbol starting at or below addr. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (k->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	*ret_module = k->names + k->syms[lo - 1].module;
	*ret_start = k->syms[lo - 1].addr;
	return k->names + k->syms[lo - 1].name;
}
