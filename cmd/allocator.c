/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/allocator.h"
#include "lib/base/parse.h"
#include "lib/perf/ring.h"
#include "lib/perf/sampler.h"
#include "symbolize/probe.h"

#define PRELOAD_NAME "libcprof-alloc.so"

static const char *const funcs[KIND_ALLOC_NFUNCS] = {
	[KIND_ALLOC_MALLOC] = "malloc",
	[KIND_ALLOC_CALLOC] = "calloc",
	[KIND_ALLOC_REALLOC] = "realloc",
	[KIND_ALLOC_MEMALIGN] = "memalign",
	[KIND_ALLOC_ALIGNED_ALLOC] = "aligned_alloc",
	[KIND_ALLOC_POSIX_MEMALIGN] = "posix_memalign",
	[KIND_ALLOC_FREE] = "free",
};

/* The hooks of the preload library at path. Returns 0 or probe_offset's error. */
static int find_hooks(struct allocator *a)
{
	int r = probe_offset(a->path, "cprof_alloc_sampled",
			     &a->target.offsets[KIND_ALLOC_HOOK_SAMPLED]);

	if (r == 0)
		r = probe_offset(a->path, "cprof_alloc_freed",
				 &a->target.offsets[KIND_ALLOC_HOOK_FREED]);
	a->target.hooks = true;
	a->target.path = a->path;
	return r;
}

/* The malloc family in the file at a->path: 0, or -ESRCH when it has no malloc. */
static int find_funcs(struct allocator *a)
{
	uint64_t *off = a->target.offsets;

	for (int f = 0; f < KIND_ALLOC_NFUNCS; f++) {
		int r = probe_offset(a->path, funcs[f], &off[f]);

		if (r < 0 && (f == KIND_ALLOC_MALLOC || r != -ESRCH))
			return r;
		if (r < 0)
			off[f] = 0;
	}
	/* glibc before 2.38 has aligned_alloc as another name of memalign: one probe. */
	if (off[KIND_ALLOC_ALIGNED_ALLOC] == off[KIND_ALLOC_MEMALIGN])
		off[KIND_ALLOC_ALIGNED_ALLOC] = 0;
	a->target.hooks = false;
	a->target.path = a->path;
	return 0;
}

static bool try_preload(struct allocator *a, const char *path)
{
	if ((size_t)snprintf(a->path, sizeof(a->path), "%s", path) >= sizeof(a->path) ||
	    access(a->path, R_OK) != 0)
		return false;
	return true;
}

int allocator_for_command(uint64_t rate, struct allocator *ret)
{
	const char *env = getenv("CPROF_ALLOC_LIBRARY");
	char exe[PATH_MAX], *slash;
	ssize_t n;
	int r;

	*ret = (struct allocator){.target.rate = rate};
	if (env && *env) {
		if (!try_preload(ret, env))
			return -ENOENT;
	} else {
		/* The build tree: build/cmd/cprof beside build/preload/. */
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		exe[n > 0 ? n : 0] = '\0';
		slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		if (!(n > 0 && slash &&
		      try_preload(ret, strcat(exe, "/../preload/" PRELOAD_NAME))) &&
		    !try_preload(ret, CPROF_PRELOAD_DIR "/" PRELOAD_NAME))
			return -ENOENT;
	}
	/* ld.so wants the path whole; realpath also leaves no ".." for the uprobe. */
	if (!realpath(ret->path, ret->preload))
		return -errno;
	(void)snprintf(ret->path, sizeof(ret->path), "%s", ret->preload);
	r = find_hooks(ret);
	return r == -ESRCH ? -ENOEXEC : r;
}

/* CPROF_ALLOC_RATE in process pid's environment: the rate its preload library samples at. */
static uint64_t environ_rate(int32_t pid)
{
	char path[64], buf[65536];
	uint64_t rate = ALLOCATOR_DEFAULT_RATE;
	size_t n;
	FILE *f;

	(void)snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	f = fopen(path, "re");
	if (!f)
		return rate;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	(void)fclose(f);
	buf[n] = '\0';
	for (size_t i = 0; i < n; i += strlen(buf + i) + 1)
		if (strncmp(buf + i, "CPROF_ALLOC_RATE=", 17) == 0)
			(void)parse_uint(buf + i + 17, 0, UINT64_MAX, &rate);
	return rate;
}

static bool is_libc(const char *base)
{
	return strncmp(base, "libc.so", 7) == 0 || strncmp(base, "libc-", 5) == 0 ||
	       strncmp(base, "ld-musl", 7) == 0;
}

int allocator_for_process(int32_t pid, uint64_t rate, struct allocator *ret)
{
	char path[64], line[PATH_MAX + 128], libc[PATH_MAX] = "";
	bool preloaded = false;
	FILE *f;
	int r;

	*ret = (struct allocator){.target.rate = rate};
	(void)snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (fgets(line, sizeof(line), f)) {
		char *file = strchr(line, '/'), *base;

		if (!file || !strstr(line, " r-xp "))
			continue;
		file[strcspn(file, "\n")] = '\0';
		if (strstr(file, " (deleted)"))
			continue;
		base = strrchr(file, '/') + 1;
		if (!preloaded && strncmp(base, PRELOAD_NAME, strlen(PRELOAD_NAME)) == 0) {
			(void)snprintf(ret->path, sizeof(ret->path), "/proc/%d/root%s", pid, file);
			preloaded = true;
		}
		if (!libc[0] && is_libc(base))
			(void)snprintf(libc, sizeof(libc), "%s", file);
	}
	(void)fclose(f);
	if (preloaded && find_hooks(ret) == 0) {
		ret->target.rate = environ_rate(pid);
		return 0;
	}
	/* The executable first: a static one, or one with an allocator of its own. */
	(void)snprintf(ret->path, sizeof(ret->path), "/proc/%d/exe", pid);
	r = find_funcs(ret);
	if (r == 0 || !libc[0])
		return r == -ESRCH || r == -ENOEXEC ? -ENOENT : r;
	(void)snprintf(ret->path, sizeof(ret->path), "/proc/%d/root%s", pid, libc);
	r = find_funcs(ret);
	return r == -ESRCH || r == -ENOEXEC ? -ENOENT : r;
}

/* The function the trap cost is measured on: a call and a return, nothing else. */
void cprof_trap_target(void);
__attribute__((noinline)) void cprof_trap_target(void)
{
	__asm__ volatile("" ::: "memory");
}

static uint64_t now_ns(void)
{
	struct timespec t;

	(void)clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000 + (uint64_t)t.tv_nsec;
}

/* Time n calls of the target. */
static uint64_t time_calls(int n)
{
	uint64_t t0 = now_ns();

	for (int i = 0; i < n; i++)
		cprof_trap_target();
	return now_ns() - t0;
}

void allocator_measure_trap(struct allocator *a, uint32_t stack_size)
{
	enum { BATCH = 50, BATCHES = 20 };
	char exe[PATH_MAX];
	struct sampler_event ev;
	struct sampler *s = NULL;
	uint64_t off, probed = 0, plain;
	int32_t self = (int32_t)gettid();
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	a->target.trap_ns = 0;
	if (n <= 0)
		return;
	exe[n] = '\0';
	if (probe_offset(exe, "cprof_trap_target", &off) < 0 ||
	    sampler_event_probe("trap", "cprof_trap_target", exe, off, &ev) < 0)
		return;
	{
		struct sampler_spec spec = {.type = ev.type,
					    .config1 = ev.config1,
					    .config2 = ev.config2,
					    .rate = 1,
					    .stack = true,
					    .user_stack = true,
					    .regs = true};
		struct sampler_config cfg = {.events = &spec,
					     .nevents = 1,
					     .callgraph = SAMPLER_CALLGRAPH_DWARF,
					     .stack_size = stack_size,
					     .exclude_kernel = true};

		if (sampler_open(&cfg, &self, 1, &s) < 0 || sampler_enable(s) < 0)
			goto out;
	}
	/* Batches small enough for the rings, emptied between them (not timed). */
	for (int b = 0; b < BATCHES; b++) {
		probed += time_calls(BATCH);
		for (size_t i = 0; i < sampler_nrings(s); i++) {
			struct ring *r = sampler_ring(s, i);

			(void)ring_read_init(r);
			while (ring_next(r))
				;
			ring_read_done(r);
		}
	}
	(void)sampler_disable(s);
	plain = time_calls(BATCH * BATCHES);
	if (probed > plain)
		a->target.trap_ns = (probed - plain) / (BATCH * BATCHES);
out:
	sampler_free(s);
}

int allocator_export(const struct allocator *a)
{
	const char *old = getenv("LD_PRELOAD");
	char rate[32], *list;
	int r;

	if (old && *old) {
		if (asprintf(&list, "%s:%s", a->preload, old) < 0)
			return -ENOMEM;
	} else {
		list = strdup(a->preload);
		if (!list)
			return -ENOMEM;
	}
	(void)snprintf(rate, sizeof(rate), "%llu", (unsigned long long)a->target.rate);
	r = setenv("LD_PRELOAD", list, 1) < 0 || setenv("CPROF_ALLOC_RATE", rate, 1) < 0 ? -errno
											 : 0;
	free(list);
	return r;
}
