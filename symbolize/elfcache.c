/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <elfutils/libdwelf.h>

#include "lib/base/hash.h"
#include "lib/base/log.h"
#include "lib/base/search.h"
#include "lib/base/vec.h"
#include "symbolize/cfi.h"
#include "lib/base/cache.h"
#include "lib/base/outfile.h"
#include "symbolize/elfcopy.h"
#include "symbolize/facts.h"
#include "symbolize/internal.h"
#include "symbolize/symcache.h"

/* The inflated debug files kept in the cache (elfcopy.h), together: the oldest go first. */
#define DEBUG_COPY_PREFIX "debug-"
#define DEBUG_COPIES_MAX ((uint64_t)2 << 30)

struct elfcache {
	struct cache *cache;	 /* borrowed; NULL: no inflated debug copies */
	struct elf_file **files; /* pointers stay put: libdwfl modules hold them */
	size_t nfiles, cap;
	struct hashmap by_build_id, by_path;
	char *debuginfo_path;
	Dwfl_Callbacks callbacks;	 /* symbolization: every debug file */
	Dwfl_Callbacks unwind_callbacks; /* unwinding: debug files with .debug_frame only */
	Dwfl_Callbacks search_callbacks; /* find_debug: the standard search, nothing of ours */
};

static const char deleted_suffix[] = " (deleted)";

/*
 * libdwfl asks for a module's ELF: lend it ours. elf_begin on a reference
 * only bumps libelf's count, and the module's elf_end drops it again, so a
 * file is opened once however many Dwfls (processes) use it.
 */
static int find_elf(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
		    char **file_name, Elf **elfp)
{
	struct elf_file *f = *userdata;

	(void)mod;
	(void)modname;
	(void)base;
	*elfp = NULL;
	*file_name = NULL;
	if (!f || !f->elf)
		return -1;
	*elfp = elf_begin(-1, ELF_C_READ_MMAP, f->elf);
	/* The name lets libdwfl follow .gnu_debuglink next to the file. */
	if (*elfp && f->opened)
		*file_name = strdup(f->opened);
	return -1;
}

/* Does elf have a section named name, or .zNAME? By the section headers alone: nothing inflated. */
static bool has_section(Elf *elf, const char *name)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return false;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *n;

		if (gelf_getshdr(scn, &sh) && sh.sh_type != SHT_NOBITS &&
		    (n = elf_strptr(elf, shstrndx, sh.sh_name)) &&
		    (strcmp(n, name) == 0 ||
		     (n[0] == '.' && n[1] == 'z' && strcmp(n + 2, name + 1) == 0)))
			return true;
	}
	return false;
}

/* Does the debug file open on fd have .debug_frame? */
static bool fd_has_debug_frame(int fd)
{
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	bool has = elf && has_section(elf, ".debug_frame");

	if (elf)
		(void)elf_end(elf);
	return has;
}

/*
 * find_debuginfo for the Dwfls that unwind. libdwfl asks for a module's
 * debug file there only for .debug_frame, where .eh_frame has no FDE, and
 * loading one inflates every debug section of it — once per process, so
 * for every short-lived process on a busy machine. Distributions' debug
 * files have no .debug_frame (their CFI is the binary's .eh_frame): a file
 * whose debug file has none gets none, known from section headers alone.
 */
static int find_unwind_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
				 Dwarf_Addr base, const char *file_name, const char *debuglink_file,
				 GElf_Word debuglink_crc, char **debuginfo_file_name)
{
	struct elf_file *f = *userdata;
	int fd;

	if (f && f->debug_frame == ELF_DEBUG_FRAME_NONE)
		return -1;
	fd = dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
					  debuglink_crc, debuginfo_file_name);
	if (fd < 0 || !f)
		return fd;
	if (f->debug_frame == ELF_DEBUG_FRAME_UNKNOWN)
		f->debug_frame =
			fd_has_debug_frame(fd) ? ELF_DEBUG_FRAME_YES : ELF_DEBUG_FRAME_NONE;
	if (f->debug_frame == ELF_DEBUG_FRAME_YES)
		return fd;
	(void)close(fd);
	free(*debuginfo_file_name);
	*debuginfo_file_name = NULL;
	return -1;
}

/*
 * Find f's debug file as libdwfl would (build-id directories, debuglink,
 * debuginfod) and note, from its section headers and inode alone, whether
 * it has .debug_frame and which file it is. Once per file.
 */
static void find_debug(struct elfcache *c, struct elf_file *f)
{
	Dwfl_Module *mod = NULL;
	Dwfl *dwfl;
	const char *debug_name = NULL, *link;
	char *name = NULL;
	GElf_Word crc = 0;
	void *userdata = f;
	bool stray_close = false;
	struct stat st;
	int fd;

	if (f->debug_looked)
		return;
	f->debug_looked = true;
	if (!f->elf)
		return;
	/* A file with DWARF of its own is its own debug file (libdwfl's rule). */
	if (has_section(f->elf, ".debug_info") || has_section(f->elf, ".debug_frame")) {
		f->debug_id = (struct elf_debug_id){.self = true};
		if (f->debug_frame == ELF_DEBUG_FRAME_UNKNOWN)
			f->debug_frame = has_section(f->elf, ".debug_frame") ? ELF_DEBUG_FRAME_YES
									     : ELF_DEBUG_FRAME_NONE;
		return;
	}
	/*
	 * In a Dwfl of its own: the search leaves marks on the module it searches
	 * for (libdwfl then skips validating the file it finds, and a stripped
	 * library's DWARF gets a wrong bias), which the file's own must not have.
	 */
	dwfl = dwfl_begin(&c->search_callbacks);
	if (dwfl) {
		dwfl_report_begin(dwfl);
		mod = elfcache_report(c, f, dwfl, 0);
		(void)dwfl_report_end(dwfl, NULL, NULL);
	}
	/*
	 * A stripped file's: libdwfl searches for it as it loads the module's
	 * symbol table, and keeps what it finds in the module. Called from
	 * here instead, dwfl_standard_find_debuginfo leaves an ELF handle in
	 * the module without its descriptor when it finds the file by build
	 * id, and dwfl_end then closes fd 0 (elfutils 0.188) — in cprof serve,
	 * some request's socket. Only a file with a symbol table of its own
	 * and no DWARF (strip --strip-debug) still needs that call.
	 */
	if (mod && dwfl_module_getsymtab(mod) >= 0 &&
	    dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, &debug_name) && debug_name) {
		name = strdup(debug_name);
		fd = name ? open(name, O_RDONLY | O_CLOEXEC) : -1;
	} else if (mod && has_section(f->elf, ".symtab")) {
		link = dwelf_elf_gnu_debuglink(f->elf, &crc);
		fd = dwfl_standard_find_debuginfo(mod, &userdata, f->path, 0, f->opened, link, crc,
						  &name);
		stray_close = fd >= 0;
	} else {
		fd = -1;
	}
	if (fd >= 0) {
		Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);

		/* Worth an inflated copy in the cache once loaded (elfcache_keep_debug)? */
		f->debug_compressed = elf && elfcopy_is_compressed(elf);
		if (elf)
			(void)elf_end(elf);
	}
	if (fd >= 0 && fstat(fd, &st) == 0)
		f->debug_id = (struct elf_debug_id){
			.dev = st.st_dev,
			.ino = st.st_ino,
			.size = (uint64_t)st.st_size,
			.mtime_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000 +
				    (uint64_t)st.st_mtim.tv_nsec,
		};
	if (f->debug_frame == ELF_DEBUG_FRAME_UNKNOWN)
		f->debug_frame = fd >= 0 && fd_has_debug_frame(fd) ? ELF_DEBUG_FRAME_YES
								   : ELF_DEBUG_FRAME_NONE;
	if (fd >= 0)
		(void)close(fd);
	free(name);
	if (dwfl && stray_close) {
		/* What fd 0 is now, put back after dwfl_end's close of it. */
		int saved = fcntl(0, F_DUPFD_CLOEXEC, 3);

		dwfl_end(dwfl);
		if (saved >= 0) {
			(void)dup2(saved, 0);
			(void)close(saved);
		}
	} else if (dwfl) {
		dwfl_end(dwfl);
	}
}

/* "debug-BUILDID", the name of f's inflated debug copy; false when f has no build id. */
static bool copy_name(const struct elf_file *f, char *buf, size_t size)
{
	return f->build_id[0] &&
	       snprintf(buf, size, DEBUG_COPY_PREFIX "%s", f->build_id) < (int)size;
}

/* The inflated copy of f's debug file, if the cache has one of the right build id: its fd, or -1.
 */
static int open_debug_copy(struct elfcache *c, struct elf_file *f)
{
	char name[sizeof(DEBUG_COPY_PREFIX) + 48], id[41] = "";
	const unsigned char *bits;
	const void *raw = NULL;
	ssize_t n;
	Elf *elf;
	int fd;

	if (!c->cache || !copy_name(f, name, sizeof(name)))
		return -1;
	fd = cache_open_file(c->cache, name);
	if (fd < 0)
		return -1;
	/* Ours, by the cache's rules; still, only a debug file of this build is one. */
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	n = elf ? dwelf_elf_gnu_build_id(elf, &raw) : -1;
	bits = raw;
	for (ssize_t i = 0; i < n && i < 20; i++)
		(void)snprintf(&id[2 * i], 3, "%02x", bits[i]);
	if (elf)
		(void)elf_end(elf);
	if (strcmp(id, f->build_id) != 0) {
		(void)close(fd);
		return -1;
	}
	cache_touch(c->cache, name);
	return fd;
}

/*
 * find_debuginfo for symbolizing: cprof's inflated copy of the debug file
 * when it has one (elfcopy.h), libdwfl's standard search otherwise.
 */
static int find_symbolize_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
				    Dwarf_Addr base, const char *file_name,
				    const char *debuglink_file, GElf_Word debuglink_crc,
				    char **debuginfo_file_name)
{
	struct elf_file *f = *userdata;
	int fd = f ? open_debug_copy(f->owner, f) : -1;

	if (fd >= 0) {
		f->debug_from_copy = true;
		return fd;
	}
	return dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
					    debuglink_crc, debuginfo_file_name);
}

void elfcache_load_facts(struct elf_file *f)
{
	struct elfcache *c = f->owner;
	struct file_facts facts;
	struct stat st;

	if (f->facts_tried)
		return;
	f->facts_tried = true;
	if (!c || !c->cache || f->fd < 0 || !f->build_id[0] || fstat(f->fd, &st) != 0)
		return;
	f->facts_id = (struct facts_id){
		.dev = st.st_dev,
		.ino = st.st_ino,
		.size = (uint64_t)st.st_size,
		.mtime_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000 + (uint64_t)st.st_mtim.tv_nsec,
		.ctime_ns = (uint64_t)st.st_ctim.tv_sec * 1000000000 + (uint64_t)st.st_ctim.tv_nsec,
	};
	f->facts_id_known = true;
	if (facts_load(c->cache, f->build_id, &f->facts_id, &facts) < 0)
		return;
	if (facts.cfi_known && !f->cfi_checked) {
		f->cfi_checked = true;
		f->cfi_sane = facts.cfi_sane;
	}
	if (facts.classes_known && !f->classes_loaded) {
		f->classes_loaded = true;
		f->classes = facts.classes;
		f->nclasses = facts.nclasses;
		facts.classes = NULL;
	}
	facts_release(&facts);
}

int elfcache_keep_facts(struct elfcache *c, struct elf_file *f)
{
	struct file_facts facts = {
		.cfi_known = f->cfi_checked,
		.cfi_sane = f->cfi_sane,
		.classes_known = f->classes_loaded,
		.classes = f->classes,
		.nclasses = f->nclasses,
	};

	if (!f->facts_dirty || !f->facts_id_known)
		return 0;
	f->facts_dirty = false;
	return facts_save(c->cache, f->build_id, &f->facts_id, &facts);
}

int elfcache_keep_debug(struct elfcache *c, struct elf_file *f)
{
	char name[sizeof(DEBUG_COPY_PREFIX) + 48];
	struct outfile *out;
	Dwarf_Addr bias;
	Dwarf *dw;
	int fd, r;

	if (!c->cache || !f->mod || f->debug_from_copy || !f->debug_compressed ||
	    !copy_name(f, name, sizeof(name)))
		return 0;
	/* Only a debug file already loaded: asking for it now would inflate it for this. */
	if (!f->dwarf_loaded || !(dw = dwfl_module_getdwarf(f->mod, &bias)) || !dwarf_getelf(dw))
		return 0;
	r = cache_create(c->cache, name, &out);
	if (r < 0)
		return r;
	fd = outfile_fd(out);
	r = fd < 0 ? fd : elfcopy_inflated(dwarf_getelf(dw), fd);
	if (r < 0) {
		outfile_abort(out);
		return r;
	}
	r = outfile_commit(out);
	if (r == 0)
		r = cache_trim(c->cache, DEBUG_COPY_PREFIX, DEBUG_COPIES_MAX);
	return r;
}

bool elfcache_has_debug_frame(struct elfcache *c, struct elf_file *f)
{
	if (f->debug_frame == ELF_DEBUG_FRAME_UNKNOWN)
		find_debug(c, f);
	return f->debug_frame == ELF_DEBUG_FRAME_YES;
}

const struct elf_debug_id *elfcache_debug_id(struct elfcache *c, struct elf_file *f)
{
	find_debug(c, f);
	return &f->debug_id;
}

struct cache *elfcache_cache(struct elfcache *c)
{
	return c->cache;
}

const Dwfl_Callbacks *elfcache_unwind_callbacks(struct elfcache *c)
{
	return &c->unwind_callbacks;
}

int elfcache_new(const char *debuginfo_path, struct cache *cache, struct elfcache **ret)
{
	struct elfcache *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->cache = cache;
	if (debuginfo_path) {
		c->debuginfo_path = strdup(debuginfo_path);
		if (!c->debuginfo_path) {
			free(c);
			return -ENOMEM;
		}
	}
	(void)elf_version(EV_CURRENT);
	c->callbacks = (Dwfl_Callbacks){
		.find_elf = find_elf,
		/* cprof's inflated copy, else build-id directories, .gnu_debuglink, debuginfod. */
		.find_debuginfo = find_symbolize_debuginfo,
		.debuginfo_path = c->debuginfo_path ? &c->debuginfo_path : NULL,
	};
	c->unwind_callbacks = c->callbacks;
	c->unwind_callbacks.find_debuginfo = find_unwind_debuginfo;
	/* find_debug looks for the debug file itself, not cprof's inflated copy of it. */
	c->search_callbacks = c->callbacks;
	c->search_callbacks.find_debuginfo = dwfl_standard_find_debuginfo;
	*ret = c;
	return 0;
}

static void file_free(struct elf_file *f)
{
	if (!f)
		return;
	if (f->dwfl)
		dwfl_end(f->dwfl);
	cfi_rules_free(f->cfi);
	symcache_free(f->names);
	if (f->elf)
		(void)elf_end(f->elf);
	if (f->fd >= 0)
		(void)close(f->fd);
	free(f->image);
	free(f->loads);
	elfcache_forget_symbols(f);
	for (size_t i = 0; i < f->nowned_names; i++)
		free(f->owned_names[i]);
	free(f->owned_names);
	free(f->classes);
	free(f->path);
	free(f->opened);
	free(f);
}

void elfcache_free(struct elfcache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nfiles; i++)
		file_free(c->files[i]);
	free(c->files);
	hashmap_release(&c->by_build_id);
	hashmap_release(&c->by_path);
	free(c->debuginfo_path);
	free(c);
}

size_t elfcache_nfiles(const struct elfcache *c)
{
	return c->nfiles;
}

struct elf_file *elfcache_file(struct elfcache *c, size_t i)
{
	return c->files[i];
}

const Dwfl_Callbacks *elfcache_callbacks(struct elfcache *c)
{
	return &c->callbacks;
}

/* Opening. */

bool elfcache_load_phdrs(struct elf_file *f)
{
	GElf_Ehdr eh;
	size_t nph;

	if (elf_kind(f->elf) != ELF_K_ELF || elf_getphdrnum(f->elf, &nph) != 0)
		return false;
	f->loads = calloc(nph ? nph : 1, sizeof(*f->loads));
	if (!f->loads)
		return false;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(f->elf, (int)i, &ph) && ph.p_type == PT_LOAD)
			f->loads[f->nloads++] = ph;
	}
	/* Libraries keep e_entry 0 (or a stray value): only an executable's or ld.so's means
	 * _start. */
	f->entry = gelf_getehdr(f->elf, &eh) && (eh.e_type == ET_EXEC || eh.e_type == ET_DYN)
			   ? eh.e_entry
			   : 0;
	return f->nloads > 0;
}

static void read_build_id(struct elf_file *f)
{
	static const char hex[] = "0123456789abcdef";
	const void *bits;
	ssize_t n = dwelf_elf_gnu_build_id(f->elf, &bits);

	for (ssize_t i = 0; i < n && i < 20; i++) {
		f->build_id[2 * i] = hex[((const unsigned char *)bits)[i] >> 4];
		f->build_id[2 * i + 1] = hex[((const unsigned char *)bits)[i] & 15];
	}
}

/* Our own [vdso]: every process of this kernel and ABI maps the same image. */
static bool open_vdso(struct elf_file *f)
{
	unsigned long long start, end;
	char line[256];
	FILE *maps = fopen("/proc/self/maps", "re");

	if (!maps)
		return false;
	while (fgets(line, sizeof(line), maps))
		if (strstr(line, "[vdso]") && sscanf(line, "%llx-%llx", &start, &end) == 2) {
			f->image_size = (size_t)(end - start);
			f->image = malloc(f->image_size);
			if (f->image)
				memcpy(f->image, (const void *)(uintptr_t)start, f->image_size);
			break;
		}
	(void)fclose(maps);
	if (!f->image)
		return false;
	f->elf = elf_memory(f->image, f->image_size);
	f->opened = strdup("[vdso]");
	return f->elf != NULL;
}

static bool try_open(struct elf_file *f, const char *path, const char *want_build_id)
{
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0)
		return false;
	f->elf = elf_begin(f->fd, ELF_C_READ_MMAP, NULL);
	if (f->elf && elfcache_load_phdrs(f)) {
		read_build_id(f);
		/* The same path may now hold another build of the file. */
		if (!*want_build_id || strcmp(want_build_id, f->build_id) == 0) {
			f->opened = strdup(path);
			return true;
		}
		log_debug("elfcache: %s has build id %s, not %s", path, f->build_id, want_build_id);
	}
	if (f->elf)
		(void)elf_end(f->elf);
	(void)close(f->fd);
	free(f->loads);
	f->elf = NULL;
	f->fd = -1;
	f->loads = NULL;
	f->nloads = 0;
	f->build_id[0] = '\0';
	return false;
}

/*
 * The file as the process sees it: through its root (another mount
 * namespace), through map_files (deleted or replaced on disk), then by its
 * path in ours.
 */
static void open_file(struct elf_file *f, int32_t pid, uint64_t start, uint64_t end,
		      const char *build_id)
{
	char path[4200];

	if (strcmp(f->path, "[vdso]") == 0) {
		if (open_vdso(f) && elfcache_load_phdrs(f))
			read_build_id(f);
		return;
	}
	if (pid > 0) {
		(void)snprintf(path, sizeof(path), "/proc/%d/root%s", pid, f->path);
		if (try_open(f, path, build_id))
			return;
		if (end > start) {
			(void)snprintf(path, sizeof(path),
				       "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, pid, start, end);
			if (try_open(f, path, build_id))
				return;
		}
	}
	if (try_open(f, f->path, build_id))
		return;
	log_debug("elfcache: cannot open %s", f->path);
}

struct key {
	const struct elfcache *c;
	const char *s;
	bool by_build_id;
};

static bool key_eq(const void *ctx, uint32_t idx)
{
	const struct key *k = ctx;
	const struct elf_file *f = k->c->files[idx];

	return strcmp(k->by_build_id ? f->build_id : f->path, k->s) == 0;
}

static struct elf_file *find(struct elfcache *c, const char *s, bool by_build_id)
{
	struct key k = {c, s, by_build_id};
	uint32_t idx;

	if (!*s)
		return NULL;
	if (!hashmap_find(by_build_id ? &c->by_build_id : &c->by_path, hash_bytes(s, strlen(s), 0),
			  key_eq, &k, &idx))
		return NULL;
	return c->files[idx];
}

/* The path without " (deleted)", copied. */
static char *clean_path(const char *path)
{
	size_t n = strlen(path), k = sizeof(deleted_suffix) - 1;

	if (n > k && strcmp(path + n - k, deleted_suffix) == 0)
		n -= k;
	return strndup(path, n);
}

static struct elf_file *add(struct elfcache *c, const char *path, const char *build_id, int32_t pid,
			    uint64_t start, uint64_t end)
{
	struct elf_file *f;
	uint32_t idx = (uint32_t)c->nfiles;

	if (VEC_PUSH_RESERVE(c->files, c->nfiles, c->cap) < 0)
		return NULL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->fd = -1;
	f->owner = c;
	f->path = clean_path(path);
	if (!f->path) {
		free(f);
		return NULL;
	}
	open_file(f, pid, start, end, build_id);
	/* Found by path from now on; by build id too when it has one (its own, or the one asked
	 * for). */
	if (!f->build_id[0] && *build_id)
		(void)snprintf(f->build_id, sizeof(f->build_id), "%s", build_id);
	if ((!find(c, f->path, false) &&
	     hashmap_insert(&c->by_path, hash_bytes(f->path, strlen(f->path), 0), idx) < 0) ||
	    (f->build_id[0] && !find(c, f->build_id, true) &&
	     hashmap_insert(&c->by_build_id, hash_bytes(f->build_id, strlen(f->build_id), 0), idx) <
		     0)) {
		file_free(f);
		return NULL;
	}
	c->files[c->nfiles++] = f;
	return f;
}

struct elf_file *elfcache_lookup(struct elfcache *c, const char *path, const char *build_id,
				 int32_t pid, uint64_t start, uint64_t end)
{
	struct elf_file *f = find(c, build_id, true);
	char *clean;

	if (f)
		return f;
	if (!*build_id) {
		clean = clean_path(path);
		if (!clean)
			return NULL;
		f = find(c, clean, false);
		free(clean);
		if (f)
			return f;
	}
	return add(c, path, build_id, pid, start, end);
}

struct elf_file *elfcache_get(struct elfcache *c, int32_t pid, const struct proc_map *m)
{
	static const char hex[] = "0123456789abcdef";
	char id[2 * PROC_BUILD_ID_MAX + 1] = "";

	for (size_t i = 0; i < m->build_id_size; i++) {
		id[2 * i] = hex[m->build_id[i] >> 4];
		id[2 * i + 1] = hex[m->build_id[i] & 15];
		id[2 * i + 2] = '\0';
	}
	/*
	 * A map without a build id (seeded from /proc, or a kernel before
	 * 5.12) keeps none: symbolize_profile gives the profile's mapping the
	 * file's, and the process model stays what the kernel said.
	 */
	return elfcache_lookup(c, m->path, id, pid, m->start, m->end);
}

/* Using a file. */

bool elfcache_offset_to_vaddr(const struct elf_file *f, uint64_t off, uint64_t *ret)
{
	for (size_t i = 0; i < f->nloads; i++) {
		const GElf_Phdr *ph = &f->loads[i];

		if (off >= ph->p_offset && off < ph->p_offset + ph->p_memsz) {
			*ret = off - ph->p_offset + ph->p_vaddr;
			return true;
		}
	}
	return false;
}

void elfcache_extent(const struct elf_file *f, GElf_Addr *ret_low, GElf_Addr *ret_high)
{
	const size_t page = (size_t)sysconf(_SC_PAGESIZE);
	GElf_Addr low = UINT64_MAX, high = 0;

	for (size_t j = 0; j < f->nloads; j++) {
		if ((f->loads[j].p_vaddr & ~(page - 1)) < low)
			low = f->loads[j].p_vaddr & ~(page - 1);
		if (f->loads[j].p_vaddr + f->loads[j].p_memsz > high)
			high = f->loads[j].p_vaddr + f->loads[j].p_memsz;
	}
	*ret_low = f->nloads ? low : 0;
	*ret_high = high;
}

Dwfl_Module *elfcache_report(struct elfcache *c, struct elf_file *f, Dwfl *dwfl, GElf_Addr bias)
{
	GElf_Addr low, high;
	Dwfl_Module *mod;
	void **userdata;

	(void)c;
	if (!f->elf)
		return NULL;
	elfcache_extent(f, &low, &high);
	mod = dwfl_report_module(dwfl, f->path, bias + low, bias + high);
	if (!mod) {
		log_debug("elfcache: %s: %s", f->path, dwfl_errmsg(-1));
		return NULL;
	}
	/* find_elf reads the file back from here. */
	if (dwfl_module_info(mod, &userdata, NULL, NULL, NULL, NULL, NULL, NULL))
		*userdata = f;
	return mod;
}

void elfcache_trim(struct elfcache *c, const Dwfl_Module *keep)
{
	for (size_t i = 0; i < c->nfiles; i++) {
		struct elf_file *f = c->files[i];

		if (!f->dwfl || (keep && f->mod == keep))
			continue;
		/* Its names are libdwfl's, in the module's ELF handles. */
		elfcache_forget_symbols(f);
		for (size_t j = 0; j < f->nowned_names; j++)
			free(f->owned_names[j]);
		f->nowned_names = 0;
		cfi_rules_forget_debug(f->cfi);
		dwfl_end(f->dwfl);
		f->dwfl = NULL;
		f->mod = NULL;
		f->dwfl_tried = false;
		f->dwarf_loaded = false;
	}
}

Dwfl_Module *elfcache_module(struct elfcache *c, struct elf_file *f)
{
	if (f->dwfl_tried)
		return f->mod;
	f->dwfl_tried = true;
	if (!f->elf)
		return NULL;
	f->dwfl = dwfl_begin(&c->callbacks);
	if (!f->dwfl)
		return NULL;
	dwfl_report_begin(f->dwfl);
	f->mod = elfcache_report(c, f, f->dwfl, 0);
	(void)dwfl_report_end(f->dwfl, NULL, NULL);
	return f->mod;
}
