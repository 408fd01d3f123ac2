/* SPDX-License-Identifier: MIT */
/*
 * A process with many live threads, as a thread-pool server has: each does
 * a little work every 10 ms, so together they keep about one CPU busy
 * without any of them hogging it.
 *	manythreads THREADS SECONDS [READY_FD]	exit after SECONDS; "ready" once all run
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long sink;
static long work;

__attribute__((noinline)) static void tick(void)
{
	for (long i = 0; i < work; i++)
		sink += (unsigned long)i;
}

static void *worker(void *arg)
{
	const struct timespec ten_ms = {0, 10000000};

	for (;;) {
		tick();
		nanosleep(&ten_ms, NULL);
	}
	return arg;
}

int main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[1]) : 0;
	double seconds = argc > 2 ? atof(argv[2]) : 0;
	struct timespec until;
	pthread_attr_t attr;
	pthread_t t;

	if (n <= 0 || seconds <= 0) {
		fprintf(stderr, "usage: manythreads THREADS SECONDS [READY_FD]\n");
		return 2;
	}
	/* About 1 % of a CPU each at a thousand threads: work scales with 1/n. */
	work = 10000000 / n;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	for (int i = 0; i < n; i++)
		if (pthread_create(&t, &attr, worker, NULL) != 0)
			return 1;
	if (argc > 3 && write(atoi(argv[3]), "ready\n", 6) != 6)
		return 1;
	until.tv_sec = (time_t)seconds;
	until.tv_nsec = (long)((seconds - (double)until.tv_sec) * 1e9);
	nanosleep(&until, NULL);
	return 0;
}
