/* SPDX-License-Identifier: MIT */
/*
 * Symbolize a pprof file again, from scratch, with cprof's symbolizer:
 * every location loses its lines and is looked up anew. For tests (kernel
 * images given by hand) and for the symbolization benchmark, which it
 * tells on stderr how long symbolization took.
 *	resymbolize [--vmlinux FILE] [--debuginfo-path PATH] [--only PATH] [--cache yes] IN OUT
 * --only: just the locations in mappings of file PATH (others are kept as they are).
 * --cache yes: with cprof's cache (CPROF_CACHE_DIR), its saved names read and kept;
 * without, every name is computed.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/base/cache.h"
#include "lib/profile/profile.h"
#include "proto/pprof.h"
#include "symbolize/symbolize.h"

int main(int argc, char **argv)
{
	struct symbolize_options opts = {0};
	struct symbolize_stats st;
	struct symbolize *s;
	struct profile *p;
	struct timespec t0, t1;
	const char *only = NULL;
	struct cache *cache = NULL;
	bool with_cache = false;
	char *dir = NULL;
	int i = 1, fd, r;

	for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (strcmp(argv[i], "--vmlinux") == 0)
			opts.vmlinux = argv[i + 1];
		else if (strcmp(argv[i], "--debuginfo-path") == 0)
			opts.debuginfo_path = argv[i + 1];
		else if (strcmp(argv[i], "--only") == 0)
			only = argv[i + 1];
		else if (strcmp(argv[i], "--cache") == 0 && strcmp(argv[i + 1], "yes") == 0)
			with_cache = true;
	}
	if (argc - i != 2) {
		fprintf(stderr,
			"usage: resymbolize [--vmlinux FILE] [--debuginfo-path PATH] IN OUT\n");
		return 2;
	}
	if (pprof_read_file(argv[i], 0, &p) < 0) {
		fprintf(stderr, "resymbolize: cannot read %s\n", argv[i]);
		return 1;
	}
	for (size_t k = 0; k < p->nlocations; k++) {
		const struct profile_mapping *m = profile_mapping(p, p->locations[k].mapping);

		if (only && (!m || strcmp(profile_str(p, m->file), only) != 0))
			continue;
		p->locations[k].flags &= ~(uint32_t)PROFILE_LOCATION_SYMBOLIZED;
		p->locations[k].nline = 0;
	}
	if (with_cache && (cache_dir_path(&dir) < 0 || cache_open(dir, &cache) < 0)) {
		fprintf(stderr, "resymbolize: cannot use the cache directory %s\n", dir ? dir : "");
		return 1;
	}
	free(dir);
	opts.cache = cache;
	if (symbolize_new(&opts, &s) < 0)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = symbolize_profile(s, p, &st);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr,
		"resymbolize: %llu locations, %llu resolved, %llu from the symbol cache, %llu "
		"computed, in %.3f s\n",
		(unsigned long long)st.locations, (unsigned long long)st.resolved,
		(unsigned long long)st.cached, (unsigned long long)st.computed,
		(double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	fd = open(argv[i + 1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (r < 0 || fd < 0 || pprof_write(p, fd) < 0)
		return 1;
	close(fd);
	symbolize_free(s);
	cache_free(cache);
	profile_free(p);
	return 0;
}
