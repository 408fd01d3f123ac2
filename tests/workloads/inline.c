/* SPDX-License-Identifier: MIT */
/*
 * Inlined hot code under two callers, built -O2 -g: mix() is inlined into
 * both caller_a and caller_b, so a correct profile shows mix as an inlined
 * frame under each, at the lines marked below (the test reads them from
 * this file). Usage: inline SECONDS
 */
#include <stdlib.h>
#include <time.h>

static volatile unsigned long sink;

static inline __attribute__((always_inline)) unsigned long mix(unsigned long x)
{
	for (int i = 0; i < 1000; i++)
		x = x * 6364136223846793005UL + 1442695040888963407UL; /* LINE:mix */
	return x;
}

__attribute__((noipa)) void caller_a(void)
{
	sink = mix(sink); /* LINE:caller_a */
}

__attribute__((noipa)) void caller_b(void)
{
	sink = mix(sink + 1); /* LINE:caller_b */
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double end = now() + (argc > 1 ? atof(argv[1]) : 1.0);

	while (now() < end) {
		for (int i = 0; i < 100; i++)
			caller_a();
		for (int i = 0; i < 100; i++)
			caller_b();
	}
	return 0;
}
