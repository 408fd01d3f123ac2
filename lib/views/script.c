/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/sat.h"
#include "lib/views/script.h"
#include "lib/views/text.h"

struct record {
	uint32_t sample; /* index into st->samples */
	int64_t time;	 /* -1 when the profile has none */
};

/* Label lookups on one profile sample. */
static bool num_label(const struct profile *p, const struct profile_sample *smp, const char *key,
		      int64_t *ret)
{
	for (uint32_t i = 0; i < smp->nlabel; i++) {
		const struct profile_label *l = &p->labels[smp->label_off + i];

		if (!l->str && strcmp(profile_str(p, l->key), key) == 0) {
			*ret = l->num;
			return true;
		}
	}
	return false;
}

static const char *str_label(const struct profile *p, const struct profile_sample *smp,
			     const char *key)
{
	for (uint32_t i = 0; i < smp->nlabel; i++) {
		const struct profile_label *l = &p->labels[smp->label_off + i];

		if (l->str && strcmp(profile_str(p, l->key), key) == 0)
			return profile_str(p, l->str);
	}
	return NULL;
}

/*
 * perf script prints one record per event, so a sample counted N times
 * (Go's profiles, cprof's without times) is printed N times. A profile of
 * a few bytes can ask for 2^50: past these bounds the view is refused.
 */
#define SCRIPT_MAX_RECORDS 10000000
#define SCRIPT_MAX_LINES 200000000

/* How many events sample ps stands for: its samples/count value, 1 without one; never < 0. */
static int64_t sample_count(const struct profile *p, const struct profile_sample *ps, int index)
{
	int64_t v = index >= 0 ? p->values[ps->value_off + (size_t)index] : 1;

	return v < 0 ? 0 : v;
}

static int by_time(const void *a, const void *b)
{
	const struct record *x = a, *y = b;

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return x->sample < y->sample ? -1 : (x->sample > y->sample);
}

/* perf's dso column: the mapping's file, or [unknown]. */
static const char *dso_of(const struct profile *p, const struct profile_location *l)
{
	const struct profile_mapping *m = profile_mapping(p, l->mapping);
	const char *file = m ? profile_str(p, m->file) : "";

	return *file ? file : "[unknown]";
}

static void write_frames(const struct stacks *st, const struct stacks_sample *smp, FILE *out)
{
	const struct profile *p = st->p;

	for (uint32_t i = 0; i < smp->n; i++) {
		const struct stacks_frame *f = &st->frames[smp->off + i];
		const struct profile_location *l = profile_location(p, f->loc);
		const struct profile_mapping *m = profile_mapping(p, l->mapping);
		uint64_t addr = l->address;
		const char *name = st->names[f->node];

		/* perf prints user addresses relative to the mapped file, kernel ones as they are.
		 */
		if (m && !(m->flags & PROFILE_MAPPING_KERNEL) && addr >= m->start)
			addr = addr - m->start + m->offset;
		if (!l->nline)
			name = "[unknown]";
		fprintf(out, "\t%16" PRIx64 " ", addr);
		text_line(out, name);
		if (f->inlined) {
			fputs(" (inlined)\n", out);
			continue;
		}
		if (l->flags & PROFILE_LOCATION_HAS_SYMOFF)
			fprintf(out, "+0x%" PRIx64, l->sym_offset);
		fputs(" (", out);
		text_line(out, dso_of(p, l));
		fputs(")\n", out);
	}
}

int script_write(const struct stacks *st, FILE *out)
{
	const struct profile *p = st->p;
	const char *event = strcmp(st->type, "cpu") == 0 ? "cpu-clock" : st->type;
	int count_index = profile_find_type(p, "samples");
	struct record *recs = calloc(st->nsamples + 1, sizeof(*recs));
	int64_t emitted = 0, total_count = 0, lines = 0, count, step;

	if (!recs)
		return -ENOMEM;
	for (size_t s = 0; s < st->nsamples; s++) {
		const struct profile_sample *ps;

		recs[s].sample = (uint32_t)s;
		if (st->samples[s].from_base) {
			/* A difference has no events to print: base samples are left out. */
			recs[s].time = INT64_MAX;
			continue;
		}
		ps = &p->samples[st->samples[s].sample];
		if (!num_label(p, ps, "time", &recs[s].time) || recs[s].time < 0)
			recs[s].time = -1;
		count = recs[s].time < 0 ? sample_count(p, ps, count_index) : 1;
		total_count = sat_add64(total_count, count);
		lines = sat_add64(lines, sat_mul64(count, (int64_t)st->samples[s].n + 2));
	}
	if (total_count > SCRIPT_MAX_RECORDS || lines > SCRIPT_MAX_LINES) {
		free(recs);
		return -E2BIG;
	}
	qsort(recs, st->nsamples, sizeof(*recs), by_time);
	/* Samples without their own time are spread evenly over the recording. */
	step = total_count && p->duration_nanos ? p->duration_nanos / total_count : 1000;
	if (step < 1000)
		step = 1000; /* perf prints microseconds: keep them apart */

	for (size_t r = 0; r < st->nsamples; r++) {
		const struct stacks_sample *smp = &st->samples[recs[r].sample];
		const struct profile_sample *ps;
		const char *comm;
		int64_t pid = 0, tid = 0, cpu = 0;

		if (smp->from_base)
			continue;
		ps = &p->samples[smp->sample];
		comm = str_label(p, ps, "comm");

		if (!comm)
			comm = str_label(p, ps, "process");
		(void)num_label(p, ps, "pid", &pid);
		if (!num_label(p, ps, "tid", &tid))
			tid = pid;
		(void)num_label(p, ps, "cpu", &cpu);
		count = recs[r].time < 0 ? sample_count(p, ps, count_index) : 1;
		for (int64_t k = 0; k < count; k++) {
			int64_t t = recs[r].time >= 0 ? recs[r].time : sat_mul64(emitted, step);
			int64_t period = count > 0 ? smp->value / count : smp->value;

			emitted++;
			text_line(out, comm ? comm : "[unknown]");
			fprintf(out,
				" %" PRId64 "/%" PRId64 " [%03" PRId64 "] %" PRId64 ".%06" PRId64
				": %10" PRId64 " %s: \n",
				pid, tid, cpu, t / 1000000000, (t % 1000000000) / 1000, period,
				event);
			write_frames(st, smp, out);
			fputc('\n', out);
		}
	}
	free(recs);
	return ferror(out) ? -EIO : 0;
}
