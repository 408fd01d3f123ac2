/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include <gelf.h>

#include "lib/base/log.h"
#include "symbolize/elfcopy.h"

bool elfcopy_is_compressed(Elf *elf)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;

		if (gelf_getshdr(scn, &sh) && (sh.sh_flags & SHF_COMPRESSED))
			return true;
	}
	return false;
}

/* Old-style .zdebug_* sections would need renaming: not handled. */
static bool has_zdebug(Elf *elf)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return false;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *n;

		if (gelf_getshdr(scn, &sh) && (n = elf_strptr(elf, shstrndx, sh.sh_name)) &&
		    strncmp(n, ".zdebug", 7) == 0)
			return true;
	}
	return false;
}

static int fail(const char *what)
{
	log_debug("elfcopy: %s: %s", what, elf_errmsg(-1));
	return -EIO;
}

int elfcopy_inflated(Elf *src, int fd)
{
	Elf_Scn *scn = NULL;
	GElf_Ehdr eh;
	size_t phnum;
	Elf *dst;
	int r = 0;

	if (has_zdebug(src))
		return -ENOTSUP;
	if (!gelf_getehdr(src, &eh) || elf_getphdrnum(src, &phnum) != 0)
		return fail("reading the headers");
	dst = elf_begin(fd, ELF_C_WRITE, NULL);
	if (!dst)
		return fail("elf_begin");
	if (!gelf_newehdr(dst, gelf_getclass(src)) || (phnum && !gelf_newphdr(dst, phnum))) {
		r = fail("new headers");
		goto out;
	}
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(src, (int)i, &ph) || !gelf_update_phdr(dst, (int)i, &ph)) {
			r = fail("program headers");
			goto out;
		}
	}
	/* Sections in order: their indexes, which headers and links refer to, stay the same. */
	while ((scn = elf_nextscn(src, scn))) {
		Elf_Scn *out = elf_newscn(dst);
		Elf_Data *in = NULL;
		GElf_Shdr sh;

		if (!out || !gelf_getshdr(scn, &sh)) {
			r = fail("section");
			goto out;
		}
		if ((sh.sh_flags & SHF_COMPRESSED) &&
		    (elf_compress(scn, 0, 0) < 0 || !gelf_getshdr(scn, &sh))) {
			r = fail("inflating a section");
			goto out;
		}
		while ((in = elf_getdata(scn, in))) {
			Elf_Data *d = elf_newdata(out);

			if (!d) {
				r = fail("section data");
				goto out;
			}
			*d = *in; /* the buffer stays src's, which outlives the write */
		}
		if (!gelf_update_shdr(out, &sh)) {
			r = fail("section header");
			goto out;
		}
	}
	if (!gelf_update_ehdr(dst, &eh) || elf_update(dst, ELF_C_WRITE) < 0)
		r = fail("writing");
out:
	(void)elf_end(dst);
	return r;
}
