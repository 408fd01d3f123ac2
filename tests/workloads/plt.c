// SPDX-License-Identifier: MIT
/*
 * Calls through the PLT in a loop: labs and strlen, from libc.so, or from a
 * static binary's own IRELATIVE PLT (strlen is an IFUNC). Built with
 * -fno-builtin so the compiler calls them. Usage: plt SECONDS
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

volatile long sink;

static const char *const words[] = {"a", "bb", "ccc"};

static double since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 1.0;
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (since(&t0) < seconds)
		for (int i = 0; i < 100000; i++) {
			sink += labs(sink - i);
			sink += (long)strlen(words[i % 3]);
		}
	return 0;
}
