/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <dwarf.h>
#include <elfutils/libdw.h>

#include "lib/perf/arch.h"
#include "lib/base/hash.h"
#include "lib/base/vec.h"
#include "symbolize/cfi.h"

struct cfi_entry {
	uint64_t vaddr;
	uint8_t found; /* enum cfi_found */
	struct cfi_rule rule;
};

/* Rules remembered per file: 256 Ki pcs, about 10 MiB with the index. */
#define CFI_CACHE_MAX (256u << 10)

/*
 * The highest DWARF register CFI may name. Real ones stop near 130 (x86-64's
 * mask registers); libdw sizes a frame's register table by the highest
 * number it meets, so one instruction naming register 262143998 costs 2 GiB.
 */
#define CFI_MAX_REGNO 255

/* Nested DW_CFA_remember_state: compilers nest two or three; each copies the table. */
#define CFI_MAX_REMEMBER 64

struct cfi_rules {
	Dwarf_CFI *cfi; /* the file's .eh_frame; NULL when it has none, or it is not sane */
	/*
	 * .debug_frame, of the file or of its separate debug file, borrowed from
	 * the file's own Dwfl (elfcache_module): asked only where .eh_frame has
	 * no FDE, as libdwfl asks, once per file. Loading it inflates the debug
	 * file's sections, so no process pays it again.
	 */
	Dwarf_CFI *debug_cfi;
	bool debug_tried;
	struct cfi_entry *entries;
	size_t nentries, cap;
	struct hashmap index;
	/*
	 * The entries met last, by a cheap hash of their address (index + 1;
	 * 0: none): an interpreter's stacks repeat a few hundred return
	 * addresses, and this is most of the lookups at a tenth of the cost.
	 */
	uint32_t recent[512];
};

static size_t recent_slot(uint64_t vaddr)
{
	return (size_t)((vaddr * 0x9e3779b97f4a7c15ULL) >> 55);
}

void cfi_rules_forget_debug(struct cfi_rules *r)
{
	if (r) {
		r->debug_cfi = NULL;
		r->debug_tried = false;
	}
}

void cfi_rules_free(struct cfi_rules *r)
{
	if (!r)
		return;
	if (r->cfi)
		(void)dwarf_cfi_end(r->cfi);
	free(r->entries);
	hashmap_release(&r->index);
	free(r);
}

/*
 * Where register regno of the caller is, in this frame. False when not
 * expressible. in_reg: the rule may name another register holding it.
 */
static bool where_of(Dwarf_Frame *frame, unsigned regno, bool in_reg, uint8_t *ret_where,
		     int32_t *ret_off)
{
	Dwarf_Op mem[3], *ops;
	size_t nops;
	int64_t off = 0;

	if (dwarf_frame_register(frame, (int)regno, mem, &ops, &nops) != 0)
		return false;
	if (nops == 0) {
		/* libdw: no ops and a null pointer is "same value"; ops_mem is "undefined". */
		*ret_where = ops ? CFI_UNDEFINED : CFI_SAME;
		*ret_off = 0;
		return true;
	}
	/* DW_CFA_register: libdw says "in register N" as DW_OP_regN / DW_OP_regx N. */
	if (in_reg && nops == 1 &&
	    ((ops[0].atom >= DW_OP_reg0 && ops[0].atom <= DW_OP_reg31) ||
	     ops[0].atom == DW_OP_regx)) {
		uint64_t reg = ops[0].atom == DW_OP_regx ? ops[0].number
							 : (uint64_t)(ops[0].atom - DW_OP_reg0);

		if (reg >= ARCH_DWARF_NREGS)
			return false;
		*ret_where = CFI_IN_REG;
		*ret_off = (int32_t)reg;
		return true;
	}
	if (ops[0].atom != DW_OP_call_frame_cfa || nops > 2)
		return false;
	if (nops == 2) {
		/* DW_OP_stack_value here would be a value, not a location: not ours. */
		if (ops[1].atom != DW_OP_plus_uconst)
			return false;
		off = (int64_t)ops[1].number;
	}
	if (off < INT32_MIN || off > INT32_MAX)
		return false;
	*ret_where = CFI_AT_CFA;
	*ret_off = (int32_t)off;
	return true;
}

static bool compile(Dwarf_Frame *frame, struct cfi_rule *ret)
{
	Dwarf_Addr start, end;
	bool signal;
	Dwarf_Op *ops;
	size_t nops;
	unsigned reg;
	int64_t off;

	if (dwarf_frame_info(frame, &start, &end, &signal) < 0 || signal)
		return false;
	if (dwarf_frame_cfa(frame, &ops, &nops) != 0 || nops != 1)
		return false;
	if (ops[0].atom == DW_OP_bregx) {
		reg = (unsigned)ops[0].number;
		off = (int64_t)ops[0].number2;
	} else if (ops[0].atom >= DW_OP_breg0 && ops[0].atom <= DW_OP_breg31) {
		reg = ops[0].atom - DW_OP_breg0;
		off = (int64_t)ops[0].number;
	} else {
		return false;
	}
	if ((reg != arch_dwarf_sp() && reg != arch_dwarf_fp()) || off < INT32_MIN ||
	    off > INT32_MAX)
		return false;
	ret->cfa_reg = (uint8_t)reg;
	ret->cfa_off = (int32_t)off;
	return where_of(frame, arch_dwarf_ra(), true, &ret->ra, &ret->ra_off) &&
	       where_of(frame, arch_dwarf_fp(), false, &ret->fp, &ret->fp_off) &&
	       ret->ra != CFI_SAME;
}

struct vaddr_key {
	const struct cfi_rules *r;
	uint64_t vaddr;
};

static bool vaddr_eq(const void *ctx, uint32_t idx)
{
	const struct vaddr_key *k = ctx;

	return k->r->entries[idx].vaddr == k->vaddr;
}

/* Checking a CFI section before libdw runs it (see cfi_file_is_sane). */

struct cursor {
	const uint8_t *p, *end;
	bool ok;
};

static uint64_t uleb(struct cursor *c)
{
	uint64_t v = 0;

	for (unsigned shift = 0; c->p < c->end; shift += 7) {
		uint8_t b = *c->p++;

		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
	c->ok = false;
	return 0;
}

static void skip(struct cursor *c, uint64_t n)
{
	if ((uint64_t)(c->end - c->p) < n) {
		c->ok = false;
		c->p = c->end;
		return;
	}
	c->p += n;
}

/* Skip a value in pointer encoding enc (DW_EH_PE_*) with addresses of addr_size bytes. */
static void skip_encoded(struct cursor *c, uint8_t enc, unsigned addr_size)
{
	static const uint8_t sizes[16] = {
		[0x2] = 2, [0x3] = 4, [0x4] = 8, [0xa] = 2, [0xb] = 4, [0xc] = 8};

	if (enc == DW_EH_PE_omit)
		return;
	if ((enc & 0x0f) == DW_EH_PE_absptr)
		skip(c, addr_size);
	else if ((enc & 0x0f) == DW_EH_PE_uleb128 || (enc & 0x0f) == DW_EH_PE_sleb128)
		(void)uleb(c);
	else if (sizes[enc & 0x0f])
		skip(c, sizes[enc & 0x0f]);
	else
		c->ok = false;
}

/*
 * Does an instruction stream name only registers up to CFI_MAX_REGNO? An
 * opcode libdw does not know ends its execution there, so it ends ours.
 */
static bool instructions_sane(struct cursor c, uint8_t fde_enc, unsigned addr_size)
{
	unsigned depth = 0;

	while (c.ok && c.p < c.end) {
		uint8_t op = *c.p++;
		uint64_t reg = 0, reg2 = 0;

		switch (op & 0xc0) {
		case DW_CFA_advance_loc:
		case DW_CFA_restore:
			continue; /* the register, if any, is in the low 6 bits */
		case DW_CFA_offset:
			(void)uleb(&c);
			continue;
		default:
			break;
		}
		switch (op) {
		case DW_CFA_remember_state:
			/* Each remembered state is a copy of the register table. */
			if (++depth > CFI_MAX_REMEMBER)
				return false;
			break;
		case DW_CFA_restore_state:
			depth -= depth > 0;
			break;
		case DW_CFA_nop:
		case DW_CFA_GNU_window_save:
			break;
		case DW_CFA_set_loc:
			skip_encoded(&c, fde_enc, addr_size);
			break;
		case DW_CFA_advance_loc1:
			skip(&c, 1);
			break;
		case DW_CFA_advance_loc2:
			skip(&c, 2);
			break;
		case DW_CFA_advance_loc4:
			skip(&c, 4);
			break;
		case DW_CFA_def_cfa_offset:
		case DW_CFA_def_cfa_offset_sf:
		case DW_CFA_GNU_args_size:
			(void)uleb(&c);
			break;
		case DW_CFA_def_cfa_expression:
			skip(&c, uleb(&c));
			break;
		case DW_CFA_restore_extended:
		case DW_CFA_undefined:
		case DW_CFA_same_value:
		case DW_CFA_def_cfa_register:
			reg = uleb(&c);
			break;
		case DW_CFA_offset_extended:
		case DW_CFA_def_cfa:
		case DW_CFA_offset_extended_sf:
		case DW_CFA_def_cfa_sf:
		case DW_CFA_val_offset:
		case DW_CFA_val_offset_sf:
		case DW_CFA_GNU_negative_offset_extended:
			reg = uleb(&c);
			(void)uleb(&c);
			break;
		case DW_CFA_register:
			reg = uleb(&c);
			reg2 = uleb(&c);
			break;
		case DW_CFA_expression:
		case DW_CFA_val_expression:
			reg = uleb(&c);
			skip(&c, uleb(&c));
			break;
		default:
			return true;
		}
		if (reg > CFI_MAX_REGNO || reg2 > CFI_MAX_REGNO)
			return false;
	}
	return true;
}

/* The FDE pointer encoding a CIE's augmentation gives ("zPLR"), absptr without one. */
static uint8_t cie_fde_encoding(const Dwarf_CIE *cie, unsigned addr_size)
{
	struct cursor c = {cie->augmentation_data,
			   cie->augmentation_data + cie->augmentation_data_size, true};
	uint8_t enc;

	if (!cie->augmentation || cie->augmentation[0] != 'z' || !cie->augmentation_data)
		return DW_EH_PE_absptr;
	for (const char *a = cie->augmentation + 1; *a && c.ok; a++) {
		switch (*a) {
		case 'L':
			skip(&c, 1);
			break;
		case 'P':
			if (c.p >= c.end)
				return DW_EH_PE_absptr;
			enc = *c.p++;
			skip_encoded(&c, enc, addr_size);
			break;
		case 'R':
			return c.p < c.end ? *c.p : DW_EH_PE_absptr;
		case 'S':
		case 'B':
			break;
		default:
			return DW_EH_PE_absptr;
		}
	}
	return DW_EH_PE_absptr;
}

/*
 * The section named name as libdw reads it: .eh_frame and .eh_frame_hdr
 * raw, whatever their flags say (inflate false); .debug_frame, or .zNAME
 * as Go writes it, inflated, and not at all when that fails. NULL if none.
 */
static Elf_Scn *find_section(Elf *elf, size_t shstrndx, const char *name, bool inflate,
			     GElf_Shdr *ret)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn))) {
		const char *n;

		if (!gelf_getshdr(scn, ret) || ret->sh_type == SHT_NOBITS ||
		    !(n = elf_strptr(elf, shstrndx, ret->sh_name)))
			continue;
		if (strcmp(n, name) == 0)
			return inflate && (ret->sh_flags & SHF_COMPRESSED) &&
					       elf_compress(scn, 0, 0) < 0
				       ? NULL
				       : scn;
		if (inflate && n[0] == '.' && n[1] == 'z' && strcmp(n + 2, name + 1) == 0)
			return elf_compress_gnu(scn, 0, 0) < 0 ? NULL : scn;
	}
	return NULL;
}

/* Is one entry's program sane: its instructions, and for an FDE its CIE's too? */
static bool entry_sane(const unsigned char *ident, Elf_Data *data, bool eh_frame,
		       const Dwarf_CFI_Entry *e, unsigned addr_size)
{
	Dwarf_CFI_Entry cie;
	struct cursor c;
	uint8_t enc;

	if (dwarf_cfi_cie_p(e)) {
		c = (struct cursor){e->cie.initial_instructions, e->cie.initial_instructions_end,
				    true};
		return e->cie.return_address_register <= CFI_MAX_REGNO &&
		       instructions_sane(c, cie_fde_encoding(&e->cie, addr_size), addr_size);
	}
	/* The CIE an FDE names may lie anywhere: it is checked with every FDE that names it. */
	if (dwarf_next_cfi(ident, data, eh_frame, e->fde.CIE_pointer, &(Dwarf_Off){0}, &cie) != 0 ||
	    !dwarf_cfi_cie_p(&cie))
		return true; /* libdw cannot use this FDE either */
	if (!entry_sane(ident, data, eh_frame, &cie, addr_size))
		return false;
	enc = cie_fde_encoding(&cie.cie, addr_size);
	c = (struct cursor){e->fde.start, e->fde.end, true};
	skip_encoded(&c, enc, addr_size);	 /* initial_location */
	skip_encoded(&c, enc & 0x0f, addr_size); /* address_range: the value format alone */
	if (cie.cie.augmentation && cie.cie.augmentation[0] == 'z')
		skip(&c, uleb(&c));
	else
		skip(&c, cie.cie.fde_augmentation_data_size);
	return !c.ok || instructions_sane(c, enc, addr_size);
}

/* A little-endian-or-not value of n bytes at p, as the file's byte order has it. */
static uint64_t read_word(const uint8_t *p, unsigned n, bool msb)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[msb ? n - 1 - i : i] << (8 * i);
	return v;
}

/*
 * A value of the search table in encoding enc, relative to base when
 * datarel; only the fixed-size encodings linkers write. False for others.
 */
static bool table_value(struct cursor *c, uint8_t enc, uint64_t base, bool msb, uint64_t *ret)
{
	static const uint8_t sizes[16] = {
		[0x2] = 2, [0x3] = 4, [0x4] = 8, [0xa] = 2, [0xb] = 4, [0xc] = 8};
	unsigned n = sizes[enc & 0x0f];
	uint64_t v;

	if (!n || (enc & 0x80) || ((enc & 0x70) && (enc & 0x70) != DW_EH_PE_datarel) ||
	    (size_t)(c->end - c->p) < n)
		return false;
	v = read_word(c->p, n, msb);
	c->p += n;
	if ((enc & 0x08) && n < 8 && (v >> (8 * n - 1)) & 1)
		v |= ~(uint64_t)0 << (8 * n); /* signed: extend */
	*ret = v + ((enc & 0x70) == DW_EH_PE_datarel ? base : 0);
	return true;
}

static int off_cmp(const void *a, const void *b)
{
	Dwarf_Off x = *(const Dwarf_Off *)a, y = *(const Dwarf_Off *)b;

	return x < y ? -1 : x > y;
}

/*
 * .eh_frame_hdr's binary search table lets libdw jump to any offset of
 * .eh_frame: every FDE it names must be one the walk checked. libdw uses
 * the table only when it describes this .eh_frame (its eh_frame_ptr is the
 * section's address), as here.
 */
static bool table_sane(Elf *elf, size_t shstrndx, uint64_t eh_frame_addr, const Dwarf_Off *fdes,
		       size_t nfdes, bool msb)
{
	GElf_Shdr sh;
	Elf_Scn *scn = find_section(elf, shstrndx, ".eh_frame_hdr", false, &sh);
	Elf_Data *data = scn ? elf_rawdata(scn, NULL) : NULL;
	struct cursor c;
	uint8_t ptr_enc, count_enc, table_enc;
	uint64_t eh_frame_ptr, count;

	if (!data || !data->d_buf || data->d_size < 4)
		return true;
	c = (struct cursor){data->d_buf, (const uint8_t *)data->d_buf + data->d_size, true};
	if (c.p[0] != 1)
		return true; /* libdw reads no table from it */
	ptr_enc = c.p[1];
	count_enc = c.p[2];
	table_enc = c.p[3];
	c.p += 4;
	if (ptr_enc == DW_EH_PE_omit || count_enc == DW_EH_PE_omit || table_enc == DW_EH_PE_omit)
		return true;
	/* eh_frame_ptr is pc-relative as linkers write it: its own address is sh_addr + 4. */
	if ((ptr_enc & 0x70) == DW_EH_PE_pcrel) {
		if (!table_value(&c, ptr_enc & 0x0f, 0, msb, &eh_frame_ptr))
			return false;
		eh_frame_ptr += sh.sh_addr + 4;
	} else if (!table_value(&c, ptr_enc, sh.sh_addr, msb, &eh_frame_ptr)) {
		return false;
	}
	if (eh_frame_ptr != eh_frame_addr)
		return true; /* libdw's own sanity check drops the table */
	if (!table_value(&c, count_enc, sh.sh_addr, msb, &count))
		return false;
	for (uint64_t i = 0; i < count; i++) {
		uint64_t loc, fde;
		Dwarf_Off off;

		if (!table_value(&c, table_enc, sh.sh_addr, msb, &loc) ||
		    !table_value(&c, table_enc, sh.sh_addr, msb, &fde))
			return false;
		off = fde - eh_frame_addr;
		if (!nfdes || !bsearch(&off, fdes, nfdes, sizeof(*fdes), off_cmp))
			return false;
	}
	return true;
}

/* Does the file have a PT_GNU_EH_FRAME, which libdw follows where no section is named .eh_frame? */
static bool has_eh_frame_phdr(Elf *elf)
{
	size_t nph;

	if (elf_getphdrnum(elf, &nph) != 0)
		return false;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_GNU_EH_FRAME)
			return true;
	}
	return false;
}

/*
 * Every CIE's and FDE's program in one CFI section, as libdw reaches them:
 * walking the entries in order (its search without a table), and through
 * .eh_frame_hdr's table. Where no section is named .eh_frame, libdw finds
 * it by program header and reads on to the end of the file: such a file's
 * CFI is not given to libdw at all (its code is unwound as code without
 * CFI, by frame pointers).
 */
static bool section_sane(Elf *elf, const char *name, bool eh_frame)
{
	const unsigned char *ident = (const unsigned char *)elf_getident(elf, NULL);
	const unsigned addr_size = ident && ident[EI_CLASS] == ELFCLASS32 ? 4 : 8;
	Dwarf_Off off = 0, next, *fdes = NULL;
	size_t shstrndx, nfdes = 0, cap = 0;
	Elf_Data *data = NULL;
	Elf_Scn *scn;
	GElf_Shdr sh;
	bool sane = true;

	if (!ident)
		return true;
	scn = elf_getshdrstrndx(elf, &shstrndx) == 0 && shstrndx != 0
		      ? find_section(elf, shstrndx, name, !eh_frame, &sh)
		      : NULL;
	if (!scn)
		return !eh_frame || !has_eh_frame_phdr(elf);
	data = eh_frame ? elf_rawdata(scn, NULL) : elf_getdata(scn, NULL);
	if (!data || !data->d_buf)
		return true;
	for (;; off = next) {
		Dwarf_CFI_Entry e;

		if (dwarf_next_cfi(ident, data, eh_frame, off, &next, &e) != 0)
			break; /* the end, or an entry libdw will not read past either */
		if (!entry_sane(ident, data, eh_frame, &e, addr_size)) {
			sane = false;
			break;
		}
		if (!dwarf_cfi_cie_p(&e) && VEC_PUSH_RESERVE(fdes, nfdes, cap) < 0) {
			sane = false; /* cannot check the table: do not trust it */
			break;
		}
		if (!dwarf_cfi_cie_p(&e))
			fdes[nfdes++] = off;
	}
	if (sane && eh_frame)
		sane = table_sane(elf, shstrndx, sh.sh_addr, fdes, nfdes,
				  ident[EI_DATA] == ELFDATA2MSB);
	free(fdes);
	return sane;
}

bool cfi_file_is_sane(struct elf_file *f)
{
	if (!f->cfi_checked)
		elfcache_load_facts(f);
	if (!f->cfi_checked) {
		f->cfi_checked = true;
		f->facts_dirty = true;
		f->cfi_sane = !f->elf || (section_sane(f->elf, ".eh_frame", true) &&
					  section_sane(f->elf, ".debug_frame", false));
	}
	return f->cfi_sane;
}

/* The file's .debug_frame CFI, looked up once; NULL when it has none, or none that is sane. */
static Dwarf_CFI *debug_cfi(struct elfcache *c, struct elf_file *f, struct cfi_rules *r)
{
	Dwfl_Module *mod;
	Dwarf_Addr bias;
	Dwarf *dw;

	if (r->debug_tried || !c)
		return r->debug_cfi;
	r->debug_tried = true;
	/* Most debug files have none: loading one to find out would inflate all of it. */
	if (!elfcache_has_debug_frame(c, f))
		return NULL;
	mod = elfcache_module(c, f);
	if (!mod)
		return NULL;
	r->debug_cfi = dwfl_module_dwarf_cfi(mod, &bias);
	/* The debug file is as hostile as the binary: check it before libdw runs it. */
	dw = r->debug_cfi ? dwfl_module_getdwarf(mod, &bias) : NULL;
	if (r->debug_cfi && (bias != 0 || !dw || !dwarf_getelf(dw) ||
			     !section_sane(dwarf_getelf(dw), ".debug_frame", false)))
		r->debug_cfi = NULL;
	return r->debug_cfi;
}

enum cfi_found cfi_rule_at(struct elfcache *c, struct elf_file *f, uint64_t vaddr,
			   struct cfi_rule *ret)
{
	struct cfi_rules *r = f->cfi;
	uint64_t h;
	struct vaddr_key k;
	struct cfi_entry *e;
	Dwarf_Frame *frame;
	Dwarf_CFI *dcfi;
	uint32_t idx;

	if (!r) {
		if (!f->elf || !(r = calloc(1, sizeof(*r))))
			return CFI_TOO_HARD;
		r->cfi = cfi_file_is_sane(f) ? dwarf_getcfi_elf(f->elf) : NULL;
		f->cfi = r;
	}
	idx = r->recent[recent_slot(vaddr)];
	if (idx && idx <= r->nentries && r->entries[idx - 1].vaddr == vaddr) {
		*ret = r->entries[idx - 1].rule;
		return r->entries[idx - 1].found;
	}
	k = (struct vaddr_key){r, vaddr};
	h = hash_u64(vaddr, 0);
	if (hashmap_find(&r->index, h, vaddr_eq, &k, &idx)) {
		r->recent[recent_slot(vaddr)] = idx + 1;
		*ret = r->entries[idx].rule;
		return r->entries[idx].found;
	}
	/* The entry after the last: remembered below, or (past the cap) reused next time. */
	if (VEC_PUSH_RESERVE(r->entries, r->nentries, r->cap) < 0)
		return CFI_TOO_HARD;
	e = &r->entries[r->nentries];
	*e = (struct cfi_entry){.vaddr = vaddr, .found = CFI_NO_FDE};
	/* .eh_frame first, then .debug_frame: libdwfl's order, so both walks agree. */
	if ((r->cfi && dwarf_cfi_addrframe(r->cfi, vaddr, &frame) == 0) ||
	    ((dcfi = debug_cfi(c, f, r)) && dwarf_cfi_addrframe(dcfi, vaddr, &frame) == 0)) {
		e->found = compile(frame, &e->rule) ? CFI_FOUND : CFI_TOO_HARD;
		free(frame);
	}
	/*
	 * Past the cap (a long -a run meets ever more pcs), or without memory
	 * for the index, the rule is not remembered: memory stays bounded and
	 * the answer right, computed again next time.
	 */
	if (r->nentries < CFI_CACHE_MAX && hashmap_insert(&r->index, h, (uint32_t)r->nentries) == 0)
		r->recent[recent_slot(vaddr)] = (uint32_t)++r->nentries;
	*ret = e->rule;
	return e->found;
}
