/* SPDX-License-Identifier: MIT */
#ifndef CPROF_SYMBOLIZE_INTERNAL_H
#define CPROF_SYMBOLIZE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <elfutils/libdwfl.h>
#include <gelf.h>

#include "lib/collect/proc.h"

/* Helpers shared inside symbolize/ only; nothing here leaves the folder. */

/* Kernel symbols from a kallsyms file, sorted for lookup. */
struct kallsyms;

/*
 * Load the text symbols of path (normally /proc/kallsyms). Returns 0 and *ret
 * (free with kallsyms_free), -errno when it cannot be read, or -ENODATA when
 * every address is hidden (kernel.kptr_restrict).
 */
int kallsyms_load(const char *path, struct kallsyms **ret);

/* NULL-safe. */
void kallsyms_free(struct kallsyms *k);

/*
 * The symbol containing addr: its name (borrowed until kallsyms_free), and
 * the module in *ret_module ("" for the kernel itself). NULL when none.
 */
const char *kallsyms_lookup(const struct kallsyms *k, uint64_t addr, const char **ret_module,
			    uint64_t *ret_start);

/* The address of the symbol name (_stext, say). False when k has none. */
bool kallsyms_addr_of(const struct kallsyms *k, const char *name, uint64_t *ret);

/* The core kernel's text, [_stext, _etext]. False when k lacks either. */
bool kallsyms_core(const struct kallsyms *k, uint64_t *ret_start, uint64_t *ret_end);

/*
 * The core kernel's text symbols of a full table as a saved file's bytes
 * (kallsyms_save_core: *ret caller frees), and back (kallsyms_parse_core).
 * They cannot change until the next boot, unlike modules' and BPF
 * programs', so a copy kept for the boot (lib/base/cache.h) spares later runs
 * the kernel's formatting of all of /proc/kallsyms. Parsing trusts nothing:
 * -EBADMSG for anything that is not such a file, whole and consistent.
 */
int kallsyms_save_core(const struct kallsyms *k, char **ret, size_t *ret_len);
int kallsyms_parse_core(const char *data, size_t size, struct kallsyms **ret);

/*
 * The same, read in place from fd (mapped privately, checked whole before
 * use): a distribution kernel's table is megabytes, copied for nothing.
 */
int kallsyms_map_core(int fd, struct kallsyms **ret);

/*
 * The ELF cache: every file a profile's mappings name, opened once —
 * while the process that maps it still runs, through /proc/PID/root
 * (containers) or /proc/PID/map_files (deleted or replaced files) — and
 * shared by the unwinder (every process's Dwfl borrows it) and the
 * symbolizer. Keyed by build id where known, else by path.
 */
struct elfcache;
struct cache;

/* A file as it is now, for telling whether what a run kept of it is still its own (facts.h). */
struct facts_id {
	uint64_t dev, ino, size, mtime_ns, ctime_ns;
};

/* Which debug file a file's names come from: all zero for none found. */
struct elf_debug_id {
	uint64_t dev, ino, size, mtime_ns;
	bool self; /* the file has DWARF of its own */
};

struct elf_file {
	char *path;   /* as the process named it, " (deleted)" removed */
	char *opened; /* where it was found: /proc/PID/root/..., map_files, or path */
	Elf *elf;     /* NULL when no usable file was found */
	int fd;
	void *image; /* [vdso]: cprof's own copy of the kernel's image */
	size_t image_size;
	GElf_Phdr *loads; /* PT_LOAD headers */
	size_t nloads;
	char build_id[41]; /* lowercase hex, "" when the file has none */
	GElf_Addr entry;   /* e_entry: the program's (or ld.so's) _start; 0 for a library */
	/* Is there .debug_frame, in the file or its debug file? (elfcache_has_debug_frame) */
	enum { ELF_DEBUG_FRAME_UNKNOWN, ELF_DEBUG_FRAME_YES, ELF_DEBUG_FRAME_NONE } debug_frame;
	bool debug_looked;
	struct elf_debug_id debug_id;
	bool debug_compressed; /* its separate debug file has compressed sections */
	bool debug_from_copy;  /* libdwfl read cprof's inflated copy of it */
	bool dwarf_loaded;     /* its DWARF was asked for (symbolization) */
	struct elfcache *owner;
	struct symcache *names; /* its cached names (symcache.h), once asked */
	/* For symbolization, made on first use: the file alone in a Dwfl, at bias 0. */
	Dwfl *dwfl;
	Dwfl_Module *mod;
	bool dwfl_tried;
	/* Its function symbols sorted by address, built on first lookup (elfsyms.c). */
	struct elf_symbol *syms;
	size_t nsyms;
	bool syms_loaded;
	char **owned_names; /* names made for PLT entries */
	size_t nowned_names, owned_names_cap;
	/* Where its functions that end or switch stacks lie, for the unwinder. */
	struct fn_range *classes;
	size_t nclasses;
	bool classes_loaded;
	/* Its .eh_frame rules for the fast unwinder, made on first use (cfi.h). */
	struct cfi_rules *cfi;
	bool cfi_checked, cfi_sane; /* cfi_file_is_sane's answer, once asked */
	/* The saved table the symbols' names point into (elfsyms.c), or NULL; and whether to save.
	 */
	const void *syms_map;
	size_t syms_map_len;
	bool syms_dirty;
	/* Where its PLT sections lie (elfcache_in_plt), read on first use. */
	GElf_Addr plts[3][2];
	bool plts_read;
	/* Both answers as a run before left them (facts.h), and whether this run adds to them. */
	struct facts_id facts_id;
	bool facts_tried, facts_id_known, facts_dirty;
};

struct elf_symbol {
	GElf_Addr addr, end; /* [addr, end): a size-0 symbol's reaches the next symbol */
	const char *name;    /* libdwfl's, or the file's own (PLT entries) */
	bool label;	     /* size 0 in the symbol table: a sized symbol takes precedence */
};

/* What a function means to the unwinder. */
enum fn_class {
	FN_PLAIN,
	FN_ENTRY,  /* a thread's first frame: a stack that reaches it is complete */
	FN_SWITCH, /* switches stacks: its callers are on a stack the sample did not copy */
};

struct fn_range {
	GElf_Addr start, end;
	enum fn_class class;
};

/*
 * A new cache. debuginfo_path is libdwfl's search path for separate debug
 * info (NULL: ":.debug:/usr/lib/debug"); debuginfod is used when
 * DEBUGINFOD_URLS is set. Returns 0 and *ret (free with elfcache_free), or -ENOMEM.
 */
int elfcache_new(const char *debuginfo_path, struct cache *cache, struct elfcache **ret);

/*
 * Keep an inflated copy of f's debug file in the cache (elfcopy.h), if its
 * DWARF was loaded in this run from a compressed debug file: later runs
 * read the copy, and inflate nothing. Returns 0 or -errno.
 */
int elfcache_keep_debug(struct elfcache *c, struct elf_file *f);

/*
 * Take f's facts (facts.h) from the cache, once, where a run before kept
 * them for this very file: its CFI's sanity and its classed functions then
 * need not be worked out again. Called before working either out.
 */
void elfcache_load_facts(struct elf_file *f);

/* Keep what this run worked out of f's facts. Returns 0 or -errno. */
int elfcache_keep_facts(struct elfcache *c, struct elf_file *f);

/* Close every file. Free the Dwfls borrowing from it first. NULL-safe. */
void elfcache_free(struct elfcache *c);

/*
 * The file mapped by m in process pid, opened on first use (m is not
 * changed: a map without a build id keeps none, and symbolize_profile
 * gives the profile's mapping the file's). NULL only when out of memory;
 * check ->elf. Borrowed until elfcache_free.
 */
struct elf_file *elfcache_get(struct elfcache *c, int32_t pid, const struct proc_map *m);

/*
 * The file of a profile mapping: by build id when given, else by path,
 * opening it now (through /proc/PID/root while pid runs) if no process
 * opened it during the recording. A file whose build id differs from the
 * one given is not used. NULL only when out of memory.
 */
struct elf_file *elfcache_lookup(struct elfcache *c, const char *path, const char *build_id,
				 int32_t pid, uint64_t start, uint64_t end);

/* The files opened so far, for walking them all: i < elfcache_nfiles. Borrowed. */
size_t elfcache_nfiles(const struct elfcache *c);
struct elf_file *elfcache_file(struct elfcache *c, size_t i);

/* Read f->elf's PT_LOAD headers into f->loads. False when it has none (not a usable file). */
bool elfcache_load_phdrs(struct elf_file *f);

/* The file's address for file offset off: its PT_LOAD's vaddr. False when no segment has it. */
bool elfcache_offset_to_vaddr(const struct elf_file *f, uint64_t off, uint64_t *ret);

/* The file's extent in its own addresses: its PT_LOADs from the first page to the last byte. */
void elfcache_extent(const struct elf_file *f, GElf_Addr *ret_low, GElf_Addr *ret_high);

/*
 * Report f to dwfl as a module at the given bias, lending it the cache's
 * Elf. Returns the module, or NULL (libdwfl's error logged at debug).
 */
Dwfl_Module *elfcache_report(struct elfcache *c, struct elf_file *f, Dwfl *dwfl, GElf_Addr bias);

/* The callbacks for a Dwfl whose modules come from elfcache_report. */
const Dwfl_Callbacks *elfcache_callbacks(struct elfcache *c);

/*
 * The same, for Dwfls that unwind: a module gets a debug file only if it
 * has .debug_frame, since libdwfl loads one there for nothing else.
 */
const Dwfl_Callbacks *elfcache_unwind_callbacks(struct elfcache *c);

/*
 * Is there .debug_frame CFI for f, in f or its separate debug file? Found
 * once per file from section headers, without inflating anything.
 */
bool elfcache_has_debug_frame(struct elfcache *c, struct elf_file *f);

/* The debug file f's DWARF would come from, found once without reading it. Borrowed. */
const struct elf_debug_id *elfcache_debug_id(struct elfcache *c, struct elf_file *f);

/*
 * One frame of a symbolized address, innermost first. Names are borrowed
 * (libdw, kallsyms, the symbol cache) until interned into a profile.
 */
struct sym_frame {
	const char *name;	 /* display name; demangled when it could be */
	const char *system_name; /* the symbol as the binary has it */
	const char *file;	 /* where the function is defined; NULL for none */
	int64_t start_line;
	int64_t line; /* the line executing, or the call site of the next inner frame */
};

/* The file alone in a Dwfl at bias 0, for symbolization. NULL when it cannot be had. */
Dwfl_Module *elfcache_module(struct elfcache *c, struct elf_file *f);

/*
 * End every file's symbolization Dwfl but keep's (the kernel image's) —
 * and with it what libdw cached of its DWARF (line tables, abbreviations,
 * CU lists grow with every address asked about), its symbol table and
 * the .debug_frame handle the unwinder took from it — to be made again on
 * the next use. What a periodic recording does every few windows, so
 * that weeks of them stay flat in memory.
 */
void elfcache_trim(struct elfcache *c, const Dwfl_Module *keep);

/*
 * The function symbol containing vaddr in the file's own addresses (bias 0),
 * and vaddr's offset into it. One sorted table per file, built once: libdwfl's
 * dwfl_module_addrinfo scans the whole symbol table on every call.
 * NULL when no symbol covers vaddr. Borrowed until elfcache_free.
 */
const char *elfcache_symbol(struct elfcache *c, struct elf_file *f, GElf_Addr vaddr,
			    GElf_Addr *ret_offset);

/*
 * Is vaddr in one of f's PLT sections (.plt, .plt.sec, .plt.got), where
 * every NAME@plt entry lies? Read from the section headers once: asking it
 * first spares the unwinder loading a whole symbol table (libnode's: a
 * tenth of a node recording) for code that is no PLT entry.
 */
bool elfcache_in_plt(struct elf_file *f, GElf_Addr vaddr);

/*
 * f's sorted symbol table is kept in cprof's cache (syms-BUILDID) for that
 * very file and debug file (facts.h's rules): libnode's took a fifth of a
 * node recording to read and sort, for each run that met a new function.
 * Keep it if this run built it (0 or -errno); forget the table (its names
 * point into the saved one) before the file or its Dwfl goes.
 */
int elfcache_keep_symbols(struct elfcache *c, struct elf_file *f);

/* The cache directory c keeps files in; NULL when none. */
struct cache *elfcache_cache(struct elfcache *c);
void elfcache_forget_symbols(struct elf_file *f);

/*
 * A saved table: its symbols, names pointing into data (exposed for tests).
 * Returns 0 and *ret (caller frees), -ESTALE for another file's, -EBADMSG
 * when damaged or of another version, or -ENOMEM.
 */
int elfsyms_parse(const void *data, size_t len, const char *build_id, const struct facts_id *id,
		  const struct elf_debug_id *debug, struct elf_symbol **ret, size_t *ret_n);

/* The file elfsyms_parse reads, of syms[0..n). Returns 0 and *ret, *ret_len (caller frees). */
int elfsyms_serialize(const struct elf_symbol *syms, size_t n, const char *build_id,
		      const struct facts_id *id, const struct elf_debug_id *debug, void **ret,
		      size_t *ret_len);

/*
 * elfcache_symbol, and the addresses [span[0], span[1]) around vaddr that
 * have the same answer (the same symbol, or none): the symbol cache keeps
 * one entry for all of them.
 */
const char *elfcache_symbol_span(struct elfcache *c, struct elf_file *f, GElf_Addr vaddr,
				 GElf_Addr *ret_offset, GElf_Addr span[2]);

/*
 * The class of the function containing vaddr (bias 0): entries by name
 * (_start, clone, runtime.goexit, ...) or as the file's entry point,
 * Go's stack switches by name. Looked up per frame: a short list per file.
 */
enum fn_class elfcache_fn_class(struct elfcache *c, struct elf_file *f, GElf_Addr vaddr);

/* Demangle a C++ or Rust symbol; NULL when it is not mangled. Caller frees. */
char *demangle(const char *sym);

#endif
