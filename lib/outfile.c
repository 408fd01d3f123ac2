/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/outfile.h"

struct outfile {
	char *path;
	char *tmp;
	int fd;
};

int outfile_open(const char *path, struct outfile **ret)
{
	struct outfile *o;
	struct stat st;
	int r;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return -EISDIR;
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->fd = -1;
	o->path = strdup(path);
	if (!o->path || asprintf(&o->tmp, "%s.tmp.XXXXXX", path) < 0) {
		o->tmp = NULL;
		r = -ENOMEM;
		goto fail;
	}
	/* mkstemp creates the file 0600 already. */
	o->fd = mkostemp(o->tmp, O_CLOEXEC);
	if (o->fd < 0) {
		r = -errno;
		goto fail;
	}
	*ret = o;
	return 0;
fail:
	free(o->tmp);
	free(o->path);
	free(o);
	return r;
}

int outfile_fd(const struct outfile *o)
{
	return o->fd;
}

int outfile_commit(struct outfile *o)
{
	int r = 0;

	if (fsync(o->fd) < 0 && errno != EINVAL)
		r = -errno;
	if (close(o->fd) < 0 && r == 0)
		r = -errno;
	o->fd = -1;
	if (r == 0 && rename(o->tmp, o->path) < 0)
		r = -errno;
	if (r < 0)
		(void)unlink(o->tmp);
	free(o->tmp);
	free(o->path);
	free(o);
	return r;
}

void outfile_abort(struct outfile *o)
{
	if (!o)
		return;
	if (o->fd >= 0)
		(void)close(o->fd);
	(void)unlink(o->tmp);
	free(o->tmp);
	free(o->path);
	free(o);
}

FILE *outfile_stream(struct outfile *o)
{
	int fd = dup(o->fd);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (fd >= 0 && !f)
		(void)close(fd);
	return f;
}

int outfile_finish(struct outfile *o, FILE *f, int r)
{
	if (ferror(f) && r == 0)
		r = -EIO;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r < 0) {
		outfile_abort(o);
		return r;
	}
	return outfile_commit(o);
}
