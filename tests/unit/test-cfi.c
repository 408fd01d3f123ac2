/* SPDX-License-Identifier: MIT */
/*
 * The compiled CFI rules (symbolize/cfi.h) against binutils' own reading
 * of the same .eh_frame: `readelf --debug-dump=frames-interp` prints each
 * FDE's table, one row per pc where a rule changes ("rsp+16", "c-8",
 * "u", "exp"). For every row of every FDE of the files given (and of the
 * libc this test runs on), at the row's first and last pc, cfi_rule_at
 * must say the same, or CFI_TOO_HARD where the row is beyond its rules.
 * x86-64 only: readelf names the registers.
 *
 * Usage: test-cfi FILE...
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symbolize/cfi.h"
#include "tests/tap.h"

#define DWARF_RSP 7
#define DWARF_RBP 6

/* What readelf says of a register: "u", "s", "c-16", or something else. */
enum seen { SEEN_UNDEF, SEEN_SAME, SEEN_AT_CFA, SEEN_IN_REG, SEEN_OTHER };

struct row {
	uint64_t loc;
	bool cfa_simple; /* rsp+N or rbp+N */
	uint8_t cfa_reg;
	int32_t cfa_off;
	enum seen ra, fp;
	int32_t ra_off, fp_off;
};

struct counts {
	size_t rows, checked, found, too_hard, wrong;
};

static enum seen parse_value(const char *v, int32_t *off)
{
	if (strcmp(v, "u") == 0)
		return SEEN_UNDEF;
	if (strcmp(v, "s") == 0)
		return SEEN_SAME;
	if (v[0] == 'c' && (v[1] == '-' || v[1] == '+')) {
		*off = (int32_t)strtol(v + 1, NULL, 10);
		return SEEN_AT_CFA;
	}
	/* "r5 (rdi)": in DWARF register 5 (its name is the next column's token). */
	if (v[0] == 'r' && v[1] >= '0' && v[1] <= '9') {
		*off = (int32_t)strtol(v + 1, NULL, 10);
		return SEEN_IN_REG;
	}
	return SEEN_OTHER;
}

/* A table row under header columns cols[0..ncols): "LOC CFA v1 v2 ...". */
static bool parse_row(char *line, char cols[][8], size_t ncols, struct row *r)
{
	char *save = NULL, *tok = strtok_r(line, " \n", &save);

	if (!tok)
		return false;
	*r = (struct row){.loc = strtoull(tok, NULL, 16), .ra = SEEN_OTHER, .fp = SEEN_SAME};
	tok = strtok_r(NULL, " \n", &save);
	if (!tok)
		return false;
	if (strncmp(tok, "rsp+", 4) == 0 || strncmp(tok, "rbp+", 4) == 0) {
		r->cfa_simple = true;
		r->cfa_reg = tok[1] == 's' ? DWARF_RSP : DWARF_RBP;
		r->cfa_off = (int32_t)strtol(tok + 4, NULL, 10);
	}
	for (size_t i = 0; i < ncols && (tok = strtok_r(NULL, " \n", &save)); i++) {
		/* "r10 (r10)": a register's name after its number, one column. */
		if (tok[0] == '(' && i > 0) {
			i--;
			continue;
		}
		if (strcmp(cols[i], "ra") == 0)
			r->ra = parse_value(tok, &r->ra_off);
		else if (strcmp(cols[i], "rbp") == 0)
			r->fp = parse_value(tok, &r->fp_off);
	}
	return true;
}

/* Does cprof's answer at pc agree with readelf's row? */
static bool agrees(enum cfi_found found, const struct cfi_rule *c, const struct row *r,
		   bool signal_frame, struct counts *n)
{
	bool simple = r->cfa_simple && !signal_frame &&
		      (r->ra == SEEN_AT_CFA || r->ra == SEEN_UNDEF || r->ra == SEEN_IN_REG) &&
		      r->fp != SEEN_OTHER && r->fp != SEEN_IN_REG;

	if (found == CFI_TOO_HARD) {
		n->too_hard++;
		/* Refusing is always safe; refusing the common case would be slow. */
		return !simple || r->ra == SEEN_UNDEF || r->fp == SEEN_UNDEF;
	}
	if (found != CFI_FOUND)
		return false;
	n->found++;
	if (!simple || c->cfa_reg != r->cfa_reg || c->cfa_off != r->cfa_off)
		return false;
	if (r->ra == SEEN_IN_REG   ? (c->ra != CFI_IN_REG || c->ra_off != r->ra_off)
	    : r->ra == SEEN_AT_CFA ? (c->ra != CFI_AT_CFA || c->ra_off != r->ra_off)
				   : c->ra != CFI_UNDEFINED)
		return false;
	switch (r->fp) {
	case SEEN_AT_CFA:
		return c->fp == CFI_AT_CFA && c->fp_off == r->fp_off;
	case SEEN_SAME:
		return c->fp == CFI_SAME;
	case SEEN_UNDEF:
		/* readelf prints "u" for a register not yet saved, too. */
		return c->fp == CFI_SAME || c->fp == CFI_UNDEFINED;
	default:
		return false;
	}
}

static void check_pc(struct elfcache *cache, struct elf_file *f, uint64_t pc, const struct row *r,
		     bool signal_frame, struct counts *n)
{
	struct cfi_rule c = {0};
	enum cfi_found found = cfi_rule_at(cache, f, pc, &c);

	n->checked++;
	if (agrees(found, &c, r, signal_frame, n))
		return;
	if (n->wrong++ < 5)
		printf("# at 0x%" PRIx64 ": readelf cfa %s%d ra %d%+d fp %d%+d%s; cprof %d: "
		       "cfa r%u%+d ra %u%+d fp %u%+d\n",
		       pc, r->cfa_simple ? (r->cfa_reg == DWARF_RSP ? "rsp" : "rbp") : "exp",
		       r->cfa_off, r->ra, r->ra_off, r->fp, r->fp_off,
		       signal_frame ? " (signal)" : "", found, c.cfa_reg, c.cfa_off, c.ra, c.ra_off,
		       c.fp, c.fp_off);
}

/* The CIEs whose augmentation has 'S' (signal frames), by offset. */
struct cies {
	unsigned long off[64];
	size_t n;
};

static bool is_signal_cie(const struct cies *s, unsigned long off)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->off[i] == off)
			return true;
	return false;
}

static void check_file(struct elfcache *cache, const char *path)
{
	char cmd[512], line[512], cols[32][8];
	struct counts n = {0};
	struct cies signal = {0};
	struct elf_file *f = elfcache_lookup(cache, path, "", 0, 0, 0);
	struct row prev = {0};
	bool have_prev = false, in_fde = false, fde_signal = false;
	uint64_t fde_end = 0, fde_start = 0;
	size_t ncols = 0;
	FILE *p;

	if (!f || !f->elf) {
		ok(false, "%s opens", path);
		return;
	}
	(void)snprintf(cmd, sizeof(cmd), "readelf --debug-dump=frames-interp '%s' 2>/dev/null",
		       path);
	p = popen(cmd, "r");
	if (!p) {
		ok(false, "readelf runs");
		return;
	}
	while (fgets(line, sizeof(line), p)) {
		unsigned long off, cie;
		unsigned long long lo, hi;
		char aug[16];
		struct row r;

		if (sscanf(line, "%lx %*x %*x CIE \"%15[^\"]\"", &off, aug) == 2) {
			if (strchr(aug, 'S') && signal.n < 64)
				signal.off[signal.n++] = off;
			in_fde = false;
			continue;
		}
		if (sscanf(line, "%*x %*x %*x FDE cie=%lx pc=%llx..%llx", &cie, &lo, &hi) == 3) {
			/* The previous FDE's last row runs to its end. */
			if (have_prev && prev.loc < fde_end)
				check_pc(cache, f, fde_end - 1, &prev, fde_signal, &n);
			in_fde = true;
			have_prev = false;
			fde_start = lo;
			fde_end = hi;
			fde_signal = is_signal_cie(&signal, cie);
			continue;
		}
		if (strstr(line, "   LOC ") == line) {
			char *save = NULL, *tok = strtok_r(line, " \n", &save);

			ncols = 0;
			(void)strtok_r(NULL, " \n", &save); /* CFA */
			while ((tok = strtok_r(NULL, " \n", &save)) && ncols < 32)
				(void)snprintf(cols[ncols++], sizeof(cols[0]), "%s", tok);
			continue;
		}
		if (!in_fde || !parse_row(line, cols, ncols, &r) || r.loc < fde_start ||
		    r.loc >= fde_end)
			continue;
		n.rows++;
		if (have_prev && r.loc > prev.loc)
			check_pc(cache, f, r.loc - 1, &prev, fde_signal, &n);
		check_pc(cache, f, r.loc, &r, fde_signal, &n);
		prev = r;
		have_prev = true;
	}
	if (have_prev && prev.loc < fde_end)
		check_pc(cache, f, fde_end - 1, &prev, fde_signal, &n);
	/* (readelf exits 1 for a file with no .debug_frame: the rows tell.) */
	(void)pclose(p);
	ok(n.rows > 0, "readelf read %zu rows of %s", n.rows, path);
	ok(n.wrong == 0,
	   "cprof agrees at all %zu pcs (%zu compiled, %zu left to libdwfl, %zu wrong)", n.checked,
	   n.found, n.too_hard, n.wrong);
	ok(n.found > n.checked * 9 / 10, "and compiles nine in ten of them or more");
}

/* The libc this process runs on, from its own maps. */
static bool own_libc(char *out, size_t size)
{
	FILE *maps = fopen("/proc/self/maps", "re");
	char line[512];
	bool found = false;

	while (maps && !found && fgets(line, sizeof(line), maps)) {
		char *path = strchr(line, '/');

		if (path && strstr(path, "/libc.so")) {
			path[strcspn(path, "\n")] = '\0';
			(void)snprintf(out, size, "%s", path);
			found = true;
		}
	}
	if (maps)
		(void)fclose(maps);
	return found;
}

int main(int argc, char **argv)
{
	struct elfcache *cache = NULL;
	char libc[256];

#if !defined(__x86_64__)
	printf("1..0 # SKIP readelf's register names are x86-64's here\n");
	return 0;
#endif
	if (elfcache_new(NULL, NULL, &cache) < 0) {
		ok(false, "elfcache_new");
		return tap_done();
	}
	for (int i = 1; i < argc; i++)
		check_file(cache, argv[i]);
	if (own_libc(libc, sizeof(libc)))
		check_file(cache, libc);
	else
		ok(false, "this process's libc is found in /proc/self/maps");
	elfcache_free(cache);
	return tap_done();
}
