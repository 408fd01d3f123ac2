/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/base/cache.h"
#include "lib/base/outfile.h"
#include "lib/base/vec.h"

struct cache {
	int dirfd;
};

int cache_dir_path(char **ret)
{
	const char *env = getenv("CPROF_CACHE_DIR"), *base;
	char *dir;

	if (env && !*env)
		return -ECANCELED;
	if (env)
		dir = strdup(env);
	else if ((base = getenv("XDG_CACHE_HOME")) && *base == '/')
		dir = asprintf(&dir, "%s/cprof", base) < 0 ? NULL : dir;
	else if ((base = getenv("HOME")) && *base == '/')
		dir = asprintf(&dir, "%s/.cache/cprof", base) < 0 ? NULL : dir;
	else
		return -ENOENT;
	if (!dir)
		return -ENOMEM;
	*ret = dir;
	return 0;
}

/* The user's own, and only theirs to change: what a file or directory must be to be believed. */
static int check_owner(const struct stat *st)
{
	if (st->st_uid != geteuid())
		return -EPERM;
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return -EACCES;
	return 0;
}

int cache_open(const char *dir, struct cache **ret)
{
	struct cache *c;
	struct stat st;
	char *path;
	int fd, r;

	/* mkdir -p, each missing level private. Existing levels are left as they are. */
	path = strdup(dir);
	if (!path)
		return -ENOMEM;
	for (char *p = path + 1;; p++) {
		if (*p == '/' || !*p) {
			char ch = *p;

			*p = '\0';
			(void)mkdir(path, 0700);
			*p = ch;
		}
		if (!*p)
			break;
	}
	free(path);
	/* The last level is checked on the descriptor itself: no window to swap it. */
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOTDIR && lstat(dir, &st) == 0 && S_ISLNK(st.st_mode) ? -ELOOP
										       : -errno;
	r = fstat(fd, &st) < 0 ? -errno : check_owner(&st);
	if (r < 0) {
		(void)close(fd);
		return r;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		(void)close(fd);
		return -ENOMEM;
	}
	c->dirfd = fd;
	*ret = c;
	return 0;
}

void cache_free(struct cache *c)
{
	if (!c)
		return;
	(void)close(c->dirfd);
	free(c);
}

int cache_open_file(struct cache *c, const char *name)
{
	struct stat st;
	int fd, r;

	/* O_NONBLOCK: a FIFO planted under the name must not hang us before fstat refuses it. */
	fd = openat(c->dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = fstat(fd, &st) < 0 ? -errno : S_ISREG(st.st_mode) ? check_owner(&st) : -EPERM;
	if (r < 0) {
		(void)close(fd);
		return r;
	}
	return fd;
}

int cache_create(struct cache *c, const char *name, struct outfile **ret)
{
	return outfile_open_at(c->dirfd, name, OUTFILE_REPLACE, ret);
}

int cache_read(struct cache *c, const char *name, size_t max, char **ret, size_t *ret_len)
{
	struct stat st;
	size_t len = 0;
	char *buf = NULL;
	int fd, r;

	fd = cache_open_file(c, name);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		r = -EFBIG;
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	/* Read to the size fstat gave, no further: a file growing meanwhile is cut there. */
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	buf = NULL;
	r = 0;
out:
	free(buf);
	(void)close(fd);
	return r;
}

int cache_map(struct cache *c, const char *name, size_t max, const void **ret, size_t *ret_len)
{
	struct stat st;
	void *map;
	int fd, r = 0;

	fd = cache_open_file(c, name);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if ((uint64_t)st.st_size > max)
		r = -EFBIG;
	else if (st.st_size == 0)
		r = -ENODATA;
	if (r == 0) {
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		r = map == MAP_FAILED ? -errno : 0;
	}
	(void)close(fd);
	if (r < 0)
		return r;
	*ret = map;
	*ret_len = (size_t)st.st_size;
	return 0;
}

void cache_unmap(const void *map, size_t len)
{
	if (map)
		(void)munmap((void *)(uintptr_t)map, len);
}

int cache_writev(struct cache *c, const char *name, const struct iovec *iov, size_t n)
{
	struct iovec part[64];
	struct outfile *o;
	size_t done = 0, skip = 0; /* iov[done] is written up to skip bytes */
	int fd, r;

	r = cache_create(c, name, &o);
	if (r < 0)
		return r;
	fd = outfile_fd(o);
	while (done < n && fd >= 0) {
		size_t k = 0;
		ssize_t w;

		for (size_t i = done; i < n && k < sizeof(part) / sizeof(*part); i++) {
			size_t off = i == done ? skip : 0;

			if (iov[i].iov_len > off)
				part[k++] = (struct iovec){(char *)iov[i].iov_base + off,
							   iov[i].iov_len - off};
		}
		if (k == 0)
			break;
		w = writev(fd, part, (int)k);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			r = w < 0 ? -errno : -EIO;
			outfile_abort(o);
			return r;
		}
		/* Past what was written: whole pieces, then into the next. */
		for (size_t left = (size_t)w; done < n;) {
			size_t rest = iov[done].iov_len - skip;

			if (left < rest) {
				skip += left;
				break;
			}
			left -= rest;
			done++;
			skip = 0;
		}
	}
	return outfile_commit(o);
}

int cache_write(struct cache *c, const char *name, const void *data, size_t len)
{
	struct iovec one = {(void *)(uintptr_t)data, len};

	return cache_writev(c, name, &one, 1);
}

void cache_touch(struct cache *c, const char *name)
{
	(void)utimensat(c->dirfd, name, NULL, AT_SYMLINK_NOFOLLOW);
}

struct cached_file {
	char *name;
	uint64_t size;
	struct timespec mtime;
};

static int by_age(const void *a, const void *b)
{
	const struct cached_file *x = a, *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : x->mtime.tv_nsec > y->mtime.tv_nsec;
}

int cache_trim(struct cache *c, const char *prefix, uint64_t max_bytes)
{
	struct cached_file *files = NULL;
	size_t n = 0, cap = 0, plen = strlen(prefix);
	uint64_t total = 0;
	struct dirent *de;
	DIR *dir;
	int fd, r = 0;

	fd = openat(c->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		r = -errno;
		(void)close(fd);
		return r;
	}
	while ((de = readdir(dir))) {
		struct stat st;

		if (strncmp(de->d_name, prefix, plen) != 0 ||
		    fstatat(c->dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		r = vec_reserve(&files, &cap, n + 1, sizeof(*files));
		if (r < 0)
			break;
		files[n].name = strdup(de->d_name);
		if (!files[n].name) {
			r = -ENOMEM;
			break;
		}
		files[n].size = (uint64_t)st.st_size;
		files[n].mtime = st.st_mtim;
		total += files[n++].size;
	}
	(void)closedir(dir);
	if (r == 0 && total > max_bytes) {
		qsort(files, n, sizeof(*files), by_age);
		for (size_t i = 0; i < n && total > max_bytes; i++)
			if (unlinkat(c->dirfd, files[i].name, 0) == 0)
				total -= files[i].size;
	}
	for (size_t i = 0; i < n; i++)
		free(files[i].name);
	free(files);
	return r;
}
