/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/pipeline.h"
#include "lib/base/cache.h"
#include "lib/base/log.h"
#include "lib/base/outfile.h"
#include "lib/views/stacks.h"
#include "lib/views/view.h"
#include "proto/pprof.h"

const char *cache_refusal(int r)
{
	switch (r) {
	case -ELOOP:
		return "it is a symlink";
	case -EPERM:
		return "it belongs to another user, or is not a plain file or directory";
	case -EACCES:
		return "others may write to it";
	case -EFBIG:
		return "it is too large";
	case -EBADMSG:
		return "it is damaged or of another format";
	default:
		return strerror(-r);
	}
}

/*
 * cprof's cache (lib/base/cache.h), or NULL: caching is an optimization, never a
 * reason to fail. A directory that is not the user's own alone (sudo
 * leaving HOME at another user's, a symlink into /tmp) is not used, and -v
 * says why.
 */
static struct cache *open_cache(void)
{
	struct cache *c = NULL;
	char *dir = NULL;
	int r;

	r = cache_dir_path(&dir);
	if (r == 0)
		r = cache_open(dir, &c);
	if (r < 0 && r != -ECANCELED) /* CPROF_CACHE_DIR= turns it off: nothing to say */
		log_info("not using the cache directory '%s': %s", dir ? dir : "(none)",
			 cache_refusal(r));
	free(dir);
	return c;
}

int pipeline_open(struct pipeline *p, struct symbolize_options opts, struct collector_config *cfg)
{
	int r;

	memset(p, 0, sizeof(*p));
	p->cache = open_cache();
	opts.cache = p->cache;
	r = symbolize_new(&opts, &p->sym);
	if (r < 0)
		return cmd_fail(r, NULL, "setting up the symbolizer");
	symbolize_bind(p->sym, &p->observer);
	symbolize_bind_collector(p->sym, &p->symbolizer);
	cfg->session.observer = &p->observer;
	cfg->symbolizer = &p->symbolizer;
	if (cfg->session.sampler.callgraph == SAMPLER_CALLGRAPH_DWARF) {
		/* The unwinder opens files while processes run; the symbolizer reuses them. */
		r = unwind_new(symbolize_files(p->sym), &p->unwinder);
		if (r < 0)
			return cmd_fail(r, NULL, "setting up the unwinder");
		unwind_bind(p->unwinder, &p->unwinder_ops);
		cfg->session.unwinder = &p->unwinder_ops;
	}
	return 0;
}

void pipeline_close(struct pipeline *p)
{
	unwind_free(p->unwinder);
	symbolize_free(p->sym);
	cache_free(p->cache);
	memset(p, 0, sizeof(*p));
}

void pipeline_add_comments(struct profile *p, int argc, char **argv)
{
	char *line = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&line, &len);
	struct utsname u;

	if (f) {
		fputs("cprof", f);
		for (int i = 0; i < argc; i++)
			fprintf(f, " %s", argv[i]);
		if (fclose(f) == 0)
			(void)profile_add_comment(p, line);
		free(line);
	}
	if (uname(&u) != 0)
		return;
	if (asprintf(&line, "host: %s", u.nodename) >= 0) {
		(void)profile_add_comment(p, line);
		free(line);
	}
	if (asprintf(&line, "kernel: %s %s", u.release, u.machine) >= 0) {
		(void)profile_add_comment(p, line);
		free(line);
	}
}

int pipeline_view(const struct profile *p, enum view_kind format, FILE *f)
{
	/* Our own recording: no bound on what its stacks may take. */
	struct stacks_options so = {.sample_index = (int)p->ntypes - 1, .max_memory = SIZE_MAX};
	struct view_options v = {.kind = format};
	struct stacks *st = NULL;
	int r = stacks_build(p, NULL, &so, &st);

	if (r == 0)
		r = view_write_to(&v, st, f);
	stacks_free(st);
	return r;
}

int pipeline_write(const struct profile *p, enum view_kind format, struct outfile *out)
{
	FILE *f;
	int r;

	if (format == VIEW_TOP) {
		r = outfile_fd(out);
		if (r >= 0)
			r = pprof_write(p, r);
		if (r < 0) {
			outfile_abort(out);
			return r;
		}
		return outfile_commit(out);
	}
	f = outfile_stream(out);
	if (!f) {
		r = -errno;
		outfile_abort(out);
		return r;
	}
	return outfile_finish(out, f, pipeline_view(p, format, f));
}

void pipeline_own_cost(struct own_cost *ret)
{
	unsigned long size, resident = 0;
	FILE *f = fopen("/proc/self/statm", "re");
	struct rusage ru;

	*ret = (struct own_cost){0};
	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		ret->cpu_seconds = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
				   (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
		ret->peak_resident_bytes = (double)ru.ru_maxrss * 1024.0;
	}
	if (f) {
		if (fscanf(f, "%lu %lu", &size, &resident) != 2)
			resident = 0;
		(void)fclose(f);
	}
	ret->resident_bytes = (double)resident * (double)sysconf(_SC_PAGESIZE);
}

void pipeline_add_cost(struct profile *p, const struct session_stats *st, bool say)
{
	struct own_cost cost;
	char line[256];
	char unwind[64] = "";

	pipeline_own_cost(&cost);
	if (st && st->unwind_median_ns)
		(void)snprintf(unwind, sizeof(unwind), ", unwinding %.1f us a stack (median)",
			       (double)st->unwind_median_ns / 1000.0);
	(void)snprintf(line, sizeof(line),
		       "cprof's cost: %.2f s of CPU, %.1f MiB peak resident, %llu records lost%s",
		       cost.cpu_seconds, cost.peak_resident_bytes / (1024.0 * 1024.0),
		       (unsigned long long)(st ? st->lost : 0), unwind);
	(void)profile_add_comment(p, line);
	if (say)
		log_info("%s", line);
}
