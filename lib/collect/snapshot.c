/* SPDX-License-Identifier: MIT */
#include <asm/unistd.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/base/vec.h"
#include "lib/collect/proc.h"
#include "lib/collect/snapshot.h"
#include "lib/perf/arch.h"

#define MAX_KFRAMES 64
#define MAX_ROUNDS 8 /* passes looking for threads created while the others stopped */
#define PF_KTHREAD 0x00200000

/* A range of the process's address space, to bound a stack copy. */
struct range {
	uint64_t start, end;
};

/* How far a seized thread got. */
enum seized { NOT_SEIZED, SEIZED, STOPPED, GONE };

struct tracee {
	enum seized how;
	int inject; /* a signal that stopped it instead of our interrupt: handed back at detach */
};

static const char *root_of(const struct snapshot_options *o)
{
	return o->proc_root ? o->proc_root : "/proc";
}

static int64_t now_ns(void)
{
	struct timespec t;

	(void)clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Read path whole (small /proc files) into buf, NUL-terminated. Returns the length or -errno. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0;

	if (fd < 0)
		return -errno;
	while (n + 1 < size) {
		ssize_t k = read(fd, buf + n, size - 1 - n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			int e = -errno;

			(void)close(fd);
			return e;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	(void)close(fd);
	buf[n] = '\0';
	return (ssize_t)n;
}

/* State, name and flags from a stat line "tid (comm) S ppid … flags …". */
static int parse_stat(const char *line, struct snapshot_thread *t, uint64_t *ret_flags)
{
	const char *open = strchr(line, '('), *close = strrchr(line, ')');
	size_t len;
	unsigned long long flags = 0;

	if (!open || !close || close < open || close[1] != ' ' || !close[2])
		return -EINVAL;
	len = (size_t)(close - open - 1);
	if (len >= sizeof(t->comm))
		len = sizeof(t->comm) - 1;
	memcpy(t->comm, open + 1, len);
	t->comm[len] = '\0';
	t->state = close[2];
	/* After the state: ppid pgrp session tty_nr tpgid flags. */
	if (sscanf(close + 3, "%*d %*d %*d %*d %*d %llu", &flags) != 1)
		return -EINVAL;
	*ret_flags = flags;
	return 0;
}

/* "[<0>] name+0xoff/0xsize [module]" lines into t->kernel. */
static int parse_kernel_stack(char *text, struct snapshot_thread *t)
{
	size_t cap = 0;

	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char *name = strchr(line, ']'), *plus;
		struct snapshot_kframe *f;
		size_t len;

		if (!name || t->nkernel >= MAX_KFRAMES)
			continue;
		name++;
		while (*name == ' ')
			name++;
		plus = strchr(name, '+');
		len = plus ? (size_t)(plus - name) : strcspn(name, " ");
		if (len == 0)
			continue;
		if (VEC_PUSH_RESERVE(t->kernel, t->nkernel, cap) < 0)
			return -ENOMEM;
		f = &t->kernel[t->nkernel++];
		if (len >= sizeof(f->name))
			len = sizeof(f->name) - 1;
		memcpy(f->name, name, len);
		f->name[len] = '\0';
		f->offset = plus ? strtoull(plus + 1, NULL, 16) : 0;
	}
	return 0;
}

/*
 * What /proc says of thread tid before it is touched. Returns 0, -ESRCH
 * when it is gone, or -ENOMEM; the kernel stack and wchan are optional
 * (root may read them, others not).
 */
static int read_thread(const char *root, int32_t pid, int32_t tid, struct snapshot_thread *t,
		       uint64_t *ret_flags)
{
	char path[96], buf[8192];
	ssize_t n;
	int r;

	*t = (struct snapshot_thread){.tid = tid, .syscall = -1};
	(void)snprintf(path, sizeof(path), "%s/%d/task/%d/stat", root, pid, tid);
	n = read_small(path, buf, sizeof(buf));
	if (n < 0 || parse_stat(buf, t, ret_flags) < 0)
		return -ESRCH;
	(void)snprintf(path, sizeof(path), "%s/%d/task/%d/wchan", root, pid, tid);
	n = read_small(path, buf, sizeof(t->wchan));
	if (n > 0 && strcmp(buf, "0") != 0)
		memcpy(t->wchan, buf, (size_t)n + 1);
	(void)snprintf(path, sizeof(path), "%s/%d/task/%d/stack", root, pid, tid);
	n = read_small(path, buf, sizeof(buf));
	r = n > 0 ? parse_kernel_stack(buf, t) : 0;
	return r;
}

/* The process's mappings, start and end only: where each thread's stack ends. */
static int read_ranges(const char *root, int32_t pid, struct range **ret, size_t *ret_n)
{
	char path[64], *line = NULL;
	size_t len = 0, cap = 0;
	struct range *v = NULL;
	size_t n = 0;
	FILE *f;
	int r = 0;

	(void)snprintf(path, sizeof(path), "%s/%d/maps", root, pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (getline(&line, &len, f) > 0) {
		unsigned long long start, end;

		if (sscanf(line, "%llx-%llx", &start, &end) != 2)
			continue;
		r = VEC_PUSH_RESERVE(v, n, cap);
		if (r < 0)
			break;
		v[n++] = (struct range){start, end};
	}
	free(line);
	(void)fclose(f);
	if (r < 0) {
		free(v);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

static bool has_thread(const struct snapshot *s, int32_t tid)
{
	for (size_t i = 0; i < s->nthreads; i++)
		if (s->threads[i].tid == tid)
			return true;
	return false;
}

/* Read every thread of s->pid not in s yet; adds to *cap. Returns 0 or -errno. */
static int add_threads(struct snapshot *s, const struct snapshot_options *o, size_t *cap,
		       struct tracee **tracees)
{
	int32_t *tids = NULL;
	size_t ntids = 0;
	int r = proc_list_tasks(root_of(o), s->pid, &tids, &ntids);

	for (size_t i = 0; i < ntids && r == 0; i++) {
		struct snapshot_thread t;
		uint64_t flags = 0;

		if (has_thread(s, tids[i]) ||
		    read_thread(root_of(o), s->pid, tids[i], &t, &flags) < 0)
			continue;
		if (flags & PF_KTHREAD)
			s->kernel_thread = true;
		r = VEC_PUSH_RESERVE(s->threads, s->nthreads, *cap);
		if (r == 0) {
			struct tracee *tr = realloc(*tracees, *cap * sizeof(**tracees));

			if (!tr)
				r = -ENOMEM;
			else
				*tracees = tr;
		}
		if (r < 0) {
			free(t.kernel);
			break;
		}
		(*tracees)[s->nthreads] = (struct tracee){NOT_SEIZED, 0};
		s->threads[s->nthreads++] = t;
	}
	free(tids);
	return r;
}

/* The process tracing pid, from its status; 0 when none or not known. */
static int32_t tracer_of(const char *root, int32_t pid)
{
	char path[64], buf[4096];
	const char *at;

	(void)snprintf(path, sizeof(path), "%s/%d/status", root, pid);
	if (read_small(path, buf, sizeof(buf)) < 0 || !(at = strstr(buf, "\nTracerPid:")))
		return 0;
	return (int32_t)strtol(at + strlen("\nTracerPid:"), NULL, 10);
}

/* Whether a thread in this state can be stopped now: not a zombie, not in uninterruptible sleep. */
static bool stoppable(char state)
{
	return state != 'Z' && state != 'X' && state != 'x' && state != 'D';
}

/*
 * Seize the threads from index from on, then interrupt them: seizing
 * stops nothing, so the stop begins at the first interrupt. The first
 * refusal of the process's first thread is the process's error; a later
 * thread refused is left unseized (it exited, or became a zombie meanwhile).
 */
static int seize_from(struct snapshot *s, struct tracee *tr, size_t from, bool *any,
		      int64_t *stop_start)
{
	for (size_t i = from; i < s->nthreads; i++) {
		if (!stoppable(s->threads[i].state))
			continue;
		if (ptrace(PTRACE_SEIZE, s->threads[i].tid, NULL, NULL) < 0) {
			int e = errno;

			if (e != ESRCH && !*any)
				return -e;
			continue;
		}
		tr[i].how = SEIZED;
		*any = true;
	}
	for (size_t i = from; i < s->nthreads; i++) {
		if (tr[i].how != SEIZED)
			continue;
		if (!*stop_start)
			*stop_start = now_ns();
		if (ptrace(PTRACE_INTERRUPT, s->threads[i].tid, NULL, NULL) < 0)
			tr[i].how = GONE; /* exited since: the wait tells */
	}
	return 0;
}

/* Wait for each seized thread to stop. A thread that exits instead is counted gone. */
static void wait_stops(struct snapshot *s, struct tracee *tr)
{
	for (size_t i = 0; i < s->nthreads; i++) {
		int status;

		if (tr[i].how != SEIZED && tr[i].how != GONE)
			continue;
		for (;;) {
			pid_t w = waitpid(s->threads[i].tid, &status, __WALL);

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 || WIFEXITED(status) || WIFSIGNALED(status)) {
				tr[i].how = GONE;
				s->vanished++;
				break;
			}
			if (WIFSTOPPED(status)) {
				int event = status >> 16, sig = WSTOPSIG(status);

				tr[i].how = STOPPED;
				/* A signal caught on its way in stopped it first: it is delivered
				 * at detach. */
				if (event == 0 && sig != SIGTRAP)
					tr[i].inject = sig;
				break;
			}
		}
	}
}

/*
 * Room for the stack copies, mapped and faulted in before the threads
 * stop: a page fault costs microseconds here, and a hundred threads'
 * stacks are a hundred or more of them, all inside the stop otherwise.
 */
#define ARENA_PER_THREAD (32u << 10)
#define ARENA_MAX (32u << 20)

static void arena_open(struct snapshot *s)
{
	size_t size = s->nthreads * (size_t)ARENA_PER_THREAD;
	void *p;

	if (size > ARENA_MAX)
		size = ARENA_MAX;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1,
		 0);
	if (p != MAP_FAILED) {
		s->arena = p;
		s->arena_size = size;
	}
}

/* size bytes for a stack copy: from the arena while it lasts, else the heap. */
static void *stack_room(struct snapshot *s, size_t size)
{
	size_t at = (s->arena_used + 15) & ~(size_t)15;

	if (s->arena && size <= s->arena_size - at && at <= s->arena_size) {
		s->arena_used = at + size;
		return (char *)s->arena + at;
	}
	return malloc(size);
}

static bool in_arena(const struct snapshot *s, const void *p)
{
	return s->arena && (const char *)p >= (const char *)s->arena &&
	       (const char *)p < (const char *)s->arena + s->arena_size;
}

/* Registers and stack of a stopped thread. Failures leave it without user state. */
static void read_user(struct snapshot *s, const struct snapshot_options *o,
		      const struct range *ranges, size_t nranges, struct snapshot_thread *t)
{
	uint64_t user_regs[64], dwarf[ARCH_DWARF_NREGS], sp, fp, pc, end = 0;
	struct iovec io = {user_regs, sizeof(user_regs)};
	size_t want;
	int64_t nr;

	if (ptrace(PTRACE_GETREGSET, t->tid, (void *)(uintptr_t)NT_PRSTATUS, &io) < 0)
		return;
	t->nregs = arch_regs_from_ptrace(user_regs, io.iov_len, t->regs, &nr);
	t->syscall = nr;
	if (!t->nregs || !arch_dwarf_regs(t->regs, t->nregs, dwarf, &sp, &fp, &pc))
		return;
	for (size_t i = 0; i < nranges; i++)
		if (sp >= ranges[i].start && sp < ranges[i].end)
			end = ranges[i].end;
	/* A stack not in the maps read before the stop (a thread just created): what a sample
	 * copies. */
	want = end ? (size_t)(end - sp) : 16384;
	if (want > o->max_stack)
		want = o->max_stack;
	t->stack = stack_room(s, want);
	if (!t->stack)
		return;
	{
		struct iovec local = {t->stack, want}, remote = {(void *)(uintptr_t)sp, want};
		ssize_t got = process_vm_readv(t->tid, &local, 1, &remote, 1, 0);

		t->stack_size = got > 0 ? (size_t)got : 0;
	}
}

int snapshot_take(int32_t pid, const struct snapshot_options *o, struct snapshot *ret)
{
	struct tracee *tr = NULL;
	struct range *ranges = NULL;
	size_t cap = 0, nranges = 0, seized_to = 0;
	sigset_t hold, old;
	int64_t stop_start = 0;
	bool any = false;
	int r;

	*ret = (struct snapshot){.pid = pid};
	r = add_threads(ret, o, &cap, &tr);
	if (r == 0 && ret->nthreads == 0)
		r = -ESRCH;
	if (r < 0 || ret->kernel_thread) {
		free(tr);
		return r;
	}
	r = read_ranges(root_of(o), pid, &ranges, &nranges);
	if (r < 0) {
		free(tr);
		/* Not ours to read is not ours to trace; gone now, the threads read are all there
		 * is. */
		return r == -EACCES || r == -EPERM ? -EPERM : 0;
	}
	(void)sigemptyset(&hold);
	(void)sigaddset(&hold, SIGINT);
	(void)sigaddset(&hold, SIGTERM);
	(void)sigaddset(&hold, SIGHUP);
	(void)sigaddset(&hold, SIGQUIT);
	arena_open(ret);
	(void)sigprocmask(SIG_BLOCK, &hold, &old);

	for (int round = 0; round < MAX_ROUNDS && r == 0; round++) {
		size_t before = ret->nthreads;

		r = seize_from(ret, tr, seized_to, &any, &stop_start);
		if (r < 0)
			break;
		wait_stops(ret, tr);
		for (size_t i = seized_to; i < ret->nthreads; i++)
			if (tr[i].how == STOPPED)
				read_user(ret, o, ranges, nranges, &ret->threads[i]);
		seized_to = ret->nthreads;
		/* Threads the others created before they stopped. */
		r = add_threads(ret, o, &cap, &tr);
		if (ret->nthreads == before)
			break;
	}
	for (size_t i = 0; i < ret->nthreads; i++)
		if (tr[i].how == STOPPED)
			(void)ptrace(PTRACE_DETACH, ret->threads[i].tid, NULL,
				     (void *)(uintptr_t)tr[i].inject);
	if (any)
		ret->stopped_ns = now_ns() - stop_start;
	(void)sigprocmask(SIG_SETMASK, &old, NULL);

	if (r == -EPERM && (ret->tracer = tracer_of(root_of(o), pid)) > 0)
		r = -EBUSY;
	free(ranges);
	free(tr);
	return r;
}

void snapshot_release(struct snapshot *s)
{
	for (size_t i = 0; i < s->nthreads; i++) {
		free(s->threads[i].kernel);
		if (!in_arena(s, s->threads[i].stack))
			free(s->threads[i].stack);
	}
	if (s->arena)
		(void)munmap(s->arena, s->arena_size);
	free(s->threads);
	*s = (struct snapshot){0};
}

/* The calls a thread is usually found waiting in, by this architecture's numbers. */
static const struct {
	int nr;
	const char *name;
} syscalls[] = {
/* clang-format off */
#define SC(n) {__NR_##n, #n}
	SC(read), SC(write), SC(readv), SC(writev),
	SC(pread64), SC(pwrite64), SC(openat), SC(close), SC(ioctl),
	SC(fsync), SC(fdatasync), SC(flock), SC(ppoll), SC(pselect6),
	SC(epoll_pwait), SC(futex), SC(nanosleep), SC(clock_nanosleep), SC(wait4),
	SC(waitid), SC(accept4), SC(connect), SC(recvfrom), SC(recvmsg),
	SC(sendto), SC(sendmsg), SC(rt_sigsuspend), SC(rt_sigtimedwait), SC(io_uring_enter),
	SC(io_getevents), SC(msgrcv), SC(semtimedop), SC(restart_syscall), SC(epoll_pwait2),
	SC(futex_waitv), SC(exit_group),
#ifdef __NR_poll /* the older calls, where the architecture has them */
	SC(poll), SC(select), SC(epoll_wait), SC(accept), SC(pause),
#endif
#undef SC
	/* clang-format on */
};

const char *snapshot_syscall_name(int64_t nr)
{
	for (size_t i = 0; i < sizeof(syscalls) / sizeof(syscalls[0]); i++)
		if (syscalls[i].nr == nr)
			return syscalls[i].name;
	return NULL;
}
