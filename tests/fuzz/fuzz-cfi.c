/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the .eh_frame of a profiled binary (hostile input, DESIGN.md
 * Trust) through the CFI-rule compiler of the fast unwinder
 * (symbolize/cfi.c), and its symbol table, relocations and PLT through the
 * symbol loader (symbolize/elfsyms.c: names, the unwinder's function
 * classes), asked about pcs across the file.
 *
 * The input is a whole ELF file, opened from memory and set up as
 * symbolize/elfcache.c's try_open sets up a file it opens: the ELF handle,
 * no fd, and the PT_LOAD headers; a file without any is not used there,
 * and not here either. The pcs asked about are the start, middle and last
 * byte of every PT_LOAD, the entry point, a spread through each
 * executable segment, and a few derived from the input's last bytes; each
 * is asked twice, the second answer coming from the cache.
 */
#include <stdlib.h>
#include <string.h>

#include <gelf.h>
#include <libelf.h>

#include "symbolize/cfi.h"
#include "symbolize/internal.h"
#include "tests/fuzz/fuzz.h"

/* Bounds on the work one input can ask for. */
#define MAX_LOADS 16
#define SPREAD 16
#define DERIVED 8

static volatile uint64_t sink;

/* The ELF cache the symbol loader hangs off: no file of it is used, one serves every input. */
static struct elfcache *cache;

static void ask_cfi(struct elf_file *f, uint64_t pc)
{
	struct cfi_rule first = {0}, again = {0};
	enum cfi_found a = cfi_rule_at(NULL, f, pc, &first), b = cfi_rule_at(NULL, f, pc, &again);

	/* The cache answers as the first computation did. */
	if (a != b || (a == CFI_FOUND && memcmp(&first, &again, sizeof(first)) != 0))
		abort();
	if (a == CFI_FOUND)
		sink += first.cfa_reg + (uint64_t)first.cfa_off + first.ra + first.fp;
}

static void ask(struct elf_file *f, uint64_t pc)
{
	GElf_Addr off = 0;
	const char *name = elfcache_symbol(cache, f, pc, &off);

	if (name)
		sink += strlen(name) + off;
	sink += elfcache_fn_class(cache, f, pc);
	ask_cfi(f, pc);
}

static void ask_segment(struct elf_file *f, const GElf_Phdr *ph, const uint8_t *data, size_t size)
{
	uint64_t start = ph->p_vaddr, len = ph->p_memsz;

	ask(f, start);
	if (!len)
		return;
	ask(f, start + len / 2);
	ask(f, start + len - 1);
	if (ph->p_flags & PF_X)
		for (uint64_t i = 1; i < SPREAD; i++)
			ask(f, start + len / SPREAD * i);
	/* pcs the mutator can steer: the input's last words, taken modulo the segment. */
	for (size_t i = 0; i < DERIVED && (i + 1) * 8 <= size; i++) {
		uint64_t w;

		memcpy(&w, data + size - (i + 1) * 8, 8);
		ask(f, start + w % len);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct elf_file f = {.fd = -1, .path = (char *)"fuzz"};
	GElf_Ehdr eh;
	char *image;

	if (elf_version(EV_CURRENT) == EV_NONE || (!cache && elfcache_new(NULL, NULL, &cache) < 0))
		abort();
	f.owner = cache;
	/* libelf may write into the image it reads from; the input is not ours to write. */
	image = malloc(size ? size : 1);
	if (!image)
		abort();
	memcpy(image, data, size);
	f.elf = elf_memory(image, size);
	if (!f.elf || !elfcache_load_phdrs(&f))
		goto out;

	for (size_t i = 0; i < f.nloads && i < MAX_LOADS; i++)
		ask_segment(&f, &f.loads[i], data, size);
	if (gelf_getehdr(f.elf, &eh))
		ask(&f, eh.e_entry);
	ask(&f, 0);
	ask(&f, UINT64_MAX);
out:
	if (f.dwfl)
		dwfl_end(f.dwfl);
	free(f.syms);
	for (size_t i = 0; i < f.nowned_names; i++)
		free(f.owned_names[i]);
	free(f.owned_names);
	free(f.classes);
	cfi_rules_free(f.cfi);
	if (f.elf)
		(void)elf_end(f.elf);
	free(f.loads);
	free(image);
	return 0;
}
