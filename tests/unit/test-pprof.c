/* SPDX-License-Identifier: MIT */
/*
 * The pprof writer checked with the real decoders (zlib and the protobuf-c
 * code generated from profile.proto), the reader round trip, and the
 * reader's answers to corrupt, truncated and inconsistent input.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "lib/profile/profile.h"
#include "proto/pprof.h"
#include "proto/profile.pb-c.h"
#include "tests/tap.h"

static struct profile *build(void)
{
	struct profile *p = profile_new();
	struct profile_mapping m = {.start = 0x400000, .limit = 0x500000, .offset = 0x1000};
	struct profile_function f = {0};
	struct profile_line line = {0};
	struct profile_label labels[2] = {{0}};
	uint32_t loc[3];
	int64_t v[2];

	profile_add_type(p, "samples", "count");
	profile_add_type(p, "cpu", "nanoseconds");
	p->period_type = p->types[1];
	p->period = 1001001;
	p->time_nanos = 1700000000000000000LL;
	p->duration_nanos = 2000000000;
	profile_add_comment(p, "cprof record -- ./hot");
	profile_intern(p, "/usr/bin/hot", &m.file);
	profile_intern(p, "0123abcd", &m.build_id);
	m.flags = PROFILE_MAPPING_HAS_FUNCTIONS;
	profile_intern_mapping(p, &m, &loc[0]);
	profile_intern_location(p, 1, 0x401000, 0, &loc[0]);
	profile_intern_location(p, 1, 0x402000, PROFILE_LOCATION_CALLER, &loc[1]);
	profile_intern_location(p, 0, 0x7, PROFILE_LOCATION_CALLER, &loc[2]);
	profile_intern(p, "hot_a", &f.name);
	f.system_name = f.name;
	profile_intern(p, "hot.c", &f.filename);
	f.start_line = 12;
	profile_intern_function(p, &f, &line.function);
	line.line = 14;
	profile_set_lines(p, loc[0], &line, 1);
	profile_intern(p, "pid", &labels[0].key);
	labels[0].num = 4242;
	profile_intern(p, "comm", &labels[1].key);
	profile_intern(p, "hot", &labels[1].str);
	v[0] = 1;
	v[1] = 1001001;
	profile_add_sample(p, loc, 3, v, labels, 2, PROFILE_ADD_MERGE);
	profile_add_sample(p, loc, 3, v, labels, 2, PROFILE_ADD_MERGE);
	profile_add_sample(p, loc, 1, v, labels, 2, PROFILE_ADD_MERGE);
	return p;
}

/* Write p into a temporary file and read the bytes back. */
static unsigned char *write_bytes(const struct profile *p, size_t *ret_len)
{
	FILE *f = tmpfile();
	unsigned char *buf;
	long len;

	if (pprof_write(p, fileno(f)) < 0)
		return NULL;
	len = lseek(fileno(f), 0, SEEK_END);
	buf = malloc((size_t)len);
	(void)pread(fileno(f), buf, (size_t)len, 0);
	fclose(f);
	*ret_len = (size_t)len;
	return buf;
}

static unsigned char *inflate_all(const unsigned char *in, size_t len, size_t *ret_len)
{
	size_t cap = 1 << 20;
	unsigned char *out = malloc(cap);
	z_stream zs = {0};

	inflateInit2(&zs, 15 + 16);
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	if (inflate(&zs, Z_FINISH) != Z_STREAM_END) {
		free(out);
		out = NULL;
	}
	*ret_len = zs.total_out;
	inflateEnd(&zs);
	return out;
}

static const char *s(const Perftools__Profiles__Profile *m, int64_t i)
{
	return i >= 0 && (size_t)i < m->n_string_table ? m->string_table[i] : "<bad index>";
}

static int read_mem(const void *data, size_t len)
{
	struct profile *p = NULL;
	int r = pprof_read(data, len, 0, &p);

	profile_free(p);
	return r;
}

/*
 * Samples of every shape, decoded by protobuf-c: no stack and stacks of
 * up to 1,500 frames, ids of one to five varint bytes, values negative,
 * zero and huge, labels with each field present or left out.
 */
static void check_sample_shapes(void)
{
	struct profile *p = profile_new();
	struct profile_mapping map = {.start = 0x1000, .limit = 0x2000};
	unsigned seed = 7, wrong = 0;
	uint32_t locs[1500], mapping;
	struct profile_label labels[4];
	int64_t values[3];
	unsigned char *gz, *raw = NULL;
	size_t gz_len, raw_len = 0;
	Perftools__Profiles__Profile *m = NULL;

	profile_add_type(p, "samples", "count");
	profile_add_type(p, "cpu", "nanoseconds");
	profile_add_type(p, "delta", "bytes");
	profile_intern(p, "/bin/x", &map.file);
	profile_intern_mapping(p, &map, &mapping);
	for (size_t i = 0; i < 1500; i++)
		profile_intern_location(p, mapping, 0x1000 + i, 0, &locs[i]);
	for (int i = 0; i < 300; i++) {
		size_t n = i == 0 ? 0 : i == 1 ? 1500 : (seed = seed * 1103515245u + 12345u) % 200;
		uint32_t stack[1500];
		size_t nl = (size_t)i % 5;

		for (size_t j = 0; j < n; j++)
			stack[j] = locs[(j * 7 + (size_t)i) % 1500];
		values[0] = i % 3 == 0 ? 0 : i;
		values[1] = -(int64_t)i * 1000003;
		values[2] = i % 2 ? INT64_MAX - i : INT64_MIN + i;
		for (size_t j = 0; j < nl; j++) {
			labels[j] = (struct profile_label){.num = j % 2 ? -(int64_t)i
									: (int64_t)i << 40};
			profile_intern(p, j ? "k" : "thread", &labels[j].key);
			if (j == 1)
				profile_intern(p, "text", &labels[j].str);
			if (j == 2)
				profile_intern(p, "bytes", &labels[j].num_unit);
		}
		profile_add_sample(p, stack, n, values, labels, nl, 0);
	}
	gz = write_bytes(p, &gz_len);
	if (gz)
		raw = inflate_all(gz, gz_len, &raw_len);
	if (raw)
		m = perftools__profiles__profile__unpack(NULL, raw_len, raw);
	ok(m && m->n_sample == p->nsamples, "300 samples of every shape unpack (%zu)",
	   m ? m->n_sample : 0);
	for (size_t i = 0; m && i < m->n_sample && i < p->nsamples; i++) {
		const struct profile_sample *s = &p->samples[i];
		const Perftools__Profiles__Sample *d = m->sample[i];
		bool same = d->n_location_id == s->nloc && d->n_value == p->ntypes &&
			    d->n_label == s->nlabel;

		for (size_t j = 0; same && j < s->nloc; j++)
			same = d->location_id[j] == p->locs[s->loc_off + j];
		for (size_t j = 0; same && j < p->ntypes; j++)
			same = d->value[j] == p->values[s->value_off + j];
		for (size_t j = 0; same && j < s->nlabel; j++) {
			const struct profile_label *l = &p->labels[s->label_off + j];
			const Perftools__Profiles__Label *dl = d->label[j];

			same = dl->key == l->key && dl->str == l->str && dl->num == l->num &&
			       dl->num_unit == l->num_unit;
		}
		wrong += !same;
	}
	ok(m && wrong == 0, "each as it was written: stack, values and labels (%u differ)", wrong);
	if (m)
		perftools__profiles__profile__free_unpacked(m, NULL);
	free(raw);
	free(gz);
	profile_free(p);
}

int main(void)
{
	struct profile *p = build(), *q = NULL;
	unsigned char *gz, *raw;
	size_t gz_len, raw_len;
	Perftools__Profiles__Profile *m;

	ok(p->nsamples == 2, "equal stacks and labels merge into one sample");
	gz = write_bytes(p, &gz_len);
	ok(gz && gz_len > 18 && gz[0] == 0x1f && gz[1] == 0x8b, "the output is gzip");
	raw = inflate_all(gz, gz_len, &raw_len);
	ok(raw != NULL, "zlib inflates it to the end of the stream");

	m = perftools__profiles__profile__unpack(NULL, raw_len, raw);
	ok(m != NULL, "protobuf-c unpacks a perftools.profiles.Profile");
	if (!m)
		return tap_done();
	ok(m->n_string_table > 0 && m->string_table[0][0] == '\0', "string_table[0] is empty");
	ok(m->n_sample_type == 2 && strcmp(s(m, m->sample_type[0]->type), "samples") == 0 &&
		   strcmp(s(m, m->sample_type[1]->unit), "nanoseconds") == 0,
	   "sample types");
	ok(m->period_type && strcmp(s(m, m->period_type->type), "cpu") == 0 && m->period == 1001001,
	   "period type and period");
	ok(m->time_nanos == 1700000000000000000LL && m->duration_nanos == 2000000000,
	   "time and duration");
	ok(m->n_comment == 1 && strcmp(s(m, m->comment[0]), "cprof record -- ./hot") == 0,
	   "comment");
	ok(m->n_mapping == 1 && m->mapping[0]->id == 1 && m->mapping[0]->memory_start == 0x400000 &&
		   m->mapping[0]->memory_limit == 0x500000 &&
		   m->mapping[0]->file_offset == 0x1000 &&
		   strcmp(s(m, m->mapping[0]->filename), "/usr/bin/hot") == 0 &&
		   strcmp(s(m, m->mapping[0]->build_id), "0123abcd") == 0 &&
		   m->mapping[0]->has_functions && !m->mapping[0]->has_line_numbers,
	   "mapping");
	ok(m->n_location == 3 && m->location[0]->id == 1 && m->location[0]->address == 0x401000 &&
		   m->location[0]->mapping_id == 1 && m->location[0]->n_line == 1 &&
		   m->location[0]->line[0]->line == 14 && m->location[2]->mapping_id == 0,
	   "locations");
	ok(m->n_function == 1 && strcmp(s(m, m->function[0]->name), "hot_a") == 0 &&
		   strcmp(s(m, m->function[0]->filename), "hot.c") == 0 &&
		   m->function[0]->start_line == 12,
	   "function");
	ok(m->n_sample == 2 && m->sample[0]->n_location_id == 3 &&
		   m->sample[0]->location_id[0] == 1 && m->sample[0]->location_id[2] == 3 &&
		   m->sample[0]->n_value == 2 && m->sample[0]->value[0] == 2 &&
		   m->sample[0]->value[1] == 2002002,
	   "sample with summed values");
	ok(m->sample[0]->n_label == 2 && strcmp(s(m, m->sample[0]->label[0]->key), "pid") == 0 &&
		   m->sample[0]->label[0]->num == 4242 &&
		   strcmp(s(m, m->sample[0]->label[1]->str), "hot") == 0,
	   "labels");

	ok(pprof_read(gz, gz_len, 0, &q) == 0, "cprof reads its own gzip output");
	ok(q && q->nsamples == 2 && q->nlocations == 3 && q->ntypes == 2 &&
		   q->values[q->samples[0].value_off + 1] == 2002002,
	   "the round trip keeps samples and values");
	profile_free(q);
	ok(read_mem(raw, raw_len) == 0, "and raw, uncompressed protobuf");

	/* Bad input: errors, never crashes. */
	ok(read_mem(gz, gz_len / 2) == -EBADMSG, "truncated gzip is -EBADMSG");
	{
		unsigned char *bad = malloc(gz_len);

		memcpy(bad, gz, gz_len);
		for (size_t i = 20; i < gz_len - 8; i += 3)
			bad[i] ^= 0x5a;
		ok(read_mem(bad, gz_len) == -EBADMSG, "corrupt gzip is -EBADMSG");
		free(bad);
	}
	ok(read_mem("this is not a profile at all", 28) == -EINVAL, "text is -EINVAL");
	ok(read_mem(raw, raw_len - 3) == -EINVAL, "truncated protobuf is -EINVAL");

	/* Dangling references, re-encoded with protobuf-c. */
	{
		size_t len;
		uint8_t *buf;

		m->sample[0]->location_id[0] = 99;
		len = perftools__profiles__profile__get_packed_size(m);
		buf = malloc(len);
		perftools__profiles__profile__pack(m, buf);
		ok(read_mem(buf, len) == -EINVAL, "a sample naming a missing location is -EINVAL");
		m->sample[0]->location_id[0] = 1;
		m->mapping[0]->filename = 1000;
		perftools__profiles__profile__pack(m, buf);
		ok(read_mem(buf, len) == -EINVAL, "a string index past the table is -EINVAL");
		m->mapping[0]->filename = 1;
		m->sample[0]->n_value = 1;
		len = perftools__profiles__profile__get_packed_size(m);
		perftools__profiles__profile__pack(m, buf);
		ok(read_mem(buf, len) == -EINVAL,
		   "a sample with the wrong number of values is -EINVAL");
		free(buf);
	}
	perftools__profiles__profile__free_unpacked(m, NULL);
	ok(pprof_read_file("/nonexistent/cprof.pb.gz", 0, &q) == -ENOENT,
	   "a missing file is -ENOENT");

	/* An empty profile still writes and reads. */
	{
		struct profile *e = profile_new();
		unsigned char *eg;
		size_t elen;

		eg = write_bytes(e, &elen);
		ok(eg && read_mem(eg, elen) == 0, "an empty profile round-trips");
		free(eg);
		profile_free(e);
	}
	free(raw);
	free(gz);
	profile_free(p);
	check_sample_shapes();
	return tap_done();
}
