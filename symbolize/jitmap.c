/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/base/hash.h"
#include "lib/base/log.h"
#include "lib/base/search.h"
#include "lib/base/vec.h"
#include "symbolize/jitmap.h"

/* A perf map read past this is cut here: names for 2-4 million functions. */
#define JITMAP_MAX_BYTES (256u << 20)

struct jitsym {
	uint64_t start, size;
	const char *name; /* into the map's text */
	size_t order;	  /* line number: of overlapping entries the later one wins */
};

struct jitmap {
	char *text; /* the file's contents, each name NUL-terminated in place */
	struct jitsym *syms;
	size_t n;
};

static int by_start(const void *a, const void *b)
{
	const struct jitsym *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->order < y->order ? -1 : (x->order > y->order);
}

/* Hex digits at *p (an optional 0x first) into *ret; false when there are none or too many. */
static bool hex_field(const char **p, const char *end, uint64_t *ret)
{
	const char *s = *p;
	uint64_t v = 0;
	int digits = 0;

	if (end - s > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	for (; s < end; s++, digits++) {
		int d = *s >= '0' && *s <= '9'	 ? *s - '0'
			: *s >= 'a' && *s <= 'f' ? *s - 'a' + 10
			: *s >= 'A' && *s <= 'F' ? *s - 'A' + 10
						 : -1;

		if (d < 0)
			break;
		if (digits == 16)
			return false;
		v = v << 4 | (uint64_t)d;
	}
	if (!digits)
		return false;
	*p = s;
	*ret = v;
	return true;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* "START SIZE NAME" in [p, eol), *eol being a NUL. */
static bool parse_line(const char *p, const char *eol, uint64_t *start, uint64_t *size,
		       const char **name)
{
	p += strspn(p, " \t");
	if (!hex_field(&p, eol, start) || !is_blank(*p))
		return false;
	p += strspn(p, " \t");
	if (!hex_field(&p, eol, size) || !is_blank(*p))
		return false;
	p += strspn(p, " \t");
	*name = p;
	return *p != '\0';
}

int jitmap_parse(const char *text, size_t len, struct jitmap **ret)
{
	struct jitmap *m = calloc(1, sizeof(*m));
	size_t cap = 0;
	char *p, *end;

	if (!m)
		return -ENOMEM;
	m->text = malloc(len + 1);
	if (!m->text) {
		free(m);
		return -ENOMEM;
	}
	memcpy(m->text, text, len);
	m->text[len] = '\0';
	/* By hand, line by line: "START SIZE NAME", the name running to the end of the line. */
	for (p = m->text, end = m->text + len; p < end; p++) {
		char *eol = memchr(p, '\n', (size_t)(end - p));
		uint64_t start, size;
		const char *name;

		if (!eol)
			eol = end;
		*eol = '\0';
		if (parse_line(p, eol, &start, &size, &name)) {
			if (VEC_PUSH_RESERVE(m->syms, m->n, cap) < 0) {
				jitmap_free(m);
				return -ENOMEM;
			}
			m->syms[m->n] = (struct jitsym){start, size, name, m->n};
			m->n++;
		}
		p = eol;
	}
	if (m->n > 1)
		qsort(m->syms, m->n, sizeof(*m->syms), by_start);
	*ret = m;
	return 0;
}

void jitmap_free(struct jitmap *m)
{
	if (!m)
		return;
	free(m->syms);
	free(m->text);
	free(m);
}

const char *jitmap_lookup(const struct jitmap *m, uint64_t addr)
{
	const struct jitsym *best = NULL;
	size_t lo;

	/* The last entry starting at or below addr, then back over any that also cover it. */
	lo = UPPER_BOUND(m->syms, m->n, struct jitsym, start, addr);
	for (size_t i = lo; i-- > 0 && lo - i <= 64;) {
		const struct jitsym *s = &m->syms[i];

		if (addr - s->start < s->size && (!best || s->order > best->order))
			best = s;
	}
	return best ? best->name : NULL;
}

/* The maps of many processes. */

struct jitproc {
	int32_t pid;
	int fd;		    /* the perf map, checked and kept open until read; -1 for none */
	bool looked_late;   /* with none found while it ran, looked for again at lookup */
	struct jitmap *map; /* once read */
};

struct jitmaps {
	struct jitproc *procs;
	size_t n, cap;
	struct hashmap index;
	size_t refused;
	char reason[160]; /* the first refusal's */
};

int jitmaps_new(struct jitmaps **ret)
{
	*ret = calloc(1, sizeof(**ret));
	return *ret ? 0 : -ENOMEM;
}

void jitmaps_free(struct jitmaps *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->n; i++) {
		if (j->procs[i].fd >= 0)
			(void)close(j->procs[i].fd);
		jitmap_free(j->procs[i].map);
	}
	free(j->procs);
	hashmap_release(&j->index);
	free(j);
}

/* Who process pid is: its uids (real, effective, saved, fs) and its pid in its own namespace. */
struct owner {
	unsigned uids[4];
	int nuids;
	int32_t ns_pid;
};

static void process_owner(int32_t pid, struct owner *ret)
{
	char path[64], line[256];
	FILE *f;

	*ret = (struct owner){.ns_pid = pid};
	(void)snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "Uid:", 4) == 0) {
			ret->nuids = sscanf(line + 4, "%u %u %u %u", &ret->uids[0], &ret->uids[1],
					    &ret->uids[2], &ret->uids[3]);
			if (ret->nuids < 0)
				ret->nuids = 0;
		} else if (strncmp(line, "NSpid:", 6) == 0) {
			/* The last field is the pid in the process's innermost namespace. */
			char *p = line + 6, *end;

			for (;;) {
				long v = strtol(p, &end, 10);

				if (end == p)
					break;
				ret->ns_pid = (int32_t)v;
				p = end;
			}
		}
	}
	(void)fclose(f);
}

static void refuse(struct jitmaps *j, const char *path, const char *why)
{
	log_debug("%s: not used: %s", path, why);
	if (!j->refused++)
		(void)snprintf(j->reason, sizeof(j->reason), "%s: %s", path, why);
}

/*
 * Open path if it is a perf map that the process would have written: a
 * regular file of one of its uids (or of cprof's own user, when the process
 * is gone and its uids unknown) or root's, writable by nobody else. Never
 * follows a symlink, never blocks on a FIFO. Returns the descriptor, -1.
 */
static int open_trusted(struct jitmaps *j, const char *path, const struct owner *o)
{
	char why[96];
	struct stat st;
	bool owner_ok;
	int fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ELOOP)
			refuse(j, path, "a symlink");
		else if (errno != ENOENT)
			log_debug("%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		refuse(j, path, "not a regular file");
		goto fail;
	}
	owner_ok = st.st_uid == 0 || (!o->nuids && st.st_uid == geteuid());
	for (int i = 0; i < o->nuids; i++)
		owner_ok |= st.st_uid == o->uids[i];
	if (!owner_ok) {
		if (o->nuids)
			(void)snprintf(why, sizeof(why),
				       "owned by uid %u, not by the process's (%u) or root",
				       (unsigned)st.st_uid, o->uids[o->nuids > 1 ? 1 : 0]);
		else
			(void)snprintf(why, sizeof(why),
				       "owned by uid %u, not by root or cprof's user",
				       (unsigned)st.st_uid);
		refuse(j, path, why);
		goto fail;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		refuse(j, path, "writable by other users");
		goto fail;
	}
	return fd;
fail:
	(void)close(fd);
	return -1;
}

/*
 * Find and check pid's perf map: in its own /tmp, as the pid it knows
 * itself by, while its root can be seen; else (it is gone: the map is read
 * at the end of a recording) /tmp as we see it.
 */
static int find_map(struct jitmaps *j, int32_t pid)
{
	struct owner o;
	char path[96];

	process_owner(pid, &o);
	(void)snprintf(path, sizeof(path), "/proc/%d/root", pid);
	if (access(path, X_OK) == 0) {
		(void)snprintf(path, sizeof(path), "/proc/%d/root/tmp/perf-%d.map", pid, o.ns_pid);
		return open_trusted(j, path, &o);
	}
	(void)snprintf(path, sizeof(path), "/tmp/perf-%d.map", pid);
	return open_trusted(j, path, &o);
}

struct pid_key {
	const struct jitmaps *j;
	int32_t pid;
};

static bool pid_eq(const void *ctx, uint32_t idx)
{
	const struct pid_key *k = ctx;

	return k->j->procs[idx].pid == k->pid;
}

static struct jitproc *find(struct jitmaps *j, int32_t pid)
{
	struct pid_key k = {j, pid};
	uint32_t idx;

	return hashmap_find(&j->index, hash_u64((uint32_t)pid, 0), pid_eq, &k, &idx)
		       ? &j->procs[idx]
		       : NULL;
}

/* A process's entry, its map looked for now; late: at lookup, no second look to come. */
static struct jitproc *add(struct jitmaps *j, int32_t pid, bool late)
{
	size_t refused = j->refused;
	int fd;

	if (VEC_PUSH_RESERVE(j->procs, j->n, j->cap) < 0 ||
	    hashmap_insert(&j->index, hash_u64((uint32_t)pid, 0), (uint32_t)j->n) < 0)
		return NULL;
	fd = find_map(j, pid);
	/* A map refused once is refused for good: looking again would count it twice. */
	j->procs[j->n] = (struct jitproc){
		.pid = pid,
		.fd = fd,
		.looked_late = late || j->refused != refused,
	};
	return &j->procs[j->n++];
}

int jitmaps_open(struct jitmaps *j, int32_t pid)
{
	return find(j, pid) || add(j, pid, false) ? 0 : -ENOMEM;
}

/* Read the kept file, up to the bound, and parse it. */
static void load(struct jitproc *jp)
{
	struct stat st;
	size_t len = 0, want;
	char *buf;

	if (jp->fd < 0 || fstat(jp->fd, &st) < 0)
		return;
	want = (uint64_t)st.st_size < JITMAP_MAX_BYTES ? (size_t)st.st_size : JITMAP_MAX_BYTES;
	buf = malloc(want + 1);
	if (!buf)
		return;
	while (len < want) {
		ssize_t n = pread(jp->fd, buf + len, want - len, (off_t)len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	(void)jitmap_parse(buf, len, &jp->map);
	free(buf);
	(void)close(jp->fd);
	jp->fd = -1;
}

const char *jitmaps_lookup(struct jitmaps *j, int32_t pid, uint64_t addr)
{
	struct jitproc *jp = find(j, pid);

	if (!jp)
		jp = add(j, pid, true);
	if (!jp)
		return NULL;
	if (!jp->map && jp->fd < 0 && !jp->looked_late) {
		/* None yet at its first sample: the JIT may have written it since. */
		jp->looked_late = true;
		jp->fd = find_map(j, pid);
	}
	if (!jp->map && jp->fd >= 0)
		load(jp);
	return jp->map ? jitmap_lookup(jp->map, addr) : NULL;
}

size_t jitmaps_refused(const struct jitmaps *j, const char **ret_first_reason)
{
	*ret_first_reason = j->refused ? j->reason : "";
	return j->refused;
}
