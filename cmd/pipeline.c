/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/pipeline.h"
#include "lib/base/cache.h"
#include "lib/base/log.h"

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
