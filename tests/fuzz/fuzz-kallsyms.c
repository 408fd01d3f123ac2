/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the kernel-symbol loaders of symbolize/kallsyms.c, on the
 * same input read both ways: as the text of /proc/kallsyms
 * (kallsyms_load) and as cprof's saved core table (kallsyms_parse_core:
 * a cache file, which the disk holds between runs). A table that
 * loads is then asked about addresses around its symbols and the input's
 * own words. The input is also read as the other file of the cache, a
 * file's saved names (symcache_parse), for the build id and debug file
 * its header names.
 *
 * The text loader takes a path, the core parser a buffer: load() is the
 * one place that knows, so a change of either API changes only it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "symbolize/internal.h"
#include "symbolize/symcache.h"
#include "tests/fuzz/fuzz.h"

enum format {
	TEXT, /* /proc/kallsyms */
	CORE, /* kallsyms_save_core's */
};

/*
 * Load the input as format. The text goes through a memfd made once per
 * process, named by its /proc/self/fd path. Returns what the loader returns.
 */
static int load(enum format format, const uint8_t *data, size_t size, struct kallsyms **ret)
{
	static char path[64];
	static int fd = -1;

	if (format == CORE)
		return kallsyms_parse_core((const char *)data, size, ret);
	if (fd < 0) {
		fd = memfd_create("fuzz-kallsyms", MFD_CLOEXEC);
		if (fd < 0)
			abort();
		(void)snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	return kallsyms_load(path, ret);
}

static volatile uint64_t sink;

static void lookup(const struct kallsyms *k, uint64_t addr)
{
	const char *module = NULL, *name;
	uint64_t start = 0;

	name = kallsyms_lookup(k, addr, &module, &start);
	if (!name)
		return;
	/* A symbol found contains addr, and its strings are whole. */
	if (start > addr || !module)
		abort();
	sink += strlen(name) + strlen(module);
}

static void use(const struct kallsyms *k, const uint8_t *data, size_t size)
{
	static const char *const names[] = {"_stext", "_etext", "", "x"};
	uint64_t start, end, a;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (kallsyms_addr_of(k, names[i], &a)) {
			lookup(k, a);
			lookup(k, a - 1);
		}
	if (kallsyms_core(k, &start, &end)) {
		if (start >= end)
			abort();
		lookup(k, start);
		lookup(k, start + (end - start) / 2);
		lookup(k, end);
	}
	lookup(k, 0);
	lookup(k, UINT64_MAX);
	lookup(k, 0xffffffff81000000ULL);
	for (size_t i = 0; i < 4 && (i + 1) * 8 <= size; i++) {
		memcpy(&a, data + size - (i + 1) * 8, 8);
		lookup(k, a);
	}
}

/* What kallsyms_save_core writes, kallsyms_parse_core takes back. */
static void round_trip(const struct kallsyms *k)
{
	struct kallsyms *again;
	size_t len;
	char *buf;

	if (kallsyms_save_core(k, &buf, &len) < 0)
		return;
	if (kallsyms_parse_core(buf, len, &again) < 0)
		abort();
	kallsyms_free(again);
	free(buf);
}

/*
 * The input as a names file, for whatever build id and debug file its
 * header claims (a parse for any other fails at once): addresses of its
 * own words asked, a name added, and the whole saved again in memory.
 */
static void names(const uint8_t *data, size_t size)
{
	struct elf_debug_id id = {0};
	struct sym_frame frames[4];
	struct symcache_result res;
	struct symcache *sc;
	char build_id[49] = "";
	uint64_t a;

	if (size < 120)
		return;
	memcpy(build_id, data + 8, 48);
	memcpy(&id.dev, data + 56, 8);
	memcpy(&id.ino, data + 64, 8);
	memcpy(&id.size, data + 72, 8);
	memcpy(&id.mtime_ns, data + 80, 8);
	id.self = data[88] != 0;
	if (symcache_open(NULL, build_id, &id, &sc) < 0)
		abort();
	if (symcache_parse((const char *)data, size, build_id, &id, sc) == 0) {
		for (size_t i = 0; i + 8 <= size && i < 64 * 8; i += 8) {
			memcpy(&a, data + i, 8);
			if (symcache_find(sc, a, frames, 4, &res))
				for (size_t j = 0; j < res.nframes; j++)
					if (!frames[j].name || !frames[j].system_name)
						abort();
		}
	}
	symcache_free(sc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kallsyms *k;

	/* A real /proc/kallsyms is some 10 MiB; a few KiB of it show every shape. */
	if (size > 1 << 20)
		return 0;
	for (enum format f = TEXT; f <= CORE; f++) {
		if (load(f, data, size, &k) < 0)
			continue;
		use(k, data, size);
		if (f == TEXT)
			round_trip(k);
		kallsyms_free(k);
	}
	names(data, size);
	return 0;
}
