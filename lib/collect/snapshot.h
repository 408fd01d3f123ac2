/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_COLLECT_SNAPSHOT_H
#define CPROF_LIB_COLLECT_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Every thread of a process at one instant, through ptrace: what cprof
 * snapshot (the goroutine profile for native processes) is made of. For
 * each process:
 *
 *  1. what the kernel says of each thread before it is touched: state,
 *     wchan and kernel stack (/proc/PID/task/TID/{stat,wchan,stack}),
 *     which after the stop would describe the stop itself;
 *  2. PTRACE_SEIZE every thread, then PTRACE_INTERRUPT every one (no
 *     SIGSTOP is sent: job control and the target's signals stay as they
 *     were) and wait for each to stop; threads created meanwhile are
 *     seized too;
 *  3. each thread's registers (PTRACE_GETREGSET) and its user stack from
 *     sp to the end of the mapping holding it (process_vm_readv), copied;
 *  4. PTRACE_DETACH every thread, a signal that arrived meanwhile handed
 *     back. The caller unwinds the copies after, the process running.
 *
 * SIGINT, SIGTERM, SIGHUP and SIGQUIT are held while threads are stopped,
 * so the caller's handlers run once they are released; and should cprof
 * die anyway, the kernel detaches a tracer's tracees at its exit and they
 * run on. A thread in uninterruptible sleep (D) is not stopped: it could
 * not stop before its wait ends, and its kernel stack is what tells.
 */

#define SNAPSHOT_MAX_REGS 64

/* A kernel frame as /proc/PID/task/TID/stack names it: "name+0xoffset/0xsize". */
struct snapshot_kframe {
	char name[128];
	uint64_t offset;
};

struct snapshot_thread {
	int32_t tid;
	char comm[16];
	char state;	 /* R S D T t Z X I …, as /proc/PID/task/TID/stat said before the stop */
	char wchan[64];	 /* the kernel function it waits in; "" when running or not known */
	int64_t syscall; /* the system call it was in when stopped; -1 none or not known */
	struct snapshot_kframe *kernel; /* innermost first; none without the right to read them */
	size_t nkernel;
	uint64_t regs[SNAPSHOT_MAX_REGS]; /* user registers, in sample_regs_user order */
	size_t nregs;			  /* 0: no user state (zombie, kernel thread, D, gone) */
	void *stack;			  /* the user stack from sp up, copied while stopped */
	size_t stack_size;
};

struct snapshot {
	int32_t pid;
	bool kernel_thread; /* a kernel thread: kernel stacks only */
	struct snapshot_thread *threads;
	size_t nthreads;
	int64_t stopped_ns; /* from the first thread stopped to the last released */
	size_t vanished;    /* threads that exited during the snapshot */
	int32_t tracer;	    /* with -EBUSY: the process already tracing it */
	void *arena;	    /* where the stack copies are (snapshot.c) */
	size_t arena_size, arena_used;
};

struct snapshot_options {
	const char *proc_root; /* "/proc" when NULL */
	size_t max_stack;      /* the most bytes of user stack copied per thread */
};

/*
 * Take pid's snapshot into *ret (release with snapshot_release, whatever
 * it returns). Returns 0; -ESRCH when there is no such process; -EBUSY
 * when another process traces it (ret->tracer); -EPERM or -EACCES when
 * ptrace is refused (credentials, Yama's ptrace_scope); -ENOMEM.
 */
int snapshot_take(int32_t pid, const struct snapshot_options *o, struct snapshot *ret);

void snapshot_release(struct snapshot *s);

/* The name of system call nr for labels ("read", "futex"), or NULL when this table lacks it. */
const char *snapshot_syscall_name(int64_t nr);

#endif
