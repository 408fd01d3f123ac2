/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/base/outfile.h"
#include "lib/base/parse.h"

enum kind {
	KIND_REPLACE, /* a regular file, replaced by rename */
	KIND_INTO,    /* a device, FIFO or open descriptor, written into */
};

struct outfile {
	enum kind kind;
	char *name;    /* as given, for messages */
	int fd;	       /* where the data goes; -1 until a waiting FIFO is opened */
	int fifo_fd;   /* KIND_INTO: an O_PATH descriptor of a FIFO to open when writing */
	int dirfd;     /* KIND_REPLACE: the directory the file is replaced in */
	char *base;    /* KIND_REPLACE: its name there */
	char *tmp;     /* KIND_REPLACE: the temporary's name, NULL while unnamed (O_TMPFILE) */
	int write_err; /* the stream's first write error, as -errno */
};

static void outfile_free(struct outfile *o)
{
	if (o->fd >= 0)
		(void)close(o->fd);
	if (o->fifo_fd >= 0)
		(void)close(o->fifo_fd);
	if (o->dirfd >= 0)
		(void)close(o->dirfd);
	free(o->name);
	free(o->base);
	free(o->tmp);
	free(o);
}

/*
 * The descriptor that "-", /dev/stdout, /dev/stderr and /dev/fd/N name:
 * written into through a copy, as a shell writes to them. Opening
 * /dev/stdout by path would truncate a file that stdout was redirected to
 * with >>, or replace it. -1 when path is none of these.
 */
static int named_descriptor(const char *path)
{
	static const char *const fd_dirs[] = {"/dev/fd/", "/proc/self/fd/"};
	uint64_t n;

	if (strcmp(path, "-") == 0 || strcmp(path, "/dev/stdout") == 0)
		return 1;
	if (strcmp(path, "/dev/stderr") == 0)
		return 2;
	for (size_t i = 0; i < sizeof(fd_dirs) / sizeof(fd_dirs[0]); i++) {
		size_t k = strlen(fd_dirs[i]);

		if (strncmp(path, fd_dirs[i], k) == 0 &&
		    parse_uint(path + k, 0, INT32_MAX, &n) == 0 && fcntl((int)n, F_GETFD) >= 0)
			return (int)n;
	}
	return -1;
}

/* Open the directory holding path (relative to dirfd) into o->dirfd, its last part into o->base. */
static int split(struct outfile *o, int dirfd, const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;

	if (!*path)
		return -ENOENT;
	if (slash && !slash[1])
		return -EISDIR; /* "out/": a directory's name */
	o->base = strdup(slash ? slash + 1 : path);
	dir = slash == path ? strdup("/")
	      : slash	    ? strndup(path, (size_t)(slash - path))
			    : strdup(".");
	if (!o->base || !dir) {
		free(dir);
		return -ENOMEM;
	}
	o->dirfd = openat(dirfd, dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	return o->dirfd < 0 ? -errno : 0;
}

/* A fresh file in o->dirfd: unnamed when the file system can, else a new name beside o->base. */
static int create_temp(struct outfile *o)
{
	o->fd = openat(o->dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (o->fd >= 0)
		return 0;
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return -errno;
	for (int tries = 0; tries < 100; tries++) {
		uint32_t rnd;

		if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
			rnd = (uint32_t)getpid() * 2654435761u ^ (uint32_t)clock() ^
			      (uint32_t)tries;
		free(o->tmp);
		if (asprintf(&o->tmp, "%s.tmp.%08x", o->base, rnd) < 0) {
			o->tmp = NULL;
			return -ENOMEM;
		}
		o->fd = openat(o->dirfd, o->tmp,
			       O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (o->fd >= 0)
			return 0;
		if (errno != EEXIST)
			break;
	}
	free(o->tmp);
	o->tmp = NULL;
	return -errno;
}

/*
 * What path names, followed as `>` follows it: a regular file to replace
 * (found by its real path, so a symlink stays a symlink), or anything else
 * to write into.
 */
static int classify(struct outfile *o, int dirfd, const char *path)
{
	char proc[64], *real = NULL;
	struct stat st;
	int pfd, r;

	pfd = openat(dirfd, path, O_PATH | O_CLOEXEC);
	if (pfd < 0) {
		if (errno != ENOENT)
			return -errno;
		/* Nothing there: a new file, unless a symlink points at nothing. */
		if (fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0)
			return -ENOENT;
		o->kind = KIND_REPLACE;
		return split(o, dirfd, path);
	}
	if (fstat(pfd, &st) < 0) {
		r = -errno;
		(void)close(pfd);
		return r;
	}
	if (S_ISDIR(st.st_mode)) {
		(void)close(pfd);
		return -EISDIR;
	}
	(void)snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
	if (!S_ISREG(st.st_mode)) {
		o->kind = KIND_INTO;
		/* Non-blocking, so a FIFO without a reader says so instead of waiting. */
		o->fd = open(proc, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
		if (o->fd < 0 && errno == ENOENT) /* no /proc */
			o->fd = openat(dirfd, path, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
		if (o->fd < 0 && errno == ENXIO && S_ISFIFO(st.st_mode)) {
			o->fifo_fd = pfd;
			return 0;
		}
		(void)close(pfd);
		if (o->fd < 0)
			return -errno;
		/* Writes must wait for a full pipe to drain, not fail. */
		r = fcntl(o->fd, F_GETFL);
		if (r < 0 || fcntl(o->fd, F_SETFL, r & ~O_NONBLOCK) < 0)
			return -errno;
		return 0;
	}
	/* A regular file, perhaps at the end of symlinks: replace it where it really is. */
	o->kind = KIND_REPLACE;
	real = malloc(PATH_MAX);
	if (!real) {
		(void)close(pfd);
		return -ENOMEM;
	}
	r = (int)readlink(proc, real, PATH_MAX - 1);
	(void)close(pfd);
	if (r > 0 && real[0] == '/') {
		real[r] = '\0';
		r = split(o, AT_FDCWD, real);
	} else if (realpath(path, real)) {
		r = split(o, AT_FDCWD, real);
	} else {
		r = split(o, dirfd, path);
	}
	free(real);
	return r;
}

int outfile_open_at(int dirfd, const char *path, unsigned flags, struct outfile **ret)
{
	struct outfile *o = calloc(1, sizeof(*o));
	int fd, r;

	if (!o)
		return -ENOMEM;
	o->fd = o->fifo_fd = o->dirfd = -1;
	o->name = strdup(strcmp(path, "-") == 0 ? "standard output" : path);
	if (!o->name) {
		r = -ENOMEM;
		goto fail;
	}
	fd = flags & OUTFILE_REPLACE ? -1 : named_descriptor(path);
	if (fd >= 0) {
		o->kind = KIND_INTO;
		o->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		r = o->fd < 0 ? -errno : 0;
	} else if (flags & OUTFILE_REPLACE) {
		o->kind = KIND_REPLACE;
		r = split(o, dirfd, path);
	} else {
		r = classify(o, dirfd, path);
	}
	if (r == 0 && o->kind == KIND_REPLACE)
		r = create_temp(o);
	if (r < 0)
		goto fail;
	*ret = o;
	return 0;
fail:
	outfile_free(o);
	return r;
}

int outfile_open(const char *path, struct outfile **ret)
{
	return outfile_open_at(AT_FDCWD, path, 0, ret);
}

int outfile_fd(struct outfile *o)
{
	char proc[64];

	if (o->fd < 0 && o->fifo_fd >= 0) {
		/* The FIFO's reader may come now; this waits for it, as `>` would have. */
		(void)snprintf(proc, sizeof(proc), "/proc/self/fd/%d", o->fifo_fd);
		do
			o->fd = open(proc, O_WRONLY | O_NOCTTY | O_CLOEXEC);
		while (o->fd < 0 && errno == EINTR);
		if (o->fd < 0)
			return -errno;
		(void)close(o->fifo_fd);
		o->fifo_fd = -1;
	}
	return o->fd >= 0 ? o->fd : -EBADF;
}

bool outfile_is_regular(const struct outfile *o)
{
	return o->kind == KIND_REPLACE;
}

const char *outfile_name(const struct outfile *o)
{
	return o->name;
}

/* Give the unnamed temporary a name, so it can be renamed over the target. */
static int link_temp(struct outfile *o)
{
	char proc[64];
	int r = -EEXIST;

	(void)snprintf(proc, sizeof(proc), "/proc/self/fd/%d", o->fd);
	for (int tries = 0; tries < 100 && r == -EEXIST; tries++) {
		uint32_t rnd;

		if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
			rnd = (uint32_t)getpid() * 2654435761u ^ (uint32_t)tries;
		free(o->tmp);
		if (asprintf(&o->tmp, "%s.tmp.%08x", o->base, rnd) < 0) {
			o->tmp = NULL;
			return -ENOMEM;
		}
		r = linkat(AT_FDCWD, proc, o->dirfd, o->tmp, AT_SYMLINK_FOLLOW) == 0 ? 0 : -errno;
		if (r == -ENOENT) /* no /proc: AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH */
			r = linkat(o->fd, "", o->dirfd, o->tmp, AT_EMPTY_PATH) == 0 ? 0 : -errno;
	}
	if (r < 0) {
		free(o->tmp);
		o->tmp = NULL;
	}
	return r;
}

int outfile_commit(struct outfile *o)
{
	int r = o->write_err;

	if (r == 0 && o->fd < 0)
		r = outfile_fd(o);
	if (r < 0) {
		outfile_abort(o);
		return r;
	}
	if (o->kind == KIND_INTO) {
		r = close(o->fd) < 0 && errno != EINTR ? -errno : 0;
		o->fd = -1;
		outfile_free(o);
		return r;
	}
	/* The data on disk before the name points at it: a crash leaves the old file or the new. */
	if (fsync(o->fd) < 0 && errno != EINVAL && errno != EROFS)
		r = -errno;
	if (r == 0 && !o->tmp)
		r = link_temp(o);
	if (r == 0 && renameat(o->dirfd, o->tmp, o->dirfd, o->base) < 0)
		r = -errno;
	if (r == 0) {
		free(o->tmp);
		o->tmp = NULL;
		if (close(o->fd) < 0 && errno != EINTR)
			r = -errno;
		o->fd = -1;
		outfile_free(o);
		return r;
	}
	outfile_abort(o);
	return r;
}

void outfile_abort(struct outfile *o)
{
	if (!o)
		return;
	if (o->tmp && o->dirfd >= 0)
		(void)unlinkat(o->dirfd, o->tmp, 0);
	outfile_free(o);
}

static ssize_t stream_write(void *cookie, const char *buf, size_t n)
{
	struct outfile *o = cookie;
	size_t done = 0;
	int fd = outfile_fd(o);

	if (fd < 0) {
		if (!o->write_err)
			o->write_err = fd;
		errno = -fd;
		return 0;
	}
	while (done < n) {
		ssize_t w = write(fd, buf + done, n - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (!o->write_err)
				o->write_err = w < 0 ? -errno : -EIO;
			/* fopencookie: 0 reports the error; never negative. */
			return (ssize_t)done;
		}
		done += (size_t)w;
	}
	return (ssize_t)n;
}

FILE *outfile_stream(struct outfile *o)
{
	static const cookie_io_functions_t io = {.write = stream_write};

	return fopencookie(o, "w", io);
}

int outfile_finish(struct outfile *o, FILE *f, int r)
{
	if (ferror(f) && r == 0)
		r = -EIO;
	if (fclose(f) != 0 && r == 0)
		r = -EIO;
	/* A writer's generic -EIO is the stream's error: say which (ENOSPC, EPIPE…). */
	if (r == -EIO && o->write_err)
		r = o->write_err;
	if (r < 0) {
		outfile_abort(o);
		return r;
	}
	return outfile_commit(o);
}
