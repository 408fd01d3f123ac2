/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <string.h>
#include <unistd.h>

#include "symbolize/probe.h"

/* The function symbol named symbol in section scn's table: its address. */
static int find_in(Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh, const char *symbol, GElf_Addr *ret)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t n = data && sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0;

	for (size_t i = 0; i < n; i++) {
		GElf_Sym sym;
		const char *name;

		if (!gelf_getsym(data, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
		    sym.st_shndx == SHN_UNDEF || sym.st_value == 0)
			continue;
		name = elf_strptr(elf, sh->sh_link, sym.st_name);
		if (name && strcmp(name, symbol) == 0) {
			*ret = sym.st_value;
			return 0;
		}
	}
	return -ESRCH;
}

/* vaddr's offset in the file, through the loaded segment that holds it. */
static int file_offset(Elf *elf, GElf_Addr vaddr, uint64_t *ret)
{
	size_t n;

	if (elf_getphdrnum(elf, &n) != 0)
		return -ENOEXEC;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (vaddr >= ph.p_vaddr && vaddr - ph.p_vaddr < ph.p_filesz) {
			*ret = vaddr - ph.p_vaddr + ph.p_offset;
			return 0;
		}
	}
	return -ENOEXEC;
}

int probe_offset(const char *path, const char *symbol, uint64_t *ret)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = -ESRCH;
	GElf_Addr vaddr = 0;
	Elf_Scn *scn = NULL;
	Elf *elf;

	if (fd < 0)
		return -errno;
	(void)elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		r = -ENOEXEC;
		goto out;
	}
	/* .symtab first (it names static functions too), then .dynsym. */
	for (int pass = 0; pass < 2 && r == -ESRCH; pass++) {
		while ((scn = elf_nextscn(elf, scn)) != NULL && r == -ESRCH) {
			GElf_Shdr sh;

			if (gelf_getshdr(scn, &sh) &&
			    sh.sh_type == (pass == 0 ? SHT_SYMTAB : SHT_DYNSYM))
				r = find_in(elf, scn, &sh, symbol, &vaddr);
		}
		scn = NULL;
	}
	if (r == 0)
		r = file_offset(elf, vaddr, ret);
out:
	if (elf)
		elf_end(elf);
	(void)close(fd);
	return r;
}
