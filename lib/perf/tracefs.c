/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "lib/perf/tracefs.h"

#define TRACEFS_MAGIC 0x74726163
#define DEBUGFS_MAGIC 0x64626720

/* The tracefs mount: its path, or NULL when none is mounted. */
static const char *tracefs_root(void)
{
	static const char *const roots[] = {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"};

	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		struct statfs sf;
		char probe[64];

		if (statfs(roots[i], &sf) < 0 ||
		    (sf.f_type != TRACEFS_MAGIC && (uint64_t)sf.f_type != DEBUGFS_MAGIC))
			continue;
		/* An empty mount point in debugfs is not tracefs yet. */
		(void)snprintf(probe, sizeof(probe), "%s/events", roots[i]);
		if (access(probe, F_OK) == 0 || errno == EACCES)
			return roots[i];
	}
	return NULL;
}

static bool name_ok(const char *s)
{
	return s[0] && !strchr(s, '/') && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

/* Read events/SYSTEM/EVENT/FILE (a small kernel file) into buf. Returns its length or <0. */
static int read_event_file(const char *system, const char *event, const char *file, char *buf,
			   size_t size)
{
	const char *root = tracefs_root();
	char path[512];
	ssize_t n, total = 0;
	int fd;

	if (!name_ok(system) || !name_ok(event))
		return -EINVAL;
	if (!root) {
		/* Not mounted, or hidden from us: which it is, /sys/kernel/tracing says. */
		return access("/sys/kernel/tracing", R_OK | X_OK) < 0 && errno == EACCES ? -EACCES
											 : -ENODEV;
	}
	if (snprintf(path, sizeof(path), "%s/events/%s/%s/%s", root, system, event, file) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? -ENOENT : -errno;
	while ((size_t)total + 1 < size &&
	       (n = read(fd, buf + total, size - 1 - (size_t)total)) > 0)
		total += n;
	(void)close(fd);
	buf[total] = '\0';
	return (int)total;
}

int tracefs_event_id(const char *system, const char *event, uint64_t *ret)
{
	char buf[32], *end;
	int r = read_event_file(system, event, "id", buf, sizeof(buf));

	if (r < 0)
		return r;
	errno = 0;
	*ret = strtoull(buf, &end, 10);
	return errno || end == buf ? -EINVAL : 0;
}

int tracefs_field(const char *system, const char *event, const char *name,
		  struct tracefs_field *ret)
{
	char *buf = malloc(16384), *line, *save = NULL;
	size_t nlen = strlen(name);
	int r;

	if (!buf)
		return -ENOMEM;
	r = read_event_file(system, event, "format", buf, 16384);
	if (r < 0) {
		free(buf);
		return r;
	}
	r = -ENOENT;
	/* "\tfield:long prev_state;\toffset:32;\tsize:8;\tsigned:1;" */
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *decl = strstr(line, "field:"), *semi, *p;
		unsigned off, size, sign;

		if (!decl || !(semi = strchr(decl, ';')))
			continue;
		*semi = '\0';
		p = semi;
		/* The declaration's last word is the name, perhaps with [N]. */
		while (p > decl && p[-1] != ' ')
			p--;
		if (strncmp(p, name, nlen) != 0 || (p[nlen] != '\0' && p[nlen] != '['))
			continue;
		if (sscanf(semi + 1, " offset:%u; size:%u; signed:%u;", &off, &size, &sign) != 3)
			continue;
		*ret = (struct tracefs_field){.offset = off, .size = size, .is_signed = sign};
		r = 0;
		break;
	}
	free(buf);
	return r;
}

int64_t tracefs_read(const struct tracefs_field *f, const void *raw, uint32_t raw_size)
{
	const unsigned char *p = raw;

	if (!raw || f->offset > raw_size || raw_size - f->offset < f->size)
		return 0;
	p += f->offset;
	switch (f->size) {
	case 1:
		return f->is_signed ? (int64_t)(int8_t)*p : (int64_t)*p;
	case 2: {
		uint16_t v;

		memcpy(&v, p, 2);
		return f->is_signed ? (int64_t)(int16_t)v : (int64_t)v;
	}
	case 4: {
		uint32_t v;

		memcpy(&v, p, 4);
		return f->is_signed ? (int64_t)(int32_t)v : (int64_t)v;
	}
	case 8: {
		int64_t v;

		memcpy(&v, p, 8);
		return v;
	}
	default:
		return 0;
	}
}
