/* SPDX-License-Identifier: MIT */
/*
 * Periodic recording's files (cmd/periodic.c): names by strftime of a
 * window's start, and the oldest windows removed past --keep and
 * --max-size, only files this run wrote, the newest always kept.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/periodic.h"
#include "tests/tap.h"

static char dir[] = "/tmp/cprof-test-periodic.XXXXXX";

static char *at(const char *name)
{
	static char paths[4][256];
	static int turn;
	char *path = paths[turn++ & 3];

	(void)snprintf(path, sizeof(paths[0]), "%s/%s", dir, name);
	return path;
}

/* Write name (in dir) with size bytes, as a window's file, and tell p. */
static int window(struct periodic *p, const char *name, size_t size)
{
	char *names[1] = {at(name)};
	char buf[64] = {0};
	int fd = open(names[0], O_WRONLY | O_CREAT | O_TRUNC, 0600);

	for (size_t left = size; fd >= 0 && left;) {
		size_t n = left < sizeof(buf) ? left : sizeof(buf);

		if (write(fd, buf, n) != (ssize_t)n)
			abort();
		left -= n;
	}
	if (fd < 0)
		abort();
	(void)close(fd);
	return periodic_written(p, names, 1, size);
}

static bool exists(const char *name)
{
	return access(at(name), F_OK) == 0;
}

int main(void)
{
	struct periodic *p;
	struct tm tm;
	char want[64], *name;
	time_t t = 1700000000;

	if (!mkdtemp(dir))
		return 1;
	ok(periodic_new("cpu.pb.gz", 0, 0, &p) == -EINVAL,
	   "a pattern without a conversion is refused");
	ok(periodic_new("100%%.pb.gz", 0, 0, &p) == -EINVAL, "%%%% is no conversion");

	ok(periodic_new("cpu-%Y%m%dT%H%M%S.pb.gz", 0, 0, &p) == 0, "a strftime pattern is taken");
	name = periodic_name(p, (int64_t)t * 1000000000 + 999999999);
	(void)strftime(want, sizeof(want), "cpu-%Y%m%dT%H%M%S.pb.gz", localtime_r(&t, &tm));
	ok(name && strcmp(name, want) == 0, "a window is named by its start, in local time (%s)",
	   name ? name : "NULL");
	free(name);
	ok(window(p, "a", 10) == 0 && window(p, "b", 10) == 0 && exists("a") && exists("b"),
	   "without limits nothing is removed");
	periodic_free(p);

	ok(periodic_new("%s", 2, 0, &p) == 0, "--keep 2");
	ok(window(p, "k1", 1) == 0 && window(p, "k2", 1) == 0, "two windows kept");
	ok(window(p, "k3", 1) == 1 && !exists("k1") && exists("k2") && exists("k3"),
	   "the third removes the oldest");
	periodic_free(p);
	ok(periodic_new("%s", 1, 0, &p) == 0 && window(p, "s1", 1) == 0, "--keep 1, a window");
	ok(window(p, "s1", 1) == 1 && exists("s1"),
	   "the next under the same name (a coarse pattern) replaces it, and the file stays");
	periodic_free(p);

	ok(periodic_new("%s", 0, 100, &p) == 0, "--max-size 100");
	ok(window(p, "m1", 60) == 0, "60 bytes kept");
	ok(window(p, "m2", 30) == 0, "90 bytes kept");
	ok(window(p, "m3", 30) == 1 && !exists("m1") && exists("m2") && exists("m3"),
	   "120 bytes: the oldest goes, 60 left");
	ok(window(p, "m4", 500) == 2 && exists("m4") && !exists("m2") && !exists("m3"),
	   "a window larger than the bound is kept alone, the newest always is");
	(void)unlink(at("m4"));
	ok(window(p, "m5", 10) == 1, "a file already gone counts as removed");
	periodic_free(p);

	ok(periodic_new("%s", 1, 0, &p) == 0, "--keep 1");
	ok(window(p, "foreign", 1) == 0, "a window written");
	/* Another user's file the pattern would match: never ours to remove. */
	{
		int fd = open(at("other"), O_WRONLY | O_CREAT, 0600);

		(void)close(fd);
	}
	ok(window(p, "mine", 1) == 1 && exists("other") && !exists("foreign"),
	   "only files this run wrote are removed");
	periodic_free(p);

	{
		char cmd[512];

		(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		(void)system(cmd);
	}
	return tap_done();
}
