/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <dwarf.h>
#include <elfutils/libdw.h>

#include "lib/arch.h"
#include "lib/hash.h"
#include "lib/vec.h"
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

struct cfi_rules {
	Dwarf_CFI *cfi; /* the file's .eh_frame; NULL when it has none, or it is not sane */
	struct cfi_entry *entries;
	size_t nentries, cap;
	struct hashmap index;
};

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

/* Where register regno of the caller is, in this frame. False when not expressible. */
static bool where_of(Dwarf_Frame *frame, unsigned regno, uint8_t *ret_where, int32_t *ret_off)
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
	return where_of(frame, arch_dwarf_ra(), &ret->ra, &ret->ra_off) &&
	       where_of(frame, arch_dwarf_fp(), &ret->fp, &ret->fp_off) && ret->ra != CFI_SAME;
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
		case DW_CFA_nop:
		case DW_CFA_remember_state:
		case DW_CFA_restore_state:
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

/* Every CIE's and FDE's instructions in one CFI section, through libdw's own entry reader. */
static bool section_sane(Elf *elf, const char *name, bool eh_frame)
{
	const unsigned char *ident = (const unsigned char *)elf_getident(elf, NULL);
	const unsigned addr_size = ident && ident[EI_CLASS] == ELFCLASS32 ? 4 : 8;
	Elf_Scn *scn = NULL;
	Elf_Data *data = NULL;
	Dwarf_Off off = 0, next;
	size_t shstrndx;

	if (!ident || elf_getshdrstrndx(elf, &shstrndx) != 0)
		return true; /* no sections: libdw finds no CFI either */
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS ||
		    !(n = elf_strptr(elf, shstrndx, sh.sh_name)))
			continue;
		/* Compressed as libdw would find it (Go writes .zdebug_frame): inflate first. */
		if (strcmp(n, name) == 0 && (sh.sh_flags & SHF_COMPRESSED) &&
		    elf_compress(scn, 0, 0) < 0)
			return true; /* libdw cannot inflate it either */
		if (n[0] == '.' && n[1] == 'z' && strcmp(n + 2, name + 1) == 0 &&
		    elf_compress_gnu(scn, 0, 0) < 0)
			return true;
		if (strcmp(n, name) == 0 ||
		    (n[0] == '.' && n[1] == 'z' && strcmp(n + 2, name + 1) == 0)) {
			data = elf_getdata(scn, NULL);
			break;
		}
	}
	if (!data || !data->d_buf)
		return true;
	for (unsigned n = 0;; n++, off = next) {
		Dwarf_CFI_Entry e, cie;
		struct cursor c;
		uint8_t enc;

		if (dwarf_next_cfi(ident, data, eh_frame, off, &next, &e) != 0)
			return true; /* the end, or an entry libdw will not read either */
		if (dwarf_cfi_cie_p(&e)) {
			c = (struct cursor){e.cie.initial_instructions,
					    e.cie.initial_instructions_end, true};
			if (e.cie.return_address_register > CFI_MAX_REGNO ||
			    !instructions_sane(c, cie_fde_encoding(&e.cie, addr_size), addr_size))
				return false;
			continue;
		}
		if (dwarf_next_cfi(ident, data, eh_frame, e.fde.CIE_pointer, &(Dwarf_Off){0},
				   &cie) != 0 ||
		    !dwarf_cfi_cie_p(&cie))
			continue; /* libdw cannot use this FDE either */
		enc = cie_fde_encoding(&cie.cie, addr_size);
		c = (struct cursor){e.fde.start, e.fde.end, true};
		skip_encoded(&c, enc, addr_size);	 /* initial_location */
		skip_encoded(&c, enc & 0x0f, addr_size); /* address_range: the value format alone */
		if (cie.cie.augmentation && cie.cie.augmentation[0] == 'z')
			skip(&c, uleb(&c));
		else
			skip(&c, cie.cie.fde_augmentation_data_size);
		if (c.ok && !instructions_sane(c, enc, addr_size))
			return false;
		if (n > (1u << 24))
			return true; /* more than any real file: stop looking */
	}
}

bool cfi_file_is_sane(struct elf_file *f)
{
	if (!f->cfi_checked) {
		f->cfi_checked = true;
		f->cfi_sane = !f->elf || (section_sane(f->elf, ".eh_frame", true) &&
					  section_sane(f->elf, ".debug_frame", false));
	}
	return f->cfi_sane;
}

enum cfi_found cfi_rule_at(struct elf_file *f, uint64_t vaddr, struct cfi_rule *ret)
{
	struct cfi_rules *r = f->cfi;
	uint64_t h = hash_u64(vaddr, 0);
	struct vaddr_key k;
	struct cfi_entry *e;
	Dwarf_Frame *frame;
	uint32_t idx;

	if (!r) {
		if (!f->elf || !(r = calloc(1, sizeof(*r))))
			return CFI_TOO_HARD;
		r->cfi = cfi_file_is_sane(f) ? dwarf_getcfi_elf(f->elf) : NULL;
		f->cfi = r;
	}
	if (!r->cfi)
		return CFI_NO_FDE;
	k = (struct vaddr_key){r, vaddr};
	if (hashmap_find(&r->index, h, vaddr_eq, &k, &idx)) {
		*ret = r->entries[idx].rule;
		return r->entries[idx].found;
	}
	/* The entry after the last: remembered below, or (past the cap) reused next time. */
	if (VEC_PUSH_RESERVE(r->entries, r->nentries, r->cap) < 0)
		return CFI_TOO_HARD;
	e = &r->entries[r->nentries];
	*e = (struct cfi_entry){.vaddr = vaddr, .found = CFI_NO_FDE};
	if (dwarf_cfi_addrframe(r->cfi, vaddr, &frame) == 0) {
		e->found = compile(frame, &e->rule) ? CFI_FOUND : CFI_TOO_HARD;
		free(frame);
	}
	/*
	 * Past the cap (a long -a run meets ever more pcs), or without memory
	 * for the index, the rule is not remembered: memory stays bounded and
	 * the answer right, computed again next time.
	 */
	if (r->nentries < CFI_CACHE_MAX && hashmap_insert(&r->index, h, (uint32_t)r->nentries) == 0)
		r->nentries++;
	*ret = e->rule;
	return e->found;
}
