/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <dwarf.h>
#include <elfutils/libdw.h>

#include "lib/base/cache.h"
#include "lib/base/log.h"
#include "lib/base/vec.h"
#include "lib/base/hash.h"
#include "symbolize/curanges.h"
#include "symbolize/dieindex.h"
#include "symbolize/internal.h"
#include "symbolize/jitmap.h"
#include "symbolize/symcache.h"
#include "symbolize/symbolize.h"

#define MAX_INLINE 64 /* lines per location: deeper inline chains are cut at the outermost */

struct symbolize {
	struct elfcache *files;
	struct kallsyms *kallsyms;
	int kallsyms_err; /* 0 until tried; then 1 loaded, or the negative error */
	/* The core kernel's symbols saved for this boot (kallsyms_save_core), if any. */
	struct cache *cache; /* borrowed; NULL: no cache */
	char *kcore_name;    /* kallsyms-BOOT_ID in the cache; NULL: no cache */
	struct kallsyms *kcore;
	uint64_t kcore_start, kcore_end;
	bool kcore_tried;
	int kcore_error; /* why the cached copy was not used */
	struct jitmaps *jit;
	struct symbolize_stats bound_stats; /* summed over the collector's calls */
	uint64_t cached, computed;	    /* names_at's hits and misses, ever */
	uint64_t files_missing;
	char *vmlinux_path; /* as given, or NULL to search */
	bool vmlinux_tried;
	Dwfl_Module *vmlinux; /* with DWARF, or NULL */
	int64_t kaslr;	      /* running address - vmlinux address */
	/* Function indexes of the compile units seen, by (module, CU offset). */
	struct cu_entry {
		Dwfl_Module *mod;
		Dwarf_Off cu;
		struct dieindex *index; /* NULL when indexing failed: use dwarf_getscopes */
	} * cus;
	size_t ncus, cus_cap;
	struct hashmap cu_map;
	/* Units by their own ranges, for modules without .debug_aranges (curanges.h). */
	struct unit_ranges {
		Dwfl_Module *mod;
		struct curanges *index; /* NULL when it could not be built */
	} * ranges;
	size_t nranges, ranges_cap;
	uint64_t windows; /* profiles symbolized for the collector */
};

/* Windows between two symbolize_trim, in a recording of many. */
#define TRIM_WINDOWS 16

/* kallsyms-BOOT_ID, the cache file for this boot's kernel symbols; -ENOENT without a boot id. */
static int kcore_name(char **ret)
{
	char id[64] = "";
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
	bool ok = f && fgets(id, sizeof(id), f);

	if (f)
		(void)fclose(f);
	id[strcspn(id, "\n")] = '\0';
	if (!ok || !id[0] || strchr(id, '/'))
		return -ENOENT;
	return asprintf(ret, "kallsyms-%s", id) < 0 ? -ENOMEM : 0;
}

int symbolize_new(const struct symbolize_options *opts, struct symbolize **ret)
{
	struct symbolize *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	if (opts && opts->vmlinux) {
		s->vmlinux_path = strdup(opts->vmlinux);
		if (!s->vmlinux_path) {
			free(s);
			return -ENOMEM;
		}
	}
	s->cache = opts ? opts->cache : NULL;
	if (s->cache && kcore_name(&s->kcore_name) == -ENOMEM) {
		symbolize_free(s);
		return -ENOMEM;
	}
	r = elfcache_new(opts ? opts->debuginfo_path : NULL, s->cache, &s->files);
	if (r == 0)
		r = jitmaps_new(&s->jit);
	if (r < 0) {
		symbolize_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

void symbolize_free(struct symbolize *s)
{
	if (!s)
		return;
	elfcache_free(s->files);
	kallsyms_free(s->kallsyms);
	kallsyms_free(s->kcore);
	free(s->kcore_name);
	free(s->vmlinux_path);
	for (size_t i = 0; i < s->ncus; i++)
		dieindex_free(s->cus[i].index);
	for (size_t i = 0; i < s->nranges; i++)
		curanges_free(s->ranges[i].index);
	free(s->ranges);
	free(s->cus);
	hashmap_release(&s->cu_map);
	jitmaps_free(s->jit);
	free(s);
}

struct elfcache *symbolize_files(struct symbolize *s)
{
	return s->files;
}

static void map_sampled(void *ctx, int32_t pid, const struct proc_map *m)
{
	struct symbolize *s = ctx;

	if (proc_map_is_anon(m))
		(void)jitmaps_open(s->jit, pid);
	else if (m->path[0] == '/' || strcmp(m->path, "[vdso]") == 0)
		(void)elfcache_get(s->files, pid, m);
}

void symbolize_bind(struct symbolize *s, struct session_observer *ret)
{
	*ret = (struct session_observer){.ctx = s, .map_sampled = map_sampled};
}

/*
 * Let go of what libdw and libdwfl cached for the files' DWARF: the
 * function indexes of the CUs seen, their ranges, and every file's Dwfl
 * (elfcache_trim). Names already found stay in the files' name caches
 * (symcache.h), so what comes back is what new addresses need.
 */
static void symbolize_trim(struct symbolize *s)
{
	for (size_t i = 0; i < s->ncus; i++)
		dieindex_free(s->cus[i].index);
	for (size_t i = 0; i < s->nranges; i++)
		curanges_free(s->ranges[i].index);
	s->ncus = 0;
	s->nranges = 0;
	hashmap_release(&s->cu_map);
	elfcache_trim(s->files, s->vmlinux);
}

static int symbolize_for_collector(void *ctx, struct profile *p)
{
	struct symbolize *s = ctx;
	struct symbolize_stats st;
	int r = symbolize_profile(s, p, &st);

	/*
	 * A window's profile at a time, for as long as the recording lasts:
	 * libdw's caches grow with every address asked about (0.3 MiB a
	 * window of a busy host), so every TRIM_WINDOWS they start over.
	 */
	if (++s->windows % TRIM_WINDOWS == 0)
		symbolize_trim(s);

	st.locations += s->bound_stats.locations;
	st.resolved += s->bound_stats.resolved;
	st.cached += s->bound_stats.cached;
	st.computed += s->bound_stats.computed;
	st.files_missing += s->bound_stats.files_missing;
	s->bound_stats = st;
	return r;
}

void symbolize_bind_collector(struct symbolize *s, struct collector_symbolizer *ret)
{
	*ret = (struct collector_symbolizer){.ctx = s, .symbolize = symbolize_for_collector};
}

void symbolize_get_stats(const struct symbolize *s, struct symbolize_stats *ret)
{
	*ret = s->bound_stats;
}

/*
 * How much of a symbol is the function's name, as perf and Go print it:
 * not a symbol version ("__libc_start_main@@GLIBC_2.34"; a PLT entry's
 * "@plt" stays), nor the ".abi0" Go's symbol table gives its assembly
 * functions. The full symbol stays in system_name.
 */
static size_t display_len(const char *name)
{
	const char *at = strchr(name, '@');
	size_t len = strlen(name);

	if (at && at != name && strcmp(at, "@plt") != 0)
		len = (size_t)(at - name);
	if (len > 5 && strncmp(name + len - 5, ".abi0", 5) == 0)
		len -= 5;
	return len;
}

/* Intern frames (innermost first) as the lines of location loc. */
static int set_lines(struct profile *p, uint32_t loc, const struct sym_frame *frames, size_t n)
{
	struct profile_line lines[MAX_INLINE];
	int r;

	for (size_t i = 0; i < n; i++) {
		const char *name = frames[i].name;
		struct profile_function fn = {.start_line = frames[i].start_line};

		r = profile_intern_n(p, name, display_len(name), &fn.name);
		if (r == 0)
			r = profile_intern(p, frames[i].system_name, &fn.system_name);
		if (r == 0)
			r = profile_intern(p, frames[i].file ? frames[i].file : "", &fn.filename);
		if (r == 0)
			r = profile_intern_function(p, &fn, &lines[i].function);
		if (r < 0)
			return r;
		lines[i].line = frames[i].line;
	}
	return profile_set_lines(p, loc, lines, n);
}

/* A DIE's function name: the demangled linkage name, else DW_AT_name (C). */
static const char *die_names(Dwarf_Die *die, const char **ret_system, char **ret_demangled)
{
	Dwarf_Attribute attr;
	const char *linkage = NULL, *name;

	if (dwarf_attr_integrate(die, DW_AT_linkage_name, &attr) ||
	    dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr))
		linkage = dwarf_formstring(&attr);
	name = dwarf_attr_integrate(die, DW_AT_name, &attr) ? dwarf_formstring(&attr) : NULL;
	*ret_demangled = linkage ? demangle(linkage) : NULL;
	*ret_system = linkage ? linkage : name;
	return *ret_demangled ? *ret_demangled : (linkage && !name ? linkage : name);
}

static bool is_function(int tag)
{
	return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
	       tag == DW_TAG_entry_point;
}

/*
 * The inline chain at vaddr from DWARF, as elfutils' addr2line -i walks it:
 * dwarf_getscopes gives the innermost function scope at vaddr; when that is
 * an inlined subroutine, dwarf_getscopes_die gives the scopes that
 * physically contain it (dwarf_getscopes would continue into the inlined
 * function's abstract definition instead). The innermost function runs the
 * line at vaddr; each inlined subroutine's DW_AT_call_line is the line of
 * the next outer function that called it; a DW_TAG_subprogram ends the
 * chain. Each function's own file and first line come from its
 * declaration. Returns the number of frames, 0 without DWARF here.
 */
struct cu_key {
	const struct symbolize *s;
	Dwfl_Module *mod;
	Dwarf_Off cu;
};

static bool cu_eq(const void *ctx, uint32_t idx)
{
	const struct cu_key *k = ctx;

	return k->s->cus[idx].mod == k->mod && k->s->cus[idx].cu == k->cu;
}

/* The function index of cu, built on first use. NULL when it cannot be built. */
static struct dieindex *cu_index(struct symbolize *s, Dwfl_Module *mod, Dwarf_Die *cu)
{
	struct cu_key k = {s, mod, dwarf_dieoffset(cu)};
	uint64_t h = hash_u64(k.cu, (uint64_t)(uintptr_t)mod);
	uint32_t idx;

	if (hashmap_find(&s->cu_map, h, cu_eq, &k, &idx))
		return s->cus[idx].index;
	if (VEC_PUSH_RESERVE(s->cus, s->ncus, s->cus_cap) < 0 ||
	    hashmap_insert(&s->cu_map, h, (uint32_t)s->ncus) < 0)
		return NULL;
	s->cus[s->ncus] = (struct cu_entry){mod, k.cu, dieindex_new(cu)};
	return s->cus[s->ncus++].index;
}

/* Narrow span to its part within [lo, hi). */
static void narrow(uint64_t span[2], uint64_t lo, uint64_t hi)
{
	if (lo > span[0])
		span[0] = lo;
	if (hi < span[1])
		span[1] = hi;
}

/* Only pc itself is known to have pc's answer. */
static void exactly(uint64_t span[2], uint64_t pc)
{
	span[0] = pc;
	span[1] = pc + 1;
}

/*
 * Narrow span to the addresses around pc (DWARF's) with the same rows of
 * cu's line table at or below them, so the same row for any lookup: from
 * the last row's address at or below pc to the next row's above it (libdw
 * keeps the rows sorted by address).
 */
static void row_span(Dwarf_Die *cu, Dwarf_Addr pc, Dwarf_Addr span[2])
{
	Dwarf_Lines *lines;
	size_t n, lo = 0, hi;
	Dwarf_Addr a;

	if (dwarf_getsrclines(cu, &lines, &n) != 0) {
		exactly(span, pc);
		return;
	}
	for (hi = n; lo < hi;) {
		size_t mid = lo + (hi - lo) / 2;

		if (dwarf_lineaddr(dwarf_onesrcline(lines, mid), &a) == 0 && a <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < n && dwarf_lineaddr(dwarf_onesrcline(lines, lo), &a) == 0 && a < span[1])
		span[1] = a;
	if (lo > 0 && dwarf_lineaddr(dwarf_onesrcline(lines, lo - 1), &a) == 0 && a > span[0])
		span[0] = a;
}

/* The i-th .debug_aranges entry's [start, end); false when it cannot be read. */
static bool arange_at(Dwarf_Aranges *aranges, size_t i, Dwarf_Addr *start, Dwarf_Addr *end)
{
	Dwarf_Arange *a = dwarf_onearange(aranges, i);
	Dwarf_Word len;

	if (!a || dwarf_getarangeinfo(a, start, &len, NULL) != 0 || len > UINT64_MAX - *start)
		return false;
	*end = *start + len;
	return true;
}

/*
 * Narrow span to the .debug_aranges entry holding pc, or to the gap between
 * two entries pc falls in: libdwfl answers alike anywhere in either (a gap
 * belongs to the unit before it; code without DWARF, crt1.o's, lies in
 * one). Before the first entry or past the last, only pc is sure.
 */
static void arange_span(Dwarf *dbg, Dwarf_Addr pc, Dwarf_Addr span[2])
{
	Dwarf_Addr start = 0, end = 0, next = 0, next_end;
	Dwarf_Aranges *aranges;
	size_t n, lo = 0, hi;

	if (dwarf_getaranges(dbg, &aranges, &n) != 0)
		goto exact;
	/* libdw keeps them sorted by address: the first starting above pc. */
	for (hi = n; lo < hi;) {
		size_t mid = lo + (hi - lo) / 2;

		if (!arange_at(aranges, mid, &start, &end))
			goto exact;
		if (start <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || !arange_at(aranges, lo - 1, &start, &end))
		goto exact;
	if (pc >= end) {
		/* In the gap after entry lo - 1: up to the next one. */
		if (lo == n || !arange_at(aranges, lo, &next, &next_end) || next <= end)
			goto exact;
		start = end;
		end = next;
	}
	narrow(span, start, end);
	return;
exact:
	exactly(span, pc);
}

/*
 * The unit holding vaddr and its line there: libdwfl's, found through
 * .debug_aranges, else from the units' own ranges (curanges.h: Go). span
 * (DWARF's addresses) is narrowed to where the unit and the line table's
 * row are vaddr's.
 */
static Dwarf_Die *unit_at(struct symbolize *s, Dwfl_Module *mod, Dwarf_Addr vaddr, Dwarf_Die *mem,
			  Dwarf_Addr *ret_bias, int *ret_line, const char **ret_file,
			  Dwarf_Addr span[2])
{
	Dwarf_Die *cu = dwfl_module_addrdie(mod, vaddr, ret_bias);
	struct unit_ranges *u = NULL;
	Dwfl_Line *src;
	Dwarf_Line *line;
	Dwarf *dbg;

	*ret_line = 0;
	*ret_file = NULL;
	if (cu) {
		src = dwfl_module_getsrc(mod, vaddr);
		if (src)
			*ret_file = dwfl_lineinfo(src, NULL, ret_line, NULL, NULL, NULL);
		Dwarf_Addr bias;

		dbg = dwfl_module_getdwarf(mod, &bias);
		if (dbg)
			arange_span(dbg, vaddr - *ret_bias, span);
		row_span(cu, vaddr - *ret_bias, span);
		return cu;
	}
	dbg = dwfl_module_getdwarf(mod, ret_bias);
	if (!dbg)
		return NULL;
	/* Few modules lack aranges: a list will do. */
	for (size_t i = 0; i < s->nranges && !u; i++)
		if (s->ranges[i].mod == mod)
			u = &s->ranges[i];
	if (!u) {
		if (VEC_PUSH_RESERVE(s->ranges, s->nranges, s->ranges_cap) < 0)
			return NULL;
		u = &s->ranges[s->nranges++];
		*u = (struct unit_ranges){mod, curanges_new(dbg)};
	}
	if (!u->index || !curanges_lookup(u->index, dbg, vaddr - *ret_bias, mem))
		return NULL;
	exactly(span, vaddr - *ret_bias);
	if ((line = dwarf_getsrc_die(mem, vaddr - *ret_bias))) {
		(void)dwarf_lineno(line, ret_line);
		*ret_file = dwarf_linesrc(line, NULL, NULL);
	}
	return mem;
}

/*
 * dir/file with "." and ".." taken out by their names, as Go writes its
 * file names: DWARF gives a name relative to the compilation directory
 * ("../src/x.c" in /build), which says nothing on its own — not to pprof's
 * -list, not to debuginfod's source lookup, which want the whole path.
 * Returns the path (caller frees) or NULL when out of memory.
 */
static char *absolute_path(const char *dir, const char *file)
{
	size_t len = strlen(dir) + strlen(file) + 2, n = 0;
	char *joined = malloc(len), *out = malloc(len), *save = NULL, *part;

	if (!joined || !out) {
		free(joined);
		free(out);
		return NULL;
	}
	(void)snprintf(joined, len, "%s/%s", dir, file);
	for (part = strtok_r(joined, "/", &save); part; part = strtok_r(NULL, "/", &save)) {
		if (strcmp(part, ".") == 0)
			continue;
		if (strcmp(part, "..") == 0) {
			while (n > 0 && out[--n] != '/')
				;
			continue;
		}
		out[n++] = '/';
		memcpy(out + n, part, strlen(part));
		n += strlen(part);
	}
	if (n == 0)
		out[n++] = '/';
	out[n] = '\0';
	free(joined);
	return out;
}

/* Make frames[0..n)'s relative file names whole, by cu's compilation directory. */
static void whole_paths(Dwarf_Die *cu, struct sym_frame *frames, size_t n, char **owned,
			size_t *nowned)
{
	Dwarf_Attribute attr;
	const char *dir = dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &attr));

	if (!dir || dir[0] != '/')
		return;
	for (size_t i = 0; i < n; i++) {
		char *path;

		if (!frames[i].file || frames[i].file[0] == '/' || !frames[i].file[0])
			continue;
		path = absolute_path(dir, frames[i].file);
		if (!path)
			continue;
		owned[(*nowned)++] = path;
		frames[i].file = path;
	}
}

/*
 * The frames at vaddr from DWARF, and in ret_span the addresses around it
 * with the same frames: where the unit, the line table's row and the
 * function scopes are the same (only vaddr when that is not known).
 */
static size_t dwarf_frames(struct symbolize *s, Dwfl_Module *mod, Dwarf_Addr vaddr,
			   struct sym_frame *frames, char **owned, size_t *nowned,
			   Dwarf_Addr ret_span[2])
{
	Dwarf_Addr bias, span[2] = {0, UINT64_MAX};
	Dwarf_Die cu_mem, *cu, *scopes = NULL, *chain = NULL;
	Dwarf_Die dies[MAX_INLINE];
	Dwarf_Off offs[MAX_INLINE];
	struct dieindex *index;
	Dwarf *dbg;
	size_t n = 0;
	int line = 0, nscopes, nchain = 0, first = -1;
	/*
	 * The file each frame runs in, where its function names none (Go's
	 * inlined functions): the line table's for the innermost, then the
	 * file of each inlined call's site.
	 */
	const char *file = NULL;
	Dwarf_Files *files = NULL;

	exactly(ret_span, vaddr);
	cu = unit_at(s, mod, vaddr, &cu_mem, &bias, &line, &file, span);
	if (!cu)
		return 0;
	index = cu_index(s, mod, cu);
	dbg = dwfl_module_getdwarf(mod, &bias);
	if (index && dbg) {
		Dwarf_Addr scopes_span[2];
		size_t k = dieindex_lookup(index, vaddr - bias, offs, MAX_INLINE, scopes_span);

		/* What follows depends on the unit, the row and the scopes alone. */
		narrow(span, scopes_span[0], scopes_span[1]);
		if (span[0] + bias <= vaddr && vaddr - bias < span[1] &&
		    span[1] <= UINT64_MAX - bias) {
			ret_span[0] = span[0] + bias;
			ret_span[1] = span[1] + bias;
		}

		for (size_t i = 0; i < k; i++)
			if (!dwarf_offdie(dbg, offs[i], &dies[nchain++]))
				nchain--;
		if (nchain == 0)
			goto out;
		chain = dies;
	} else {
		/* No index: dwarf_getscopes, then the containing scopes of an inlined one. */
		nscopes = dwarf_getscopes(cu, vaddr - bias, &scopes);
		for (int i = 0; i < nscopes && first < 0; i++)
			if (is_function(dwarf_tag(&scopes[i])))
				first = i;
		if (first < 0)
			goto out;
		if (dwarf_tag(&scopes[first]) == DW_TAG_inlined_subroutine)
			nchain = dwarf_getscopes_die(&scopes[first], &chain);
		if (nchain <= 0) {
			chain = NULL;
			nchain = 1;
		}
	}
	for (int i = 0; i < nchain && n < MAX_INLINE; i++) {
		Dwarf_Die *die = chain ? &chain[i] : &scopes[first];
		int tag = dwarf_tag(die), decl_line = 0;
		Dwarf_Attribute attr;
		Dwarf_Word call_line, call_file;
		const char *name, *system;
		char *dem;

		if (!is_function(tag))
			continue;
		name = die_names(die, &system, &dem);
		if (dem)
			owned[(*nowned)++] = dem;
		if (!name)
			name = system = "";
		(void)dwarf_decl_line(die, &decl_line);
		frames[n++] = (struct sym_frame){
			.name = name,
			.system_name = system ? system : name,
			.file = dwarf_decl_file(die) ? dwarf_decl_file(die) : file,
			.start_line = decl_line,
			.line = line,
		};
		if (tag != DW_TAG_inlined_subroutine)
			break;
		/* The next outer frame is executing the call site of this inlined one. */
		if (dwarf_formudata(dwarf_attr(die, DW_AT_call_line, &attr), &call_line) == 0)
			line = (int)call_line;
		else
			line = 0;
		file = NULL;
		if (dwarf_formudata(dwarf_attr(die, DW_AT_call_file, &attr), &call_file) == 0 &&
		    (files || dwarf_getsrcfiles(cu, &files, NULL) == 0))
			file = dwarf_filesrc(files, call_file, NULL, NULL);
	}
out:
	if (chain != dies)
		free(chain);
	free(scopes);
	/* A chain without a named function says nothing useful. */
	if (n && !*frames[n - 1].name)
		return 0;
	whole_paths(cu, frames, n, owned, nowned);
	return n;
}

/*
 * The names at vaddr of f, computed: from DWARF where it covers vaddr, else
 * the ELF symbol. Strings are borrowed (libdw) or in owned[] (demangled).
 * span: the addresses around vaddr with the same names, the symbol's offset
 * growing with the address.
 */
static size_t compute_names(struct symbolize *s, struct elf_file *f, Dwfl_Module *mod,
			    uint64_t vaddr, struct sym_frame *frames, char **owned, size_t *nowned,
			    struct symcache_result *res, uint64_t span[2])
{
	GElf_Addr off, sym_span[2];
	Dwarf_Addr bias;
	const char *sym;
	size_t n;

	n = dwarf_frames(s, mod, vaddr, frames, owned, nowned, span);
	/* No DWARF in the module at all: the symbol alone names every address. */
	if (n == 0 && !dwfl_module_getdwarf(mod, &bias)) {
		span[0] = 0;
		span[1] = UINT64_MAX;
	}
	*res = (struct symcache_result){.dwarf = n > 0};
	sym = elfcache_symbol_span(s->files, f, vaddr, &off, sym_span);
	narrow(span, sym_span[0], sym_span[1]);
	if (sym) {
		res->sym_offset = off;
		res->has_sym_offset = true;
	}
	if (n == 0 && sym) {
		char *dem = demangle(sym);

		if (dem)
			owned[(*nowned)++] = dem;
		frames[0] = (struct sym_frame){.name = dem ? dem : sym, .system_name = sym};
		n = 1;
	}
	res->nframes = n;
	return n;
}

/*
 * Name the rest of vaddr's function (the extent of its ELF symbol) into the
 * symbol cache, span by span, while its DWARF is open: a later run samples
 * other addresses of the functions this one did (another line, a path
 * rarely taken) and should find them without opening the debug file, which
 * is most of what naming costs. A whole unit per miss was tried: a file of
 * names ten times the size (11 MB for CPython after four runs), read and
 * rewritten by every run, cost more than the misses it saved. Paid once per
 * function and build id; bounded in spans; stops where the symbolizer
 * cannot tell how far an answer reaches.
 */
#define FILL_MAX_SPANS 65536

static int fill_function(struct symbolize *s, struct elf_file *f, Dwfl_Module *mod, uint64_t vaddr)
{
	GElf_Addr off, fn[2];
	uint64_t at, end;
	unsigned exact = 0; /* one-byte spans in a row */

	if (!f->names || !elfcache_symbol_span(s->files, f, vaddr, &off, fn))
		return 0;
	at = fn[0];
	end = fn[1];
	for (size_t n = 0; at < end && n < FILL_MAX_SPANS; n++) {
		struct sym_frame frames[MAX_INLINE];
		struct symcache_result res;
		char *owned[2 * MAX_INLINE];
		size_t nowned = 0;
		uint64_t span[2];
		int r;

		if (symcache_find(f->names, at, frames, MAX_INLINE, &res)) {
			at = res.end;
			continue;
		}
		(void)compute_names(s, f, mod, at, frames, owned, &nowned, &res, span);
		r = symcache_add(f->names, at, span, frames, &res);
		for (size_t i = 0; i < nowned; i++)
			free(owned[i]);
		if (r < 0)
			return r;
		/* A one-byte span may be an answer that reaches no further, or one not known to. */
		if (span[0] > at || span[1] <= at + 1) {
			if (++exact > 64)
				break;
			at++;
			continue;
		}
		exact = 0;
		at = span[1];
	}
	return 0;
}

/*
 * The names at vaddr of f: the symbol cache's, else computed now and
 * remembered there with the rest of its function.
 */
static int names_at(struct symbolize *s, struct elf_file *f, uint64_t vaddr,
		    struct sym_frame *frames, char **owned, size_t *nowned,
		    struct symcache_result *res)
{
	Dwfl_Module *mod;
	uint64_t span[2];
	int r;

	if (symcache_find(f->names, vaddr, frames, MAX_INLINE, res)) {
		s->cached++;
		return 0;
	}
	mod = elfcache_module(s->files, f);
	if (!mod) {
		*res = (struct symcache_result){0};
		return 0;
	}
	f->dwarf_loaded = true;
	s->computed++;
	(void)compute_names(s, f, mod, vaddr, frames, owned, nowned, res, span);
	r = symcache_add(f->names, vaddr, span, frames, res);
	if (r == 0 && res->dwarf)
		r = fill_function(s, f, mod, vaddr);
	return r;
}

static int symbolize_user(struct symbolize *s, struct profile *p, uint32_t loc, bool *ret_dwarf,
			  bool *ret_ok)
{
	const struct profile_location *l = profile_location(p, loc);
	const struct profile_mapping *m = &p->mappings[l->mapping - 1];
	bool caller = l->flags & PROFILE_LOCATION_CALLER;
	struct sym_frame frames[MAX_INLINE];
	struct symcache_result res;
	char *owned[2 * MAX_INLINE];
	size_t nowned = 0;
	struct elf_file *f;
	uint64_t vaddr;
	int r = 0;

	f = elfcache_lookup(s->files, profile_str(p, m->file), profile_str(p, m->build_id), m->pid,
			    m->start, m->limit);
	if (!f)
		return -ENOMEM;
	if (!f->elf || !elfcache_offset_to_vaddr(f, l->address - m->start + m->offset, &vaddr))
		return 0;
	/* A return address belongs to the call before it. */
	if (caller)
		vaddr--;
	/* The names a run before found, if it used the debug file found now. */
	if (!f->names &&
	    symcache_open(s->cache, f->build_id, elfcache_debug_id(s->files, f), &f->names) < 0)
		return -ENOMEM;
	r = names_at(s, f, vaddr, frames, owned, &nowned, &res);
	/*
	 * Nothing before a return address: it is a function's first byte, where
	 * the kernel "returns" from a signal handler into the restorer (Go's
	 * runtime.sigreturn). That function is the frame's.
	 */
	if (r == 0 && caller && res.nframes == 0) {
		caller = false;
		r = names_at(s, f, ++vaddr, frames, owned, &nowned, &res);
	}
	*ret_dwarf = res.dwarf;
	if (r == 0 && res.has_sym_offset) {
		/* perf-script prints the offset of the address itself, not of address - 1. */
		r = profile_set_sym_offset(p, loc, res.sym_offset + (caller ? 1 : 0));
	}
	if (r == 0 && res.nframes) {
		r = set_lines(p, loc, frames, res.nframes);
		*ret_ok = r == 0;
	}
	for (size_t i = 0; i < nowned; i++)
		free(owned[i]);
	return r;
}

/* The running kernel's build id, from the notes it exports. "" when unknown. */
static void kernel_build_id(char out[41])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char buf[4096];
	size_t n, off = 0;
	FILE *f = fopen("/sys/kernel/notes", "re");

	out[0] = '\0';
	if (!f)
		return;
	n = fread(buf, 1, sizeof(buf), f);
	(void)fclose(f);
	while (off + 12 <= n) {
		uint32_t namesz, descsz, type;

		memcpy(&namesz, buf + off, 4);
		memcpy(&descsz, buf + off + 4, 4);
		memcpy(&type, buf + off + 8, 4);
		off += 12;
		if (off + ((namesz + 3) & ~3u) + descsz > n)
			return;
		if (type == 3 && namesz == 4 && memcmp(buf + off, "GNU", 4) == 0 && descsz <= 20) {
			for (uint32_t i = 0; i < descsz; i++) {
				out[2 * i] = hex[buf[off + 4 + i] >> 4];
				out[2 * i + 1] = hex[buf[off + 4 + i] & 15];
			}
			out[2 * descsz] = '\0';
			return;
		}
		off += ((namesz + 3) & ~3u) + ((descsz + 3) & ~3u);
	}
}

/* The address of symbol name in mod, or 0. */
static GElf_Addr module_symbol(Dwfl_Module *mod, const char *name)
{
	int n = dwfl_module_getsymtab(mod);

	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		const char *sname = dwfl_module_getsym_info(mod, i, &sym, &addr, NULL, NULL, NULL);

		if (sname && strcmp(sname, name) == 0)
			return addr;
	}
	return 0;
}

/*
 * A vmlinux with DWARF for the running kernel: the one given, or one in
 * the places distributions put them, if its build id is the kernel's. The
 * KASLR slide is kallsyms' _stext minus the image's.
 */
static void open_vmlinux(struct symbolize *s, const struct kallsyms *k)
{
	static const char *const places[][2] = {
		{"/usr/lib/debug/boot/vmlinux-", ""},
		{"/boot/vmlinux-", ""},
		{"/usr/lib/debug/lib/modules/", "/vmlinux"},
		{"/lib/modules/", "/build/vmlinux"},
	};
	char want[41], path[512];
	struct utsname u;
	uint64_t stext = 0;

	s->vmlinux_tried = true;
	kernel_build_id(want);
	for (size_t i = 0; i < (s->vmlinux_path ? 1 : sizeof(places) / sizeof(places[0])); i++) {
		struct elf_file *f;
		Dwfl_Module *mod;
		GElf_Addr image_stext;
		Dwarf_Addr bias;

		if (s->vmlinux_path) {
			(void)snprintf(path, sizeof(path), "%s", s->vmlinux_path);
		} else {
			if (uname(&u) != 0)
				return;
			(void)snprintf(path, sizeof(path), "%s%s%s", places[i][0], u.release,
				       places[i][1]);
		}
		/* A vmlinux given by hand is trusted; a found one must be this kernel's. */
		f = elfcache_lookup(s->files, path, s->vmlinux_path ? "" : want, 0, 0, 0);
		mod = f && f->elf ? elfcache_module(s->files, f) : NULL;
		if (!mod || !dwfl_module_getdwarf(mod, &bias))
			continue;
		image_stext = module_symbol(mod, "_stext");
		stext = 0;
		(void)kallsyms_addr_of(k, "_stext", &stext);
		if (!image_stext || !stext)
			continue;
		s->vmlinux = mod;
		s->kaslr = (int64_t)(stext - image_stext);
		log_debug("vmlinux: %s, slide %#" PRIx64, path, (uint64_t)s->kaslr);
		return;
	}
}

/*
 * The kernel symbols for addr: the core kernel's saved for this boot when
 * addr is core kernel text, else all of /proc/kallsyms, read once (and its
 * core part saved for the next run). NULL when the kernel's are hidden.
 */
static const struct kallsyms *kernel_symbols(struct symbolize *s, uint64_t addr)
{
	int r;

	if (!s->kcore_tried && s->kcore_name) {
		int fd = cache_open_file(s->cache, s->kcore_name);

		r = fd < 0 ? fd : kallsyms_map_core(fd, &s->kcore);
		if (fd >= 0)
			(void)close(fd);
		if (r < 0 && r != -ENOENT)
			s->kcore_error = r;
		if (r == 0 && !kallsyms_core(s->kcore, &s->kcore_start, &s->kcore_end)) {
			kallsyms_free(s->kcore);
			s->kcore = NULL;
		}
		log_debug("%s: %s", s->kcore_name,
			  s->kcore ? "kernel symbols of this boot"
			  : r < 0  ? strerror(-r)
				   : "no kernel text");
	}
	s->kcore_tried = true;
	if (s->kcore && addr >= s->kcore_start && addr < s->kcore_end)
		return s->kcore;
	if (s->kallsyms_err == 0) {
		log_debug("reading /proc/kallsyms (for %#" PRIx64 ")", addr);
		r = kallsyms_load("/proc/kallsyms", &s->kallsyms);
		s->kallsyms_err = r < 0 ? r : 1;
		if (r < 0)
			log_debug("/proc/kallsyms: %s", strerror(-r));
		if (r == 0 && s->kcore_name && !s->kcore) {
			char *data;
			size_t len;

			r = kallsyms_save_core(s->kallsyms, &data, &len);
			if (r == 0) {
				r = cache_write(s->cache, s->kcore_name, data, len);
				free(data);
			}
			if (r < 0)
				log_debug("%s: %s", s->kcore_name, strerror(-r));
		}
	}
	return s->kallsyms;
}

static int symbolize_kernel(struct symbolize *s, struct profile *p, uint32_t loc, bool *ret_ok,
			    bool *ret_dwarf)
{
	const struct profile_location *l = profile_location(p, loc);
	/* A return address is the instruction after the call: name the call. */
	const uint64_t addr = l->address - ((l->flags & PROFILE_LOCATION_CALLER) ? 1 : 0);
	const struct kallsyms *k = kernel_symbols(s, addr);
	const char *name, *module;
	uint64_t start;
	struct sym_frame f;
	int r;

	if (!k)
		return 0;
	if (!s->vmlinux_tried)
		open_vmlinux(s, k);
	if (s->vmlinux) {
		struct sym_frame frames[MAX_INLINE];
		char *owned[2 * MAX_INLINE];
		size_t n, nowned = 0;
		Dwarf_Addr vaddr = addr - (uint64_t)s->kaslr;

		n = dwarf_frames(s, s->vmlinux, vaddr, frames, owned, &nowned, (Dwarf_Addr[2]){0});
		r = n ? set_lines(p, loc, frames, n) : 0;
		for (size_t i = 0; i < nowned; i++)
			free(owned[i]);
		if (r < 0)
			return r;
		if (n) {
			*ret_ok = true;
			*ret_dwarf = true;
			return 0;
		}
	}
	name = kallsyms_lookup(k, addr, &module, &start);
	if (!name)
		return 0;
	r = profile_set_sym_offset(p, loc, l->address - start);
	f = (struct sym_frame){.name = name, .system_name = name};
	if (r == 0)
		r = set_lines(p, loc, &f, 1);
	if (r < 0)
		return r;
	*ret_ok = true;
	if (*module) {
		/* A module's frames go in a mapping named for it, as perf shows [module]. */
		struct profile_mapping mm = p->mappings[p->locations[loc - 1].mapping - 1];
		char buf[80];
		uint32_t id;

		(void)snprintf(buf, sizeof(buf), "[%s]", module);
		/* Named by kallsyms alone: none of what vmlinux's DWARF gave the kernel's. */
		mm.flags = PROFILE_MAPPING_KERNEL;
		r = profile_intern(p, buf, &mm.file);
		if (r == 0)
			r = profile_intern_mapping(p, &mm, &id);
		if (r < 0)
			return r;
		r = profile_set_location_mapping(p, loc, id);
	}
	return r;
}

static int symbolize_jit(struct symbolize *s, struct profile *p, uint32_t loc, bool *ret_ok)
{
	const struct profile_location *l = profile_location(p, loc);
	const struct profile_mapping *m = &p->mappings[l->mapping - 1];
	const char *name = jitmaps_lookup(
		s->jit, m->pid, l->address - ((l->flags & PROFILE_LOCATION_CALLER) ? 1 : 0));
	struct sym_frame f;
	int r;

	if (!name)
		return 0;
	f = (struct sym_frame){.name = name, .system_name = name};
	r = set_lines(p, loc, &f, 1);
	*ret_ok = r == 0;
	return r;
}

int symbolize_profile(struct symbolize *s, struct profile *p, struct symbolize_stats *ret_stats)
{
	struct symbolize_stats st = {0};
	uint64_t cached = s->cached, computed = s->computed;
	int r = 0;

	for (uint32_t loc = 1; loc <= p->nlocations && r == 0; loc++) {
		const struct profile_location *l = &p->locations[loc - 1];
		const struct profile_mapping *m = profile_mapping(p, l->mapping);
		const char *file = m ? profile_str(p, m->file) : "";
		bool ok = false, dwarf = false;

		if (l->flags & PROFILE_LOCATION_SYMBOLIZED)
			continue;
		st.locations++;
		if (!m)
			r = 0;
		else if (m->flags & PROFILE_MAPPING_KERNEL)
			r = symbolize_kernel(s, p, loc, &ok, &dwarf);
		else if (m->flags & PROFILE_MAPPING_ANON)
			r = symbolize_jit(s, p, loc, &ok);
		else if (file[0] == '/' || strcmp(file, "[vdso]") == 0)
			r = symbolize_user(s, p, loc, &dwarf, &ok);
		if (r == 0)
			r = profile_mark_location(p, loc, PROFILE_LOCATION_SYMBOLIZED);
		if (r == 0 && ok) {
			/* Interning may have moved the arrays: l is found again. */
			uint32_t id = p->locations[loc - 1].mapping;
			struct profile_mapping mm = p->mappings[id - 1];

			st.resolved++;
			mm.flags |= PROFILE_MAPPING_HAS_FUNCTIONS;
			if (dwarf)
				mm.flags |= PROFILE_MAPPING_HAS_FILENAMES |
					    PROFILE_MAPPING_HAS_LINE_NUMBERS |
					    PROFILE_MAPPING_HAS_INLINE_FRAMES;
			if (mm.flags != p->mappings[id - 1].flags)
				r = profile_set_mapping(p, id, &mm);
		}
	}
	/* Mappings learn their build id from the file where the recording had none. */
	for (uint32_t id = 1; id <= p->nmappings && r == 0; id++) {
		struct profile_mapping m = p->mappings[id - 1];
		const char *file = profile_str(p, m.file);
		struct elf_file *f;

		if (m.build_id || m.flags & (PROFILE_MAPPING_KERNEL | PROFILE_MAPPING_ANON) ||
		    (file[0] != '/' && strcmp(file, "[vdso]") != 0))
			continue;
		f = elfcache_lookup(s->files, file, "", m.pid, m.start, m.limit);
		if (f && f->elf && f->build_id[0]) {
			r = profile_intern(p, f->build_id, &m.build_id);
			if (r == 0)
				r = profile_set_mapping(p, id, &m);
		} else if (f && !f->elf) {
			st.files_missing++;
		}
	}
	/* What this run named, for the next: a failure costs the next run time, not names. */
	for (size_t i = 0; i < elfcache_nfiles(s->files); i++) {
		struct elf_file *f = elfcache_file(s->files, i);
		int e = f->names ? symcache_save(f->names) : 0;

		if (e < 0)
			log_debug("%s: names not kept: %s", f->path, strerror(-e));
		e = elfcache_keep_debug(s->files, f);
		if (e < 0)
			log_debug("%s: no inflated debug copy kept: %s", f->path, strerror(-e));
		e = elfcache_keep_facts(s->files, f);
		if (e < 0)
			log_debug("%s: its facts not kept: %s", f->path, strerror(-e));
		e = elfcache_keep_symbols(s->files, f);
		if (e < 0)
			log_debug("%s: its symbols not kept: %s", f->path, strerror(-e));
	}
	st.cached = s->cached - cached;
	st.computed = s->computed - computed;
	st.jitmaps_refused = jitmaps_refused(s->jit, &st.jitmap_refused_why);
	st.kernel_cache_error = s->kcore_error;
	st.kernel_cache = s->kcore_name ? s->kcore_name : "";
	if (ret_stats)
		*ret_stats = st;
	return r;
}
