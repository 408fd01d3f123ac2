/* SPDX-License-Identifier: MIT */
/* The process model: map surgery, fork/exec/exit, and scanning a procfs tree. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/collect/proc.h"
#include "tests/tap.h"

static struct proc_map map(uint64_t start, uint64_t end, uint64_t pgoff, const char *path)
{
	struct proc_map m = {.start = start, .end = end, .pgoff = pgoff, .path = (char *)path};

	return m;
}

static bool is(struct proc *p, size_t i, uint64_t start, uint64_t end, uint64_t pgoff,
	       const char *path)
{
	return i < p->nmaps && p->maps[i].start == start && p->maps[i].end == end &&
	       p->maps[i].pgoff == pgoff && strcmp(p->maps[i].path, path) == 0;
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

int main(void)
{
	struct proc_table *t = proc_table_new();
	struct proc *p, *c;
	struct proc_map m;

	ok(proc_table_get(t, 10, &p) == 0 && p->pid == 10, "a process is created on demand");
	m = map(0x1000, 0x5000, 0, "/a");
	ok(proc_map_insert(p, &m) == 0, "insert a map");
	m = map(0x8000, 0x9000, 0, "/b");
	(void)proc_map_insert(p, &m);
	ok(proc_map_find(p, 0x1000) && proc_map_find(p, 0x4fff) && !proc_map_find(p, 0x5000) &&
		   !proc_map_find(p, 0x7fff),
	   "lookups respect [start, end)");

	m = map(0x2000, 0x3000, 0, "/c");
	(void)proc_map_insert(p, &m);
	ok(p->nmaps == 4 && is(p, 0, 0x1000, 0x2000, 0, "/a") &&
		   is(p, 1, 0x2000, 0x3000, 0, "/c") && is(p, 2, 0x3000, 0x5000, 0x2000, "/a"),
	   "a map inside another splits it, the tail keeping its file offset");

	m = map(0x4000, 0x8800, 0, "/d");
	(void)proc_map_insert(p, &m);
	ok(p->nmaps == 5 && is(p, 2, 0x3000, 0x4000, 0x2000, "/a") &&
		   is(p, 3, 0x4000, 0x8800, 0, "/d") && is(p, 4, 0x8800, 0x9000, 0x800, "/b"),
	   "a map over two trims the one below and the one above");

	m = map(0x0, 0x10000, 0, "/e");
	(void)proc_map_insert(p, &m);
	ok(p->nmaps == 1 && is(p, 0, 0, 0x10000, 0, "/e"), "a map over everything replaces all");

	ok(proc_table_comm(t, 10, 10, "parent", false) == 0, "comm");
	ok(proc_table_fork(t, 11, 10, 11, 10) == 0, "fork a process");
	c = proc_table_find(t, 11);
	ok(c && c->nmaps == 1 && is(c, 0, 0, 0x10000, 0, "/e"),
	   "the child copies the parent's maps");
	ok(strcmp(proc_table_comm_of(t, 11, 11), "parent") == 0, "and its name");

	ok(proc_table_fork(t, 10, 10, 12, 10) == 0 && proc_table_find(t, 10) == p,
	   "a new thread joins its process");
	ok(proc_table_comm(t, 10, 12, "worker", false) == 0 &&
		   strcmp(proc_table_comm_of(t, 10, 12), "worker") == 0 &&
		   strcmp(proc_table_comm_of(t, 10, 10), "parent") == 0,
	   "threads have names of their own");

	ok(proc_table_comm(t, 11, 11, "exec'd", true) == 0 && c->nmaps == 0 &&
		   strcmp(c->comm, "exec'd") == 0,
	   "exec empties the maps and renames the process");
	proc_table_exit(t, 11, 11);
	c = proc_table_find(t, 11);
	ok(c && c->exited && strcmp(proc_table_comm_of(t, 11, 11), "exec'd") == 0,
	   "an exited process is kept, named, for the samples of its teardown");
	proc_table_exit(t, 10, 12);
	ok(proc_table_find(t, 10) == p && !p->exited && proc_table_comm_of(t, 10, 12) &&
		   strcmp(proc_table_comm_of(t, 10, 12), "worker") == 0,
	   "exit of another thread leaves the process, and the thread's name");
	for (int32_t pid = 100000; pid < 100000 + 4096; pid++) {
		(void)proc_table_fork(t, pid, 10, pid, 10);
		proc_table_exit(t, pid, pid);
	}
	ok(proc_table_find(t, 11) == NULL && strcmp(proc_table_comm_of(t, 10, 12), "parent") == 0 &&
		   proc_table_find(t, 100000 + 4095) != NULL,
	   "the oldest exited tasks are forgotten once thousands more have exited");

	ok(proc_table_fork(t, 10, 1, 10, 1) == 0 && proc_table_find(t, 10)->nmaps == 0,
	   "a reused pid starts from scratch");

	/* A procfs tree of our own. */
	{
		char root[] = "/tmp/cprof-proc-XXXXXX", dir[600];
		int32_t *tids = NULL;
		size_t n = 0;

		ok(mkdtemp(root) != NULL, "temporary procfs");
		(void)snprintf(dir, sizeof(dir), "%s/42", root);
		mkdir(dir, 0755);
		(void)snprintf(dir, sizeof(dir), "%s/42/task", root);
		mkdir(dir, 0755);
		(void)snprintf(dir, sizeof(dir), "%s/42/task/42", root);
		mkdir(dir, 0755);
		(void)snprintf(dir, sizeof(dir), "%s/42/task/43", root);
		mkdir(dir, 0755);
		(void)snprintf(dir, sizeof(dir), "%s/42", root);
		write_file(dir, "comm", "server\n");
		write_file(dir, "task/42/comm", "server\n");
		write_file(dir, "task/43/comm", "io-worker\n");
		write_file(dir, "maps",
			   "55d0c0000000-55d0c0001000 r--p 00000000 08:01 100 /usr/bin/server\n"
			   "55d0c0001000-55d0c0005000 r-xp 00001000 08:01 100 /usr/bin/server\n"
			   "7f0000000000-7f0000100000 r-xp 00028000 08:01 200 /usr/lib/libc.so.6\n"
			   "7f0000200000-7f0000201000 rwxp 00000000 00:00 0 \n"
			   "7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0 [vdso]\n"
			   "garbage line\n");
		ok(proc_table_scan(t, root, 42) == 0, "scan a process");
		p = proc_table_find(t, 42);
		ok(p && strcmp(p->comm, "server") == 0, "its name");
		ok(p && p->nmaps == 4 &&
			   is(p, 0, 0x55d0c0001000, 0x55d0c0005000, 0x1000, "/usr/bin/server") &&
			   is(p, 1, 0x7f0000000000, 0x7f0000100000, 0x28000,
			      "/usr/lib/libc.so.6") &&
			   is(p, 2, 0x7f0000200000, 0x7f0000201000, 0, "//anon") &&
			   is(p, 3, 0x7ffd00000000, 0x7ffd00002000, 0, "[vdso]"),
		   "its executable maps, anonymous ones named //anon, junk skipped");
		ok(strcmp(proc_table_comm_of(t, 42, 43), "io-worker") == 0, "its threads' names");
		ok(proc_list_tasks(root, 42, &tids, &n) == 0 && n == 2, "its task list");
		free(tids);
		ok(proc_table_scan(t, root, 77) == -ESRCH && proc_table_find(t, 77) == NULL,
		   "a missing process is -ESRCH and leaves nothing behind");
		(void)snprintf(dir, sizeof(dir), "rm -rf %s", root);
		ok(system(dir) == 0, "clean up");
	}
	proc_table_free(t);
	return tap_done();
}
