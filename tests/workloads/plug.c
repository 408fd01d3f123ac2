/* SPDX-License-Identifier: MIT */
/*
 * A plugin for `nofp dlopen`, built twice: PLUG_NAME names its hot function
 * (plug_a_hot, plug_b_hot) so the profile tells which library ran.
 */
#include <time.h>

#define NOINLINE __attribute__((noinline))

static volatile unsigned long sink;

NOINLINE void PLUG_NAME(double seconds)
{
	struct timespec ts;
	double end;
	unsigned long x = sink;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	end = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 + seconds;
	do {
		for (int i = 0; i < 100000; i++)
			x = x * 6364136223846793005UL + 1442695040888963407UL;
		clock_gettime(CLOCK_MONOTONIC, &ts);
	} while ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9 < end);
	sink = x;
}

/* The entry point nofp looks up: the same name in both builds. */
void plug_hot(double seconds)
{
	PLUG_NAME(seconds);
	__asm__ volatile("" ::: "memory");
}
