/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/periodic.h"

#define NAME_MAX_BYTES 4096

/* A window written: its files, oldest window first in the list. */
struct window {
	char **names;
	size_t n;
	uint64_t bytes;
};

struct periodic {
	char *pattern;
	uint64_t keep, max_bytes;
	struct window *windows;
	size_t nwindows, cap;
	uint64_t bytes; /* of every window kept */
};

/* Does the pattern have a conversion (anything but %%)? */
static bool has_conversion(const char *s)
{
	for (; *s; s++) {
		if (*s != '%')
			continue;
		if (s[1] != '%' && s[1] != '\0')
			return true;
		if (s[1] == '%')
			s++;
	}
	return false;
}

int periodic_new(const char *pattern, uint64_t keep, uint64_t max_bytes, struct periodic **ret)
{
	struct periodic *p;

	if (!has_conversion(pattern))
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->pattern = strdup(pattern);
	if (!p->pattern) {
		free(p);
		return -ENOMEM;
	}
	p->keep = keep;
	p->max_bytes = max_bytes;
	*ret = p;
	return 0;
}

static void window_release(struct window *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->names[i]);
	free(w->names);
}

void periodic_free(struct periodic *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nwindows; i++)
		window_release(&p->windows[i]);
	free(p->windows);
	free(p->pattern);
	free(p);
}

char *periodic_name(const struct periodic *p, int64_t realtime_ns)
{
	time_t t = (time_t)(realtime_ns / 1000000000);
	char buf[NAME_MAX_BYTES];
	struct tm tm;
	size_t n;

	if (!localtime_r(&t, &tm))
		return NULL;
		/* The user's pattern, as date +FORMAT takes it. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	n = strftime(buf, sizeof(buf), p->pattern, &tm);
#pragma GCC diagnostic pop
	return n ? strdup(buf) : NULL;
}

/* Is name one of names[0..n)? */
static bool listed(const char *name, char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	return false;
}

/*
 * Remove the oldest window's files, but for those the newest window wrote
 * under the same names (a pattern coarser than --every): they hold it now.
 */
static void remove_oldest(struct periodic *p, char *const *newest, size_t nnewest)
{
	struct window *w = &p->windows[0];

	for (size_t i = 0; i < w->n; i++)
		if (!listed(w->names[i], newest, nnewest))
			(void)unlink(w->names[i]);
	p->bytes -= w->bytes;
	window_release(w);
	memmove(&p->windows[0], &p->windows[1], (p->nwindows - 1) * sizeof(*p->windows));
	p->nwindows--;
}

static bool past_limits(const struct periodic *p)
{
	return (p->keep && p->nwindows > p->keep) || (p->max_bytes && p->bytes > p->max_bytes);
}

int periodic_written(struct periodic *p, char *const *names, size_t n, uint64_t bytes)
{
	struct window w = {.n = n, .bytes = bytes};
	int removed = 0;

	if (p->nwindows == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 16;
		struct window *grown = realloc(p->windows, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		p->windows = grown;
		p->cap = cap;
	}
	w.names = calloc(n ? n : 1, sizeof(*w.names));
	if (!w.names)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		w.names[i] = strdup(names[i]);
		if (!w.names[i]) {
			window_release(&w);
			return -ENOMEM;
		}
	}
	p->windows[p->nwindows++] = w;
	p->bytes += bytes;
	while (p->nwindows > 1 && past_limits(p)) {
		remove_oldest(p, names, n);
		removed++;
	}
	return removed;
}
