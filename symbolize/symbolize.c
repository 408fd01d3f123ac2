/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <elfutils/libdwfl.h>
#include <gelf.h>

#include "lib/hash.h"
#include "lib/log.h"
#include "lib/vec.h"
#include "symbolize/internal.h"
#include "symbolize/symbolize.h"

/* One ELF file, reported alone to its own Dwfl so its addresses are its own. */
struct elf_file {
	char *key; /* the path it was asked for under */
	Dwfl *dwfl; /* NULL when the file could not be opened */
	Dwfl_Module *mod;
	GElf_Addr bias;
	GElf_Phdr *loads; /* PT_LOAD headers: file offset -> ELF address */
	size_t nloads;
	char build_id[41];
};

struct symbolize {
	struct elf_file *files;
	size_t nfiles, files_cap;
	struct hashmap index; /* by key */
	struct kallsyms *kallsyms;
	int kallsyms_err; /* 0 until tried; then 1 loaded, or the negative error */
	uint64_t files_missing;
};

static const Dwfl_Callbacks offline_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
};

int symbolize_new(struct symbolize **ret)
{
	struct symbolize *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	*ret = s;
	return 0;
}

void symbolize_free(struct symbolize *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nfiles; i++) {
		free(s->files[i].key);
		free(s->files[i].loads);
		if (s->files[i].dwfl)
			dwfl_end(s->files[i].dwfl);
	}
	free(s->files);
	hashmap_release(&s->index);
	kallsyms_free(s->kallsyms);
	free(s);
}

static void read_build_id(struct elf_file *f)
{
	const unsigned char *bits;
	GElf_Addr vaddr;
	int n = dwfl_module_build_id(f->mod, &bits, &vaddr);

	for (int i = 0; i < n && i < 20; i++)
		(void)snprintf(&f->build_id[2 * i], 3, "%02x", bits[i]);
}

/* Open path (as seen from the root of process pid, when it has to be) into f. */
static void open_elf(struct elf_file *f, const char *path, int32_t pid)
{
	char alt[4096];
	const char *try[2] = {path, NULL};
	Elf *elf;
	size_t nph;

	/* A process in another mount namespace sees its files under /proc/PID/root. */
	if (pid > 0 && snprintf(alt, sizeof(alt), "/proc/%d/root%s", pid, path) < (int)sizeof(alt))
		try[1] = alt;
	for (int i = 0; i < 2 && try[i] && !f->mod; i++) {
		if (access(try[i], R_OK) != 0)
			continue;
		f->dwfl = dwfl_begin(&offline_callbacks);
		if (!f->dwfl)
			return;
		f->mod = dwfl_report_elf(f->dwfl, path, try[i], -1, 0, false);
		if (!f->mod) {
			log_debug("%s: %s", try[i], dwfl_errmsg(-1));
			dwfl_end(f->dwfl);
			f->dwfl = NULL;
		}
	}
	if (!f->mod)
		return;
	(void)dwfl_report_end(f->dwfl, NULL, NULL);
	elf = dwfl_module_getelf(f->mod, &f->bias);
	if (!elf || elf_getphdrnum(elf, &nph) != 0)
		return;
	f->loads = calloc(nph ? nph : 1, sizeof(*f->loads));
	if (!f->loads)
		return;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD)
			f->loads[f->nloads++] = ph;
	}
	read_build_id(f);
}

struct key_ctx {
	const struct symbolize *s;
	const char *key;
};

static bool key_eq(const void *ctx, uint32_t idx)
{
	const struct key_ctx *k = ctx;

	return strcmp(k->s->files[idx].key, k->key) == 0;
}

/* The file behind a mapping, opened on first use. NULL only when out of memory. */
static struct elf_file *file_get(struct symbolize *s, const char *path, int32_t pid)
{
	struct key_ctx key = {s, path};
	uint64_t h = hash_bytes(path, strlen(path), 0);
	struct elf_file *f;
	uint32_t idx;

	if (hashmap_find(&s->index, h, key_eq, &key, &idx))
		return &s->files[idx];
	if (VEC_PUSH_RESERVE(s->files, s->nfiles, s->files_cap) < 0)
		return NULL;
	f = &s->files[s->nfiles];
	memset(f, 0, sizeof(*f));
	f->key = strdup(path);
	if (!f->key || hashmap_insert(&s->index, h, (uint32_t)s->nfiles) < 0) {
		free(f->key);
		return NULL;
	}
	s->nfiles++;
	/* Pseudo-files ([vdso], [heap], //anon) have nothing to open. */
	if (path[0] == '/' && path[1] != '/') {
		open_elf(f, path, pid);
		s->files_missing += !f->mod;
	}
	return f;
}

/*
 * Where a runtime address lies in the ELF file's own address space: the
 * mapping gives the file offset, and the PT_LOAD segment holding that offset
 * gives the virtual address the linker assigned to it.
 */
static bool elf_address(const struct elf_file *f, const struct profile_mapping *m, uint64_t addr,
			uint64_t *ret)
{
	uint64_t off = addr - m->start + m->offset;

	for (size_t i = 0; i < f->nloads; i++) {
		const GElf_Phdr *ph = &f->loads[i];

		if (off >= ph->p_offset && off < ph->p_offset + ph->p_memsz) {
			*ret = off - ph->p_offset + ph->p_vaddr;
			return true;
		}
	}
	return false;
}

/*
 * The function of location loc is ELF symbol sym. Symbol versions
 * ("__libc_start_main@@GLIBC_2.34") are not part of the function's name:
 * they stay in system_name only.
 */
static int set_function(struct profile *p, uint32_t loc, const char *sym)
{
	struct profile_function fn = {0};
	struct profile_line line = {0};
	const char *at = strchr(sym, '@');
	int r;

	r = profile_intern_n(p, sym, at && at != sym ? (size_t)(at - sym) : strlen(sym), &fn.name);
	if (r < 0)
		return r;
	r = profile_intern(p, sym, &fn.system_name);
	if (r < 0)
		return r;
	r = profile_intern_function(p, &fn, &line.function);
	if (r < 0)
		return r;
	return profile_set_lines(p, loc, &line, 1);
}

static int symbolize_kernel(struct symbolize *s, struct profile *p, uint32_t loc, bool *ret_ok)
{
	const struct profile_location *l = profile_location(p, loc);
	const char *name, *module;

	if (s->kallsyms_err == 0) {
		int r = kallsyms_load("/proc/kallsyms", &s->kallsyms);

		s->kallsyms_err = r < 0 ? r : 1;
		if (r < 0)
			log_debug("/proc/kallsyms: %s", strerror(-r));
	}
	if (!s->kallsyms)
		return 0;
	/* A return address belongs to the call before it: look up address - 1. */
	name = kallsyms_lookup(s->kallsyms,
			       l->address - ((l->flags & PROFILE_LOCATION_CALLER) ? 1 : 0), &module);
	if (!name)
		return 0;
	*ret_ok = true;
	return set_function(p, loc, name);
}

static int symbolize_user(struct symbolize *s, struct profile *p, uint32_t loc, bool *ret_ok,
			  struct elf_file **ret_file)
{
	const struct profile_location *l = profile_location(p, loc);
	struct profile_mapping *m = &p->mappings[l->mapping - 1];
	struct elf_file *f = file_get(s, profile_str(p, m->file), m->pid);
	GElf_Sym sym;
	GElf_Off off;
	uint64_t addr;
	const char *name;

	*ret_file = f;
	if (!f)
		return -ENOMEM;
	if (!f->mod || !elf_address(f, m, l->address, &addr))
		return 0;
	if (l->flags & PROFILE_LOCATION_CALLER)
		addr--;
	name = dwfl_module_addrinfo(f->mod, addr + f->bias, &off, &sym, NULL, NULL, NULL);
	if (!name)
		return 0;
	*ret_ok = true;
	return set_function(p, loc, name);
}

int symbolize_profile(struct symbolize *s, struct profile *p, struct symbolize_stats *ret_stats)
{
	struct symbolize_stats st = {0};
	int r = 0;

	for (uint32_t loc = 1; loc <= p->nlocations; loc++) {
		struct profile_location *l = &p->locations[loc - 1];
		struct profile_mapping *m = l->mapping ? &p->mappings[l->mapping - 1] : NULL;
		struct elf_file *f = NULL;
		bool ok = false;

		if (l->flags & PROFILE_LOCATION_SYMBOLIZED)
			continue;
		st.locations++;
		if (!m)
			r = 0;
		else if (m->flags & PROFILE_MAPPING_KERNEL)
			r = symbolize_kernel(s, p, loc, &ok);
		else
			r = symbolize_user(s, p, loc, &ok, &f);
		if (r < 0)
			break;
		/* profile_set_lines may have moved the arrays. */
		l = &p->locations[loc - 1];
		m = l->mapping ? &p->mappings[l->mapping - 1] : NULL;
		l->flags |= PROFILE_LOCATION_SYMBOLIZED;
		if (ok) {
			st.resolved++;
			m->flags |= PROFILE_MAPPING_HAS_FUNCTIONS;
		}
		if (f && f->build_id[0] && !m->build_id) {
			r = profile_intern(p, f->build_id, &m->build_id);
			if (r < 0)
				break;
			m = &p->mappings[l->mapping - 1];
		}
	}
	st.files_missing = s->files_missing;
	if (ret_stats)
		*ret_stats = st;
	return r;
}
