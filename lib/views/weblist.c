/* SPDX-License-Identifier: MIT */
/*
 * The weblist page (weblist.h). Source lines come as --list computes them
 * (source.c); instructions as --disasm reads them (disasm.c, through its
 * ops), matched to a line by the file and line objdump gives each.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/units.h"
#include "lib/views/text.h"
#include "lib/views/weblist.h"

static const char style[] =
	"body{font-family:sans-serif;margin:1em}h2{font-size:1.1em;margin:1.5em 0 .2em}"
	".file{color:#666;font-weight:normal}.sum{color:#444;margin-bottom:.4em}"
	".src{font-family:monospace;white-space:pre;font-size:12px}"
	".row,summary{display:block}.row span,summary span{display:inline-block}"
	".n{width:5em;text-align:right;color:#888;padding-right:1em}"
	".v{width:7em;text-align:right;padding-right:.5em}"
	"summary{cursor:pointer;list-style:none}summary::-webkit-details-marker{display:none}"
	"details[open]>summary{outline:1px solid #bbb}"
	".asm{background:#f4f4f4;color:#333;margin-left:6em}"
	".asm .a{width:8em;text-align:right;padding-right:1em;color:#888}"
	".has{text-decoration:underline dotted}";

/* The instructions of a function's symbols, and the values at their addresses. */
struct code {
	struct code_insn *insns;
	size_t ninsns;
	int64_t bias;
	struct disasm_value *values;
	size_t nvalues;
};

static void code_release(struct code *c)
{
	code_insns_free(c->insns, c->ninsns);
	free(c->values);
	*c = (struct code){0};
}

/* fn's symbol (by its name) in its mapping, disassembled; nothing when it cannot be had. */
static int load_code(const struct stacks *st, const struct source_func *fn, const regex_t *re,
		     const struct disasm_ops *ops, struct code *ret)
{
	struct code_sym *syms = NULL;
	size_t nsyms = 0;
	int r;

	*ret = (struct code){0};
	if (!fn->mapping || !ops)
		return 0;
	r = ops->symbols(ops->ctx, st->p, fn->mapping, re, &syms, &nsyms);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	for (size_t i = 0; i < nsyms && r == 0; i++) {
		if (strcmp(syms[i].name, fn->name) != 0)
			continue;
		r = ops->disasm(ops->ctx, st->p, fn->mapping, syms[i].start, syms[i].end,
				&ret->insns, &ret->ninsns);
		ret->bias = syms[i].bias;
		if (r == 0)
			r = disasm_values(st, fn->mapping, &ret->values, &ret->nvalues);
		break;
	}
	code_syms_free(syms, nsyms);
	/* A binary that cannot be disassembled leaves the page its source lines. */
	if (r < 0 && r != -ENOMEM) {
		code_release(ret);
		r = 0;
	}
	return r;
}

static void value_cell(FILE *out, int64_t v, const char *unit)
{
	char buf[32];

	if (v)
		units_format(buf, sizeof(buf), v, unit);
	else
		(void)snprintf(buf, sizeof(buf), ".");
	fprintf(out, "<span class=\"v\">%s</span>", buf);
}

/* path with "." and "x/.." taken out by name, into buf. */
static void clean(const char *path, char *buf, size_t size)
{
	size_t n = 0, base;

	if (path[0] == '/' && size > 1)
		buf[n++] = '/';
	base = n; /* an absolute path cannot climb above its root */
	while (*path) {
		size_t len = strcspn(path, "/"), last = n;

		while (last > base && buf[last - 1] != '/')
			last--;
		if (len == 0 || (len == 1 && path[0] == '.')) {
			/* nothing */
		} else if (len == 2 && path[0] == '.' && path[1] == '.' && n > base &&
			   !(n - last == 2 && buf[last] == '.' && buf[last + 1] == '.')) {
			n = last > base ? last - 1 : base;
		} else if (n + len + 2 < size) {
			if (n > base)
				buf[n++] = '/';
			memcpy(buf + n, path, len);
			n += len;
		}
		path += len;
		path += *path == '/';
	}
	buf[n] = '\0';
}

/*
 * Do two names of a source file name the same file? cprof's profiles name
 * it by its whole path ("/src/hot.c"), objdump by the compilation directory
 * and DWARF's relative name ("/build/../src/hot.c"), other profiles by the
 * relative name alone ("../src/hot.c"): the same when, cleaned of "." and
 * "..", one ends the other at a '/'.
 */
static bool same_file(const char *a0, const char *b0)
{
	char ca[1024], cb[1024];
	const char *a = ca, *b = cb;
	size_t la, lb;

	if (strcmp(a0, b0) == 0)
		return true;
	clean(a0, ca, sizeof(ca));
	clean(b0, cb, sizeof(cb));
	while (strncmp(a, "../", 3) == 0 || strncmp(a, "./", 2) == 0)
		a += a[1] == '.' ? 3 : 2;
	while (strncmp(b, "../", 3) == 0 || strncmp(b, "./", 2) == 0)
		b += b[1] == '.' ? 3 : 2;
	la = strlen(a);
	lb = strlen(b);
	if (la > lb)
		return b[0] && strcmp(a + la - lb, b) == 0 && a[la - lb - 1] == '/';
	return a[0] && strcmp(b + lb - la, a) == 0 && (la == lb || b[lb - la - 1] == '/');
}

/* Does instruction i belong to line of fn's file? */
static bool on_line(const struct code_insn *in, const struct source_func *fn, int64_t line)
{
	return in->line == line && in->file && same_file(in->file, fn->file);
}

static void instructions(FILE *out, const struct code *c, const struct source_func *fn,
			 int64_t line, const char *unit)
{
	fputs("<div class=\"asm\">", out);
	for (size_t i = 0; i < c->ninsns; i++) {
		const struct code_insn *in = &c->insns[i];
		const struct disasm_value *v;

		if (!on_line(in, fn, line))
			continue;
		v = disasm_value_at(c->values, c->nvalues, in->addr + (uint64_t)c->bias);
		fprintf(out, "<div class=\"row\"><span class=\"a\">%llx</span>",
			(unsigned long long)in->addr);
		value_cell(out, v ? v->flat : 0, unit);
		value_cell(out, v ? v->cum : 0, unit);
		fputs("<span>", out);
		text_xml(out, in->text);
		fputs("</span></div>", out);
	}
	fputs("</div>", out);
}

/* The heat of a line: its cum against the function's hottest line's, as a red background. */
static void heat(FILE *out, int64_t cum, int64_t max)
{
	if (cum > 0 && max > 0)
		fprintf(out, " style=\"background:rgba(255,64,0,%.2f)\"",
			0.08 + 0.6 * (double)cum / (double)max);
}

static int function(FILE *out, const struct stacks *st, const struct source_func *fn,
		    const regex_t *re, const struct source_opener *src,
		    const struct disasm_ops *ops)
{
	int64_t start, end, at = 1, max = 0;
	FILE *text = src ? src->open(src->ctx, fn->file, fn->build_id) : NULL;
	char flat[32], cum[32], pct[16], *buf = malloc(SOURCE_LINE_MAX);
	struct code code;
	size_t next = 0;
	int r = buf ? load_code(st, fn, re, ops, &code) : -ENOMEM;

	if (r < 0) {
		free(buf);
		if (text)
			(void)fclose(text);
		return r;
	}
	source_window(fn, &start, &end);
	for (size_t i = 0; i < fn->nlines; i++)
		if (fn->lines[i].cum > max)
			max = fn->lines[i].cum;
	fputs("<h2>", out);
	text_xml(out, fn->name);
	fputs(" <span class=\"file\">", out);
	text_xml(out, fn->file);
	fputs("</span></h2>\n", out);
	units_format(flat, sizeof(flat), fn->flat, st->unit);
	units_format(cum, sizeof(cum), fn->cum, st->unit);
	units_percent(pct, sizeof(pct), fn->cum, st->total);
	fprintf(out,
		"<div class=\"sum\">%s flat, %s cum (%s of Total)%s</div>\n<div class=\"src\">",
		flat, cum, pct + strspn(pct, " "),
		text ? "" : "; source not found (--source-path, --trim-path)");
	for (int64_t line = start; line <= end; line++) {
		const struct source_line *l = NULL;
		bool has = false;

		while (next < fn->nlines && fn->lines[next].line < line)
			next++;
		if (next < fn->nlines && fn->lines[next].line == line)
			l = &fn->lines[next];
		if (text && !source_read_line(text, &at, line, buf, SOURCE_LINE_MAX))
			break;
		if (!text && !l)
			continue;
		for (size_t i = 0; i < code.ninsns && !has; i++)
			has = on_line(&code.insns[i], fn, line);
		fputs(has ? "<details><summary" : "<div class=\"row\"", out);
		heat(out, l ? l->cum : 0, max);
		fprintf(out, "><span class=\"n%s\">%lld</span>", has ? " has" : "",
			(long long)line);
		value_cell(out, l ? l->flat : 0, st->unit);
		value_cell(out, l ? l->cum : 0, st->unit);
		fputs("<span>", out);
		if (text)
			text_xml(out, buf);
		fputs("</span>", out);
		if (has) {
			fputs("</summary>", out);
			instructions(out, &code, fn, line, st->unit);
			fputs("</details>\n", out);
		} else {
			fputs("</div>\n", out);
		}
	}
	fputs("</div>\n", out);
	code_release(&code);
	free(buf);
	if (text)
		(void)fclose(text);
	return 0;
}

int weblist_write(const struct stacks *st, const regex_t *re, const struct source_opener *src,
		  const struct disasm_ops *ops, FILE *out)
{
	struct source_funcs f;
	char total[32];
	int r = source_collect(st, re, &f);

	if (r < 0)
		return r;
	if (!f.n) {
		source_funcs_release(&f);
		return -ENOENT;
	}
	units_format(total, sizeof(total), st->total, st->unit);
	fprintf(out,
		"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>cprof weblist</title>"
		"<style>%s</style></head><body>\n<div class=\"sum\">Total: %s. Click a line with "
		"an underlined number for its instructions.</div>\n",
		style, total);
	for (size_t i = 0; i < f.n && r == 0; i++)
		r = function(out, st, &f.v[i], re, src, ops);
	fputs("</body></html>\n", out);
	source_funcs_release(&f);
	return r < 0 ? r : ferror(out) ? -EIO : 0;
}
