/* SPDX-License-Identifier: MIT */
/*
 * A workload with a known call tree, built with frame pointers:
 *
 *	main -> work -> hot_a   (7 of every 10 units of work, ~70 %)
 *	             -> hot_b   (3 of every 10 units, ~30 %)
 *
 * Both hot functions run the same loop, so their CPU shares follow their
 * unit counts. Usage:
 *	hot SECONDS	work for about that long, then exit 0
 *	hot -r FD	run until killed; write "ready\n" to FD once working
 *	hot -n ROUNDS	a fixed amount of work (benchmarks)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long sink;

/* noinline keeps each function a frame of its own at any -O. */
#define FRAME __attribute__((noinline))

/* Not inlined, so the hot functions below are not leaves. */
FRAME void publish(unsigned long x)
{
	sink = x;
}

/*
 * The same loop in each hot function, ended by a call: gcc gives a leaf that
 * touches no stack no frame even with -mno-omit-leaf-frame-pointer, and a
 * frame-pointer walk from it would skip its caller.
 */
#define SPIN(n)                                                                                    \
	do {                                                                                       \
		unsigned long x = sink;                                                            \
		for (unsigned long i = 0; i < (n); i++)                                            \
			x = x * 6364136223846793005UL + 1442695040888963407UL;                     \
		publish(x);                                                                        \
	} while (0)

FRAME void hot_a(void)
{
	SPIN(200000);
}

FRAME void hot_b(void)
{
	SPIN(200000);
}

FRAME void work(void)
{
	for (int i = 0; i < 7; i++)
		hot_a();
	for (int i = 0; i < 3; i++)
		hot_b();
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double seconds = 1.0, end;
	int ready_fd = -1;

	if (argc == 3 && strcmp(argv[1], "-n") == 0) {
		for (long n = atol(argv[2]); n > 0; n--)
			work();
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "-r") == 0)
		ready_fd = atoi(argv[2]);
	else if (argc == 2)
		seconds = atof(argv[1]);
	else if (argc != 1) {
		fprintf(stderr, "usage: hot [SECONDS | -r FD | -n ROUNDS]\n");
		return 2;
	}
	end = now() + seconds;
	work();
	if (ready_fd >= 0) {
		if (write(ready_fd, "ready\n", 6) != 6)
			return 1;
		close(ready_fd);
		for (;;)
			work();
	}
	while (now() < end)
		work();
	return 0;
}
