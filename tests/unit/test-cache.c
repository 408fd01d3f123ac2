/* SPDX-License-Identifier: MIT */
/*
 * The cache directory's rules (lib/base/cache.c) and the files kept in it: a
 * file's saved names (symbolize/symcache.c) and the kernel's saved symbols
 * (symbolize/kallsyms.c) — each believed only when it is the user's own
 * and whole, of this format, for this build and this debug file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/base/cache.h"
#include "symbolize/internal.h"
#include "symbolize/facts.h"
#include "symbolize/symcache.h"
#include "tests/tap.h"

static char dir[] = "/tmp/cprof-test-cache.XXXXXX";

/* dir/name, in one of two buffers: enough for the two paths of a symlink(). */
static char *at(const char *name)
{
	static char paths[2][256];
	static int turn;
	char *path = paths[turn++ & 1];

	(void)snprintf(path, sizeof(paths[0]), "%s/%s", dir, name);
	return path;
}

static void write_file(const char *name, const char *data, size_t len, mode_t mode)
{
	int fd = open(at(name), O_WRONLY | O_CREAT | O_TRUNC, mode);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		abort();
	(void)close(fd);
	(void)chmod(at(name), mode);
}

static void test_directory(void)
{
	struct cache *c = NULL;

	ok(cache_open(at("new/deeper"), &c) == 0 && c, "a missing directory is made, and used");
	cache_free(c);
	ok((stat(at("new"), &(struct stat){0}) == 0), "with its missing parents");
	(void)mkdir(at("shared"), 0777);
	(void)chmod(at("shared"), 01777);
	ok(cache_open(at("shared"), &c) == -EACCES, "one others may write to is refused");
	(void)symlink(at("new"), at("link"));
	ok(cache_open(at("link"), &c) == -ELOOP, "one that is a symlink is refused");
	(void)mkdir(at("theirs"), 0700);
	if (geteuid() == 0 && chown(at("theirs"), 65534, 65534) == 0)
		ok(cache_open(at("theirs"), &c) == -EPERM, "another user's is refused");
	else
		ok(true, "# SKIP another user's directory needs root to make");
	write_file("plain", "x", 1, 0600);
	ok(cache_open(at("plain"), &c) == -ENOTDIR, "a file is not a directory");
}

static void test_files(struct cache *c)
{
	char *buf = NULL;
	size_t len;

	ok(cache_write(c, "one", "hello", 5) == 0, "a file is written");
	ok(cache_read(c, "one", 100, &buf, &len) == 0 && len == 5 && memcmp(buf, "hello", 5) == 0,
	   "and read back whole");
	free(buf);
	ok(cache_read(c, "one", 4, &buf, &len) == -EFBIG, "past the bound it is refused");
	ok(cache_read(c, "none", 100, &buf, &len) == -ENOENT, "a missing file is -ENOENT");
	(void)mkfifo(at("cache/fifo"), 0600);
	ok(cache_read(c, "fifo", 100, &buf, &len) == -EPERM, "a FIFO is refused, without blocking");
	(void)symlink("/etc/passwd", at("cache/link"));
	ok(cache_read(c, "link", 1 << 20, &buf, &len) == -ELOOP, "a symlink is not followed");
	write_file("cache/open", "x", 1, 0666);
	ok(cache_read(c, "open", 100, &buf, &len) == -EACCES, "a file others may write is refused");
	if (geteuid() == 0) {
		write_file("cache/theirs", "x", 1, 0600);
		(void)chown(at("cache/theirs"), 65534, 65534);
		ok(cache_read(c, "theirs", 100, &buf, &len) == -EPERM,
		   "another user's file is refused");
	} else {
		ok(true, "# SKIP another user's file needs root to make");
	}
	ok(cache_write(c, "fifo", "y", 1) == 0 && cache_read(c, "fifo", 10, &buf, &len) == 0,
	   "a refused file is replaced by the next write");
	free(buf);

	/* 200 pieces (more than one writev takes), empty ones among them. */
	static char want[200 * 199 / 2];
	struct iovec iov[200];
	size_t total = 0;
	const void *map = NULL;

	for (size_t i = 0; i < 200; i++) {
		for (size_t j = 0; j < i; j++)
			want[total + j] = (char)('a' + (i + j) % 26);
		iov[i] = (struct iovec){want + total, i};
		total += i;
	}
	ok(cache_writev(c, "pieces", iov, 200) == 0 &&
		   cache_read(c, "pieces", total, &buf, &len) == 0 && len == total &&
		   memcmp(buf, want, total) == 0,
	   "a file written in 200 pieces reads back whole (%zu bytes)", total);
	free(buf);
	ok(cache_map(c, "pieces", total, &map, &len) == 0 && len == total &&
		   memcmp(map, want, total) == 0,
	   "and maps whole");
	cache_unmap(map, len);
	ok(cache_map(c, "pieces", total - 1, &map, &len) == -EFBIG &&
		   cache_map(c, "link", 1 << 20, &map, &len) == -ELOOP &&
		   cache_map(c, "open", 100, &map, &len) == -EACCES,
	   "mapping keeps the rules of reading: a bound, no symlink, no file others may write");
	ok(cache_write(c, "empty", "", 0) == 0 && cache_map(c, "empty", 10, &map, &len) == -ENODATA,
	   "an empty file maps to -ENODATA");
}

/* Saved names: what one run keeps, the next finds; anything amiss is an empty cache. */
static void test_names(struct cache *c)
{
	static const char id[] = "0123456789abcdef0123456789abcdef01234567";
	struct elf_debug_id debug = {.dev = 1, .ino = 2, .size = 3, .mtime_ns = 4};
	struct sym_frame frames[2] =
		{
			{"inner", "_Z5innerv", "a.c", 10, 12},
			{"outer", "outer", "b.c", 20, 25},
		},
			 got[4];
	struct symcache_result res = {
		.nframes = 2, .sym_offset = 0x15, .has_sym_offset = true, .dwarf = true};
	struct symcache *sc;
	char *data;
	size_t len;

	ok(symcache_open(c, id, &debug, &sc) == 0 && !symcache_find(sc, 0x1000, got, 4, &res),
	   "a first run finds nothing");
	/* 0x1000 named alike from 0xff0 to 0x1010; 0x2000 alone (a span not holding it). */
	ok(symcache_add(sc, 0x1000, (uint64_t[2]){0xff0, 0x1010}, frames, &res) == 0 &&
		   symcache_add(sc, 0x2000, (uint64_t[2]){0x2001, 0x2008}, frames,
				&(struct symcache_result){0}) == 0,
	   "and adds two addresses");
	ok(symcache_find(sc, 0x1000, got, 4, &res) && res.nframes == 2 &&
		   strcmp(got[1].name, "outer") == 0,
	   "which it finds again at once");
	ok(symcache_find(sc, 0x1008, got, 4, &res) && res.sym_offset == 0x1d &&
		   symcache_find(sc, 0xff0, got, 4, &res) && res.sym_offset == 5 &&
		   !symcache_find(sc, 0x1010, got, 4, &res) &&
		   !symcache_find(sc, 0xfef, got, 4, &res),
	   "and every address of its span, the offset growing with the address, none past it");
	ok(!symcache_find(sc, 0x2001, got, 4, &res),
	   "a span that does not hold its address is not used");
	ok(symcache_add(sc, 0x3000, (uint64_t[2]){0x2f00, 0x3100}, frames, &res) == 0 &&
		   symcache_find(sc, 0x3000, got, 4, &res) &&
		   !symcache_find(sc, 0x2fff, got, 4, &res),
	   "nor one reaching below its symbol's start");
	ok(symcache_add(sc, 0xfe0, (uint64_t[2]){0xfe0, 0x1020}, frames,
			&(struct symcache_result){.nframes = 1}) == 0 &&
		   symcache_find(sc, 0xfef, got, 4, &res) && res.nframes == 1 &&
		   symcache_find(sc, 0xff0, got, 4, &res) && res.nframes == 2 &&
		   !symcache_find(sc, 0x1010, got, 4, &res),
	   "a span meeting another entry is cut short of it");
	ok(symcache_save(sc) == 0, "and saves");
	symcache_free(sc);

	ok(symcache_open(c, id, &debug, &sc) == 0 && symcache_find(sc, 0x1000, got, 4, &res) &&
		   res.nframes == 2 && res.dwarf && res.has_sym_offset && res.sym_offset == 0x15 &&
		   strcmp(got[0].system_name, "_Z5innerv") == 0 &&
		   strcmp(got[1].file, "b.c") == 0 && got[1].line == 25,
	   "the next run finds the names, lines and offsets");
	ok(symcache_find(sc, 0x100f, got, 4, &res) && res.sym_offset == 0x24 &&
		   !symcache_find(sc, 0x1010, got, 4, &res),
	   "and the spans");
	ok(symcache_find(sc, 0x2000, got, 4, &res) && res.nframes == 0,
	   "and that an address has none");
	ok(symcache_add(sc, 0x1800, (uint64_t[2]){0x1800, 0x1801}, frames + 1,
			&(struct symcache_result){.nframes = 1}) == 0 &&
		   symcache_save(sc) == 0,
	   "it adds one more and saves");
	symcache_free(sc);
	ok(symcache_open(c, id, &debug, &sc) == 0 && symcache_find(sc, 0x1000, got, 4, &res) &&
		   symcache_find(sc, 0x1800, got, 4, &res) &&
		   symcache_find(sc, 0x2000, got, 4, &res),
	   "the file then holds old and new");
	symcache_free(sc);

	debug.mtime_ns++;
	ok(symcache_open(c, id, &debug, &sc) == 0 && !symcache_find(sc, 0x1000, got, 4, &res),
	   "names from another debug file are not used");
	symcache_free(sc);
	debug.mtime_ns--;

	if (cache_read(c, "names-0123456789abcdef0123456789abcdef01234567", 1 << 20, &data, &len) <
	    0)
		abort();
	/* Cut short, a flipped magic (another version), another build's id: each is not used. */
	for (int damage = 0; damage < 6; damage++) {
		static const char *const what[] = {"cut short",
						   "of another version",
						   "of another build",
						   "with its strings damaged",
						   "with entries that overlap",
						   "with an empty entry"};
		/* The first entry's span: after the 120-byte header, its address and length. */
		const size_t first_len = 120 + 8;
		const uint64_t wide = 0x10000, none = 0;
		char *copy = malloc(len);

		memcpy(copy, data, len);
		if (damage == 1)
			copy[7] = '9';
		else if (damage == 2)
			copy[8] = 'f';
		else if (damage == 3)
			copy[len - 1] = 'x'; /* the last string runs off the end */
		else if (damage == 4)
			memcpy(copy + first_len, &wide, 8);
		else if (damage == 5)
			memcpy(copy + first_len, &none, 8);
		if (cache_write(c, "names-0123456789abcdef0123456789abcdef01234567", copy,
				damage == 0 ? len / 2 : len) < 0)
			abort();
		ok(symcache_open(c, id, &debug, &sc) == 0 &&
			   !symcache_find(sc, 0x1000, got, 4, &res),
		   "a names file %s is not used", what[damage]);
		symcache_free(sc);
		free(copy);
	}
	free(data);
}

/* A file's facts: kept for that very file only; anything amiss is no facts. */
static void test_facts(struct cache *c)
{
	static const char id[] = "89abcdef0123456789abcdef0123456789abcdef";
	static const char name[] = "facts-89abcdef0123456789abcdef0123456789abcdef";
	struct facts_id file = {.dev = 8, .ino = 42, .size = 4096, .mtime_ns = 7, .ctime_ns = 9};
	struct fn_range classes[2] = {{0x1000, 0x1040, FN_ENTRY}, {0x2000, 0x2100, FN_SWITCH}};
	struct file_facts f = {.cfi_known = true,
			       .cfi_sane = true,
			       .classes_known = true,
			       .classes = classes,
			       .nclasses = 2},
			  got;
	char *data;
	size_t len;

	ok(facts_load(c, id, &file, &got) == -ENOENT, "no facts before a run kept them");
	ok(facts_save(c, id, &file, &f) == 0 && facts_load(c, id, &file, &got) == 0 &&
		   got.cfi_known && got.cfi_sane && got.classes_known && got.nclasses == 2 &&
		   got.classes[1].start == 0x2000 && got.classes[1].end == 0x2100 &&
		   got.classes[1].class == FN_SWITCH && got.classes[0].class == FN_ENTRY,
	   "a run's facts are the next run's");
	facts_release(&got);
	f.cfi_sane = false;
	f.classes_known = false;
	ok(facts_save(c, id, &file, &f) == 0 && facts_load(c, id, &file, &got) == 0 &&
		   got.cfi_known && !got.cfi_sane && !got.classes_known && got.nclasses == 0,
	   "an insane CFI is kept as such, and what is not known stays unknown");
	facts_release(&got);
	f = (struct file_facts){.cfi_known = true,
				.cfi_sane = true,
				.classes_known = true,
				.classes = classes,
				.nclasses = 2};
	(void)facts_save(c, id, &file, &f);
	file.ctime_ns++;
	ok(facts_load(c, id, &file, &got) == -ESTALE,
	   "the facts of a file changed since (its ctime) are not used");
	file.ctime_ns--;
	ok(facts_load(c, "0123", &file, &got) < 0, "nor another build's");

	if (cache_read(c, name, 1 << 20, &data, &len) < 0)
		abort();
	for (int damage = 0; damage < 4; damage++) {
		static const char *const what[] = {"cut short", "of another version",
						   "with a function that ends before it starts",
						   "with a class that is none"};
		/* After the 104-byte header, the first class: start, end, class. */
		const uint64_t backwards = 0x900;
		const uint32_t none = 77;
		char *copy = malloc(len);

		memcpy(copy, data, len);
		if (damage == 1)
			copy[7] = '9';
		else if (damage == 2)
			memcpy(copy + 104 + 8, &backwards, 8);
		else if (damage == 3)
			memcpy(copy + 104 + 16, &none, 4);
		if (cache_write(c, name, copy, damage == 0 ? len - 1 : len) < 0)
			abort();
		ok(facts_load(c, id, &file, &got) == -EBADMSG && !got.classes,
		   "a facts file %s is not used", what[damage]);
		free(copy);
	}
	free(data);
}

/* A file's saved symbol table: read back whole for that file only; anything amiss is none. */
static void test_symbols(void)
{
	static const char id[] = "fedcba9876543210fedcba9876543210fedcba98";
	struct facts_id file = {.dev = 8, .ino = 43, .size = 8192, .mtime_ns = 1, .ctime_ns = 2};
	struct elf_debug_id debug = {.dev = 8, .ino = 44, .size = 100, .mtime_ns = 3};
	struct elf_symbol syms[3] = {{0x1000, 0x1040, "main", false},
				     {0x1040, 0x1100, "_Z5innerv", false},
				     {0x2000, 0x2010, "memcpy@plt", true}},
			  *got;
	size_t len, n;
	char *data;

	if (elfsyms_serialize(syms, 3, id, &file, &debug, (void **)&data, &len) < 0)
		abort();
	ok(elfsyms_parse(data, len, id, &file, &debug, &got, &n) == 0 && n == 3 &&
		   got[1].addr == 0x1040 && got[1].end == 0x1100 &&
		   strcmp(got[1].name, "_Z5innerv") == 0 &&
		   strcmp(got[2].name, "memcpy@plt") == 0 && got[2].label && !got[0].label,
	   "a saved symbol table reads back whole");
	free(got);
	file.ctime_ns++;
	ok(elfsyms_parse(data, len, id, &file, &debug, &got, &n) == -ESTALE && !got,
	   "not for the file changed since");
	file.ctime_ns--;
	debug.mtime_ns++;
	ok(elfsyms_parse(data, len, id, &file, &debug, &got, &n) == -ESTALE,
	   "nor for another debug file");
	debug.mtime_ns--;
	ok(elfsyms_parse(data, len, "0123", &file, &debug, &got, &n) == -EBADMSG,
	   "nor for another build");
	for (int damage = 0; damage < 5; damage++) {
		static const char *const what[] = {"cut short", "of another version",
						   "out of order", "with a name past its strings",
						   "with its last name unterminated"};
		/* After the 152-byte header, 24 bytes a symbol: address, end, name, label. */
		const uint64_t early = 0x800;
		const uint32_t far = 1u << 30;
		char *copy = malloc(len);

		memcpy(copy, data, len);
		if (damage == 1)
			copy[7] = '9';
		else if (damage == 2)
			memcpy(copy + 152 + 24, &early, 8); /* the second before the first */
		else if (damage == 3)
			memcpy(copy + 152 + 16, &far, 4);
		else if (damage == 4)
			copy[len - 1] = 'x';
		ok(elfsyms_parse(copy, damage == 0 ? len - 1 : len, id, &file, &debug, &got, &n) ==
				   -EBADMSG &&
			   !got,
		   "a saved symbol table %s is not used", what[damage]);
		free(copy);
	}
	free(data);
}

int main(void)
{
	struct cache *c;

	if (!mkdtemp(dir))
		abort();
	test_directory();
	if (cache_open(at("cache"), &c) < 0)
		abort();
	test_files(c);
	test_names(c);
	test_facts(c);
	test_symbols();
	cache_free(c);
	{
		char cmd[300];

		(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		(void)!system(cmd);
	}
	return tap_done();
}
