/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "lib/perf/decode.h"

/*
 * Fields are read through memcpy: a record copied out of a wrapped ring is
 * only as aligned as malloc made it, and the kernel's unions are not ours.
 */
struct cursor {
	const unsigned char *p, *end;
	bool short_read;
};

/* Copy n bytes out into dst (zeroed, and a short read noted, past the end). */
static void take_into(struct cursor *c, void *dst, size_t n)
{
	if ((size_t)(c->end - c->p) < n) {
		c->short_read = true;
		c->p = c->end;
		memset(dst, 0, n);
		return;
	}
	memcpy(dst, c->p, n);
	c->p += n;
}

static uint64_t take_u64(struct cursor *c)
{
	uint64_t v;

	take_into(c, &v, sizeof(v));
	return v;
}

static uint32_t take_u32(struct cursor *c)
{
	uint32_t v;

	take_into(c, &v, sizeof(v));
	return v;
}

/* Borrow n bytes; NULL (and a short read) when the record has fewer. */
static const void *take_bytes(struct cursor *c, uint64_t n)
{
	const void *p = c->p;

	if ((uint64_t)(c->end - c->p) < n) {
		c->short_read = true;
		c->p = c->end;
		return NULL;
	}
	c->p += n;
	return p;
}

/* A NUL-terminated string padded to 8 bytes, which must end inside the record. */
static const char *take_string(struct cursor *c)
{
	const char *s = (const char *)c->p;
	size_t max = (size_t)(c->end - c->p);

	if (!memchr(s, '\0', max)) {
		c->short_read = true;
		c->p = c->end;
		return NULL;
	}
	c->p += (strlen(s) + 1 + 7) & ~(size_t)7;
	if (c->p > c->end)
		c->p = c->end;
	return s;
}

static size_t sample_id_size(uint64_t t)
{
	size_t n = 0;

	n += (t & PERF_SAMPLE_TID) ? 8 : 0;
	n += (t & PERF_SAMPLE_TIME) ? 8 : 0;
	n += (t & PERF_SAMPLE_ID) ? 8 : 0;
	n += (t & PERF_SAMPLE_STREAM_ID) ? 8 : 0;
	n += (t & PERF_SAMPLE_CPU) ? 8 : 0;
	n += (t & PERF_SAMPLE_IDENTIFIER) ? 8 : 0;
	return n;
}

/* The sample_id trailer that sample_id_all appends to non-sample records. */
static int decode_sample_id(const struct perf_event_header *hdr, uint64_t t, struct perf_record *s)
{
	size_t n = sample_id_size(t);
	struct cursor c;

	if (hdr->size < sizeof(*hdr) + n)
		return -EINVAL;
	c.end = (const unsigned char *)hdr + hdr->size;
	c.p = c.end - n;
	c.short_read = false;
	if (t & PERF_SAMPLE_TID) {
		s->pid = (int32_t)take_u32(&c);
		s->tid = (int32_t)take_u32(&c);
	}
	if (t & PERF_SAMPLE_TIME)
		s->time = take_u64(&c);
	if (t & PERF_SAMPLE_ID)
		s->id = take_u64(&c);
	if (t & PERF_SAMPLE_STREAM_ID)
		(void)take_u64(&c);
	if (t & PERF_SAMPLE_CPU) {
		s->cpu = take_u32(&c);
		(void)take_u32(&c);
	}
	if (t & PERF_SAMPLE_IDENTIFIER)
		s->id = take_u64(&c);
	return 0;
}

static int decode_sample(struct cursor *c, uint64_t t, uint64_t regs_mask, struct perf_record *s)
{
	if (t & PERF_SAMPLE_IDENTIFIER)
		s->id = take_u64(c);
	if (t & PERF_SAMPLE_IP)
		s->u.s.ip = take_u64(c);
	if (t & PERF_SAMPLE_TID) {
		s->pid = (int32_t)take_u32(c);
		s->tid = (int32_t)take_u32(c);
	}
	if (t & PERF_SAMPLE_TIME)
		s->time = take_u64(c);
	if (t & PERF_SAMPLE_ID)
		s->id = take_u64(c);
	if (t & PERF_SAMPLE_STREAM_ID)
		(void)take_u64(c);
	if (t & PERF_SAMPLE_CPU) {
		s->cpu = take_u32(c);
		(void)take_u32(c);
	}
	if (t & PERF_SAMPLE_PERIOD)
		s->u.s.period = take_u64(c);
	if (t & PERF_SAMPLE_CALLCHAIN) {
		uint64_t nr = take_u64(c);

		if (nr > (uint64_t)(c->end - c->p) / 8)
			return -EINVAL;
		s->u.s.nr_callchain = nr;
		s->u.s.callchain = take_bytes(c, nr * 8);
	}
	if (t & PERF_SAMPLE_RAW) {
		s->u.s.raw_size = take_u32(c);
		s->u.s.raw = take_bytes(c, s->u.s.raw_size);
		/* The raw blob is padded so the next field is u64-aligned again. */
	}
	if (t & PERF_SAMPLE_REGS_USER) {
		s->u.s.regs_abi = take_u64(c);
		if (s->u.s.regs_abi != PERF_SAMPLE_REGS_ABI_NONE) {
			s->u.s.nr_regs = (uint32_t)__builtin_popcountll(regs_mask);
			s->u.s.regs = take_bytes(c, (uint64_t)s->u.s.nr_regs * 8);
		}
	}
	if (t & PERF_SAMPLE_STACK_USER) {
		uint64_t size = take_u64(c);

		if (size) {
			s->u.s.stack = take_bytes(c, size);
			/* dyn_size: how much of the copy the kernel actually filled. */
			s->u.s.stack_size = take_u64(c);
			if (s->u.s.stack_size > size)
				return -EINVAL;
		}
	}
	return c->short_read ? -EINVAL : 0;
}

static int decode_mmap2(struct cursor *c, uint16_t misc, struct perf_record *s)
{
	s->pid = (int32_t)take_u32(c);
	s->tid = (int32_t)take_u32(c);
	s->u.mmap.addr = take_u64(c);
	s->u.mmap.len = take_u64(c);
	s->u.mmap.pgoff = take_u64(c);
	if (misc & PERF_RECORD_MISC_MMAP_BUILD_ID) {
		/* u8 build_id_size, u8 + u16 reserved, u8 build_id[20]: the 24 bytes of
		 * maj…ino_generation. */
		const uint8_t *b = take_bytes(c, 24);

		if (!b)
			return -EINVAL;
		s->u.mmap.build_id_size = b[0];
		if (s->u.mmap.build_id_size > RECORD_BUILD_ID_MAX)
			return -EINVAL;
		memcpy(s->u.mmap.build_id, b + 4, s->u.mmap.build_id_size);
	} else {
		s->u.mmap.maj = take_u32(c);
		s->u.mmap.min = take_u32(c);
		s->u.mmap.ino = take_u64(c);
		s->u.mmap.ino_generation = take_u64(c);
	}
	s->u.mmap.prot = take_u32(c);
	s->u.mmap.flags = take_u32(c);
	s->u.mmap.filename = take_string(c);
	return c->short_read ? -EINVAL : 0;
}

int perf_record_decode(const struct perf_event_header *hdr, uint64_t sample_type,
		       uint64_t regs_mask, struct perf_record *ret)
{
	struct cursor c = {
		.p = (const unsigned char *)(hdr + 1),
		.end = (const unsigned char *)hdr + hdr->size,
	};
	struct perf_record s;
	int r;

	if (sample_type & ~(uint64_t)RECORD_SAMPLE_TYPES_KNOWN)
		return -ENOTSUP;
	if (hdr->size < sizeof(*hdr))
		return -EINVAL;
	memset(&s, 0, sizeof(s));
	s.type = hdr->type;
	s.misc = hdr->misc;
	s.pid = -1;
	s.tid = -1;

	if (hdr->type == PERF_RECORD_SAMPLE) {
		r = decode_sample(&c, sample_type, regs_mask, &s);
		if (r < 0)
			return r;
		*ret = s;
		return 0;
	}

	r = decode_sample_id(hdr, sample_type, &s);
	if (r < 0)
		return r;
	/* The body ends where the trailer starts. */
	c.end -= sample_id_size(sample_type);

	switch (hdr->type) {
	case PERF_RECORD_MMAP2:
		r = decode_mmap2(&c, hdr->misc, &s);
		break;
	case PERF_RECORD_COMM:
		s.pid = (int32_t)take_u32(&c);
		s.tid = (int32_t)take_u32(&c);
		s.u.comm.comm = take_string(&c);
		r = c.short_read ? -EINVAL : 0;
		break;
	case PERF_RECORD_FORK:
	case PERF_RECORD_EXIT:
		s.pid = (int32_t)take_u32(&c);
		s.u.task.ppid = (int32_t)take_u32(&c);
		s.tid = (int32_t)take_u32(&c);
		s.u.task.ptid = (int32_t)take_u32(&c);
		s.time = take_u64(&c);
		r = c.short_read ? -EINVAL : 0;
		break;
	case PERF_RECORD_LOST:
		(void)take_u64(&c);
		s.u.lost.lost = take_u64(&c);
		r = c.short_read ? -EINVAL : 0;
		break;
	case PERF_RECORD_LOST_SAMPLES:
		s.u.lost.lost = take_u64(&c);
		r = c.short_read ? -EINVAL : 0;
		break;
	default:
		/* THROTTLE, SWITCH, KSYMBOL…: the trailer is all callers need. */
		r = 0;
		break;
	}
	if (r < 0)
		return r;
	*ret = s;
	return 0;
}

uint64_t perf_record_time(const struct perf_event_header *hdr, uint64_t sample_type)
{
	struct perf_record s;

	if (!(sample_type & PERF_SAMPLE_TIME))
		return 0;
	if (hdr->type == PERF_RECORD_SAMPLE) {
		/* time follows IDENTIFIER, IP and TID: a fixed offset. */
		size_t off = sizeof(*hdr);
		uint64_t t;

		off += (sample_type & PERF_SAMPLE_IDENTIFIER) ? 8 : 0;
		off += (sample_type & PERF_SAMPLE_IP) ? 8 : 0;
		off += (sample_type & PERF_SAMPLE_TID) ? 8 : 0;
		if (hdr->size < off + 8)
			return 0;
		memcpy(&t, (const unsigned char *)hdr + off, 8);
		return t;
	}
	memset(&s, 0, sizeof(s));
	if (decode_sample_id(hdr, sample_type, &s) < 0)
		return 0;
	return s.time;
}

uint64_t perf_record_id(const struct perf_event_header *hdr, uint64_t sample_type)
{
	uint64_t id;

	if (!(sample_type & PERF_SAMPLE_IDENTIFIER) || hdr->size < sizeof(*hdr) + sizeof(id))
		return 0;
	if (hdr->type == PERF_RECORD_SAMPLE)
		memcpy(&id, hdr + 1, sizeof(id));
	else
		memcpy(&id, (const unsigned char *)hdr + hdr->size - sizeof(id), sizeof(id));
	return id;
}
