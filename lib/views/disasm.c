/* SPDX-License-Identifier: MIT */
/*
 * Annotated disassembly (disasm.h). Per mapping with samples: its
 * matching symbols, the per-address values of the samples' locations in
 * them, then each symbol's instructions with those values beside them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/sat.h"
#include "lib/base/units.h"
#include "lib/base/vec.h"
#include "lib/views/disasm.h"
#include "lib/views/text.h"

/* A symbol to show, with the values at its addresses. */
struct routine {
	struct code_sym sym;
	uint32_t mapping;
	int64_t flat, cum;
};

static const struct profile *sort_profile; /* for qsort; views are single-threaded */

static int loc_by_addr(const void *a, const void *b)
{
	uint64_t x = profile_location(sort_profile, *(const uint32_t *)a)->address,
		 y = profile_location(sort_profile, *(const uint32_t *)b)->address;

	return x < y ? -1 : x > y;
}

/*
 * The addresses of mapping m's locations, sorted, each location's slot
 * (index + 1) in them: locations are distinct (mapping, address, flags),
 * and a return address and a pc at one address are one instruction.
 */
static int mapping_addresses(const struct profile *p, uint32_t m, uint32_t *slot,
			     struct disasm_value **ret, size_t *ret_n)
{
	uint32_t *ids = malloc((p->nlocations + 1) * sizeof(*ids));
	struct disasm_value *v = NULL;
	size_t nids = 0, n = 0;

	if (!ids)
		return -ENOMEM;
	for (uint32_t id = 1; id <= p->nlocations; id++)
		if (profile_location(p, id)->mapping == m)
			ids[nids++] = id;
	sort_profile = p;
	qsort(ids, nids, sizeof(*ids), loc_by_addr);
	v = calloc(nids + 1, sizeof(*v));
	if (!v) {
		free(ids);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nids; i++) {
		uint64_t a = profile_location(p, ids[i])->address;

		if (!n || v[n - 1].addr != a)
			v[n++].addr = a;
		slot[ids[i]] = (uint32_t)n;
	}
	free(ids);
	*ret = v;
	*ret_n = n;
	return 0;
}

int disasm_values(const struct stacks *st, uint32_t m, struct disasm_value **ret, size_t *ret_n)
{
	const struct profile *p = st->p;
	uint32_t *slot = calloc(p->nlocations + 1, sizeof(*slot)); /* location -> index + 1 */
	struct disasm_value *v = NULL;
	size_t n = 0, counted = 0;
	int r;

	if (!slot)
		return -ENOMEM;
	r = mapping_addresses(p, m, slot, &v, &n);
	if (r < 0) {
		free(slot);
		return r;
	}
	for (size_t i = 0; i < st->nsamples; i++) {
		const struct stacks_sample *s = &st->samples[i];
		const struct profile_sample *ps;

		if (s->from_base)
			continue;
		ps = &p->samples[s->sample];
		counted++;
		for (uint32_t k = 0; k < ps->nloc; k++) {
			uint32_t id = p->locs[ps->loc_off + k];
			const struct profile_location *l = profile_location(p, id);
			struct disasm_value *a;

			if (l->mapping != m)
				continue;
			a = &v[slot[id] - 1];
			if (k == 0)
				a->flat = sat_add64(a->flat, s->value);
			if (a->last != counted) {
				a->last = counted;
				a->cum = sat_add64(a->cum, s->value);
			}
		}
	}
	free(slot);
	*ret = v;
	*ret_n = n;
	return 0;
}

const struct disasm_value *disasm_value_at(const struct disasm_value *v, size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && v[lo].addr == addr ? &v[lo] : NULL;
}

static void value_or_dot(char *buf, size_t size, int64_t v, const char *unit)
{
	if (v == 0)
		(void)snprintf(buf, size, ".");
	else
		units_format(buf, size, v, unit);
}

/* One routine: its header and its instructions. */
static int write_routine(const struct stacks *st, const struct routine *r,
			 const struct disasm_value *v, size_t n, const struct disasm_ops *ops,
			 FILE *out)
{
	struct code_insn *insns = NULL;
	const char *function = "", *file = "";
	char flat[32], cum[32], pct[16];
	int64_t line = 0;
	size_t ninsns = 0;
	int e;

	fputs("ROUTINE ======================== ", out);
	text_term(out, r->sym.name);
	fputc('\n', out);
	units_format(flat, sizeof(flat), r->flat, st->unit);
	units_format(cum, sizeof(cum), r->cum, st->unit);
	units_percent(pct, sizeof(pct), r->cum, st->total);
	fprintf(out, "%10s %10s (flat, cum) %s of Total\n", flat, cum, pct + strspn(pct, " "));
	e = ops->disasm(ops->ctx, st->p, r->mapping, r->sym.start, r->sym.end, &insns, &ninsns);
	if (e < 0) {
		fprintf(out, "    (cannot disassemble it: %s)\n", strerror(-e));
		return e == -ENOMEM ? e : 0;
	}
	for (size_t i = 0; i < ninsns; i++) {
		const struct code_insn *in = &insns[i];
		const struct disasm_value *a =
			disasm_value_at(v, n, in->addr + (uint64_t)r->sym.bias);
		const char *fn = in->function ? in->function : "", *fl = in->file ? in->file : "";
		bool changed =
			strcmp(fn, function) != 0 || strcmp(fl, file) != 0 || in->line != line;

		value_or_dot(flat, sizeof(flat), a ? a->flat : 0, st->unit);
		value_or_dot(cum, sizeof(cum), a ? a->cum : 0, st->unit);
		fprintf(out, "%10s %10s %10llx: ", flat, cum, (unsigned long long)in->addr);
		if (changed && (*fn || *fl)) {
			int len = (int)strlen(in->text);

			text_term(out, in->text);
			fprintf(out, "%*s;", len < 40 ? 40 - len : 1, "");
			if (*fn) {
				text_term(out, fn);
				fputc(' ', out);
			}
			text_term(out, fl);
			if (*fl && in->line)
				fprintf(out, ":%lld", (long long)in->line);
		} else {
			text_term(out, in->text);
		}
		fputc('\n', out);
		function = fn;
		file = fl;
		line = in->line;
	}
	code_insns_free(insns, ninsns);
	return 0;
}

static int by_name_start(const void *a, const void *b)
{
	const struct routine *x = a, *y = b;
	int c = strcmp(x->sym.name, y->sym.name);

	if (c)
		return c;
	return x->sym.start < y->sym.start ? -1 : x->sym.start > y->sym.start;
}

int disasm_write(const struct stacks *st, const regex_t *re, const struct disasm_ops *ops,
		 FILE *out)
{
	const struct profile *p = st->p;
	struct routine *rs = NULL;
	struct disasm_value **values = calloc(p->nmappings + 1, sizeof(*values));
	size_t *nvalues = calloc(p->nmappings + 1, sizeof(*nvalues));
	size_t nrs = 0, cap = 0;
	char total[32];
	int r = values && nvalues ? 0 : -ENOMEM;

	for (uint32_t m = 1; m <= p->nmappings && r == 0; m++) {
		struct code_sym *syms = NULL;
		size_t nsyms = 0;

		r = disasm_values(st, m, &values[m], &nvalues[m]);
		if (r < 0 || !nvalues[m])
			continue;
		r = ops->symbols(ops->ctx, p, m, re, &syms, &nsyms);
		if (r == -ENOENT) {
			r = 0;
			continue;
		}
		for (size_t i = 0; i < nsyms && r == 0; i++) {
			struct routine rt = {.sym = syms[i], .mapping = m};
			bool any = false;

			/* Only symbols with samples, as pprof lists them. */
			for (size_t k = 0; k < nvalues[m]; k++) {
				const struct disasm_value *a = &values[m][k];

				if (a->addr >= syms[i].start + (uint64_t)syms[i].bias &&
				    a->addr < syms[i].end + (uint64_t)syms[i].bias) {
					rt.flat = sat_add64(rt.flat, a->flat);
					rt.cum = sat_add64(rt.cum, a->cum);
					any = true;
				}
			}
			if (!any)
				continue;
			if (VEC_PUSH_RESERVE(rs, nrs, cap) < 0) {
				r = -ENOMEM;
				break;
			}
			rs[nrs++] = rt;
			syms[i].name = NULL; /* the routine has it now */
		}
		code_syms_free(syms, nsyms);
	}
	if (r == 0 && !nrs)
		r = -ENOENT;
	if (r == 0) {
		qsort(rs, nrs, sizeof(*rs), by_name_start);
		units_format(total, sizeof(total), st->total, st->unit);
		fprintf(out, "Total: %s\n", total);
		for (size_t i = 0; i < nrs && r == 0; i++)
			r = write_routine(st, &rs[i], values[rs[i].mapping], nvalues[rs[i].mapping],
					  ops, out);
	}
	for (size_t i = 0; i < nrs; i++)
		free(rs[i].sym.name);
	free(rs);
	for (uint32_t m = 0; values && m <= p->nmappings; m++)
		free(values[m]);
	free(values);
	free(nvalues);
	return r < 0 ? r : ferror(out) ? -EIO : 0;
}
