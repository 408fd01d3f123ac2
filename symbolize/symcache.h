/* SPDX-License-Identifier: MIT */
#ifndef CPROF_SYMBOLIZE_SYMCACHE_H
#define CPROF_SYMBOLIZE_SYMCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "symbolize/internal.h"

/*
 * A file's symbolized addresses, kept in cprof's cache (lib/base/cache.h) across
 * runs, one file per build id (names-BUILDID). Naming an address from
 * DWARF first inflates the debug file's sections (libc6-dbg's: some
 * 120 ms of CPU), and what a build id's addresses are called cannot change
 * — unless its debug file does: the cache records which debug file its
 * names came from (device, inode, size, mtime; or none, or the file's own
 * DWARF) and is not used when another is found now.
 *
 * The file is someone else's input like any other: cache_read's rules say
 * who wrote it, and the loader checks every count, offset and order before
 * anything in it is believed; anything amiss is an empty cache, replaced on
 * the next save. Native byte order: it never leaves the machine.
 */
struct symcache;
struct cache;

/* What an address was called. */
struct symcache_result {
	size_t nframes;	     /* frames written, 0 for a name-less address */
	uint64_t sym_offset; /* into its ELF symbol, when has_sym_offset */
	bool has_sym_offset;
	bool dwarf;   /* the frames came from DWARF (lines, inline chain) */
	uint64_t end; /* symcache_find: where the span holding the address ends */
};

/*
 * The cached names of build_id (lowercase hex) from debug file debug, or an
 * empty cache to fill. c may be NULL: nothing is read or written then.
 * Returns 0 and *ret (free with symcache_free), or -ENOMEM.
 */
int symcache_open(struct cache *c, const char *build_id, const struct elf_debug_id *debug,
		  struct symcache **ret);

/* NULL-safe. */
void symcache_free(struct symcache *sc);

/*
 * The cached names at vaddr (the file's own address, of the instruction
 * itself: a return address already minus one): frames[0..max) (strings
 * borrowed until symcache_free) and *ret. False when no entry's span holds
 * vaddr.
 */
bool symcache_find(const struct symcache *sc, uint64_t vaddr, struct sym_frame *frames, size_t max,
		   struct symcache_result *ret);

/*
 * Remember the names of vaddr for every address in [span[0], span[1]),
 * which the caller knows are named alike, their symbol offsets growing
 * with the address (strings copied; past a bound on what one run adds,
 * nothing). A span that does not hold vaddr keeps vaddr alone; one that
 * meets other entries is cut short of them. Returns 0 or -ENOMEM.
 */
int symcache_add(struct symcache *sc, uint64_t vaddr, const uint64_t span[2],
		 const struct sym_frame *frames, const struct symcache_result *res);

/*
 * Write what was added, with what was loaded, back to the cache, whole or
 * not at all, then trim the cache's name files to their size bound, oldest
 * first. Nothing to do when nothing was added. Returns 0 or -errno.
 */
int symcache_save(struct symcache *sc);

/* Parse a names file (exposed for the fuzz target). Returns 0, -EBADMSG or -ENOMEM. */
int symcache_parse(const char *data, size_t len, const char *build_id,
		   const struct elf_debug_id *debug, struct symcache *sc);

#endif
