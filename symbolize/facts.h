/* SPDX-License-Identifier: MIT */
#ifndef CPROF_SYMBOLIZE_FACTS_H
#define CPROF_SYMBOLIZE_FACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "symbolize/internal.h"

/*
 * What the unwinder learns of a file by reading all of it, kept in cprof's
 * cache (lib/base/cache.h) across runs, one file per build id
 * (facts-BUILDID): whether its CFI is sane (cfi.c walks every CIE and FDE
 * before libdw may run one) and where its classed functions lie (elfsyms.c
 * reads the whole symbol table for them). For CPython and node these two
 * walks were a fifth of a warm recording's CPU.
 *
 * The facts are believed only for the same file: its build id, and its
 * device, inode, size, modification and change times as they are now. A
 * file rewritten in place, even with its mtime put back, has a new ctime,
 * which nobody but the kernel sets. The cache file itself is checked as
 * every cache file is (cache_read), and every count and range in it before
 * anything is used; anything amiss is no facts, replaced on the next save.
 */
struct cache;

struct file_facts {
	bool cfi_known, cfi_sane;
	bool classes_known;
	struct fn_range *classes; /* owned; free with facts_release */
	size_t nclasses;
};

/* The most classed functions a file's facts hold: far past any real file's. */
#define FACTS_MAX_CLASSES 4096

/*
 * The facts of build_id (lowercase hex) for the file id. Returns 0 and
 * *ret, -ENOENT when none are kept, -ESTALE when they are another file's,
 * -EBADMSG when damaged or of another version, or cache_read's -errno.
 */
int facts_load(struct cache *c, const char *build_id, const struct facts_id *id,
	       struct file_facts *ret);

/* Keep what of f is known. Returns 0 or -errno. */
int facts_save(struct cache *c, const char *build_id, const struct facts_id *id,
	       const struct file_facts *f);

/* Parse a facts file (exposed for tests). Returns 0, -ESTALE, -EBADMSG or -ENOMEM. */
int facts_parse(const void *data, size_t len, const char *build_id, const struct facts_id *id,
		struct file_facts *ret);

/* Free what facts_load or facts_parse gave. */
void facts_release(struct file_facts *f);

#endif
