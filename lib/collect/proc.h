/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_COLLECT_PROC_H
#define CPROF_LIB_COLLECT_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The process model: every process cprof knows of, with its executable
 * mappings, and every thread with its name. Seeded from /proc, then kept
 * current by PERF_RECORD_FORK, _COMM, _MMAP2 and _EXIT applied in time
 * order, so a sample is resolved against the address space it was taken in.
 */

#define PROC_COMM_MAX 16 /* TASK_COMM_LEN */
#define PROC_BUILD_ID_MAX 20

struct proc_map {
	uint64_t start, end, pgoff;
	uint64_t ino;
	uint32_t dev_major, dev_minor;
	uint32_t prot;
	uint8_t build_id_size;
	uint8_t build_id[PROC_BUILD_ID_MAX];
	char *path; /* owned; "//anon", "[vdso]", or a file path */
	/*
	 * Which map this is, unique among every map of every table for the
	 * life of the program: a new one for each map inserted, split or
	 * trimmed, so consumers can key what they derive from a map by it.
	 */
	uint64_t serial;
};

struct proc {
	int32_t pid;
	char comm[PROC_COMM_MAX];
	struct proc_map *maps; /* sorted by start, never overlapping */
	size_t nmaps, maps_cap;
	size_t map_hint[2];  /* the last two found: a stack's frames are mostly in a file or two */
	uint64_t generation; /* bumped by every change to maps, so caches know to refresh */
	bool rescanned;	     /* /proc/PID/maps was re-read once to fill a gap */
	bool sampled;	     /* the session counted it among the processes with samples */
	bool exited;	     /* its EXIT was seen; kept a while for its name (proc_table_exit) */
};

struct proc_table;

/* An empty table; caller owns, free with proc_table_free. NULL when out of memory. */
struct proc_table *proc_table_new(void);

/* Free every process and thread. NULL-safe. */
void proc_table_free(struct proc_table *t);

/* The process pid, or NULL. Borrowed until it exits from the table. */
struct proc *proc_table_find(struct proc_table *t, int32_t pid);

/* The process pid, created empty when unknown. Returns 0 and *ret, or -ENOMEM. */
int proc_table_get(struct proc_table *t, int32_t pid, struct proc **ret);

/*
 * Read /proc/PID/comm, /proc/PID/task/ and the executable lines of
 * /proc/PID/maps into the table (root is the procfs mount, "/proc" except in
 * tests). Returns 0, -ESRCH when the process is gone, or -ENOMEM.
 */
int proc_table_scan(struct proc_table *t, const char *root, int32_t pid);

/*
 * The name of every process in root, and nothing else: a few microseconds
 * a process, for naming what runs while the events are switched on.
 */
int proc_table_scan_names(struct proc_table *t, const char *root);

/* proc_table_scan for every process in root. Processes that vanish meanwhile are skipped. */
int proc_table_scan_all(struct proc_table *t, const char *root);

/*
 * Bring the table up to date after a time without records (events
 * disabled between windows): every process it knows read again from
 * root, and those gone marked exited and told to gone (may be NULL).
 * Processes born meanwhile are not looked for: proc_table_scan_all does.
 * Returns 0 or -ENOMEM.
 */
int proc_table_resync(struct proc_table *t, const char *root, void (*gone)(void *ctx, int32_t pid),
		      void *ctx);

/*
 * List the threads of process pid from root/PID/task. Returns 0 with *ret
 * (caller owns; free with free()) and *ret_n, or -ESRCH, or -ENOMEM.
 */
int proc_list_tasks(const char *root, int32_t pid, int32_t **ret, size_t *ret_n);

/* The processes of root (normally /proc), as proc_list_tasks lists threads. */
int proc_list_processes(const char *root, int32_t **ret, size_t *ret_n);

/*
 * The process thread tid belongs to (its Tgid; tid itself for a process).
 * Returns 0 and *ret, -ESRCH when there is no such thread, or -errno.
 */
int proc_tgid(const char *root, int32_t tid, int32_t *ret);

/* Re-read the maps of p from /proc, replacing what the table had. */
int proc_rescan_maps(struct proc *p, const char *root);

/*
 * Apply a mapping: any part of an existing map under [start, end) is cut
 * away first, as mmap(MAP_FIXED) does. m->path is copied.
 * Returns 0 or -ENOMEM.
 */
int proc_map_insert(struct proc *p, const struct proc_map *m);

/* Is m anonymous memory or a memfd: code a JIT wrote, named by the process's perf map? */
bool proc_map_is_anon(const struct proc_map *m);

/* The map containing addr, or NULL. Borrowed until the next change to p. */
struct proc_map *proc_map_find(struct proc *p, uint64_t addr);

/*
 * PERF_RECORD_FORK: thread tid of process pid was created by ptid of ppid.
 * A new process starts with a copy of its parent's maps and names.
 */
int proc_table_fork(struct proc_table *t, int32_t pid, int32_t ppid, int32_t tid, int32_t ptid);

/* PERF_RECORD_COMM: thread tid is now named comm; exec also empties the maps. */
int proc_table_comm(struct proc_table *t, int32_t pid, int32_t tid, const char *comm, bool exec);

/*
 * PERF_RECORD_EXIT: thread tid is gone, and the process with it when
 * tid == pid. The kernel writes EXIT before it has torn the task down, and
 * samples of the teardown (exit_mmap, the last files closed) follow it, with
 * the exit syscall's user stack, so the last few thousand exited tasks are
 * kept whole.
 */
void proc_table_exit(struct proc_table *t, int32_t pid, int32_t tid);

/*
 * The name of thread tid as proc_table_comm_of gives it, or, when no record
 * named it (it began before the recording and after the /proc scan, or its
 * records were lost), from root/PID/task/TID/comm, asked once per thread.
 * NULL when it cannot be known. Borrowed.
 */
const char *proc_table_name(struct proc_table *t, const char *root, int32_t pid, int32_t tid);

/* The name of thread tid, falling back to its process's; NULL when unknown. Borrowed. */
const char *proc_table_comm_of(struct proc_table *t, int32_t pid, int32_t tid);

#endif
