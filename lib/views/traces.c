/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/views/text.h"
#include "lib/views/traces.h"
#include "lib/base/units.h"

static const char separator[] =
	"-----------+-------------------------------------------------------";

/* prefix, then s escaped for a terminal, then a newline. */
static void term_line(FILE *out, const char *prefix, const char *s)
{
	fputs(prefix, out);
	text_term(out, s);
	fputc('\n', out);
}

void traces_header(const struct stacks *st, FILE *out)
{
	const struct profile *p = st->p;
	char buf[64], total[32];

	if (p->nmappings) {
		const char *file = profile_str(p, p->mappings[0].file), *base = strrchr(file, '/');

		if (*file)
			term_line(out, "File: ", base ? base + 1 : file);
		if (p->mappings[0].build_id)
			term_line(out, "Build ID: ", profile_str(p, p->mappings[0].build_id));
	}
	for (size_t i = 0; i < p->ncomments; i++)
		if (profile_str(p, p->comments[i])[0] != '#')
			term_line(out, "", profile_str(p, p->comments[i]));
	term_line(out, "Type: ", st->type);
	if (p->time_nanos) {
		time_t t = (time_t)(p->time_nanos / 1000000000);
		struct tm tm;

		char month[8], zone[16];

		/* pprof's layout, "Jan 2, 2006 at 3:04pm (MST)". */
		if (localtime_r(&t, &tm) && strftime(month, sizeof(month), "%b", &tm) &&
		    strftime(zone, sizeof(zone), "%Z", &tm))
			fprintf(out, "Time: %s %d, %d at %d:%02d%s (%s)\n", month, tm.tm_mday,
				tm.tm_year + 1900, tm.tm_hour % 12 ? tm.tm_hour % 12 : 12,
				tm.tm_min, tm.tm_hour < 12 ? "am" : "pm", zone);
	}
	if (p->duration_nanos) {
		units_format(buf, sizeof(buf), p->duration_nanos, "nanoseconds");
		units_format(total, sizeof(total), st->total, st->unit);
		fprintf(out, "Duration: %s, Total samples = %s\n", buf, total);
	}
}

static int by_string(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sample's labels as pprof prints them: text ones sorted, then numeric ones sorted. */
static int write_labels(const struct profile *p, const struct profile_sample *smp, FILE *out)
{
	char **lines = calloc(smp->nlabel + 1, sizeof(*lines));
	size_t n = 0;

	if (!lines)
		return -ENOMEM;
	for (int numeric = 0; numeric < 2; numeric++) {
		size_t first = n;

		for (uint32_t i = 0; i < smp->nlabel; i++) {
			const struct profile_label *l = &p->labels[smp->label_off + i];
			char value[64];
			int r;

			if ((l->str == 0) != numeric)
				continue;
			/* pprof's rule for a number without a unit: key "bytes" means bytes. */
			if (numeric)
				units_format(value, sizeof(value), l->num,
					     l->num_unit ? profile_str(p, l->num_unit)
					     : strcmp(profile_str(p, l->key), "bytes") == 0
						     ? "bytes"
						     : "");
			r = asprintf(&lines[n], "%10s:  %s", profile_str(p, l->key),
				     numeric ? value : profile_str(p, l->str));
			if (r < 0)
				lines[n] = NULL;
			else
				n++;
		}
		qsort(lines + first, n - first, sizeof(*lines), by_string);
	}
	for (size_t i = 0; i < n; i++) {
		term_line(out, "", lines[i]);
		free(lines[i]);
	}
	free(lines);
	return 0;
}

int traces_write(const struct stacks *st, FILE *out)
{
	const struct profile *p = st->p;
	int r;

	traces_header(st, out);
	for (size_t s = 0; s < st->nsamples; s++) {
		const struct stacks_sample *smp = &st->samples[s];
		char value[32];

		if (smp->n == 0)
			continue;
		fprintf(out, "%s\n", separator);
		r = write_labels(smp->from_base ? st->base : p,
				 &(smp->from_base ? st->base : p)->samples[smp->sample], out);
		if (r < 0)
			return r;
		units_format(value, sizeof(value), smp->value, st->unit);
		for (uint32_t i = 0; i < smp->n; i++) {
			const struct stacks_frame *f = &st->frames[smp->off + i];

			fprintf(out, "%10s   ", i == 0 ? value : "");
			text_term(out, st->names[f->node]);
			fputs(f->inlined ? " (inline)\n" : "\n", out);
		}
	}
	fprintf(out, "%s\n", separator);
	return ferror(out) ? -EIO : 0;
}
