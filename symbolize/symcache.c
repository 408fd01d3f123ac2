/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/cache.h"
#include "lib/base/hash.h"
#include "lib/base/log.h"
#include "lib/base/search.h"
#include "lib/base/strset.h"
#include "lib/base/vec.h"
#include "symbolize/symcache.h"

/*
 * The file: a header, the entries sorted by address, their frames, and the
 * strings the frames name (offset 0 is ""), each NUL-terminated. An entry
 * holds for a span of addresses, all named alike (the symbolizer says how
 * far its answer reaches: a line table row within one function's scopes),
 * so a later run finds the names of an address it never met there.
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
static const char names_magic[8] = "cprofnm4"; /* 4: entries hold for spans */

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
	uint64_t vaddr, len; /* [vaddr, vaddr + len) */
	uint64_t sym_offset; /* of vaddr; each address's grows with it */
	uint32_t frame_off;
	uint16_t nframes, flags;
};

struct saved_frame {
	uint32_t name, system_name, file, unused;
	int64_t start_line, line;
};

/* A frame remembered in this run: its strings in the cache's set. */
struct new_frame {
	const char *name, *system_name, *file;
	int64_t start_line, line;
};

struct symcache {
	struct cache *cache; /* borrowed; NULL: nothing is read or written */
	char file[sizeof(NAMES_PREFIX) + 48];
	char build_id[41];
	struct elf_debug_id debug;
	/* What was loaded: views into the mapped file, checked by symcache_parse. */
	const void *map;
	size_t map_len;
	const struct saved_entry *entries;
	size_t nentries;
	const struct saved_frame *frames;
	size_t nframes;
	const char *strings;
	size_t strings_len;
	/* What this run added, not yet saved. */
	struct saved_entry *added; /* frame_off into new_frames */
	size_t nadded, added_cap;
	uint32_t *order; /* added by address */
	size_t order_cap;
	struct new_frame *new_frames;
	size_t nnew_frames, new_frames_cap;
	struct strset strings_added; /* this run's, once each: spans repeat a name */
};

/* s, kept in the set of this run's strings: the copy there, or NULL when out of memory. */
static const char *keep_string(struct symcache *sc, const char *s)
{
	uint32_t idx;

	if (strset_intern(&sc->strings_added, s ? s : "", &idx) < 0)
		return NULL;
	return sc->strings_added.strs[idx];
}

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
		if (e[i].len == 0 || e[i].len > UINT64_MAX - e[i].vaddr ||
		    (i && e[i].vaddr < e[i - 1].vaddr + e[i - 1].len) ||
		    e[i].nframes > NAMES_MAX_FRAMES || e[i].frame_off > h.nframes ||
		    e[i].nframes > h.nframes - e[i].frame_off)
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
	int r;

	if (!sc)
		return -ENOMEM;
	sc->cache = c;
	sc->debug = *debug;
	(void)snprintf(sc->build_id, sizeof(sc->build_id), "%s", build_id);
	(void)snprintf(sc->file, sizeof(sc->file), NAMES_PREFIX "%s", build_id);
	if (c && strspn(build_id, "0123456789abcdef") == strlen(build_id) && *build_id) {
		r = cache_map(c, sc->file, NAMES_MAX_FILE, &sc->map, &sc->map_len);
		/* 8-aligned views into the file: a map is page-aligned. */
		if (r == 0)
			r = symcache_parse(sc->map, sc->map_len, build_id, debug, sc);
		if (r == 0)
			cache_touch(c, sc->file); /* recently used: trimmed last */
		if (r < 0 && r != -ENOENT)
			log_debug("%s: not used: %s", sc->file, strerror(-r));
		if (r < 0) {
			cache_unmap(sc->map, sc->map_len);
			sc->map = NULL;
			sc->nentries = sc->nframes = 0;
			sc->strings = NULL;
			sc->strings_len = 0;
		}
	}
	*ret = sc;
	return 0;
}

void symcache_free(struct symcache *sc)
{
	if (!sc)
		return;
	strset_release(&sc->strings_added);
	free(sc->new_frames);
	free(sc->added);
	free(sc->order);
	cache_unmap(sc->map, sc->map_len);
	free(sc);
}

/* How many added entries start at or below vaddr: the place of vaddr in order. */
static size_t added_below(const struct symcache *sc, uint64_t vaddr)
{
	size_t lo = 0, hi = sc->nadded;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (sc->added[sc->order[mid]].vaddr <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool holds(const struct saved_entry *e, uint64_t vaddr)
{
	return vaddr >= e->vaddr && vaddr - e->vaddr < e->len;
}

bool symcache_find(const struct symcache *sc, uint64_t vaddr, struct sym_frame *frames, size_t max,
		   struct symcache_result *ret)
{
	size_t lo = UPPER_BOUND(sc->entries, sc->nentries, struct saved_entry, vaddr, vaddr);
	size_t at = added_below(sc, vaddr);
	const struct saved_entry *e = NULL;

	if (lo > 0 && holds(&sc->entries[lo - 1], vaddr)) {
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
	} else if (at > 0 && holds(&sc->added[sc->order[at - 1]], vaddr)) {
		e = &sc->added[sc->order[at - 1]];
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
		.sym_offset = e->sym_offset + (vaddr - e->vaddr),
		.has_sym_offset = e->flags & ENTRY_SYM_OFFSET,
		.dwarf = e->flags & ENTRY_DWARF,
		.end = e->vaddr + e->len,
	};
	return true;
}

/*
 * Cut span (holding vaddr, which no entry holds) to end where the entries
 * around it begin and begin where they end: entries never overlap.
 */
static void clip(const struct symcache *sc, uint64_t vaddr, uint64_t span[2])
{
	size_t lo = UPPER_BOUND(sc->entries, sc->nentries, struct saved_entry, vaddr, vaddr);
	size_t at = added_below(sc, vaddr);
	const struct saved_entry *before[2] = {lo ? &sc->entries[lo - 1] : NULL,
					       at ? &sc->added[sc->order[at - 1]] : NULL};
	const struct saved_entry *after[2] = {lo < sc->nentries ? &sc->entries[lo] : NULL,
					      at < sc->nadded ? &sc->added[sc->order[at]] : NULL};

	for (int i = 0; i < 2; i++) {
		if (before[i] && before[i]->vaddr + before[i]->len > span[0])
			span[0] = before[i]->vaddr + before[i]->len;
		if (after[i] && after[i]->vaddr < span[1])
			span[1] = after[i]->vaddr;
	}
}

int symcache_add(struct symcache *sc, uint64_t vaddr, const uint64_t span[2],
		 const struct sym_frame *frames, const struct symcache_result *res)
{
	size_t n = res->nframes < NAMES_MAX_FRAMES ? res->nframes : NAMES_MAX_FRAMES;
	uint64_t s[2] = {vaddr, vaddr + 1};
	struct saved_entry *e;
	size_t at;
	int r;

	if (sc->nadded >= NAMES_MAX_ADDED || vaddr == UINT64_MAX)
		return 0;
	/* A span that does not hold vaddr, or reaches below its symbol's start, is not believed. */
	if (span[0] <= vaddr && vaddr < span[1] &&
	    (!res->has_sym_offset || vaddr - span[0] <= res->sym_offset)) {
		s[0] = span[0];
		s[1] = span[1];
	}
	clip(sc, vaddr, s);
	if (s[0] > vaddr || s[1] <= vaddr)
		return 0; /* vaddr is cached already */

	r = vec_reserve(&sc->new_frames, &sc->new_frames_cap, sc->nnew_frames + n,
			sizeof(*sc->new_frames));
	if (r == 0)
		r = VEC_PUSH_RESERVE(sc->added, sc->nadded, sc->added_cap);
	if (r == 0)
		r = vec_reserve(&sc->order, &sc->order_cap, sc->nadded + 1, sizeof(*sc->order));
	if (r < 0)
		return r;
	/* The frames first, written past the last: an entry is added whole or not at all. */
	for (size_t i = 0; i < n; i++) {
		struct new_frame *f = &sc->new_frames[sc->nnew_frames + i];

		*f = (struct new_frame){
			.name = keep_string(sc, frames[i].name),
			.system_name = keep_string(sc, frames[i].system_name),
			.file = keep_string(sc, frames[i].file),
			.start_line = frames[i].start_line,
			.line = frames[i].line,
		};
		if (!f->name || !f->system_name || !f->file)
			return -ENOMEM;
	}
	at = added_below(sc, vaddr);
	memmove(&sc->order[at + 1], &sc->order[at], (sc->nadded - at) * sizeof(*sc->order));
	sc->order[at] = (uint32_t)sc->nadded;
	e = &sc->added[sc->nadded++];
	*e = (struct saved_entry){
		.vaddr = s[0],
		.len = s[1] - s[0],
		.sym_offset = res->has_sym_offset ? res->sym_offset - (vaddr - s[0]) : 0,
		.frame_off = (uint32_t)sc->nnew_frames,
		.nframes = (uint16_t)n,
		.flags = (res->has_sym_offset ? ENTRY_SYM_OFFSET : 0) |
			 (res->dwarf ? ENTRY_DWARF : 0),
	};
	sc->nnew_frames += n;
	return 0;
}

/*
 * Writing: the strings of both halves, each once. The loaded file's stay
 * where they are, at their offsets; this run's new ones follow them, from
 * offset base. Each loaded string is indexed once: its frames are then
 * kept as they are, and only this run's strings are looked up (interning
 * every frame again was a fifth of a run's CPU once a file held a few
 * thousand functions' spans).
 */
struct writer {
	const char *old; /* the loaded strings, base bytes */
	size_t base;
	char *strings; /* the new ones */
	size_t len, cap;
	struct hashmap index;
};

struct str_key {
	const struct writer *w;
	const char *s;
};

static const char *writer_string(const struct writer *w, uint32_t off)
{
	return off < w->base ? w->old + off : w->strings + (off - w->base);
}

static bool str_eq(const void *ctx, uint32_t idx)
{
	const struct str_key *k = ctx;

	return strcmp(writer_string(k->w, idx), k->s) == 0;
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
	if (w->base + w->len + n > UINT32_MAX)
		return -E2BIG;
	r = vec_reserve(&w->strings, &w->cap, w->len + n, 1);
	if (r == 0)
		r = hashmap_insert(&w->index, h, (uint32_t)(w->base + w->len));
	if (r < 0)
		return r;
	memcpy(w->strings + w->len, s, n);
	*ret = (uint32_t)(w->base + w->len);
	w->len += n;
	return 0;
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

/* The writer over the loaded strings (len bytes; none: it starts with the empty string). */
static int writer_seed(struct writer *w, const char *strings, size_t len)
{
	int r = 0;

	w->old = strings;
	w->base = len;
	if (!len) {
		r = vec_reserve(&w->strings, &w->cap, 1, 1);
		if (r == 0)
			w->strings[w->len++] = '\0';
		return r;
	}
	for (size_t off = 1; off < len && r == 0; off += strlen(strings + off) + 1)
		r = hashmap_insert(&w->index, hash_bytes(strings + off, strlen(strings + off), 0),
				   (uint32_t)off);
	return r;
}

/* Room for one more piece of the file in *iov (n of cap); false when out of memory. */
static bool add_piece(struct iovec **iov, size_t *n, size_t *cap, const void *p, size_t len)
{
	if (!len)
		return true;
	/* Right after the last piece in memory: the same piece, grown. */
	if (*n && (const char *)(*iov)[*n - 1].iov_base + (*iov)[*n - 1].iov_len == p) {
		(*iov)[*n - 1].iov_len += len;
		return true;
	}
	if (VEC_PUSH_RESERVE(*iov, *n, *cap) < 0)
		return false;
	(*iov)[(*n)++] = (struct iovec){(void *)(uintptr_t)p, len};
	return true;
}

/*
 * The new file is written from its pieces where they lie: the loaded
 * file's entries, frames and strings from its map, this run's between
 * them. Merging into one new buffer copied a few megabytes of a large
 * binary's names into fresh memory every run that learned one more name.
 */
int symcache_save(struct symcache *sc)
{
	struct writer w = {0};
	struct saved_header h = {0};
	struct saved_entry *fresh = NULL;
	struct saved_frame *frames = NULL;
	struct iovec *iov = NULL;
	size_t nentries = sc->nentries + sc->nadded, nframes = 0, niov = 0, iov_cap = 0, old = 0;
	size_t size;
	int r = 0;

	if (!sc->cache || !sc->nadded || !*sc->build_id)
		return 0;
	fresh = calloc(sc->nadded, sizeof(*fresh));
	frames = calloc(sc->nnew_frames + 1, sizeof(*frames));
	if (!fresh || !frames) {
		r = -ENOMEM;
		goto out;
	}
	r = writer_seed(&w, sc->strings, sc->strings_len);
	/* This run's entries in address order, their frames after the loaded ones. */
	for (size_t i = 0; i < sc->nadded && r == 0; i++) {
		const struct saved_entry *b = &sc->added[sc->order[i]];

		fresh[i] = *b;
		fresh[i].frame_off = (uint32_t)(sc->nframes + nframes);
		for (size_t j = 0; j < b->nframes && r == 0; j++) {
			const struct new_frame *nf = &sc->new_frames[b->frame_off + j];
			struct sym_frame f = {nf->name, nf->system_name, nf->file, nf->start_line,
					      nf->line};

			r = put_frame(&w, &f, &frames[nframes++]);
		}
	}
	if (r < 0)
		goto out;
	memcpy(h.magic, names_magic, sizeof(h.magic));
	(void)snprintf(h.build_id, sizeof(h.build_id), "%s", sc->build_id);
	h.debug_dev = sc->debug.dev;
	h.debug_ino = sc->debug.ino;
	h.debug_size = sc->debug.size;
	h.debug_mtime_ns = sc->debug.mtime_ns;
	h.debug_self = sc->debug.self;
	h.nentries = nentries;
	h.nframes = sc->nframes + nframes;
	h.strings_len = w.base + w.len;
	size = sizeof(h) + nentries * sizeof(*fresh) + h.nframes * sizeof(*frames) + h.strings_len;
	if (size > NAMES_MAX_FILE) {
		r = -EFBIG; /* a bound, not an error worth more than this file */
		goto out;
	}
	bool ok = add_piece(&iov, &niov, &iov_cap, &h, sizeof(h));
	/* Both halves' entries merged in address order (no added one starts where a loaded one
	 * does). */
	for (size_t i = 0; i < sc->nadded && ok; i++) {
		size_t below = old;

		if (old < sc->nentries) {
			below += UPPER_BOUND(sc->entries + old, sc->nentries - old,
					     struct saved_entry, vaddr, fresh[i].vaddr);
			ok = add_piece(&iov, &niov, &iov_cap, sc->entries + old,
				       (below - old) * sizeof(*fresh));
		}
		ok = ok && add_piece(&iov, &niov, &iov_cap, &fresh[i], sizeof(*fresh));
		old = below;
	}
	if (old < sc->nentries)
		ok = ok && add_piece(&iov, &niov, &iov_cap, sc->entries + old,
				     (sc->nentries - old) * sizeof(*fresh));
	ok = ok && add_piece(&iov, &niov, &iov_cap, sc->frames, sc->nframes * sizeof(*frames)) &&
	     add_piece(&iov, &niov, &iov_cap, frames, nframes * sizeof(*frames)) &&
	     add_piece(&iov, &niov, &iov_cap, w.old, w.base) &&
	     add_piece(&iov, &niov, &iov_cap, w.strings, w.len);
	if (!ok) {
		r = -ENOMEM;
		goto out;
	}
	r = cache_writev(sc->cache, sc->file, iov, niov);
	if (r == 0)
		r = cache_trim(sc->cache, NAMES_PREFIX, NAMES_MAX_TOTAL);
out:
	free(iov);
	free(fresh);
	free(frames);
	free(w.strings);
	hashmap_release(&w.index);
	return r;
}
