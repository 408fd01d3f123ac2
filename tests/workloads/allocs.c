/* SPDX-License-Identifier: MIT */
/*
 * Allocations of known amounts from known sites, for --kind alloc:
 *   big     64 MiB in 64 KiB blocks, all freed
 *   kept    32 MiB in 1 KiB blocks, every other one freed (16 MiB kept)
 *   zeroed  8 MiB in 4 KiB blocks through calloc, all freed
 * then exits holding what kept kept. With a FIFO argument it first waits
 * for a byte on it (so a profiler can attach), and pauses 1 ms every 256
 * allocations, as a service does between requests: a profiler trapping
 * every call gets the CPU to keep up on a small machine; "threads" runs the sites in
 * 4 threads at once (each a quarter), "fork" runs kept in a child too and
 * waits for it. Prints each site's bytes as "NAME BYTES".
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MiB (1024 * 1024)

static int parts = 1; /* threads sharing the work */
static int paced;      /* pause now and then (attached) */

/* Every 256th call of a thread, with paced, a 1 ms pause. */
static void pace(size_t i)
{
	struct timespec ms = {0, 1000000};

	if (paced && i % 256 == 255)
		nanosleep(&ms, NULL);
}

static __attribute__((noinline)) void *site_big(void)
{
	for (size_t i = 0; i < 64 * MiB / (64 * 1024) / parts; i++) {
		char *p = malloc(64 * 1024);

		p[0] = 1;
		free(p);
		pace(i);
	}
	return NULL;
}

static __attribute__((noinline)) void *site_kept(void)
{
	size_t n = 32 * MiB / 1024 / parts;
	char **keep = malloc(n / 2 * sizeof(*keep));

	for (size_t i = 0; i < n; i++) {
		char *p = malloc(1024);

		p[0] = 1;
		pace(i);
		if (i % 2)
			free(p);
		else
			keep[i / 2] = p;
	}
	return keep; /* held until exit */
}

static __attribute__((noinline)) void *site_zeroed(void)
{
	for (size_t i = 0; i < 8 * MiB / 4096 / parts; i++) {
		char *p = calloc(1, 4096);

		p[1] = 1;
		free(p);
		pace(i);
	}
	return NULL;
}

static void *run_all(void *arg)
{
	(void)arg;
	site_big();
	site_kept();
	site_zeroed();
	return NULL;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	char byte;

	if (argc > 2) {
		FILE *f = fopen(argv[2], "r");

		if (!f || fread(&byte, 1, 1, f) != 1)
			return 2;
		fclose(f);
		paced = 1;
	}
	if (strcmp(mode, "threads") == 0) {
		pthread_t t[4];

		parts = 4;
		for (int i = 0; i < 4; i++)
			if (pthread_create(&t[i], NULL, run_all, NULL) != 0) {
				perror("pthread_create");
				return 3;
			}
		for (int i = 0; i < 4; i++)
			pthread_join(t[i], NULL);
	} else if (strcmp(mode, "fork") == 0) {
		pid_t child = fork();

		if (child < 0) {
			perror("fork");
			return 3;
		}
		if (child == 0) {
			site_kept();
			_exit(0);
		}
		run_all(NULL);
		waitpid(child, NULL, 0);
	} else {
		run_all(NULL);
	}
	printf("big %d\nkept %d\nkept_inuse %d\nzeroed %d\n", 64 * MiB, 32 * MiB, 16 * MiB,
	       8 * MiB);
	return 0;
}
