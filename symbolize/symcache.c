/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/cache.h"
#include "lib/base/hash.h"
#include "lib/base/log.h"
#include "lib/base/search.h"
#include "lib/base/vec.h"
#include "symbolize/symcache.h"

/*
 * The file: a header, the entries sorted by address, their frames, and the
 * strings the frames name (offset 0 is ""), each NUL-terminated.
 */
#define NAMES_PREFIX "names-"
#define NAMES_MAX_FILE ((size_t)64 << 20)     /* one file: far past any real binary's samples */
#define NAMES_MAX_TOTAL ((uint64_t)256 << 20) /* all of them: the oldest go first */
#define NAMES_MAX_FRAMES 64		      /* an inline chain deeper than this is cut */
/*
 * Addresses one run adds to one file's names: past this, names are
 * computed each time and not kept (a run of weeks over a large binary
 * meets ever more addresses; the memory stays bounded, ~100 bytes each).
 */
#define NAMES_MAX_ADDED (128u << 10)

/* Bumped whenever the names computed for an address change (PLT entries, demangling). */
static const char names_magic[8] = "cprofnm3"; /* 3: file names made absolute */

struct saved_header {
	char magic[8];
	char build_id[48];
	uint64_t debug_dev, debug_ino, debug_size, debug_mtime_ns;
	uint64_t debug_self;
	uint64_t nentries, nframes, strings_len;
};

enum entry_flags {
	ENTRY_SYM_OFFSET = 1 << 0,
	ENTRY_DWARF = 1 << 1,
};

struct saved_entry {
	uint64_t vaddr, sym_offset;
	uint32_t frame_off;
	uint16_t nframes, flags;
};

struct saved_frame {
	uint32_t name, system_name, file, unused;
	int64_t start_line, line;
};

/* A frame remembered in this run: its strings owned. */
struct new_frame {
	char *name, *system_name, *file;
	int64_t start_line, line;
};

struct symcache {
	struct cache *cache; /* borrowed; NULL: nothing is read or written */
	char file[sizeof(NAMES_PREFIX) + 48];
	char build_id[41];
	struct elf_debug_id debug;
	/* What was loaded: views into blob, checked by symcache_parse. */
	char *blob;
	const struct saved_entry *entries;
	size_t nentries;
	const struct saved_frame *frames;
	size_t nframes;
	const char *strings;
	size_t strings_len;
	/* What this run added, not yet saved. */
	struct saved_entry *added; /* frame_off into new_frames */
	size_t nadded, added_cap;
	struct new_frame *new_frames;
	size_t nnew_frames, new_frames_cap;
	struct hashmap added_index; /* by vaddr */
};

int symcache_parse(const char *data, size_t len, const char *build_id,
		   const struct elf_debug_id *debug, struct symcache *sc)
{
	struct saved_header h;
	const struct saved_entry *e;
	const struct saved_frame *fr;
	size_t size;

	if (len < sizeof(h))
		return -EBADMSG;
	memcpy(&h, data, sizeof(h));
	if (memcmp(h.magic, names_magic, sizeof(h.magic)) != 0 ||
	    strncmp(h.build_id, build_id, sizeof(h.build_id)) != 0)
		return -EBADMSG;
	/* Names from another debug file than the one found now are not these names. */
	if (h.debug_dev != debug->dev || h.debug_ino != debug->ino || h.debug_size != debug->size ||
	    h.debug_mtime_ns != debug->mtime_ns || h.debug_self != debug->self)
		return -ESTALE;
	if (h.nentries > len / sizeof(*e) || h.nframes > len / sizeof(*fr) || h.strings_len > len ||
	    h.strings_len == 0)
		return -EBADMSG;
	size = sizeof(h) + h.nentries * sizeof(*e) + h.nframes * sizeof(*fr) + h.strings_len;
	if (size != len)
		return -EBADMSG;
	e = (const void *)(data + sizeof(h));
	fr = (const void *)(data + sizeof(h) + h.nentries * sizeof(*e));
	sc->strings = data + sizeof(h) + h.nentries * sizeof(*e) + h.nframes * sizeof(*fr);
	if (sc->strings[0] || sc->strings[h.strings_len - 1])
		return -EBADMSG;
	for (size_t i = 0; i < h.nentries; i++)
		if ((i && e[i].vaddr <= e[i - 1].vaddr) || e[i].nframes > NAMES_MAX_FRAMES ||
		    e[i].frame_off > h.nframes || e[i].nframes > h.nframes - e[i].frame_off)
			return -EBADMSG;
	for (size_t i = 0; i < h.nframes; i++)
		if (fr[i].name >= h.strings_len || fr[i].system_name >= h.strings_len ||
		    fr[i].file >= h.strings_len)
			return -EBADMSG;
	sc->entries = e;
	sc->nentries = h.nentries;
	sc->frames = fr;
	sc->nframes = h.nframes;
	sc->strings_len = h.strings_len;
	return 0;
}

int symcache_open(struct cache *c, const char *build_id, const struct elf_debug_id *debug,
		  struct symcache **ret)
{
	struct symcache *sc = calloc(1, sizeof(*sc));
	size_t len;
	int r;

	if (!sc)
		return -ENOMEM;
	sc->cache = c;
	sc->debug = *debug;
	(void)snprintf(sc->build_id, sizeof(sc->build_id), "%s", build_id);
	(void)snprintf(sc->file, sizeof(sc->file), NAMES_PREFIX "%s", build_id);
	if (c && strspn(build_id, "0123456789abcdef") == strlen(build_id) && *build_id) {
		r = cache_read(c, sc->file, NAMES_MAX_FILE, &sc->blob, &len);
		/* 8-aligned views into the file: malloc's blocks are 16-aligned. */
		if (r == 0)
			r = symcache_parse(sc->blob, len, build_id, debug, sc);
		if (r == 0)
			cache_touch(c, sc->file); /* recently used: trimmed last */
		if (r < 0 && r != -ENOENT)
			log_debug("%s: not used: %s", sc->file, strerror(-r));
		if (r < 0) {
			free(sc->blob);
			sc->blob = NULL;
			sc->nentries = sc->nframes = 0;
		}
	}
	*ret = sc;
	return 0;
}

void symcache_free(struct symcache *sc)
{
	if (!sc)
		return;
	for (size_t i = 0; i < sc->nnew_frames; i++) {
		free(sc->new_frames[i].name);
		free(sc->new_frames[i].system_name);
		free(sc->new_frames[i].file);
	}
	free(sc->new_frames);
	free(sc->added);
	hashmap_release(&sc->added_index);
	free(sc->blob);
	free(sc);
}

struct vaddr_key {
	const struct symcache *sc;
	uint64_t vaddr;
};

static bool added_eq(const void *ctx, uint32_t idx)
{
	const struct vaddr_key *k = ctx;

	return k->sc->added[idx].vaddr == k->vaddr;
}

bool symcache_find(const struct symcache *sc, uint64_t vaddr, struct sym_frame *frames, size_t max,
		   struct symcache_result *ret)
{
	size_t lo = UPPER_BOUND(sc->entries, sc->nentries, struct saved_entry, vaddr, vaddr);
	const struct saved_entry *e = NULL;
	struct vaddr_key k = {sc, vaddr};
	uint32_t idx;

	if (lo > 0 && sc->entries[lo - 1].vaddr == vaddr) {
		e = &sc->entries[lo - 1];
		for (size_t i = 0; i < e->nframes && i < max; i++) {
			const struct saved_frame *f = &sc->frames[e->frame_off + i];

			frames[i] = (struct sym_frame){
				.name = sc->strings + f->name,
				.system_name = sc->strings + f->system_name,
				.file = sc->strings + f->file,
				.start_line = f->start_line,
				.line = f->line,
			};
		}
	} else if (hashmap_find(&sc->added_index, hash_u64(vaddr, 0), added_eq, &k, &idx)) {
		e = &sc->added[idx];
		for (size_t i = 0; i < e->nframes && i < max; i++) {
			const struct new_frame *f = &sc->new_frames[e->frame_off + i];

			frames[i] = (struct sym_frame){f->name, f->system_name, f->file,
						       f->start_line, f->line};
		}
	} else {
		return false;
	}
	*ret = (struct symcache_result){
		.nframes = e->nframes < max ? e->nframes : max,
		.sym_offset = e->sym_offset,
		.has_sym_offset = e->flags & ENTRY_SYM_OFFSET,
		.dwarf = e->flags & ENTRY_DWARF,
	};
	return true;
}

int symcache_add(struct symcache *sc, uint64_t vaddr, const struct sym_frame *frames,
		 const struct symcache_result *res)
{
	size_t n = res->nframes < NAMES_MAX_FRAMES ? res->nframes : NAMES_MAX_FRAMES;
	struct saved_entry *e;
	int r;

	if (sc->nadded >= NAMES_MAX_ADDED)
		return 0;

	r = vec_reserve(&sc->new_frames, &sc->new_frames_cap, sc->nnew_frames + n,
			sizeof(*sc->new_frames));
	if (r == 0)
		r = VEC_PUSH_RESERVE(sc->added, sc->nadded, sc->added_cap);
	if (r == 0)
		r = hashmap_insert(&sc->added_index, hash_u64(vaddr, 0), (uint32_t)sc->nadded);
	if (r < 0)
		return r;
	e = &sc->added[sc->nadded++];
	*e = (struct saved_entry){
		.vaddr = vaddr,
		.sym_offset = res->sym_offset,
		.frame_off = (uint32_t)sc->nnew_frames,
		.nframes = (uint16_t)n,
		.flags = (res->has_sym_offset ? ENTRY_SYM_OFFSET : 0) |
			 (res->dwarf ? ENTRY_DWARF : 0),
	};
	for (size_t i = 0; i < n; i++) {
		struct new_frame *f = &sc->new_frames[sc->nnew_frames++];

		*f = (struct new_frame){
			.name = strdup(frames[i].name ? frames[i].name : ""),
			.system_name = strdup(frames[i].system_name ? frames[i].system_name : ""),
			.file = strdup(frames[i].file ? frames[i].file : ""),
			.start_line = frames[i].start_line,
			.line = frames[i].line,
		};
		if (!f->name || !f->system_name || !f->file)
			return -ENOMEM; /* the entry stays, its frames freed with the cache */
	}
	return 0;
}

/* Writing: the strings of both halves, each once. */
struct writer {
	char *strings;
	size_t len, cap;
	struct hashmap index;
};

struct str_key {
	const struct writer *w;
	const char *s;
};

static bool str_eq(const void *ctx, uint32_t idx)
{
	const struct str_key *k = ctx;

	return strcmp(k->w->strings + idx, k->s) == 0;
}

static int intern(struct writer *w, const char *s, uint32_t *ret)
{
	struct str_key k = {w, s};
	uint64_t h = hash_bytes(s, strlen(s), 0);
	size_t n = strlen(s) + 1;
	uint32_t idx;
	int r;

	if (!*s) {
		*ret = 0;
		return 0;
	}
	if (hashmap_find(&w->index, h, str_eq, &k, &idx)) {
		*ret = idx;
		return 0;
	}
	if (w->len + n > UINT32_MAX)
		return -E2BIG;
	r = vec_reserve(&w->strings, &w->cap, w->len + n, 1);
	if (r == 0)
		r = hashmap_insert(&w->index, h, (uint32_t)w->len);
	if (r < 0)
		return r;
	memcpy(w->strings + w->len, s, n);
	*ret = (uint32_t)w->len;
	w->len += n;
	return 0;
}

static int by_vaddr(const void *a, const void *b)
{
	const struct saved_entry *x = a, *y = b;

	return x->vaddr < y->vaddr ? -1 : x->vaddr > y->vaddr;
}

/* One frame of either half, its strings interned for the new file. */
static int put_frame(struct writer *w, const struct sym_frame *f, struct saved_frame *ret)
{
	int r = intern(w, f->name, &ret->name);

	if (r == 0)
		r = intern(w, f->system_name, &ret->system_name);
	if (r == 0)
		r = intern(w, f->file ? f->file : "", &ret->file);
	ret->start_line = f->start_line;
	ret->line = f->line;
	return r;
}

int symcache_save(struct symcache *sc)
{
	struct writer w = {0};
	struct saved_header h = {0};
	struct saved_entry *entries = NULL;
	struct saved_frame *frames = NULL;
	size_t nentries = sc->nentries + sc->nadded, nframes = 0, size;
	char *buf = NULL;
	int r = 0;

	if (!sc->cache || !sc->nadded || !*sc->build_id)
		return 0;
	entries = calloc(nentries, sizeof(*entries));
	frames = calloc(sc->nframes + sc->nnew_frames + 1, sizeof(*frames));
	if (!entries || !frames || vec_reserve(&w.strings, &w.cap, 1, 1) < 0) {
		r = -ENOMEM;
		goto out;
	}
	w.strings[w.len++] = '\0';
	/* Both halves into one table, each entry's frames copied after the last. */
	for (size_t i = 0; i < nentries && r == 0; i++) {
		const bool old = i < sc->nentries;
		const struct saved_entry *e = old ? &sc->entries[i] : &sc->added[i - sc->nentries];
		struct sym_frame f[NAMES_MAX_FRAMES];
		struct symcache_result res;

		entries[i] = *e;
		entries[i].frame_off = (uint32_t)nframes;
		(void)symcache_find(sc, e->vaddr, f, NAMES_MAX_FRAMES, &res);
		for (size_t j = 0; j < res.nframes && r == 0; j++)
			r = put_frame(&w, &f[j], &frames[nframes++]);
	}
	if (r < 0)
		goto out;
	qsort(entries, nentries, sizeof(*entries), by_vaddr);
	memcpy(h.magic, names_magic, sizeof(h.magic));
	(void)snprintf(h.build_id, sizeof(h.build_id), "%s", sc->build_id);
	h.debug_dev = sc->debug.dev;
	h.debug_ino = sc->debug.ino;
	h.debug_size = sc->debug.size;
	h.debug_mtime_ns = sc->debug.mtime_ns;
	h.debug_self = sc->debug.self;
	h.nentries = nentries;
	h.nframes = nframes;
	h.strings_len = w.len;
	size = sizeof(h) + nentries * sizeof(*entries) + nframes * sizeof(*frames) + w.len;
	if (size > NAMES_MAX_FILE) {
		r = -EFBIG; /* a bound, not an error worth more than this file */
		goto out;
	}
	buf = malloc(size);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), entries, nentries * sizeof(*entries));
	memcpy(buf + sizeof(h) + nentries * sizeof(*entries), frames, nframes * sizeof(*frames));
	memcpy(buf + sizeof(h) + nentries * sizeof(*entries) + nframes * sizeof(*frames), w.strings,
	       w.len);
	r = cache_write(sc->cache, sc->file, buf, size);
	if (r == 0)
		r = cache_trim(sc->cache, NAMES_PREFIX, NAMES_MAX_TOTAL);
out:
	free(buf);
	free(entries);
	free(frames);
	free(w.strings);
	hashmap_release(&w.index);
	return r;
}
