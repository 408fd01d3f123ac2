/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>

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

struct cfi_rules {
	Dwarf_CFI *cfi; /* the file's .eh_frame; NULL when it has none */
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
		r->cfi = dwarf_getcfi_elf(f->elf);
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
