/* SPDX-License-Identifier: MIT */
/*
 * Threads that wait in known ways and measure it themselves, for the
 * off-CPU, wall, mutex, threadcreate and tracepoint kinds. Each mode
 * prints what it measured, one "name value" per line (nanoseconds or
 * counts), for the tests to compare with the profile.
 *
 *	waits sleep    one thread: burn 10 ms, sleep 30 ms, 40 times
 *	               (burn_ns, nap_ns: the time each took)
 *	waits pipe     wait on an empty pipe with a 20 ms timeout, 30 times (poll_ns)
 *	waits join     main in pthread_join while a thread burns 600 ms (join_ns)
 *	waits mutex    4 threads take one mutex 200 times each, holding it 1 ms
 *	               (lock_wait_ns: their time inside pthread_mutex_lock)
 *	waits create   thread and process creation from three call sites:
 *	               spawn_a 3 threads, spawn_b 5 threads, fork_c 2 processes
 *	waits getpid   getpid(2) from call_getpid, 1234 times (getpid)
 *	waits ticks    tick() 777 times (a uprobe's target)
 *	waits naps S U     sleep U microseconds at a time for S seconds (the
 *	                   bench's modest switch rate)
 *	waits spawn S      start and join a thread in a loop for S seconds
 *	waits vforks S     vfork a child that exits at once, from vfork_site, for S
 *	                   seconds (the parent waits in the vfork syscall with its
 *	                   return address in a register: an unwinder's test)
 *	waits pingpong S   two threads bounce a byte through pipes for S seconds
 *	                   (a switch rate as high as the machine allows)
 *	waits stuck [N]    for cprof snapshot: 3 threads blocked in read() of an
 *	                   empty pipe (read_site), N (default 4) in nanosleep
 *	                   (sleep_site), one spinning (spin_site), main in
 *	                   pthread_join; runs until killed, 5 minutes at most;
 *	                   with WAITS_GAPS=1 the spinner prints "gap_ns N" for
 *	                   each pause over 0.2 ms (how long a snapshot stopped it)
 *
 * With "-r FD" first, it writes "ready\n" to FD and waits for a line on
 * stdin before starting (for -p and -a recordings).
 */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FRAME __attribute__((noinline))

static volatile unsigned long sink;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long long lock_wait_ns;

static long long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000000 + t.tv_nsec;
}

FRAME static void burn(long long ns)
{
	long long end = now_ns() + ns;

	while (now_ns() < end)
		for (int i = 0; i < 1000; i++)
			sink = sink * 31 + 7;
}

FRAME static void nap(long long ns)
{
	struct timespec t = {ns / 1000000000, ns % 1000000000};

	nanosleep(&t, NULL);
}

static void mode_sleep(void)
{
	long long burn_ns = 0, nap_ns = 0;

	for (int i = 0; i < 40; i++) {
		long long t0 = now_ns(), t1;

		burn(10000000);
		t1 = now_ns();
		nap(30000000);
		burn_ns += t1 - t0;
		nap_ns += now_ns() - t1;
	}
	printf("burn_ns %lld\nnap_ns %lld\n", burn_ns, nap_ns);
}

FRAME static void wait_pipe(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	poll(&p, 1, 20);
}

static void mode_pipe(void)
{
	long long poll_ns = 0;
	int fds[2];

	if (pipe(fds) < 0)
		exit(1);
	for (int i = 0; i < 30; i++) {
		long long t0 = now_ns();

		wait_pipe(fds[0]);
		poll_ns += now_ns() - t0;
	}
	printf("poll_ns %lld\n", poll_ns);
}

static void *burner(void *arg)
{
	burn(600000000);
	return arg;
}

FRAME static void join_worker(pthread_t t)
{
	/* Not a tail call: join_worker stays on the stack. */
	if (pthread_join(t, NULL) != 0)
		exit(1);
}

static void mode_join(void)
{
	pthread_t t;
	long long t0;

	t0 = now_ns();
	if (pthread_create(&t, NULL, burner, NULL) != 0)
		exit(1);
	join_worker(t);
	printf("join_ns %lld\n", now_ns() - t0);
}

FRAME static void take_lock(void)
{
	long long t0 = now_ns(), waited;

	pthread_mutex_lock(&lock);
	waited = now_ns() - t0;
	lock_wait_ns += waited; /* under the lock */
}

static void *contender(void *arg)
{
	for (int i = 0; i < 200; i++) {
		take_lock();
		burn(1000000);
		pthread_mutex_unlock(&lock);
		nap(100000);
	}
	return arg;
}

static void mode_mutex(void)
{
	pthread_t t[4];

	for (int i = 0; i < 4; i++)
		if (pthread_create(&t[i], NULL, contender, NULL) != 0)
			exit(1);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	printf("lock_wait_ns %lld\n", lock_wait_ns);
}

static void *idle(void *arg)
{
	return arg;
}

FRAME static void spawn_a(pthread_t *t)
{
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, idle, NULL);
}

FRAME static void spawn_b(pthread_t *t)
{
	for (int i = 0; i < 5; i++)
		pthread_create(&t[i], NULL, idle, NULL);
}

FRAME static void fork_c(void)
{
	for (int i = 0; i < 2; i++) {
		pid_t p = fork();

		if (p == 0)
			_exit(0);
		if (p > 0)
			waitpid(p, NULL, 0);
	}
}

static void mode_create(void)
{
	pthread_t t[8];

	spawn_a(t);
	spawn_b(t + 3);
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	fork_c();
	printf("spawn_a 3\nspawn_b 5\nfork_c 2\n");
}

FRAME static void call_getpid(void)
{
	/* Spread over a quarter of a second: a burst would overflow the rings. */
	for (int i = 0; i < 1234; i++) {
		sink += (unsigned long)syscall(SYS_getpid);
		burn(200000);
	}
}

static void mode_getpid(void)
{
	call_getpid();
	printf("getpid 1234\n");
}

/* Not static: a uprobe finds it by name (.symtab), whatever gcc does to static ones. */
FRAME void tick(volatile unsigned long *x);
FRAME void tick(volatile unsigned long *x)
{
	*x += 1;
}

static void mode_ticks(void)
{
	/* Spread out, as getpid's: a burst would overflow the rings. */
	for (int i = 0; i < 777; i++) {
		tick(&sink);
		burn(200000);
	}
	printf("ticks 777\n");
}

static double seconds = 10;
static int arg_given; /* a second argument was given: seconds, or stuck's count */
static long usec = 1000;

static void mode_naps(void)
{
	long long end = now_ns() + (long long)(seconds * 1e9), n = 0;

	for (; now_ns() < end; n++)
		nap(usec * 1000);
	printf("naps %lld\n", n);
}

static void mode_spawn(void)
{
	long long end = now_ns() + (long long)(seconds * 1e9), n = 0;

	for (; now_ns() < end; n++) {
		pthread_t t;

		if (pthread_create(&t, NULL, idle, NULL) != 0)
			exit(1);
		pthread_join(t, NULL);
	}
	printf("spawned %lld\n", n);
}

FRAME static void vfork_site(void)
{
	pid_t pid = vfork();

	if (pid == 0)
		_exit(0);
	if (pid > 0)
		(void)waitpid(pid, NULL, 0);
}

static void mode_vforks(void)
{
	long long end = now_ns() + (long long)(seconds * 1e9), n = 0;

	for (; now_ns() < end; n++)
		vfork_site();
	printf("vforks %lld\n", n);
}

static int ping[2], pong[2];

FRAME static void bounce(int in, int out, long long end, long long *n)
{
	char c = 0;

	while (read(in, &c, 1) == 1 && c == 0) {
		c = now_ns() < end ? 0 : 1;
		if (write(out, &c, 1) != 1)
			return;
		(*n)++;
	}
	(void)!write(out, &c, 1); /* pass the end on */
}

static void *ponger(void *arg)
{
	long long n = 0;

	bounce(ping[0], pong[1], *(long long *)arg, &n);
	return NULL;
}

static void mode_pingpong(void)
{
	long long end = now_ns() + (long long)(seconds * 1e9), n = 0;
	pthread_t t;
	char c = 0;

	if (pipe(ping) < 0 || pipe(pong) < 0 || pthread_create(&t, NULL, ponger, &end) != 0)
		exit(1);
	if (write(ping[1], &c, 1) != 1)
		exit(1);
	bounce(pong[0], ping[1], end, &n);
	pthread_join(t, NULL);
	printf("round_trips %lld\n", n);
}

static int stuck_pipe[2];
static volatile int spinning = 1;

FRAME static void read_site(void)
{
	char c;

	(void)!read(stuck_pipe[0], &c, 1);
}

static void *reader(void *arg)
{
	(void)arg;
	read_site();
	return NULL;
}

FRAME static void sleep_site(void)
{
	struct timespec t = {3600, 0};

	nanosleep(&t, NULL);
}

static void *sleeper(void *arg)
{
	(void)arg;
	sleep_site();
	return NULL;
}

static int report_gaps; /* WAITS_GAPS=1: the spinner prints every pause it notices */

FRAME static void spin_site(void)
{
	long long last = now_ns();

	for (unsigned long i = 0; spinning; i++) {
		sink = sink * 31 + 7;
		if (report_gaps && (i & 1023) == 0) {
			long long t = now_ns();
			char line[48];

			/* Over 0.2 ms without a turn: stopped, or preempted. */
			if (t - last > 200000)
				(void)!write(1, line,
					     (size_t)snprintf(line, sizeof(line), "gap_ns %lld\n",
							      t - last));
			last = t;
		}
	}
}

static void *spinner(void *arg)
{
	(void)arg;
	spin_site();
	return NULL;
}

static void mode_stuck(void)
{
	long sleepers = arg_given && seconds >= 1 && seconds <= 10000 ? (long)seconds : 4;
	pthread_t t, spin;

	alarm(300); /* never outlive a test that forgot it */
	report_gaps = getenv("WAITS_GAPS") != NULL;
	if (pipe(stuck_pipe) < 0)
		exit(1);
	for (int i = 0; i < 3; i++)
		if (pthread_create(&t, NULL, reader, NULL) != 0)
			exit(1);
	for (long i = 0; i < sleepers; i++)
		if (pthread_create(&t, NULL, sleeper, NULL) != 0)
			exit(1);
	if (pthread_create(&spin, NULL, spinner, NULL) != 0)
		exit(1);
	printf("threads %ld\n", 3 + sleepers + 2);
	fflush(stdout);
	pthread_join(spin, NULL);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*run)(void);
	} modes[] = {
		{"sleep", mode_sleep}, {"pipe", mode_pipe},	    {"join", mode_join},
		{"mutex", mode_mutex}, {"create", mode_create},	    {"getpid", mode_getpid},
		{"naps", mode_naps},   {"pingpong", mode_pingpong}, {"ticks", mode_ticks},
		{"spawn", mode_spawn}, {"stuck", mode_stuck},	    {"vforks", mode_vforks},
	};
	char line[16];

	if (argc == 4 && strcmp(argv[1], "-r") == 0) {
		FILE *f = fdopen(atoi(argv[2]), "w");

		if (!f || fputs("ready\n", f) < 0 || fclose(f) != 0)
			return 1;
		if (!fgets(line, sizeof(line), stdin))
			return 1;
		argv += 2;
		argc -= 2;
	}
	arg_given = argc >= 3;
	if (arg_given)
		seconds = atof(argv[2]);
	if (argc >= 4)
		usec = atol(argv[3]);
	if (argc < 2 || argc > 4)
		return 2;
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (strcmp(argv[1], modes[i].name) == 0) {
			modes[i].run();
			return fflush(stdout) == 0 ? 0 : 1;
		}
	}
	return 2;
}
