/* SPDX-License-Identifier: MIT */
/*
 * A file's function symbols, for names where DWARF has none and for the
 * unwinder's idea of where a stack ends. Built once per file from the
 * symbol table libdwfl finds (the file's, else its debug file's, which is
 * how ld.so and a distribution's libc get names), sorted by address, with
 * what a symbol table alone leaves out filled in the way perf does:
 *
 *  - size-0 symbols (hand-written assembly: cgo's crosscall_amd64) and
 *    untyped labels in executable sections reach up to the next symbol;
 *  - PLT entries, which have no symbol at all, are named NAME@plt after
 *    the relocation each one jumps through (.plt, .plt.sec and .plt.got on
 *    x86-64; a static binary's IRELATIVE slots by the IFUNC they resolve).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/base/cache.h"
#include "lib/base/search.h"
#include "lib/base/vec.h"
#include "symbolize/internal.h"

/* A symbol as read, before extents are settled. */
struct raw_symbol {
	GElf_Addr addr, size, section_end;
	const char *name;
	unsigned char binding;
};

static size_t leading_underscores(const char *s)
{
	return strspn(s, "_");
}

/*
 * Of two symbols at one address, which names it: perf's choice, so names
 * match perf's (labs, not its weak alias imaxabs) — a sized one, a strong
 * one, a global one, fewer leading underscores, the longer name.
 */
static int better(const struct raw_symbol *x, const struct raw_symbol *y)
{
	size_t ux, uy, lx, ly;

	if ((x->size > 0) != (y->size > 0))
		return x->size > 0 ? -1 : 1;
	if ((x->binding == STB_WEAK) != (y->binding == STB_WEAK))
		return x->binding == STB_WEAK ? 1 : -1;
	if ((x->binding == STB_GLOBAL) != (y->binding == STB_GLOBAL))
		return x->binding == STB_GLOBAL ? -1 : 1;
	ux = leading_underscores(x->name);
	uy = leading_underscores(y->name);
	if (ux != uy)
		return ux < uy ? -1 : 1;
	lx = strlen(x->name);
	ly = strlen(y->name);
	if (lx != ly)
		return lx > ly ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int by_addr(const void *a, const void *b)
{
	const struct raw_symbol *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* At one address, the one that names it first. */
	return better(x, y);
}

struct reader {
	struct elf_file *f;
	struct raw_symbol *raw;
	size_t n, cap;
};

static int add(struct reader *rd, GElf_Addr addr, GElf_Addr size, GElf_Addr section_end,
	       const char *name, unsigned char binding)
{
	if (VEC_PUSH_RESERVE(rd->raw, rd->n, rd->cap) < 0)
		return -ENOMEM;
	rd->raw[rd->n++] = (struct raw_symbol){addr, size, section_end, name, binding};
	return 0;
}

/* A name made here (PLT entries): kept with the file, freed with it. */
static const char *own(struct elf_file *f, char *name)
{
	if (!name || VEC_PUSH_RESERVE(f->owned_names, f->nowned_names, f->owned_names_cap) < 0) {
		free(name);
		return NULL;
	}
	f->owned_names[f->nowned_names++] = name;
	return name;
}

/* The end of the section a symbol lies in, in the module's addresses; 0 when unknown. */
static GElf_Addr section_end(Elf *elf, GElf_Word shndx, GElf_Addr adjust, bool *ret_exec)
{
	Elf_Scn *scn = elf ? elf_getscn(elf, shndx) : NULL;
	GElf_Shdr sh;

	*ret_exec = false;
	if (!scn || !gelf_getshdr(scn, &sh))
		return 0;
	*ret_exec = (sh.sh_flags & SHF_EXECINSTR) != 0;
	return sh.sh_addr + sh.sh_size + adjust;
}

static int read_symtab(struct reader *rd, Dwfl_Module *mod)
{
	const int n = dwfl_module_getsymtab(mod);

	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr, end;
		GElf_Word shndx;
		Elf *elf = NULL;
		const char *name = dwfl_module_getsym_info(mod, i, &sym, &addr, &shndx, &elf, NULL);
		int type = GELF_ST_TYPE(sym.st_info);
		bool exec;

		if (!name || !*name || sym.st_shndx == SHN_UNDEF || sym.st_shndx == SHN_ABS)
			continue;
		if (type != STT_FUNC && type != STT_GNU_IFUNC && type != STT_NOTYPE)
			continue;
		/* addr is st_value moved into the module's addresses; sections move with it. */
		end = section_end(elf, shndx, addr - sym.st_value, &exec);
		/* Untyped symbols are labels; only those in code name code. */
		if (type == STT_NOTYPE && !exec)
			continue;
		if (add(rd, addr, sym.st_size, end, name, GELF_ST_BIND(sym.st_info)) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* A section of f's own by name; NULL when it has none. */
static Elf_Scn *find_section(Elf *elf, const char *name, GElf_Shdr *ret)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *n;

		if (gelf_getshdr(scn, ret) && (n = elf_strptr(elf, shstrndx, ret->sh_name)) &&
		    strcmp(n, name) == 0)
			return scn;
	}
	return NULL;
}

/* The name of the function at exactly addr, for an IRELATIVE slot's IFUNC. */
static const char *function_at(const struct reader *rd, GElf_Addr addr)
{
	const struct raw_symbol *best = NULL;

	for (size_t i = 0; i < rd->n; i++)
		if (rd->raw[i].addr == addr && rd->raw[i].size &&
		    (!best || better(&rd->raw[i], best) < 0))
			best = &rd->raw[i];
	return best ? best->name : NULL;
}

/*
 * The name a relocation gives a PLT slot: its symbol's (from the dynamic
 * symbol table the relocation section links to), or for IRELATIVE the
 * IFUNC whose resolver is the addend. NULL when it has none.
 */
static char *slot_name(const struct reader *rd, Elf *elf, GElf_Word symtab, const GElf_Rela *rela)
{
	const size_t symi = GELF_R_SYM(rela->r_info);
	Elf_Scn *scn = elf_getscn(elf, symtab);
	Elf_Data *data = scn ? elf_getdata(scn, NULL) : NULL;
	const char *name = NULL;
	char *out = NULL;
	GElf_Shdr sh;
	GElf_Sym sym;

	if (GELF_R_TYPE(rela->r_info) == R_X86_64_IRELATIVE)
		name = function_at(rd, (GElf_Addr)rela->r_addend);
	else if (symi && data && gelf_getshdr(scn, &sh) && gelf_getsym(data, (int)symi, &sym))
		name = elf_strptr(elf, sh.sh_link, sym.st_name);
	if (!name || !*name)
		return NULL;
	/* A version in the name ("puts@GLIBC_2.2.5") is not part of the slot's. */
	if (asprintf(&out, "%.*s@plt", (int)strcspn(name, "@"), name) < 0)
		return NULL;
	return out;
}

/* A relocation that fills a GOT slot a PLT entry jumps through. */
struct slot_rela {
	GElf_Rela rela;
	GElf_Word symtab; /* the symbol table its section links to */
};

static int by_offset(const void *a, const void *b)
{
	const struct slot_rela *x = a, *y = b;

	return x->rela.r_offset < y->rela.r_offset ? -1 : x->rela.r_offset > y->rela.r_offset;
}

/* The relocations of section name that can fill a PLT's GOT slot. */
static int read_slots(Elf *elf, const char *name, struct slot_rela **v, size_t *n, size_t *cap)
{
	GElf_Shdr sh;
	Elf_Scn *scn = find_section(elf, name, &sh);
	Elf_Data *data;

	if (!scn || sh.sh_type != SHT_RELA || !sh.sh_entsize || !(data = elf_getdata(scn, NULL)))
		return 0;
	for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
		GElf_Rela rela;
		unsigned type;

		if (!gelf_getrela(data, (int)i, &rela))
			break;
		type = (unsigned)GELF_R_TYPE(rela.r_info);
		if (type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT &&
		    type != R_X86_64_IRELATIVE)
			continue;
		if (VEC_PUSH_RESERVE(*v, *n, *cap) < 0)
			return -ENOMEM;
		(*v)[(*n)++] = (struct slot_rela){rela, sh.sh_link};
	}
	return 0;
}

/*
 * The GOT slot an x86-64 PLT entry jumps through: its "jmp *disp32(%rip)"
 * (ff 25), after an endbr64 or a bnd prefix where the entry has them.
 */
static bool jump_slot(const unsigned char *code, size_t len, GElf_Addr at, GElf_Addr *ret)
{
	for (size_t k = 0; k + 6 <= len; k++)
		if (code[k] == 0xff && code[k + 1] == 0x25) {
			int32_t disp;

			memcpy(&disp, code + k + 2, sizeof(disp));
			*ret = at + k + 6 + (GElf_Addr)(int64_t)disp;
			return true;
		}
	return false;
}

/*
 * Name the entries of one PLT section by the relocation of the GOT slot
 * each jumps through: the way that holds for every layout ld makes (.plt
 * with its resolver entry first, .plt.sec, .plt.got, a static binary's
 * 8-byte IRELATIVE entries in no particular order). Entries that jump
 * through no relocated slot (the lazy resolver's) stay unnamed.
 */
static int name_plt(struct reader *rd, Elf *elf, const char *section, const struct slot_rela *slots,
		    size_t nslots)
{
	GElf_Shdr sh;
	Elf_Scn *scn = find_section(elf, section, &sh);
	Elf_Data *code;
	GElf_Addr stride;

	if (!scn || sh.sh_type != SHT_PROGBITS || !(code = elf_getdata(scn, NULL)) || !code->d_buf)
		return 0;
	/* A static binary's .plt says nothing: its entries are a jump and a 2-byte pad. */
	stride = sh.sh_entsize >= 8 && sh.sh_entsize <= 32 ? sh.sh_entsize : 8;
	for (GElf_Addr off = 0; off + stride <= code->d_size; off += stride) {
		const GElf_Addr at = sh.sh_addr + off;
		struct slot_rela key;
		const struct slot_rela *s;
		const char *name;

		if (!jump_slot((const unsigned char *)code->d_buf + off, stride, at,
			       &key.rela.r_offset))
			continue;
		s = bsearch(&key, slots, nslots, sizeof(*slots), by_offset);
		name = s ? own(rd->f, slot_name(rd, elf, s->symtab, &s->rela)) : NULL;
		if (name && add(rd, at, stride, at + stride, name, STB_GLOBAL) < 0)
			return -ENOMEM;
	}
	return 0;
}

static const char *const plt_sections[] = {".plt", ".plt.sec", ".plt.got"};

bool elfcache_in_plt(struct elf_file *f, GElf_Addr vaddr)
{
	if (!f->plts_read) {
		f->plts_read = true;
		for (size_t i = 0; i < sizeof(plt_sections) / sizeof(plt_sections[0]) && f->elf;
		     i++) {
			GElf_Shdr sh;

			if (find_section(f->elf, plt_sections[i], &sh) &&
			    sh.sh_size <= UINT64_MAX - sh.sh_addr) {
				f->plts[i][0] = sh.sh_addr;
				f->plts[i][1] = sh.sh_addr + sh.sh_size;
			}
		}
	}
	for (size_t i = 0; i < sizeof(plt_sections) / sizeof(plt_sections[0]); i++)
		if (vaddr >= f->plts[i][0] && vaddr < f->plts[i][1])
			return true;
	return false;
}

static int name_plts(struct reader *rd, Elf *elf)
{
	struct slot_rela *slots = NULL;
	size_t n = 0, cap = 0;
	GElf_Ehdr eh;
	int r;

	/* The instruction and relocation types read here are x86-64's. */
	if (!gelf_getehdr(elf, &eh) || eh.e_machine != EM_X86_64)
		return 0;
	r = read_slots(elf, ".rela.plt", &slots, &n, &cap);
	if (r == 0)
		r = read_slots(elf, ".rela.dyn", &slots, &n, &cap);
	if (r == 0 && n > 1)
		qsort(slots, n, sizeof(*slots), by_offset);
	for (size_t i = 0; r == 0 && n && i < sizeof(plt_sections) / sizeof(plt_sections[0]); i++)
		r = name_plt(rd, elf, plt_sections[i], slots, n);
	free(slots);
	return r;
}

/*
 * Settle each symbol's extent: a sized one its own; a size-0 one up to the
 * next symbol above it, within its section (perf's rule). Of the symbols
 * at one address only the first, the one that names it, is kept.
 */
static void settle(struct elf_file *f, const struct reader *rd)
{
	size_t next = 0;

	f->nsyms = 0;
	for (size_t i = 0; i < rd->n; i++) {
		const struct raw_symbol *s = &rd->raw[i];
		GElf_Addr end = s->addr + s->size;

		if (i > 0 && s->addr == rd->raw[i - 1].addr)
			continue;

		if (!s->size) {
			while (next < rd->n && rd->raw[next].addr <= s->addr)
				next++;
			end = next < rd->n ? rd->raw[next].addr : s->section_end;
			if (s->section_end && end > s->section_end)
				end = s->section_end;
			if (end <= s->addr)
				end = s->addr + 1;
		}
		f->syms[f->nsyms++] = (struct elf_symbol){s->addr, end, s->name, s->size == 0};
	}
}

/* The saved table: a header, the symbols sorted by address, their names. */
#define SYMS_PREFIX "syms-"
#define SYMS_MAX_FILE ((size_t)256 << 20)
#define SYMS_MAX_TOTAL ((uint64_t)512 << 20) /* all of them: the oldest go first */

static const char syms_magic[8] = "cprofsy1";

struct saved_syms_header {
	char magic[8];
	char build_id[48];
	struct facts_id id;
	uint64_t debug_dev, debug_ino, debug_size, debug_mtime_ns, debug_self;
	uint64_t nsyms, strings_len;
};

struct saved_sym {
	uint64_t addr, end;
	uint32_t name, label;
};

static void header_of(struct saved_syms_header *h, const char *build_id, const struct facts_id *id,
		      const struct elf_debug_id *debug, uint64_t nsyms, uint64_t strings_len)
{
	*h = (struct saved_syms_header){
		.id = *id,
		.debug_dev = debug->dev,
		.debug_ino = debug->ino,
		.debug_size = debug->size,
		.debug_mtime_ns = debug->mtime_ns,
		.debug_self = debug->self,
		.nsyms = nsyms,
		.strings_len = strings_len,
	};
	memcpy(h->magic, syms_magic, sizeof(h->magic));
	(void)snprintf(h->build_id, sizeof(h->build_id), "%s", build_id);
}

int elfsyms_parse(const void *data, size_t len, const char *build_id, const struct facts_id *id,
		  const struct elf_debug_id *debug, struct elf_symbol **ret, size_t *ret_n)
{
	const unsigned char *p = data;
	struct saved_syms_header h, want;
	const char *strings;
	struct elf_symbol *syms;

	*ret = NULL;
	*ret_n = 0;
	if (len < sizeof(h))
		return -EBADMSG;
	memcpy(&h, p, sizeof(h));
	header_of(&want, build_id, id, debug, h.nsyms, h.strings_len);
	if (memcmp(h.magic, want.magic, sizeof(h.magic)) != 0 ||
	    memcmp(h.build_id, want.build_id, sizeof(h.build_id)) != 0 ||
	    h.nsyms > len / sizeof(struct saved_sym) || h.strings_len > len || !h.strings_len ||
	    len != sizeof(h) + h.nsyms * sizeof(struct saved_sym) + h.strings_len)
		return -EBADMSG;
	if (memcmp(&h, &want, sizeof(h)) != 0)
		return -ESTALE;
	strings = (const char *)p + sizeof(h) + h.nsyms * sizeof(struct saved_sym);
	if (strings[h.strings_len - 1])
		return -EBADMSG;
	syms = h.nsyms ? calloc(h.nsyms, sizeof(*syms)) : NULL;
	if (h.nsyms && !syms)
		return -ENOMEM;
	for (size_t i = 0; i < h.nsyms; i++) {
		struct saved_sym s;

		memcpy(&s, p + sizeof(h) + i * sizeof(s), sizeof(s));
		/* Sorted, each reaching past its start, as settle() leaves them. */
		if (s.end <= s.addr || s.name >= h.strings_len || s.label > 1 ||
		    (i && s.addr <= syms[i - 1].addr)) {
			free(syms);
			return -EBADMSG;
		}
		syms[i] = (struct elf_symbol){s.addr, s.end, strings + s.name, s.label};
	}
	*ret = syms;
	*ret_n = h.nsyms;
	return 0;
}

int elfsyms_serialize(const struct elf_symbol *syms, size_t n, const char *build_id,
		      const struct facts_id *id, const struct elf_debug_id *debug, void **ret,
		      size_t *ret_len)
{
	struct saved_syms_header h;
	size_t strings_len = 1, size, off;
	unsigned char *buf;

	for (size_t i = 0; i < n; i++)
		strings_len += strlen(syms[i].name) + 1;
	if (strings_len > UINT32_MAX)
		return -E2BIG;
	size = sizeof(h) + n * sizeof(struct saved_sym) + strings_len;
	buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	header_of(&h, build_id, id, debug, n, strings_len);
	memcpy(buf, &h, sizeof(h));
	off = sizeof(h) + n * sizeof(struct saved_sym);
	buf[off] = '\0';
	for (size_t i = 0, name = 1; i < n; i++) {
		size_t l = strlen(syms[i].name) + 1;
		struct saved_sym s = {syms[i].addr, syms[i].end, (uint32_t)name, syms[i].label};

		memcpy(buf + sizeof(h) + i * sizeof(s), &s, sizeof(s));
		memcpy(buf + off + name, syms[i].name, l);
		name += l;
	}
	*ret = buf;
	*ret_len = size;
	return 0;
}

static void syms_file_name(char out[sizeof(SYMS_PREFIX) + 48], const struct elf_file *f)
{
	(void)snprintf(out, sizeof(SYMS_PREFIX) + 48, SYMS_PREFIX "%s", f->build_id);
}

/* f's table as a run before kept it, mapped in place; false when there is none to use. */
static bool load_saved_symbols(struct elfcache *c, struct elf_file *f)
{
	char name[sizeof(SYMS_PREFIX) + 48];
	struct cache *cache = elfcache_cache(c);
	struct elf_symbol *syms;
	const void *map;
	size_t n, len;

	elfcache_load_facts(f); /* the file's identity, taken once */
	if (!cache || !f->facts_id_known)
		return false;
	syms_file_name(name, f);
	if (cache_map(cache, name, SYMS_MAX_FILE, &map, &len) < 0)
		return false;
	if (elfsyms_parse(map, len, f->build_id, &f->facts_id, elfcache_debug_id(c, f), &syms, &n) <
	    0) {
		cache_unmap(map, len);
		return false;
	}
	cache_touch(cache, name);
	f->syms = syms;
	f->nsyms = n;
	f->syms_map = map;
	f->syms_map_len = len;
	return true;
}

int elfcache_keep_symbols(struct elfcache *c, struct elf_file *f)
{
	char name[sizeof(SYMS_PREFIX) + 48];
	struct cache *cache = elfcache_cache(c);
	size_t len;
	void *buf;
	int r;

	if (!f->syms_dirty || !cache || !f->facts_id_known || !f->build_id[0])
		return 0;
	f->syms_dirty = false;
	r = elfsyms_serialize(f->syms, f->nsyms, f->build_id, &f->facts_id, elfcache_debug_id(c, f),
			      &buf, &len);
	if (r < 0)
		return r;
	syms_file_name(name, f);
	r = len <= SYMS_MAX_FILE ? cache_write(cache, name, buf, len) : 0;
	free(buf);
	if (r == 0)
		r = cache_trim(cache, SYMS_PREFIX, SYMS_MAX_TOTAL);
	return r;
}

void elfcache_forget_symbols(struct elf_file *f)
{
	free(f->syms);
	f->syms = NULL;
	f->nsyms = 0;
	f->syms_loaded = false;
	f->syms_dirty = false;
	cache_unmap(f->syms_map, f->syms_map_len);
	f->syms_map = NULL;
}

static void load_symbols(struct elfcache *c, struct elf_file *f)
{
	Dwfl_Module *mod;
	struct reader rd = {.f = f};

	f->syms_loaded = true;
	if (load_saved_symbols(c, f))
		return;
	mod = elfcache_module(c, f);
	if (!mod || read_symtab(&rd, mod) < 0)
		goto out;
	/* Symbols first: an IRELATIVE slot is named after one. */
	if (f->elf && name_plts(&rd, f->elf) < 0)
		goto out;
	if (rd.n == 0)
		goto out;
	qsort(rd.raw, rd.n, sizeof(*rd.raw), by_addr);
	f->syms = calloc(rd.n, sizeof(*f->syms));
	if (f->syms) {
		settle(f, &rd);
		f->syms_dirty = true;
	}
out:
	free(rd.raw);
}

/*
 * The symbol covering vaddr: a sized one if any does, else a size-0 one
 * reaching it (a label inside a function does not take the function's name).
 */
static const struct elf_symbol *covering(struct elfcache *c, struct elf_file *f, GElf_Addr vaddr,
					 GElf_Addr span[2])
{
	const struct elf_symbol *label = NULL, *found = NULL;
	size_t lo;

	if (!f->syms_loaded)
		load_symbols(c, f);
	lo = UPPER_BOUND(f->syms, f->nsyms, struct elf_symbol, addr, vaddr);
	/*
	 * Where no symbol considered here starts or ends, every address has
	 * the same answer: from the last start at or below vaddr to the next
	 * start above it, cut at the ends of the symbols the loop weighs.
	 */
	span[0] = lo ? f->syms[lo - 1].addr : 0;
	span[1] = lo < f->nsyms ? f->syms[lo].addr : UINT64_MAX;
	/* The nearest symbols at or below vaddr: the first whose extent covers it. */
	for (size_t i = lo; i-- > 0 && lo - i <= 8;) {
		const struct elf_symbol *s = &f->syms[i];

		if (vaddr >= s->end) {
			if (s->end > span[0])
				span[0] = s->end;
			continue;
		}
		if (s->end < span[1])
			span[1] = s->end;
		if (!s->label) {
			found = s;
			break;
		}
		if (!label)
			label = s;
	}
	return found ? found : label;
}

const char *elfcache_symbol(struct elfcache *c, struct elf_file *f, GElf_Addr vaddr,
			    GElf_Addr *ret_offset)
{
	return elfcache_symbol_span(c, f, vaddr, ret_offset, (GElf_Addr[2]){0});
}

const char *elfcache_symbol_span(struct elfcache *c, struct elf_file *f, GElf_Addr vaddr,
				 GElf_Addr *ret_offset, GElf_Addr span[2])
{
	const struct elf_symbol *s = covering(c, f, vaddr, span);

	if (!s)
		return NULL;
	*ret_offset = vaddr - s->addr;
	return s->name;
}

/* Functions by class. Go's assembly functions carry ".abi0" in the symbol table. */
static const char *const entry_names[] = {
	/* glibc's and musl's program and thread entries, makecontext's trampoline. */
	"_start",
	"__clone",
	"__clone3",
	"clone",
	"clone3",
	"__start",
	"_start_c",
	"__start_context",
	/* Go: a goroutine's first frame, and an M's on the system stack. */
	"runtime.goexit",
	"runtime.mstart",
	"runtime.rt0_go",
};

/*
 * Go's switches to the system stack (g0): the frames above them are on the
 * goroutine's stack, which the sampled stack copy does not hold.
 */
static const char *const switch_names[] = {
	"runtime.systemstack",	    "runtime.mcall", "runtime.asmcgocall", "runtime.morestack",
	"runtime.morestack_noctxt",
};

/* Is name one of names, ignoring a Go ".abi0" suffix? */
static bool named(const char *name, size_t len, const char *const *names, size_t n)
{
	if (len > 5 && strcmp(name + len - 5, ".abi0") == 0)
		len -= 5;
	for (size_t i = 0; i < n; i++)
		if (strncmp(name, names[i], len) == 0 && names[i][len] == '\0')
			return true;
	return false;
}

/* The class a function's name gives it. */
static enum fn_class class_of(const char *name)
{
	size_t len;

	/* Every name above starts with one of these: most symbols are out at the first byte. */
	if (name[0] != '_' && name[0] != 'c' && name[0] != 'r')
		return FN_PLAIN;
	len = strlen(name);
	if (named(name, len, entry_names, sizeof(entry_names) / sizeof(entry_names[0])))
		return FN_ENTRY;
	if (named(name, len, switch_names, sizeof(switch_names) / sizeof(switch_names[0])))
		return FN_SWITCH;
	return FN_PLAIN;
}

/* How far past a file's entry point its entry stub's first call may lie. */
#define ENTRY_STUB_MAX 64

/* f's classed functions from its sorted symbols, whose extents are settled. */
static void classes_from_symbols(struct elfcache *c, struct elf_file *f)
{
	size_t cap = 0;

	if (!f->syms_loaded)
		load_symbols(c, f);
	f->nclasses = 0;
	for (size_t i = 0; i < f->nsyms; i++) {
		const struct elf_symbol *s = &f->syms[i];
		enum fn_class class = class_of(s->name);

		if (class == FN_PLAIN)
			continue;
		if (VEC_PUSH_RESERVE(f->classes, f->nclasses, cap) < 0)
			return;
		f->classes[f->nclasses++] = (struct fn_range){s->addr, s->end, class};
	}
}

/*
 * f's classed functions, straight from its symbol table while they all
 * have a size: the handful of names, not the table loaded and sorted,
 * which was 12 ms for CPython's 25,000 symbols, the largest part of what
 * a recording with a warm cache costs before its samples. Unwinding needs
 * the classes at once; the sorted table only symbolization's misses need.
 */
static void load_classes(struct elfcache *c, struct elf_file *f)
{
	Dwfl_Module *mod;
	size_t cap = 0;
	int n;

	elfcache_load_facts(f);
	if (f->classes_loaded)
		return;
	f->classes_loaded = true;
	f->facts_dirty = true;
	mod = f->syms_loaded ? NULL : elfcache_module(c, f);
	n = mod ? dwfl_module_getsymtab(mod) : -1;
	if (n < 0) {
		classes_from_symbols(c, f);
		return;
	}
	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		GElf_Word shndx;
		Elf *elf = NULL;
		const char *name = dwfl_module_getsym_info(mod, i, &sym, &addr, &shndx, &elf, NULL);
		int type = GELF_ST_TYPE(sym.st_info);
		enum fn_class class;

		if (!name || sym.st_shndx == SHN_UNDEF || sym.st_shndx == SHN_ABS ||
		    (type != STT_FUNC && type != STT_GNU_IFUNC && type != STT_NOTYPE))
			continue;
		class = class_of(name);
		if (class == FN_PLAIN)
			continue;
		/* A label (no size or type) reaches the next symbol: the sorted table has it. */
		if (sym.st_size == 0 || type == STT_NOTYPE) {
			classes_from_symbols(c, f);
			return;
		}
		if (VEC_PUSH_RESERVE(f->classes, f->nclasses, cap) < 0)
			return;
		f->classes[f->nclasses++] = (struct fn_range){addr, addr + sym.st_size, class};
	}
}

enum fn_class elfcache_fn_class(struct elfcache *c, struct elf_file *f, GElf_Addr vaddr)
{
	/*
	 * The file's entry point: a program's or ld.so's _start, which a
	 * stripped file does not name. Entry stubs are a few instructions
	 * before their call.
	 */
	if (f->entry && vaddr - f->entry < ENTRY_STUB_MAX)
		return FN_ENTRY;
	if (!f->classes_loaded)
		load_classes(c, f);
	/* A handful per file at most: Go's runtime has eight. */
	for (size_t i = 0; i < f->nclasses; i++)
		if (vaddr >= f->classes[i].start && vaddr < f->classes[i].end)
			return f->classes[i].class;
	return FN_PLAIN;
}
