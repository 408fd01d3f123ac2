/* SPDX-License-Identifier: MIT */
/*
 * Kernel symbols: /proc/kallsyms text as the kernel formats it, and the
 * saved core table a later run reads back (the kernel-symbol cache), which
 * must refuse anything that is not whole and consistent.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "symbolize/internal.h"
#include "tests/tap.h"

/* The shape of /proc/kallsyms: "ADDR TYPE NAME[\t[MODULE]]", grouped by module. */
static const char text[] = "ffffffff81000000 T _stext\n"
			   "ffffffff81000000 T startup_64\n"
			   "ffffffff81001000 t do_one_initcall\n"
			   "ffffffff81002000 D some_data\n" /* not code: skipped */
			   "ffffffff81003000 W weak_fn\n"
			   "ffffffff81004000 T _etext\n"
			   "garbage line\n"
			   "ffffffffc0001000 t ext4_sync_fs\t[ext4]\n"
			   "ffffffffc0002000 t ext4_write\t[ext4]\n"
			   "ffffffffc0010000 T xfs_read\t[xfs]\n"
			   "ffffffffc0020000 t bpf_prog_1234_x\t[bpf]\n";

static char dir[] = "/tmp/cprof-kallsyms.XXXXXX";

static int load_text(const char *s, struct kallsyms **ret)
{
	char path[64];
	FILE *f;
	int r;

	(void)snprintf(path, sizeof(path), "%s/kallsyms", dir);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	(void)fputs(s, f);
	(void)fclose(f);
	r = kallsyms_load(path, ret);
	(void)unlink(path);
	return r;
}

static bool names(const struct kallsyms *k, uint64_t addr, const char *name, const char *module)
{
	const char *m = NULL, *n;
	uint64_t start = 0;

	n = kallsyms_lookup(k, addr, &m, &start);
	if (!name)
		return n == NULL;
	return n && strcmp(n, name) == 0 && m && strcmp(m, module) == 0 && start <= addr;
}

static void text_table(struct kallsyms **ret)
{
	struct kallsyms *k = NULL;
	uint64_t a = 0, b = 0;

	ok(load_text(text, &k) == 0 && k, "a kallsyms text loads");
	if (!k)
		return;
	ok(names(k, 0xffffffff81001234, "do_one_initcall", ""),
	   "a local text symbol names its code");
	ok(names(k, 0xffffffff81002500, "do_one_initcall", ""),
	   "data symbols are skipped: code before them keeps its name");
	ok(names(k, 0xffffffff81003000, "weak_fn", ""), "weak text symbols count");
	ok(names(k, 0xffffffffc0001010, "ext4_sync_fs", "ext4") &&
		   names(k, 0xffffffffc0002010, "ext4_write", "ext4") &&
		   names(k, 0xffffffffc0010010, "xfs_read", "xfs"),
	   "module symbols carry their module");
	ok(names(k, 0xffffffff80000000, NULL, NULL), "nothing below the first symbol");
	ok(kallsyms_core(k, &a, &b) && a == 0xffffffff81000000 && b == 0xffffffff81004000,
	   "the core kernel's text is [_stext, _etext]");
	*ret = k;
}

static void refusals(void)
{
	struct kallsyms *k = NULL;
	char path[80];

	ok(load_text("0000000000000000 T _stext\n0000000000000000 T foo\n", &k) == -ENODATA && !k,
	   "kptr_restrict's zeroed addresses: -ENODATA, not a table of zeros");
	(void)snprintf(path, sizeof(path), "%s/none", dir);
	ok(kallsyms_load(path, &k) == -ENOENT, "a missing file: -ENOENT");
}

/* The saved table: written, read back, and damaged every way a disk or a user could. */
static void saved(const struct kallsyms *full)
{
	struct kallsyms *k = NULL;
	char *buf = NULL, *bad;
	size_t len = 0;
	FILE *f;
	char path[64];

	ok(kallsyms_save_core(full, &buf, &len) == 0 && len > 24, "the core table saves");
	if (!buf)
		return;
	ok(kallsyms_parse_core(buf, len, &k) == 0, "and parses back");
	if (k) {
		ok(names(k, 0xffffffff81001234, "do_one_initcall", ""), "with the core's names");
		ok(!names(k, 0xffffffffc0001010, "ext4_sync_fs", "ext4"),
		   "without the modules' (they change within a boot)");
		uint64_t a = 0, b = 0, fa = 0, fb = 0;
		bool both = kallsyms_core(k, &a, &b) && kallsyms_core(full, &fa, &fb);

		ok(both && a == fa && b == fb,
		   "its core text is the full table's (%#" PRIx64 "-%#" PRIx64 ")", a, b);
		kallsyms_free(k);
		k = NULL;
	}

	bad = malloc(len);
	if (!bad)
		return;
	for (size_t cut = 0; cut < len; cut += 7)
		if (kallsyms_parse_core(buf, cut, &k) != -EBADMSG) {
			ok(false, "a table cut to %zu bytes is refused", cut);
			break;
		}
	ok(true, "a table cut short anywhere is refused");
	memcpy(bad, buf, len);
	bad[0] ^= 1;
	ok(kallsyms_parse_core(bad, len, &k) == -EBADMSG,
	   "another magic (format version) is refused");
	memcpy(bad, buf, len);
	bad[len - 1] = 'x';
	ok(kallsyms_parse_core(bad, len, &k) == -EBADMSG,
	   "names without their final NUL are refused");
	memcpy(bad, buf, len);
	memset(bad + 8, 0xff, 8); /* nsyms */
	ok(kallsyms_parse_core(bad, len, &k) == -EBADMSG,
	   "a symbol count past the file is refused");
	ok(kallsyms_parse_core(bad, 0, &k) == -EBADMSG, "an empty file is refused");
	free(bad);

	/* Read in place from a file, as the cache does. */
	(void)snprintf(path, sizeof(path), "%s/saved", dir);
	f = fopen(path, "w+");
	if (f && fwrite(buf, 1, len, f) == len && fflush(f) == 0) {
		ok(kallsyms_map_core(fileno(f), &k) == 0 &&
			   names(k, 0xffffffff81003004, "weak_fn", ""),
		   "a saved file maps and answers");
		kallsyms_free(k);
		k = NULL;
		ok(ftruncate(fileno(f), (off_t)len - 1) == 0 &&
			   kallsyms_map_core(fileno(f), &k) == -EBADMSG,
		   "a saved file cut by one byte is refused");
	}
	if (f)
		(void)fclose(f);
	(void)unlink(path);
	free(buf);
}

int main(void)
{
	struct kallsyms *k = NULL;

	if (!mkdtemp(dir))
		return 1;
	text_table(&k);
	refusals();
	if (k)
		saved(k);
	kallsyms_free(k);
	(void)rmdir(dir);
	return tap_done();
}
