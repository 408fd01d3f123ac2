/* SPDX-License-Identifier: MIT */
/*
 * Workloads built the way a stock distribution builds code: -O2
 * -fomit-frame-pointer, calling into libc and libz, which have no frame
 * pointers either. Only DWARF unwinding gives their whole stacks.
 *
 *	nofp sortzip SECONDS	 main -> sort_phase -> qsort -> ... -> cmp_hot  (60 % of the time)
 *				 main -> zip_phase -> deflate -> ...             (40 %)
 *	nofp sortzipn ROUNDS	 the same code for a fixed amount of work (benchmarks)
 *	nofp threads N SECONDS	 N threads "worker": worker_main -> spin_worker
 *	nofp fork SECONDS	 parent_hot in the parent, child_hot in a forked child
 *	nofp exec SECONDS PROG ARGS...	 pre_exec_hot, then exec PROG
 *	nofp dlopen SECONDS LIB_A LIB_B	 plug_*_hot of LIB_A, dlclose, then of LIB_B
 *	nofp deep DEPTH SECONDS	 recurse DEPTH frames deep, then spin at the bottom
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

/*
 * noipa: no inlining, cloning or identical-code folding, so each named
 * function below stays a frame of its own (parent_hot and child_hot would
 * otherwise be folded into one).
 */
#define NOINLINE __attribute__((noipa))

static volatile unsigned long sink;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The comparison does real work, so the sort's time is mostly in this callback. */
NOINLINE static int cmp_hot(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	for (int i = 0; i < 40; i++) {
		x = x * 6364136223846793005UL + 1;
		y = y * 6364136223846793005UL + 1;
	}
	sink += x ^ y;
	return *(const unsigned long *)a < *(const unsigned long *)b ? -1 :
	       *(const unsigned long *)a > *(const unsigned long *)b;
}

/* Sort until seconds pass, or (seconds < 0) for -seconds rounds. */
NOINLINE static void sort_phase(double seconds)
{
	enum { N = 20000 };
	unsigned long *v = malloc(N * sizeof(*v)), seed = 1;
	double end = now() + seconds;
	long rounds = seconds < 0 ? (long)-seconds : -1;

	while (rounds < 0 ? now() < end : rounds-- > 0) {
		for (int i = 0; i < N; i++)
			v[i] = seed = seed * 2862933555777941757UL + 3037000493UL;
		qsort(v, N, sizeof(*v), cmp_hot);
	}
	free(v);
}

/* Compress until seconds pass, or (seconds < 0) for -seconds rounds. */
NOINLINE static void zip_phase(double seconds)
{
	enum { N = 1 << 18 };
	unsigned char *in = malloc(N), *out = malloc(compressBound(N));
	double end = now() + seconds;
	long rounds = seconds < 0 ? (long)-seconds : -1;
	unsigned long seed = 7;

	/* Text-like input: compressible, so deflate searches for matches. */
	for (int i = 0; i < N; i++) {
		seed = seed * 6364136223846793005UL + 1442695040888963407UL;
		in[i] = (unsigned char)("etaoin shrdlu"[(seed >> 33) % 13]);
	}
	while (rounds < 0 ? now() < end : rounds-- > 0) {
		z_stream zs;

		memset(&zs, 0, sizeof(zs));
		deflateInit(&zs, 6);
		zs.next_in = in;
		zs.avail_in = N;
		zs.next_out = out;
		zs.avail_out = (uInt)compressBound(N);
		deflate(&zs, Z_FINISH);
		sink += zs.total_out;
		deflateEnd(&zs);
	}
	free(in);
	free(out);
}

NOINLINE static void spin_for(double seconds)
{
	double end = now() + seconds;
	unsigned long x = sink;

	while (now() < end)
		for (int i = 0; i < 100000; i++)
			x = x * 6364136223846793005UL + 1442695040888963407UL;
	sink = x;
}

NOINLINE static void spin_worker(double seconds)
{
	spin_for(seconds);
	__asm__ volatile("" ::: "memory"); /* not a tail call: keep this frame */
}

static double worker_seconds;

NOINLINE static void *worker_main(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "worker");
	spin_worker(worker_seconds);
	return NULL;
}

NOINLINE static void parent_hot(double s)
{
	spin_for(s);
	__asm__ volatile("" ::: "memory");
}

NOINLINE static void child_hot(double s)
{
	spin_for(s);
	__asm__ volatile("" ::: "memory");
}

NOINLINE static void pre_exec_hot(double s)
{
	spin_for(s);
	__asm__ volatile("" ::: "memory");
}

NOINLINE static int recurse(int depth, double s)
{
	volatile int live = depth; /* read after the call: the frame must stay */

	if (depth == 0) {
		spin_for(s);
		return 0;
	}
	return recurse(depth - 1, s) + live;
}

static int run_plugin(const char *lib, double seconds)
{
	void (*hot)(double);
	void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		fprintf(stderr, "nofp: %s\n", dlerror());
		return 1;
	}
	*(void **)&hot = dlsym(h, "plug_hot");
	if (!hot) {
		fprintf(stderr, "nofp: %s\n", dlerror());
		return 1;
	}
	hot(seconds);
	dlclose(h);
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	if (strcmp(mode, "sortzip") == 0 && argc == 3) {
		double s = atof(argv[2]);

		sort_phase(0.6 * s);
		zip_phase(0.4 * s);
		return 0;
	}
	if (strcmp(mode, "sortzipn") == 0 && argc == 3) {
		long n = atol(argv[2]);

		/* About 60/40 by time on x86-64, like sortzip. */
		sort_phase(-(double)(3 * n));
		zip_phase(-(double)(4 * n));
		return 0;
	}
	if (strcmp(mode, "threads") == 0 && argc == 4) {
		int n = atoi(argv[2]);
		pthread_t *t = calloc((size_t)n, sizeof(*t));

		worker_seconds = atof(argv[3]);
		for (int i = 0; i < n; i++)
			pthread_create(&t[i], NULL, worker_main, NULL);
		for (int i = 0; i < n; i++)
			pthread_join(t[i], NULL);
		free(t);
		return 0;
	}
	if (strcmp(mode, "fork") == 0 && argc == 3) {
		double s = atof(argv[2]);
		pid_t pid = fork();

		if (pid == 0) {
			child_hot(s);
			_exit(0);
		}
		parent_hot(s);
		waitpid(pid, NULL, 0);
		return 0;
	}
	if (strcmp(mode, "exec") == 0 && argc >= 4) {
		pre_exec_hot(atof(argv[2]));
		execv(argv[3], &argv[3]);
		perror("nofp: exec");
		return 1;
	}
	if (strcmp(mode, "dlopen") == 0 && argc == 5) {
		double s = atof(argv[2]);

		return run_plugin(argv[3], s / 2) || run_plugin(argv[4], s / 2);
	}
	if (strcmp(mode, "deep") == 0 && argc == 4)
		return recurse(atoi(argv[2]), atof(argv[3])) < 0;
	fprintf(stderr, "usage: nofp sortzip|threads|fork|exec|dlopen|deep ...\n");
	return 2;
}
