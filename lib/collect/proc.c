/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/hash.h"
#include "lib/collect/proc.h"
#include "lib/base/search.h"
#include "lib/base/vec.h"

struct thread {
	int32_t tid, pid;
	char comm[PROC_COMM_MAX];
	bool asked;  /* /proc was asked for its name once (proc_table_name) */
	bool exited; /* kept for its name, as exited processes are */
};

/* Objects keyed by a pid or tid: an index over a slot array with a free list. */
struct idtab {
	struct hashmap index;
	void **items;
	int32_t *ids;
	size_t n, cap;
	uint32_t *free_slots;
	size_t nfree, free_cap;
};

/* Exited tasks whose names are kept: samples of their teardown follow EXIT by milliseconds. */
#define EXITED_KEEP 4096

struct exited {
	int32_t id;
	bool is_proc;
};

struct proc_table {
	struct idtab procs;    /* of struct proc */
	struct idtab threads;  /* of struct thread */
	struct exited *exited; /* a ring of EXITED_KEEP, oldest at exited_head */
	size_t exited_head, nexited;
};

struct id_key {
	const struct idtab *tab;
	int32_t id;
};

static bool id_eq(const void *ctx, uint32_t idx)
{
	const struct id_key *k = ctx;

	return k->tab->ids[idx] == k->id;
}

static void *idtab_find(const struct idtab *tab, int32_t id)
{
	struct id_key key = {tab, id};
	uint32_t idx;

	if (!hashmap_find(&tab->index, hash_u64((uint64_t)(uint32_t)id, 0), id_eq, &key, &idx))
		return NULL;
	return tab->items[idx];
}

static int idtab_add(struct idtab *tab, int32_t id, void *item)
{
	uint32_t idx;
	int r;

	if (tab->nfree) {
		idx = tab->free_slots[tab->nfree - 1];
	} else {
		r = vec_reserve(&tab->items, &tab->cap, tab->n + 1, sizeof(*tab->items));
		if (r < 0)
			return r;
		/* ids grows in step with items; its capacity is items' capacity. */
		int32_t *ids = realloc(tab->ids, tab->cap * sizeof(*ids));

		if (!ids)
			return -ENOMEM;
		tab->ids = ids;
		idx = (uint32_t)tab->n;
	}
	r = hashmap_insert(&tab->index, hash_u64((uint64_t)(uint32_t)id, 0), idx);
	if (r < 0)
		return r;
	if (tab->nfree)
		tab->nfree--;
	else
		tab->n++;
	tab->items[idx] = item;
	tab->ids[idx] = id;
	return 0;
}

/* Remove id and return its item (the caller frees it), or NULL. */
static void *idtab_remove(struct idtab *tab, int32_t id)
{
	struct id_key key = {tab, id};
	uint64_t h = hash_u64((uint64_t)(uint32_t)id, 0);
	uint32_t idx;
	void *item;

	if (!hashmap_find(&tab->index, h, id_eq, &key, &idx))
		return NULL;
	/* Keep the slot reusable; if the free list cannot grow, the slot is just leaked. */
	if (VEC_PUSH_RESERVE(tab->free_slots, tab->nfree, tab->free_cap) == 0)
		tab->free_slots[tab->nfree++] = idx;
	(void)hashmap_remove(&tab->index, h, idx);
	item = tab->items[idx];
	tab->items[idx] = NULL;
	tab->ids[idx] = -1;
	return item;
}

static void idtab_release(struct idtab *tab, void (*free_fn)(void *))
{
	for (size_t i = 0; i < tab->n; i++)
		free_fn(tab->items[i]);
	free(tab->items);
	free(tab->ids);
	free(tab->free_slots);
	hashmap_release(&tab->index);
}

static void proc_clear_maps(struct proc *p)
{
	p->generation++;
	for (size_t i = 0; i < p->nmaps; i++)
		free(p->maps[i].path);
	p->nmaps = 0;
}

static void proc_free(void *item)
{
	struct proc *p = item;

	if (!p)
		return;
	proc_clear_maps(p);
	free(p->maps);
	free(p);
}

struct proc_table *proc_table_new(void)
{
	return calloc(1, sizeof(struct proc_table));
}

void proc_table_free(struct proc_table *t)
{
	if (!t)
		return;
	idtab_release(&t->procs, proc_free);
	idtab_release(&t->threads, free);
	free(t->exited);
	free(t);
}

struct proc *proc_table_find(struct proc_table *t, int32_t pid)
{
	return idtab_find(&t->procs, pid);
}

int proc_table_get(struct proc_table *t, int32_t pid, struct proc **ret)
{
	struct proc *p = proc_table_find(t, pid);
	int r;

	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p)
			return -ENOMEM;
		p->pid = pid;
		r = idtab_add(&t->procs, pid, p);
		if (r < 0) {
			free(p);
			return r;
		}
	}
	*ret = p;
	return 0;
}

static int thread_get(struct proc_table *t, int32_t pid, int32_t tid, struct thread **ret)
{
	struct thread *th = idtab_find(&t->threads, tid);
	int r;

	if (!th) {
		th = calloc(1, sizeof(*th));
		if (!th)
			return -ENOMEM;
		th->tid = tid;
		r = idtab_add(&t->threads, tid, th);
		if (r < 0) {
			free(th);
			return r;
		}
	}
	th->pid = pid;
	*ret = th;
	return 0;
}

static void set_comm(char dst[PROC_COMM_MAX], const char *src)
{
	size_t n = strcspn(src, "\n");

	if (n >= PROC_COMM_MAX)
		n = PROC_COMM_MAX - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Maps. */

static size_t first_ending_after(const struct proc *p, uint64_t addr)
{
	return UPPER_BOUND(p->maps, p->nmaps, struct proc_map, end, addr);
}

bool proc_map_is_anon(const struct proc_map *m)
{
	return (m->path[0] != '/' && m->path[0] != '[') || strncmp(m->path, "//anon", 6) == 0 ||
	       strncmp(m->path, "/memfd:", 7) == 0 || strncmp(m->path, "[anon", 5) == 0;
}

struct proc_map *proc_map_find(struct proc *p, uint64_t addr)
{
	size_t i;

	for (int k = 0; k < 2; k++) {
		i = p->map_hint[k];
		if (i < p->nmaps && p->maps[i].start <= addr && addr < p->maps[i].end)
			return &p->maps[i];
	}
	i = first_ending_after(p, addr);
	if (i < p->nmaps && p->maps[i].start <= addr) {
		p->map_hint[1] = p->map_hint[0];
		p->map_hint[0] = i;
		return &p->maps[i];
	}
	return NULL;
}

/* Serials are shared by every table (several sessions may run in one program). */
static uint64_t new_serial(void)
{
	static uint64_t last;

	return __atomic_add_fetch(&last, 1, __ATOMIC_RELAXED);
}

int proc_map_insert(struct proc *p, const struct proc_map *m)
{
	size_t i, j;
	char *path;
	int r;

	if (m->end <= m->start)
		return 0;
	p->generation++;
	path = strdup(m->path ? m->path : "");
	if (!path)
		return -ENOMEM;
	/* Room for the new map and for one old map split in two. */
	r = vec_reserve(&p->maps, &p->maps_cap, p->nmaps + 2, sizeof(*p->maps));
	if (r < 0) {
		free(path);
		return r;
	}

	i = first_ending_after(p, m->start);
	if (i < p->nmaps && p->maps[i].start < m->start && p->maps[i].end > m->end) {
		/* The new map punches a hole in one old map: split it around the hole. */
		struct proc_map tail = p->maps[i];

		tail.path = strdup(tail.path);
		if (!tail.path) {
			free(path);
			return -ENOMEM;
		}
		tail.pgoff += m->end - tail.start;
		tail.start = m->end;
		tail.serial = new_serial();
		p->maps[i].end = m->start;
		p->maps[i].serial = new_serial();
		memmove(&p->maps[i + 2], &p->maps[i + 1], (p->nmaps - i - 1) * sizeof(*p->maps));
		p->maps[i + 1] = tail;
		p->nmaps++;
		i++;
	} else {
		if (i < p->nmaps && p->maps[i].start < m->start) {
			/* Overlaps the end of an older map: keep its head. */
			p->maps[i].end = m->start;
			p->maps[i].serial = new_serial();
			i++;
		}
		/* Drop maps wholly covered, trim the head of one overlapping the end. */
		for (j = i; j < p->nmaps && p->maps[j].end <= m->end; j++)
			free(p->maps[j].path);
		if (j < p->nmaps && p->maps[j].start < m->end) {
			p->maps[j].pgoff += m->end - p->maps[j].start;
			p->maps[j].start = m->end;
			p->maps[j].serial = new_serial();
		}
		memmove(&p->maps[i], &p->maps[j], (p->nmaps - j) * sizeof(*p->maps));
		p->nmaps -= j - i;
	}
	memmove(&p->maps[i + 1], &p->maps[i], (p->nmaps - i) * sizeof(*p->maps));
	p->maps[i] = *m;
	p->maps[i].path = path;
	p->maps[i].serial = new_serial();
	p->nmaps++;
	return 0;
}

/* /proc. */

static int read_comm(const char *path, char comm[PROC_COMM_MAX])
{
	char buf[64];
	FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	/* An empty read is a task that went away: the name it had still stands. */
	if (!fgets(buf, sizeof(buf), f)) {
		(void)fclose(f);
		return -ESRCH;
	}
	(void)fclose(f);
	set_comm(comm, buf);
	return 0;
}

static char anon_name[] = "//anon"; /* perf's name for anonymous memory */

/* One line of /proc/PID/maps; only executable mappings matter for stacks. */
static int parse_maps_line(char *line, struct proc_map *m)
{
	unsigned long long start, end, off, ino;
	unsigned int maj, min;
	char perms[5];
	int n = 0;

	if (sscanf(line, "%llx-%llx %4s %llx %x:%x %llu %n", &start, &end, perms, &off, &maj, &min,
		   &ino, &n) < 7)
		return -EINVAL;
	if (perms[2] != 'x')
		return -ENOENT;
	memset(m, 0, sizeof(*m));
	m->start = start;
	m->end = end;
	m->pgoff = off;
	m->dev_major = maj;
	m->dev_minor = min;
	m->ino = ino;
	m->prot = 4 | (perms[0] == 'r' ? 1 : 0) | (perms[1] == 'w' ? 2 : 0);
	line[strcspn(line, "\n")] = '\0';
	m->path = n > 0 && line[n] ? &line[n] : anon_name;
	return 0;
}

int proc_tgid(const char *root, int32_t tid, int32_t *ret)
{
	char path[64], line[128];
	int r = -ESRCH;
	FILE *f;

	/* /proc/TID exists for every thread, though only processes are listed. */
	(void)snprintf(path, sizeof(path), "%s/%d/status", root, tid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (fgets(line, sizeof(line), f)) {
		long v;

		if (sscanf(line, "Tgid: %ld", &v) == 1 && v > 0 && v <= INT32_MAX) {
			*ret = (int32_t)v;
			r = 0;
			break;
		}
	}
	(void)fclose(f);
	return r;
}

int proc_rescan_maps(struct proc *p, const char *root)
{
	char path[64], *line = NULL;
	size_t cap = 0;
	FILE *f;
	int r = 0;

	(void)snprintf(path, sizeof(path), "%s/%d/maps", root, p->pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	proc_clear_maps(p);
	while (getline(&line, &cap, f) > 0) {
		struct proc_map m;

		if (parse_maps_line(line, &m) < 0)
			continue;
		r = proc_map_insert(p, &m);
		if (r < 0)
			break;
	}
	free(line);
	(void)fclose(f);
	return r;
}

static bool is_pid_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* The numeric entries of directory path: processes of /proc, threads of /proc/PID/task. */
static int list_ids(const char *path, int32_t **ret, size_t *ret_n)
{
	int32_t *tids = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *dir = opendir(path);

	if (!dir)
		return errno == ENOENT ? -ESRCH : -errno;
	while ((de = readdir(dir))) {
		if (!is_pid_name(de->d_name))
			continue;
		if (VEC_PUSH_RESERVE(tids, n, cap) < 0) {
			(void)closedir(dir);
			free(tids);
			return -ENOMEM;
		}
		tids[n++] = (int32_t)strtol(de->d_name, NULL, 10);
	}
	(void)closedir(dir);
	*ret = tids;
	*ret_n = n;
	return 0;
}

int proc_list_tasks(const char *root, int32_t pid, int32_t **ret, size_t *ret_n)
{
	char path[64];

	(void)snprintf(path, sizeof(path), "%s/%d/task", root, pid);
	return list_ids(path, ret, ret_n);
}

int proc_list_processes(const char *root, int32_t **ret, size_t *ret_n)
{
	return list_ids(root, ret, ret_n);
}

int proc_table_scan(struct proc_table *t, const char *root, int32_t pid)
{
	int32_t *tids = NULL;
	char path[96];
	struct proc *p;
	size_t ntids = 0;
	int r;

	r = proc_table_get(t, pid, &p);
	if (r < 0)
		return r;
	(void)snprintf(path, sizeof(path), "%s/%d/comm", root, pid);
	r = read_comm(path, p->comm);
	if (r < 0)
		goto gone;
	r = proc_rescan_maps(p, root);
	if (r < 0)
		goto gone;
	r = proc_list_tasks(root, pid, &tids, &ntids);
	if (r < 0)
		goto gone;
	for (size_t i = 0; i < ntids; i++) {
		struct thread *th;

		r = thread_get(t, pid, tids[i], &th);
		if (r < 0)
			break;
		(void)snprintf(path, sizeof(path), "%s/%d/task/%d/comm", root, pid, tids[i]);
		if (read_comm(path, th->comm) < 0)
			memcpy(th->comm, p->comm, PROC_COMM_MAX);
	}
	free(tids);
	return r < 0 ? r : 0;

gone:
	/* Gone, or not ours to read (another user's, without privileges): say which. */
	if (r != -ENOMEM && r != -EACCES && r != -EPERM)
		r = -ESRCH;
	/*
	 * Gone since the names were read, as the short-lived are: it ran after
	 * the events did, or it would not matter, and its samples still want
	 * its name. Kept as exited processes are, a while; a nameless one, or
	 * one not ours to read, is not worth keeping.
	 */
	if (r == -ESRCH && p->comm[0])
		proc_table_exit(t, pid, pid);
	else
		proc_free(idtab_remove(&t->procs, pid));
	return r;
}

int proc_table_scan_names(struct proc_table *t, const char *root)
{
	struct dirent *de;
	DIR *dir = opendir(root);
	char path[96];
	int r = 0;

	if (!dir)
		return -errno;
	while ((de = readdir(dir)) && r == 0) {
		int32_t pid;
		struct proc *p;

		if (!is_pid_name(de->d_name))
			continue;
		pid = (int32_t)strtol(de->d_name, NULL, 10);
		r = proc_table_get(t, pid, &p);
		(void)snprintf(path, sizeof(path), "%s/%d/comm", root, pid);
		if (r == 0 && !p->comm[0])
			(void)read_comm(path, p->comm);
	}
	(void)closedir(dir);
	return r;
}

int proc_table_scan_all(struct proc_table *t, const char *root)
{
	struct dirent *de;
	DIR *dir = opendir(root);
	int r = 0;

	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		if (!is_pid_name(de->d_name))
			continue;
		r = proc_table_scan(t, root, (int32_t)strtol(de->d_name, NULL, 10));
		if (r == -ESRCH || r == -EACCES)
			r = 0;
		if (r < 0)
			break;
	}
	(void)closedir(dir);
	return r;
}

int proc_table_resync(struct proc_table *t, const char *root, void (*gone)(void *ctx, int32_t pid),
		      void *ctx)
{
	int32_t *pids = malloc((t->procs.n ? t->procs.n : 1) * sizeof(*pids));
	size_t n = 0;
	int r = 0;

	if (!pids)
		return -ENOMEM;
	for (size_t i = 0; i < t->procs.n; i++) {
		const struct proc *p = t->procs.items[i];

		if (p && !p->exited)
			pids[n++] = p->pid;
	}
	for (size_t i = 0; i < n && r >= 0; i++) {
		r = proc_table_scan(t, root, pids[i]);
		if (r == -ESRCH) {
			/* Gone while nothing was recorded: as if its EXIT had been seen. */
			proc_table_exit(t, pids[i], pids[i]);
			if (gone)
				gone(ctx, pids[i]);
		}
		if (r == -ESRCH || r == -EACCES)
			r = 0;
	}
	free(pids);
	return r;
}

/* Records. */

int proc_table_fork(struct proc_table *t, int32_t pid, int32_t ppid, int32_t tid, int32_t ptid)
{
	struct thread *parent_thread = idtab_find(&t->threads, ptid);
	struct proc *parent = proc_table_find(t, ppid), *child;
	struct thread *th;
	int r;

	r = thread_get(t, pid, tid, &th);
	if (r < 0)
		return r;
	th->exited = false; /* a reused tid */
	if (parent_thread)
		memcpy(th->comm, parent_thread->comm, PROC_COMM_MAX);
	else if (parent)
		memcpy(th->comm, parent->comm, PROC_COMM_MAX);
	if (pid == ppid)
		return 0; /* a new thread shares its process's maps */

	/* A pid can be reused: whatever we knew under it is stale now. */
	proc_free(idtab_remove(&t->procs, pid));
	r = proc_table_get(t, pid, &child);
	if (r < 0)
		return r;
	memcpy(child->comm, th->comm, PROC_COMM_MAX);
	if (!parent)
		return 0;
	for (size_t i = 0; i < parent->nmaps; i++) {
		r = proc_map_insert(child, &parent->maps[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

int proc_table_comm(struct proc_table *t, int32_t pid, int32_t tid, const char *comm, bool exec)
{
	struct thread *th;
	struct proc *p;
	int r;

	r = thread_get(t, pid, tid, &th);
	if (r < 0)
		return r;
	set_comm(th->comm, comm);
	r = proc_table_get(t, pid, &p);
	if (r < 0)
		return r;
	if (exec)
		proc_clear_maps(p);
	if (pid == tid || exec || !p->comm[0])
		set_comm(p->comm, comm);
	return 0;
}

/* Forget the oldest exited task, unless its id now belongs to a live one. */
static void forget_oldest(struct proc_table *t)
{
	struct exited e = t->exited[t->exited_head];

	t->exited_head = (t->exited_head + 1) % EXITED_KEEP;
	t->nexited--;
	if (e.is_proc) {
		struct proc *p = idtab_find(&t->procs, e.id);

		if (p && p->exited)
			proc_free(idtab_remove(&t->procs, e.id));
	} else {
		struct thread *th = idtab_find(&t->threads, e.id);

		if (th && th->exited)
			free(idtab_remove(&t->threads, e.id));
	}
}

/* Keep an exited task's name a while; without room to remember it, forget it now. */
static void keep_exited(struct proc_table *t, int32_t id, bool is_proc)
{
	if (!t->exited && !(t->exited = calloc(EXITED_KEEP, sizeof(*t->exited)))) {
		if (is_proc)
			proc_free(idtab_remove(&t->procs, id));
		else
			free(idtab_remove(&t->threads, id));
		return;
	}
	if (t->nexited == EXITED_KEEP)
		forget_oldest(t);
	t->exited[(t->exited_head + t->nexited++) % EXITED_KEEP] = (struct exited){id, is_proc};
}

void proc_table_exit(struct proc_table *t, int32_t pid, int32_t tid)
{
	struct thread *th = idtab_find(&t->threads, tid);
	struct proc *p;

	if (th && !th->exited) {
		th->exited = true;
		keep_exited(t, tid, false);
	}
	if (pid != tid)
		return;
	p = idtab_find(&t->procs, pid);
	if (p && !p->exited) {
		/* Its maps too: samples of the teardown carry the exit syscall's user stack. */
		p->exited = true;
		keep_exited(t, pid, true);
	}
}

const char *proc_table_name(struct proc_table *t, const char *root, int32_t pid, int32_t tid)
{
	const char *comm = proc_table_comm_of(t, pid, tid);
	struct thread *th;
	struct proc *p;
	char path[96];

	if (comm || pid <= 0 || thread_get(t, pid, tid, &th) < 0 || th->asked)
		return comm;
	/* Once: a thread that is gone stays nameless, and costs no more lookups. */
	th->asked = true;
	(void)snprintf(path, sizeof(path), "%s/%d/task/%d/comm", root, pid, tid);
	if (read_comm(path, th->comm) < 0)
		return NULL;
	if (proc_table_get(t, pid, &p) == 0 && !p->comm[0]) {
		(void)snprintf(path, sizeof(path), "%s/%d/comm", root, pid);
		if (read_comm(path, p->comm) < 0)
			memcpy(p->comm, th->comm, PROC_COMM_MAX);
	}
	return th->comm[0] ? th->comm : NULL;
}

const char *proc_table_comm_of(struct proc_table *t, int32_t pid, int32_t tid)
{
	struct thread *th = idtab_find(&t->threads, tid);
	struct proc *p;

	if (th && th->comm[0])
		return th->comm;
	p = proc_table_find(t, pid);
	return p && p->comm[0] ? p->comm : NULL;
}
