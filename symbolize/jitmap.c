/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/search.h"
#include "lib/vec.h"
#include "symbolize/jitmap.h"

struct jitsym {
	uint64_t start, size;
	char *name;
	size_t order; /* line number: of overlapping entries the later one wins */
};

struct jitmap {
	int32_t pid;
	struct jitsym *syms;
	size_t n;
};

struct jitmaps {
	struct jitmap *maps;
	size_t n, cap;
};

int jitmaps_new(struct jitmaps **ret)
{
	*ret = calloc(1, sizeof(**ret));
	return *ret ? 0 : -ENOMEM;
}

void jitmaps_free(struct jitmaps *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->n; i++) {
		for (size_t k = 0; k < j->maps[i].n; k++)
			free(j->maps[i].syms[k].name);
		free(j->maps[i].syms);
	}
	free(j->maps);
	free(j);
}

/* The pid process pid has in its own (innermost) pid namespace, from NSpid. */
static int32_t ns_pid(int32_t pid)
{
	char path[64], line[256];
	int32_t ns = pid;
	FILE *f;

	(void)snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return pid;
	while (fgets(line, sizeof(line), f)) {
		char *p = line + 6, *end;

		if (strncmp(line, "NSpid:", 6) != 0)
			continue;
		for (;;) {
			long v = strtol(p, &end, 10);

			if (end == p)
				break;
			ns = (int32_t)v;
			p = end;
		}
		break;
	}
	(void)fclose(f);
	return ns;
}

static FILE *open_map(int32_t pid)
{
	char path[96];
	FILE *f;

	(void)snprintf(path, sizeof(path), "/proc/%d/root/tmp/perf-%d.map", pid, ns_pid(pid));
	f = fopen(path, "re");
	if (f)
		return f;
	(void)snprintf(path, sizeof(path), "/tmp/perf-%d.map", pid);
	return fopen(path, "re");
}

static int by_start(const void *a, const void *b)
{
	const struct jitsym *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->order < y->order ? -1 : (x->order > y->order);
}

/* Read and sort one process's map. A missing file is an empty map. */
static void load(struct jitmap *m)
{
	size_t cap = 0, line_cap = 0;
	char *line = NULL;
	FILE *f = open_map(m->pid);

	if (!f)
		return;
	while (getline(&line, &line_cap, f) > 0) {
		unsigned long long start, size;
		int n = 0;

		/* Lenient: "%llx" takes an optional 0x; junk lines are skipped. */
		if (sscanf(line, "%llx %llx %n", &start, &size, &n) < 2 || n == 0 || !line[n])
			continue;
		line[strcspn(line, "\n")] = '\0';
		if (VEC_PUSH_RESERVE(m->syms, m->n, cap) < 0)
			break;
		m->syms[m->n] = (struct jitsym){start, size, strdup(line + n), m->n};
		if (!m->syms[m->n].name)
			break;
		m->n++;
	}
	free(line);
	(void)fclose(f);
	if (m->n > 1)
		qsort(m->syms, m->n, sizeof(*m->syms), by_start);
}

const char *jitmaps_lookup(struct jitmaps *j, int32_t pid, uint64_t addr)
{
	struct jitmap *m = NULL;
	const struct jitsym *best = NULL;
	size_t lo;

	for (size_t i = 0; i < j->n && !m; i++)
		if (j->maps[i].pid == pid)
			m = &j->maps[i];
	if (!m) {
		if (VEC_PUSH_RESERVE(j->maps, j->n, j->cap) < 0)
			return NULL;
		m = &j->maps[j->n++];
		*m = (struct jitmap){.pid = pid};
		load(m);
	}
	/* The last entry starting at or below addr, then back over any that also cover it. */
	lo = UPPER_BOUND(m->syms, m->n, struct jitsym, start, addr);
	for (size_t i = lo; i-- > 0 && lo - i <= 64;) {
		const struct jitsym *s = &m->syms[i];

		if (addr < s->start + s->size && (!best || s->order > best->order))
			best = s;
	}
	return best ? best->name : NULL;
}
