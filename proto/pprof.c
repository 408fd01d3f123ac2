/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "lib/base/hash.h"
#include "lib/base/log.h"
#include "lib/base/vec.h"
#include "proto/pprof.h"
#include "proto/profile.pb-c.h"

#define CHUNK (64 * 1024)

/*
 * Writing. The big repeated fields (samples, locations, functions,
 * mappings) are streamed: each element is a message built on the stack,
 * packed by protobuf-c behind its field tag and length. Everything else goes
 * in one small Profile message. Protobuf concatenation is a merge, so the
 * stream decodes as one Profile, with a peak memory of one element.
 */

struct gz_sink {
	ProtobufCBuffer base; /* first: protobuf-c calls append with &base */
	z_stream zs;
	int fd;
	int err; /* append returns void: remember the first failure */
	size_t in_len;
	unsigned char in[CHUNK];
	unsigned char out[CHUNK];
};

static int write_all(int fd, const unsigned char *buf, size_t n)
{
	while (n) {
		ssize_t w = write(fd, buf, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

static int sink_deflate(struct gz_sink *s, int flush)
{
	int zr;

	s->zs.next_in = s->in;
	s->zs.avail_in = (uInt)s->in_len;
	do {
		s->zs.next_out = s->out;
		s->zs.avail_out = sizeof(s->out);
		zr = deflate(&s->zs, flush);
		if (zr == Z_STREAM_ERROR) {
			log_debug("deflate: %s", s->zs.msg ? s->zs.msg : "stream error");
			return -EIO;
		}
		if (sizeof(s->out) - s->zs.avail_out) {
			int r = write_all(s->fd, s->out, sizeof(s->out) - s->zs.avail_out);

			if (r < 0)
				return r;
		}
	} while (s->zs.avail_out == 0 || (flush == Z_FINISH && zr != Z_STREAM_END));
	s->in_len = 0;
	return 0;
}

static void sink_append(ProtobufCBuffer *buf, size_t len, const uint8_t *data)
{
	struct gz_sink *s = (struct gz_sink *)buf;

	while (len && !s->err) {
		size_t n = sizeof(s->in) - s->in_len;

		if (n > len)
			n = len;
		memcpy(s->in + s->in_len, data, n);
		s->in_len += n;
		data += n;
		len -= n;
		if (s->in_len == sizeof(s->in))
			s->err = sink_deflate(s, Z_NO_FLUSH);
	}
}

static void put_varint(ProtobufCBuffer *b, uint64_t v)
{
	uint8_t buf[10];
	size_t n = 0;

	do {
		buf[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			buf[n] |= 0x80;
		n++;
	} while (v);
	b->append(b, n, buf);
}

/* One element of a repeated message field: tag, length, then the message. */
static void put_message(ProtobufCBuffer *b, unsigned field, const ProtobufCMessage *m)
{
	/*
	 * Packed whole and appended once where it fits: protobuf-c appends a
	 * packed repeated field one varint at a time, and a sample's location
	 * ids were 7 % of a node recording's instructions that way.
	 */
	uint8_t flat[4096];
	size_t size = protobuf_c_message_get_packed_size(m);

	put_varint(b, (uint64_t)field << 3 | 2);
	put_varint(b, size);
	if (size <= sizeof(flat))
		b->append(b, protobuf_c_message_pack(m, flat), flat);
	else
		(void)protobuf_c_message_pack_to_buffer(m, b);
}

/* Scratch arrays reused from one element to the next. */
struct scratch {
	uint8_t *bytes; /* a sample, encoded */
	size_t bytes_cap;
	Perftools__Profiles__Line *lines;
	Perftools__Profiles__Line **line_ptrs;
	size_t lines_cap;
};

static int scratch_reserve(struct scratch *sc, size_t lines)
{
	size_t cap = sc->lines_cap;
	int r;

	r = vec_reserve(&sc->lines, &cap, lines, sizeof(*sc->lines));
	if (r < 0)
		return r;
	return vec_reserve(&sc->line_ptrs, &sc->lines_cap, lines, sizeof(*sc->line_ptrs));
}

static void scratch_release(struct scratch *sc)
{
	free(sc->bytes);
	free(sc->lines);
	free(sc->line_ptrs);
}

static int put_header(ProtobufCBuffer *b, const struct profile *p)
{
	Perftools__Profiles__Profile msg = PERFTOOLS__PROFILES__PROFILE__INIT;
	Perftools__Profiles__ValueType period = PERFTOOLS__PROFILES__VALUE_TYPE__INIT;
	Perftools__Profiles__ValueType *types = NULL, **type_ptrs = NULL;
	int64_t *comments = NULL;
	int r = -ENOMEM;

	types = calloc(p->ntypes + 1, sizeof(*types));
	type_ptrs = calloc(p->ntypes + 1, sizeof(*type_ptrs));
	comments = calloc(p->ncomments + 1, sizeof(*comments));
	if (!types || !type_ptrs || !comments)
		goto out;
	for (size_t i = 0; i < p->ntypes; i++) {
		perftools__profiles__value_type__init(&types[i]);
		types[i].type = p->types[i].type;
		types[i].unit = p->types[i].unit;
		type_ptrs[i] = &types[i];
	}
	for (size_t i = 0; i < p->ncomments; i++)
		comments[i] = p->comments[i];
	period.type = p->period_type.type;
	period.unit = p->period_type.unit;

	msg.n_sample_type = p->ntypes;
	msg.sample_type = type_ptrs;
	/* The strings stay where the model keeps them; pack only reads. */
	msg.n_string_table = p->nstr;
	msg.string_table = p->strs;
	msg.time_nanos = p->time_nanos;
	msg.duration_nanos = p->duration_nanos;
	msg.period_type = &period;
	msg.period = p->period;
	msg.n_comment = p->ncomments;
	msg.comment = comments;
	msg.default_sample_type = p->default_sample_type;
	(void)protobuf_c_message_pack_to_buffer(&msg.base, b);
	r = 0;
out:
	free(types);
	free(type_ptrs);
	free(comments);
	return r;
}

/* The mapping to write first: the first that looks like a program, not a library or the kernel. */
static size_t main_mapping(const struct profile *p)
{
	for (size_t i = 0; i < p->nmappings; i++) {
		const struct profile_mapping *m = &p->mappings[i];
		const char *file = profile_str(p, m->file);

		if (!(m->flags & (PROFILE_MAPPING_KERNEL | PROFILE_MAPPING_ANON)) &&
		    file[0] == '/' && !strstr(file, ".so"))
			return i;
	}
	return SIZE_MAX;
}

/*
 * Mappings by id, the main program's first and the kernel's last: pprof
 * takes the first mapping for the main binary (its "File:" line, where
 * -http looks first), and a profile whose first sample began in ld.so or
 * in a system call would otherwise name those. Ids are explicit, so the
 * order changes nothing else.
 */
static void put_mappings(ProtobufCBuffer *b, const struct profile *p)
{
	size_t first = main_mapping(p);

	for (size_t k = 0; k <= 2 * p->nmappings; k++) {
		/* Pass 0: the main one; 1: the others but the kernel's; 2: the kernel's. */
		size_t pass = k == 0 ? 0 : k <= p->nmappings ? 1 : 2;
		size_t i = k == 0 ? first : (k - 1) % p->nmappings;
		const struct profile_mapping *m;
		Perftools__Profiles__Mapping msg = PERFTOOLS__PROFILES__MAPPING__INIT;
		bool kernel;

		if (i >= p->nmappings || (pass > 0 && i == first))
			continue;
		m = &p->mappings[i];
		kernel = (m->flags & PROFILE_MAPPING_KERNEL) != 0;
		if (pass > 0 && kernel != (pass == 2))
			continue;
		msg.id = i + 1;
		msg.memory_start = m->start;
		msg.memory_limit = m->limit;
		msg.file_offset = m->offset;
		msg.filename = m->file;
		msg.build_id = m->build_id;
		msg.has_functions = (m->flags & PROFILE_MAPPING_HAS_FUNCTIONS) != 0;
		msg.has_filenames = (m->flags & PROFILE_MAPPING_HAS_FILENAMES) != 0;
		msg.has_line_numbers = (m->flags & PROFILE_MAPPING_HAS_LINE_NUMBERS) != 0;
		msg.has_inline_frames = (m->flags & PROFILE_MAPPING_HAS_INLINE_FRAMES) != 0;
		put_message(b, 3, &msg.base);
	}
}

static int put_locations(ProtobufCBuffer *b, const struct profile *p, struct scratch *sc)
{
	for (size_t i = 0; i < p->nlocations; i++) {
		const struct profile_location *l = &p->locations[i];
		Perftools__Profiles__Location msg = PERFTOOLS__PROFILES__LOCATION__INIT;
		int r = scratch_reserve(sc, l->nline);

		if (r < 0)
			return r;
		for (size_t j = 0; j < l->nline; j++) {
			perftools__profiles__line__init(&sc->lines[j]);
			sc->lines[j].function_id = p->lines[l->line_off + j].function;
			sc->lines[j].line = p->lines[l->line_off + j].line;
			sc->line_ptrs[j] = &sc->lines[j];
		}
		msg.id = i + 1;
		msg.mapping_id = l->mapping;
		msg.address = l->address;
		msg.n_line = l->nline;
		msg.line = sc->line_ptrs;
		put_message(b, 4, &msg.base);
	}
	return 0;
}

static void put_functions(ProtobufCBuffer *b, const struct profile *p)
{
	for (size_t i = 0; i < p->nfunctions; i++) {
		const struct profile_function *f = &p->functions[i];
		Perftools__Profiles__Function msg = PERFTOOLS__PROFILES__FUNCTION__INIT;

		msg.id = i + 1;
		msg.name = f->name;
		msg.system_name = f->system_name;
		msg.filename = f->filename;
		msg.start_line = f->start_line;
		put_message(b, 5, &msg.base);
	}
}

/*
 * Samples are encoded here, not by protobuf-c: they are most of a profile
 * (a node recording's deep JIT stacks, tens of thousands of them), and
 * protobuf-c sizes each message and then packs it field by field through
 * its descriptors, a tenth of such a recording's instructions. The bytes
 * are protobuf-c's: proto3 leaves out scalars that are 0, and packs the
 * repeated ones (test-pprof decodes them with protobuf-c).
 */
enum { WIRE_VARINT = 0, WIRE_LEN = 2 };

static size_t varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static uint8_t *varint_at(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

/* A scalar field: nothing when 0. An int64 is its two's complement, as protobuf's. */
static size_t scalar_len(uint64_t v)
{
	return v ? 1 + varint_len(v) : 0;
}

static uint8_t *scalar_at(uint8_t *p, unsigned field, uint64_t v)
{
	if (!v)
		return p;
	*p++ = (uint8_t)(field << 3 | WIRE_VARINT);
	return varint_at(p, v);
}

static size_t label_len(const struct profile_label *l)
{
	return scalar_len(l->key) + scalar_len(l->str) + scalar_len((uint64_t)l->num) +
	       scalar_len(l->num_unit);
}

/* Tag and length of a length-delimited field of len bytes. */
static uint8_t *field_at(uint8_t *p, unsigned field, size_t len)
{
	*p++ = (uint8_t)(field << 3 | WIRE_LEN);
	return varint_at(p, len);
}

/* Sample s as field 2 of the Profile, in sc->bytes; returns its length, 0 without memory. */
static size_t encode_sample(const struct profile *p, const struct profile_sample *s,
			    struct scratch *sc)
{
	/* (No pointer into an array a profile without stacks or labels never made.) */
	const uint32_t *ids = s->nloc ? &p->locs[s->loc_off] : NULL;
	const int64_t *values = p->ntypes ? &p->values[s->value_off] : NULL;
	const struct profile_label *labels = s->nlabel ? &p->labels[s->label_off] : NULL;
	size_t ids_len = 0, values_len = 0, len = 0, total;
	uint8_t *at;

	for (size_t j = 0; j < s->nloc; j++)
		ids_len += varint_len(ids[j]);
	for (size_t j = 0; j < p->ntypes; j++)
		values_len += varint_len((uint64_t)values[j]);
	if (s->nloc)
		len += 1 + varint_len(ids_len) + ids_len;
	if (p->ntypes)
		len += 1 + varint_len(values_len) + values_len;
	for (size_t j = 0; j < s->nlabel; j++)
		len += 1 + varint_len(label_len(&labels[j])) + label_len(&labels[j]);
	total = 1 + varint_len(len) + len;
	if (vec_reserve(&sc->bytes, &sc->bytes_cap, total, 1) < 0)
		return 0;
	at = field_at(sc->bytes, 2, len);
	if (s->nloc) {
		at = field_at(at, 1, ids_len);
		for (size_t j = 0; j < s->nloc; j++)
			at = varint_at(at, ids[j]);
	}
	if (p->ntypes) {
		at = field_at(at, 2, values_len);
		for (size_t j = 0; j < p->ntypes; j++)
			at = varint_at(at, (uint64_t)values[j]);
	}
	for (size_t j = 0; j < s->nlabel; j++) {
		const struct profile_label *l = &labels[j];

		at = field_at(at, 3, label_len(l));
		at = scalar_at(at, 1, l->key);
		at = scalar_at(at, 2, l->str);
		at = scalar_at(at, 3, (uint64_t)l->num);
		at = scalar_at(at, 4, l->num_unit);
	}
	return total;
}

static int put_samples(ProtobufCBuffer *b, const struct profile *p, struct scratch *sc)
{
	for (size_t i = 0; i < p->nsamples; i++) {
		size_t n = encode_sample(p, &p->samples[i], sc);

		if (!n)
			return -ENOMEM;
		b->append(b, n, sc->bytes);
	}
	return 0;
}

int pprof_write(const struct profile *p, int fd)
{
	struct gz_sink *s = calloc(1, sizeof(*s));
	struct scratch sc = {0};
	int r;

	if (!s)
		return -ENOMEM;
	s->base.append = sink_append;
	s->fd = fd;
	/*
	 * windowBits 15 + 16: a gzip wrapper, which is what pprof files are.
	 * Level 1, Go's runtime/pprof choice: profiles of JIT code or deep
	 * stacks run to megabytes of varints; on a node profile level 6 took
	 * 16 ms for 62 KB, level 4 5 ms for 71 KB, level 1 3 ms for 82 KB, and
	 * that file is written once per recording, on cprof's own CPU.
	 */
	if (deflateInit2(&s->zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(s);
		return -ENOMEM;
	}
	r = put_header(&s->base, p);
	if (r < 0)
		goto out;
	put_mappings(&s->base, p);
	put_functions(&s->base, p);
	r = put_locations(&s->base, p, &sc);
	if (r < 0)
		goto out;
	r = put_samples(&s->base, p, &sc);
	if (r < 0)
		goto out;
	r = s->err ? s->err : sink_deflate(s, Z_FINISH);
out:
	(void)deflateEnd(&s->zs);
	scratch_release(&sc);
	free(s);
	return r;
}

/* Reading. */

/*
 * Inflate into at most max bytes: -E2BIG past it (a few kilobytes of gzip
 * can inflate to gigabytes).
 */
static int gunzip(const unsigned char *data, size_t size, size_t max, unsigned char **ret,
		  size_t *ret_size)
{
	z_stream zs = {0};
	unsigned char *out = NULL;
	size_t cap = 0, len = 0;
	int zr, r;

	/* 15 + 32: accept a gzip or zlib header. */
	if (inflateInit2(&zs, 15 + 32) != Z_OK)
		return -ENOMEM;
	zs.next_in = (Bytef *)(uintptr_t)data;
	zs.avail_in = (uInt)size;
	do {
		if (len == cap) {
			size_t want = cap ? cap * 2 : size * 4 + CHUNK;

			if (cap >= max) {
				r = -E2BIG;
				goto out;
			}
			r = vec_reserve(&out, &cap, want < max ? want : max, 1);
			if (r < 0)
				goto out;
		}
		zs.next_out = out + len;
		zs.avail_out = (uInt)(cap - len > UINT32_MAX ? UINT32_MAX : cap - len);
		zr = inflate(&zs, Z_NO_FLUSH);
		len = (size_t)((unsigned char *)zs.next_out - out);
		if (zr == Z_BUF_ERROR && zs.avail_in == 0) {
			/* Out of input before the end of the stream: the file is cut short. */
			log_debug("inflate: truncated input");
			r = -EBADMSG;
			goto out;
		}
		if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
			log_debug("inflate: %s", zs.msg ? zs.msg : "error");
			r = zr == Z_MEM_ERROR ? -ENOMEM : -EBADMSG;
			goto out;
		}
	} while (zr != Z_STREAM_END);
	*ret = out;
	*ret_size = len;
	out = NULL;
	r = 0;
out:
	(void)inflateEnd(&zs);
	free(out);
	return r;
}

/*
 * protobuf-c's allocations for one unpack, within a budget: every varint
 * of a packed field becomes 8 bytes and every tiny message a struct of
 * dozens, so a small file can ask for gigabytes. Past the budget an
 * allocation fails, the unpack with it, and the reader says -E2BIG.
 */
struct budget {
	ProtobufCAllocator base; /* first: protobuf-c passes its allocator_data, which is us */
	size_t left;
	bool exceeded, out_of_memory;
};

/* Each block carries its size, so free can give it back to the budget. */
#define BLOCK_HEADER 16

static void *budget_alloc(void *data, size_t size)
{
	struct budget *b = data;
	unsigned char *block;

	if (size > b->left || b->left - size < BLOCK_HEADER) {
		b->exceeded = true;
		return NULL;
	}
	block = malloc(size + BLOCK_HEADER);
	if (!block) {
		b->out_of_memory = true;
		return NULL;
	}
	memcpy(block, &size, sizeof(size));
	b->left -= size + BLOCK_HEADER;
	return block + BLOCK_HEADER;
}

static void budget_free(void *data, void *ptr)
{
	struct budget *b = data;
	unsigned char *block = ptr;
	size_t size;

	if (!block)
		return;
	block -= BLOCK_HEADER;
	memcpy(&size, block, sizeof(size));
	b->left += size + BLOCK_HEADER;
	free(block);
}

/* pprof ids are arbitrary numbers: map each to the model's 1-based id. */
struct idmap {
	const uint64_t *ids; /* the file's ids, by model index */
	struct hashmap index;
};

struct id_key {
	const struct idmap *map;
	uint64_t id;
};

static bool id_eq(const void *ctx, uint32_t idx)
{
	const struct id_key *k = ctx;

	return k->map->ids[idx] == k->id;
}

static int idmap_add(struct idmap *m, uint64_t id, uint32_t idx)
{
	struct id_key key = {m, id};
	uint32_t have;

	/* Id 0 means "none", and a repeated id would make references ambiguous. */
	if (id == 0 || hashmap_find(&m->index, hash_u64(id, 0), id_eq, &key, &have))
		return -EINVAL;
	return hashmap_insert(&m->index, hash_u64(id, 0), idx);
}

/* The model id for a file id; 0 when unknown. */
static uint32_t idmap_get(const struct idmap *m, uint64_t id)
{
	struct id_key key = {m, id};
	uint32_t idx;

	if (!hashmap_find(&m->index, hash_u64(id, 0), id_eq, &key, &idx))
		return 0;
	return idx + 1;
}

struct reader {
	const Perftools__Profiles__Profile *msg;
	struct profile *p;
	uint32_t *strs; /* file string index -> model string index */
	uint64_t *mapping_ids, *function_ids, *location_ids;
	struct idmap mappings, functions, locations;
};

/* A string reference from the file, checked and translated. */
static int str_ref(const struct reader *rd, int64_t idx, uint32_t *ret)
{
	if (idx < 0 || (uint64_t)idx >= rd->msg->n_string_table)
		return -EINVAL;
	*ret = rd->strs[idx];
	return 0;
}

static int read_strings(struct reader *rd)
{
	const Perftools__Profiles__Profile *m = rd->msg;
	int r;

	if (m->n_string_table == 0 || m->string_table[0][0] != '\0')
		return -EINVAL; /* pprof requires string_table[0] == "" */
	rd->strs = calloc(m->n_string_table, sizeof(*rd->strs));
	if (!rd->strs)
		return -ENOMEM;
	for (size_t i = 0; i < m->n_string_table; i++) {
		r = profile_intern(rd->p, m->string_table[i], &rd->strs[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

static int read_types(struct reader *rd)
{
	const Perftools__Profiles__Profile *m = rd->msg;
	struct profile *p = rd->p;
	struct profile_value_type period_type = {0};
	uint32_t s, default_type;
	int r;

	for (size_t i = 0; i < m->n_sample_type; i++) {
		uint32_t type, unit;

		if (str_ref(rd, m->sample_type[i]->type, &type) < 0 ||
		    str_ref(rd, m->sample_type[i]->unit, &unit) < 0)
			return -EINVAL;
		r = profile_add_type(p, profile_str(p, type), profile_str(p, unit));
		if (r < 0)
			return r;
	}
	if (m->period_type && (str_ref(rd, m->period_type->type, &period_type.type) < 0 ||
			       str_ref(rd, m->period_type->unit, &period_type.unit) < 0))
		return -EINVAL;
	profile_set_period(p, period_type, m->period);
	profile_set_time(p, m->time_nanos, m->duration_nanos);
	if (str_ref(rd, m->default_sample_type, &default_type) < 0)
		return -EINVAL;
	profile_set_default_type(p, default_type);
	for (size_t i = 0; i < m->n_comment; i++) {
		if (str_ref(rd, m->comment[i], &s) < 0)
			return -EINVAL;
		r = profile_add_comment(p, profile_str(p, s));
		if (r < 0)
			return r;
	}
	return 0;
}

static int read_mappings(struct reader *rd)
{
	const Perftools__Profiles__Profile *msg = rd->msg;
	int r;

	rd->mapping_ids = calloc(msg->n_mapping + 1, sizeof(uint64_t));
	if (!rd->mapping_ids)
		return -ENOMEM;
	rd->mappings.ids = rd->mapping_ids;
	for (size_t i = 0; i < msg->n_mapping; i++) {
		const Perftools__Profiles__Mapping *fm = msg->mapping[i];
		struct profile_mapping m = {
			.start = fm->memory_start,
			.limit = fm->memory_limit,
			.offset = fm->file_offset,
		};

		if (str_ref(rd, fm->filename, &m.file) < 0 ||
		    str_ref(rd, fm->build_id, &m.build_id) < 0)
			return -EINVAL;
		m.flags = (fm->has_functions ? PROFILE_MAPPING_HAS_FUNCTIONS : 0) |
			  (fm->has_filenames ? PROFILE_MAPPING_HAS_FILENAMES : 0) |
			  (fm->has_line_numbers ? PROFILE_MAPPING_HAS_LINE_NUMBERS : 0) |
			  (fm->has_inline_frames ? PROFILE_MAPPING_HAS_INLINE_FRAMES : 0);
		if (strcmp(profile_str(rd->p, m.file), "[kernel.kallsyms]") == 0)
			m.flags |= PROFILE_MAPPING_KERNEL;
		/* One model mapping per file mapping, even when two are equal. */
		r = profile_add_mapping(rd->p, &m, &(uint32_t){0});
		if (r < 0)
			return r;
		rd->mapping_ids[i] = fm->id;
		r = idmap_add(&rd->mappings, fm->id, (uint32_t)i);
		if (r < 0)
			return r;
	}
	return 0;
}

static int read_functions(struct reader *rd)
{
	const Perftools__Profiles__Profile *msg = rd->msg;
	int r;

	rd->function_ids = calloc(msg->n_function + 1, sizeof(uint64_t));
	if (!rd->function_ids)
		return -ENOMEM;
	rd->functions.ids = rd->function_ids;
	for (size_t i = 0; i < msg->n_function; i++) {
		const Perftools__Profiles__Function *ff = msg->function[i];
		struct profile_function f = {.start_line = ff->start_line};

		if (str_ref(rd, ff->name, &f.name) < 0 ||
		    str_ref(rd, ff->system_name, &f.system_name) < 0 ||
		    str_ref(rd, ff->filename, &f.filename) < 0)
			return -EINVAL;
		/* One model function per file function, as for mappings. */
		r = profile_add_function(rd->p, &f, &(uint32_t){0});
		if (r < 0)
			return r;
		rd->function_ids[i] = ff->id;
		r = idmap_add(&rd->functions, ff->id, (uint32_t)i);
		if (r < 0)
			return r;
	}
	return 0;
}

static int read_locations(struct reader *rd)
{
	const Perftools__Profiles__Profile *msg = rd->msg;
	struct profile_line *lines = NULL;
	size_t lines_cap = 0;
	int r = 0;

	rd->location_ids = calloc(msg->n_location + 1, sizeof(uint64_t));
	if (!rd->location_ids)
		return -ENOMEM;
	rd->locations.ids = rd->location_ids;
	for (size_t i = 0; i < msg->n_location; i++) {
		const Perftools__Profiles__Location *fl = msg->location[i];
		uint32_t mapping = 0, id;

		if (fl->mapping_id) {
			mapping = idmap_get(&rd->mappings, fl->mapping_id);
			if (!mapping) {
				r = -EINVAL;
				break;
			}
		}
		r = vec_reserve(&lines, &lines_cap, fl->n_line, sizeof(*lines));
		if (r < 0)
			break;
		for (size_t j = 0; j < fl->n_line; j++) {
			lines[j].function = idmap_get(&rd->functions, fl->line[j]->function_id);
			lines[j].line = fl->line[j]->line;
			if (!lines[j].function) {
				r = -EINVAL;
				break;
			}
		}
		if (r < 0)
			break;
		r = profile_add_location(rd->p, mapping, fl->address, PROFILE_LOCATION_SYMBOLIZED,
					 lines, fl->n_line, &id);
		if (r < 0)
			break;
		rd->location_ids[i] = fl->id;
		r = idmap_add(&rd->locations, fl->id, id - 1);
		if (r < 0)
			break;
	}
	free(lines);
	return r;
}

static int read_samples(struct reader *rd)
{
	const Perftools__Profiles__Profile *msg = rd->msg;
	struct profile_label *labels = NULL;
	size_t locs_cap = 0, labels_cap = 0;
	uint32_t *locs = NULL;
	int r = 0;

	for (size_t i = 0; i < msg->n_sample && r == 0; i++) {
		const Perftools__Profiles__Sample *fs = msg->sample[i];

		if (fs->n_value != rd->p->ntypes) {
			r = -EINVAL;
			break;
		}
		r = vec_reserve(&locs, &locs_cap, fs->n_location_id, sizeof(*locs));
		if (r == 0)
			r = vec_reserve(&labels, &labels_cap, fs->n_label, sizeof(*labels));
		for (size_t j = 0; j < fs->n_location_id && r == 0; j++) {
			locs[j] = idmap_get(&rd->locations, fs->location_id[j]);
			if (!locs[j])
				r = -EINVAL;
		}
		for (size_t j = 0; j < fs->n_label && r == 0; j++) {
			const Perftools__Profiles__Label *fl = fs->label[j];

			labels[j].num = fl->num;
			if (str_ref(rd, fl->key, &labels[j].key) < 0 ||
			    str_ref(rd, fl->str, &labels[j].str) < 0 ||
			    str_ref(rd, fl->num_unit, &labels[j].num_unit) < 0)
				r = -EINVAL;
		}
		if (r == 0)
			r = profile_add_sample(rd->p, locs, fs->n_location_id, fs->value, labels,
					       fs->n_label, 0);
	}
	free(locs);
	free(labels);
	return r;
}

int pprof_read(const void *data, size_t size, size_t max_memory, struct profile **ret)
{
	const unsigned char *bytes = data;
	unsigned char *plain = NULL;
	size_t plain_size = size;
	Perftools__Profiles__Profile *msg = NULL;
	struct budget budget = {
		.base = {.alloc = budget_alloc, .free = budget_free, .allocator_data = &budget},
	};
	struct reader rd = {0};
	int r;

	if (!max_memory)
		max_memory = PPROF_MAX_MEMORY;
	if (size >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b) {
		r = gunzip(bytes, size, max_memory / 4, &plain, &plain_size);
		if (r < 0)
			return r;
		bytes = plain;
	}
	/* The decoded messages get half of what is left; the model built from them the rest. */
	budget.left = max_memory > plain_size ? (max_memory - plain_size) / 2 : 0;
	msg = perftools__profiles__profile__unpack(&budget.base, plain_size, bytes);
	if (!msg) {
		log_debug("protobuf-c: cannot unpack a perftools.profiles.Profile%s",
			  budget.exceeded ? ": over the memory budget" : "");
		r = budget.exceeded ? -E2BIG : budget.out_of_memory ? -ENOMEM : -EINVAL;
		goto out;
	}
	rd.msg = msg;
	rd.p = profile_new();
	if (!rd.p) {
		r = -ENOMEM;
		goto out;
	}
	r = read_strings(&rd);
	if (r == 0)
		r = read_types(&rd);
	if (r == 0)
		r = read_mappings(&rd);
	if (r == 0)
		r = read_functions(&rd);
	if (r == 0)
		r = read_locations(&rd);
	if (r == 0)
		r = read_samples(&rd);
out:
	if (r == 0) {
		*ret = rd.p;
		rd.p = NULL;
	}
	profile_free(rd.p);
	free(rd.strs);
	free(rd.mapping_ids);
	free(rd.function_ids);
	free(rd.location_ids);
	hashmap_release(&rd.mappings.index);
	hashmap_release(&rd.functions.index);
	hashmap_release(&rd.locations.index);
	if (msg)
		perftools__profiles__profile__free_unpacked(msg, &budget.base);
	free(plain);
	return r;
}

int pprof_read_file(const char *path, size_t max_memory, struct profile **ret)
{
	unsigned char *data = NULL;
	size_t len = 0, cap = 0, max_file;
	struct stat st;
	int fd, r = 0;

	if (!max_memory)
		max_memory = PPROF_MAX_MEMORY;
	max_file = max_memory / 4;
	fd = strcmp(path, "-") == 0 ? dup(0) : open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* Files and pipes hold profiles; a device (/dev/zero, a tape) never ends or never should be
	 * read. */
	if (fstat(fd, &st) == 0 && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))) {
		(void)close(fd);
		return -ENODEV;
	}
	for (;;) {
		ssize_t n;

		if (len == cap) {
			if (cap >= max_file) {
				r = -EFBIG;
				break;
			}
			r = vec_reserve(&data, &cap,
					cap + CHUNK * 4 < max_file ? cap + CHUNK * 4 : max_file, 1);
			if (r < 0)
				break;
		}
		n = read(fd, data + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	(void)close(fd);
	if (r == 0)
		r = pprof_read(data, len, max_memory - len, ret);
	free(data);
	return r;
}
