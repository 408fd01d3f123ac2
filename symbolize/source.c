/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "symbolize/source.h"

/* A regular file only: a profile may name a FIFO or a device. */
static FILE *open_regular(const char *path)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	FILE *f;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		(void)close(fd);
		errno = ENOENT;
		return NULL;
	}
	f = fdopen(fd, "r");
	if (!f)
		(void)close(fd);
	return f;
}

/* The last component of dir (without trailing slashes) into buf. */
static void base_name(const char *dir, size_t len, char *buf, size_t size)
{
	size_t end = len, start;

	while (end > 1 && dir[end - 1] == '/')
		end--;
	start = end;
	while (start > 0 && dir[start - 1] != '/')
		start--;
	(void)snprintf(buf, size, "%.*s", (int)(end - start), dir + start);
}

/* pprof's trimPath: the part of path to look for under the search directories. */
static const char *trimmed(const char *path, const char *trim, const char *search)
{
	static const char *const always[] = {"/proc/self/cwd/./", "/proc/self/cwd/"};
	char want[PATH_MAX + 2], base[PATH_MAX];

	if (!trim || !*trim) {
		for (const char *d = search; *d;) {
			size_t len = strcspn(d, ":");
			const char *hit;

			base_name(d, len, base, sizeof(base));
			(void)snprintf(want, sizeof(want), "/%s/", base);
			if (base[0] && strcmp(base, "/") != 0 && (hit = strstr(path, want)))
				return hit + strlen(want);
			d += len + (d[len] == ':');
		}
	}
	for (const char *t = trim ? trim : ""; *t;) {
		size_t len = strcspn(t, ":");

		if (len && strncmp(path, t, len) == 0 &&
		    (t[len - 1] == '/' ? true : path[len] == '/'))
			return path + len + (t[len - 1] == '/' ? 0 : 1);
		t += len + (t[len] == ':');
	}
	for (size_t i = 0; i < sizeof(always) / sizeof(*always); i++)
		if (strncmp(path, always[i], strlen(always[i])) == 0)
			return path + strlen(always[i]);
	return path;
}

/* Under each search directory, then each of its parents, as pprof looks. */
static FILE *search(const char *rel, const char *path_list)
{
	char dir[PATH_MAX], file[PATH_MAX * 2];

	for (const char *d = path_list; *d;) {
		size_t len = strcspn(d, ":");

		(void)snprintf(dir, sizeof(dir), "%.*s", (int)len, d);
		for (;;) {
			char *slash;
			FILE *f;

			(void)snprintf(file, sizeof(file), "%s/%s", dir, rel);
			if ((f = open_regular(file)))
				return f;
			slash = strrchr(dir, '/');
			if (!slash || slash == dir)
				break;
			*slash = '\0';
		}
		d += len + (d[len] == ':');
	}
	errno = ENOENT;
	return NULL;
}

/* libdebuginfod's three calls, resolved at run time: it is needed only with DEBUGINFOD_URLS. */
typedef void *(*begin_fn)(void);
typedef int (*find_source_fn)(void *client, const unsigned char *id, int len, const char *path,
			      char **ret_path);
typedef void (*end_fn)(void *client);

static FILE *from_debuginfod(const char *file, const char *build_id)
{
	unsigned char id[64];
	size_t n = strlen(build_id) / 2;
	void *lib, *client;
	begin_fn begin;
	find_source_fn find;
	end_fn end;
	char *path = NULL;
	FILE *f = NULL;
	int fd;

	if (!getenv("DEBUGINFOD_URLS") || !*getenv("DEBUGINFOD_URLS") || !n || n > sizeof(id) ||
	    file[0] != '/')
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned int byte;

		if (!isxdigit((unsigned char)build_id[2 * i]) ||
		    !isxdigit((unsigned char)build_id[2 * i + 1]) ||
		    sscanf(build_id + 2 * i, "%2x", &byte) != 1)
			return NULL;
		id[i] = (unsigned char)byte;
	}
	lib = dlopen("libdebuginfod.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		return NULL;
	begin = (begin_fn)(uintptr_t)dlsym(lib, "debuginfod_begin");
	find = (find_source_fn)(uintptr_t)dlsym(lib, "debuginfod_find_source");
	end = (end_fn)(uintptr_t)dlsym(lib, "debuginfod_end");
	client = begin && find && end ? begin() : NULL;
	if (client) {
		fd = find(client, id, (int)n, file, &path);
		if (fd >= 0) {
			(void)close(fd);
			/* The client's cache file: opened again as any other, a regular file only.
			 */
			f = path ? open_regular(path) : NULL;
		}
		free(path);
		end(client);
	}
	(void)dlclose(lib);
	return f;
}

FILE *source_find_open(const struct source_find *o, const char *file, const char *build_id)
{
	char cwd[PATH_MAX];
	const char *path_list = o->search_path, *rel;
	FILE *f;

	if (!path_list || !*path_list)
		path_list = getcwd(cwd, sizeof(cwd)) ? cwd : ".";
	rel = trimmed(file, o->trim_path, path_list);
	f = rel[0] == '/' ? open_regular(rel) : search(rel, path_list);
	if (!f && build_id && *build_id)
		f = from_debuginfod(file, build_id);
	if (!f)
		errno = ENOENT;
	return f;
}
