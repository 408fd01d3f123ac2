/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "lib/base/search.h"
#include "lib/base/vec.h"
#include "symbolize/internal.h"

struct ksym {
	uint64_t addr;
	uint32_t name;	 /* offset into names */
	uint32_t module; /* offset into names; 0 is "" */
};

struct kallsyms {
	struct ksym *syms;
	size_t n, cap;
	char *names;
	size_t names_len, names_cap;
	void *map; /* a saved table read in place (kallsyms_map_core): syms and names point in */
	size_t map_len;
	bool saved_core; /* a saved core table: its first and last symbols are _stext, _etext */
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
	if (k->map) {
		(void)munmap(k->map, k->map_len);
	} else {
		free(k->syms);
		free(k->names);
	}
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
	/* 100,000+ lines: parsed by hand, sscanf would cost most of the load. */
	while (getline(&line, &cap, f) > 0) {
		char *p = line, *name, *mod = NULL, *end;
		unsigned long long addr = strtoull(p, &end, 16);
		size_t len;
		char type;

		if (end == p || *end != ' ')
			continue;
		type = end[1];
		if (!type || end[2] != ' ')
			continue;
		/* Text symbols only (t, T, w, W): samples land in code. */
		if (type != 't' && type != 'T' && type != 'w' && type != 'W')
			continue;
		name = end + 3;
		len = strcspn(name, " \t\n");
		if (!len)
			continue;
		if (name[len] == '\t' || name[len] == ' ') {
			mod = name + len + 1;
			mod += strspn(mod, " \t[");
			mod[strcspn(mod, "]\n")] = '\0';
		}
		name[len] = '\0';
		any_address |= addr != 0;
		if (mod && *mod && (!last_module || strcmp(mod, last_module) != 0)) {
			/* Module symbols come grouped: store each module name once. */
			r = add_name(k, mod, strlen(mod), &module);
			if (r < 0)
				goto out;
			last_module = k->names + module;
		} else if (!mod || !*mod) {
			module = 0;
			last_module = NULL;
		}
		r = VEC_PUSH_RESERVE(k->syms, k->n, k->cap);
		if (r < 0)
			goto out;
		k->syms[k->n] = (struct ksym){.addr = addr, .module = module};
		r = add_name(k, name, len, &k->syms[k->n].name);
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
	/* The last symbol starting at or below addr. */
	size_t lo = UPPER_BOUND(k->syms, k->n, struct ksym, addr, addr);

	if (lo == 0)
		return NULL;
	*ret_module = k->names + k->syms[lo - 1].module;
	*ret_start = k->syms[lo - 1].addr;
	return k->names + k->syms[lo - 1].name;
}

bool kallsyms_addr_of(const struct kallsyms *k, const char *name, uint64_t *ret)
{
	for (size_t i = 0; i < k->n; i++)
		if (strcmp(k->names + k->syms[i].name, name) == 0) {
			*ret = k->syms[i].addr;
			return true;
		}
	return false;
}

bool kallsyms_core(const struct kallsyms *k, uint64_t *ret_start, uint64_t *ret_end)
{
	/* Saved, it holds [_stext, _etext] alone: no walk of 100,000 names each run. */
	if (k->saved_core && k->n) {
		*ret_start = k->syms[0].addr;
		*ret_end = k->syms[k->n - 1].addr;
		return *ret_start < *ret_end;
	}
	return kallsyms_addr_of(k, "_stext", ret_start) && kallsyms_addr_of(k, "_etext", ret_end) &&
	       *ret_start < *ret_end;
}

/*
 * The saved core table: this header, the symbols (module always 0), the
 * names. Native byte order: it never leaves the machine that wrote it.
 */
struct saved_header {
	char magic[8];
	uint64_t nsyms, names_len;
};

static const char saved_magic[8] = "cprofks1";

#define SAVED_MAX_NAMES (64u << 20)

/* Is symbol i core kernel text, within [start, end] and in no module? */
static bool in_core(const struct kallsyms *k, size_t i, uint64_t start, uint64_t end)
{
	return !k->syms[i].module && k->syms[i].addr >= start && k->syms[i].addr <= end;
}

int kallsyms_save_core(const struct kallsyms *k, char **ret, size_t *ret_len)
{
	struct saved_header h = {.nsyms = 0, .names_len = 1};
	uint64_t start, end;
	size_t size, off = 1;
	char *buf, *names;
	struct ksym *syms;

	if (!kallsyms_core(k, &start, &end))
		return -ENODATA;
	memcpy(h.magic, saved_magic, sizeof(h.magic));
	for (size_t i = 0; i < k->n; i++)
		if (in_core(k, i, start, end)) {
			h.nsyms++;
			h.names_len += strlen(k->names + k->syms[i].name) + 1;
		}
	size = sizeof(h) + h.nsyms * sizeof(struct ksym) + h.names_len;
	buf = calloc(1, size);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, &h, sizeof(h));
	syms = (struct ksym *)(void *)(buf + sizeof(h));
	/* Names start after the empty one at offset 0, in symbol order. */
	names = buf + sizeof(h) + h.nsyms * sizeof(struct ksym);
	for (size_t i = 0, j = 0; i < k->n; i++) {
		size_t len;

		if (!in_core(k, i, start, end))
			continue;
		len = strlen(k->names + k->syms[i].name) + 1;
		syms[j++] = (struct ksym){.addr = k->syms[i].addr, .name = (uint32_t)off};
		memcpy(names + off, k->names + k->syms[i].name, len);
		off += len;
	}
	*ret = buf;
	*ret_len = size;
	return 0;
}

/*
 * Check a saved core table in place: trust nothing in it. Returns 0 and
 * the header, or -EBADMSG for a file of another format, cut short or
 * corrupt.
 */
static int check_core(const char *data, size_t size, struct saved_header *ret)
{
	struct saved_header h;
	const char *names;

	if (size < sizeof(h))
		return -EBADMSG;
	memcpy(&h, data, sizeof(h));
	if (memcmp(h.magic, saved_magic, sizeof(h.magic)) != 0 || h.names_len == 0 ||
	    h.names_len > SAVED_MAX_NAMES || h.nsyms > h.names_len ||
	    (uint64_t)size != sizeof(h) + h.nsyms * sizeof(struct ksym) + h.names_len)
		return -EBADMSG;
	names = data + sizeof(h) + h.nsyms * sizeof(struct ksym);
	if (names[h.names_len - 1])
		return -EBADMSG;
	for (size_t i = 0; i < h.nsyms; i++) {
		struct ksym sym, prev;

		memcpy(&sym, data + sizeof(h) + i * sizeof(sym), sizeof(sym));
		if (sym.name >= h.names_len || sym.module)
			return -EBADMSG;
		if (i) {
			memcpy(&prev, data + sizeof(h) + (i - 1) * sizeof(prev), sizeof(prev));
			if (sym.addr < prev.addr)
				return -EBADMSG;
		}
	}
	*ret = h;
	return 0;
}

int kallsyms_parse_core(const char *data, size_t size, struct kallsyms **ret)
{
	struct saved_header h;
	struct kallsyms *k;
	int r;

	r = check_core(data, size, &h);
	if (r < 0)
		return r;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->syms = malloc(h.nsyms ? h.nsyms * sizeof(*k->syms) : 1);
	k->names = malloc(h.names_len);
	if (!k->syms || !k->names) {
		kallsyms_free(k);
		return -ENOMEM;
	}
	memcpy(k->syms, data + sizeof(h), h.nsyms * sizeof(*k->syms));
	memcpy(k->names, data + sizeof(h) + h.nsyms * sizeof(*k->syms), h.names_len);
	k->n = k->cap = h.nsyms;
	k->names_len = k->names_cap = h.names_len;
	k->saved_core = true;
	*ret = k;
	return 0;
}

int kallsyms_map_core(int fd, struct kallsyms **ret)
{
	struct saved_header h;
	struct kallsyms *k;
	struct stat st;
	void *map;
	int r;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_size < (off_t)sizeof(h) || (uint64_t)st.st_size > SAVED_MAX_NAMES * 2)
		return -EBADMSG;
	/* Private and read-only: the file is the user's, but what we read stays what we checked. */
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		return -errno;
	r = check_core(map, (size_t)st.st_size, &h);
	k = r == 0 ? calloc(1, sizeof(*k)) : NULL;
	if (!k) {
		(void)munmap(map, (size_t)st.st_size);
		return r < 0 ? r : -ENOMEM;
	}
	k->map = map;
	k->map_len = (size_t)st.st_size;
	k->syms = (struct ksym *)(void *)((char *)map + sizeof(h));
	k->names = (char *)map + sizeof(h) + h.nsyms * sizeof(struct ksym);
	k->n = h.nsyms;
	k->names_len = h.names_len;
	k->saved_core = true;
	*ret = k;
	return 0;
}
