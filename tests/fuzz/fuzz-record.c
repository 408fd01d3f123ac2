/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the perf records a ring buffer hands cprof, through the
 * record decoder, the ring reader and the time-ordered merge.
 *
 * The input is a stream of records as the kernel writes them: each a
 * struct perf_event_header whose size frames it, then its body. It is
 * decoded three ways, with the sample_type and sample_regs_user that
 * lib/perf/sampler.c's fill_attr asks for (no call graph, --call-graph=fp,
 * --call-graph=dwarf), and then played into a fake ring, as the kernel
 * would, starting near the end of the data area so that records and even
 * headers wrap. What the ring reader returns goes through the merge, and
 * what the merge delivers is decoded again.
 *
 * Everything a decoded record points to is read, so that a pointer or a
 * length past the record shows up under ASan: each record of the stream is
 * copied to a buffer of exactly its size first.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <linux/perf_event.h>

#include "lib/perf/arch.h"
#include "lib/perf/merge.h"
#include "lib/perf/ring.h"
#include "lib/perf/decode.h"
#include "tests/fuzz/fuzz.h"

struct config {
	uint64_t sample_type, regs_mask;
};

#define NCONFIGS 3

/* fill_attr's three sample layouts. */
static const struct config *configs(void)
{
	static struct config c[NCONFIGS];
	const uint64_t base = PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME |
			      PERF_SAMPLE_CPU | PERF_SAMPLE_PERIOD;

	c[0].sample_type = base;
	c[1].sample_type = base | PERF_SAMPLE_CALLCHAIN;
	c[2].sample_type =
		base | PERF_SAMPLE_CALLCHAIN | PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER;
	c[2].regs_mask = arch_regs_mask();
	return c;
}

/* Reads land here, so the compiler keeps them. */
static volatile uint64_t sink;

static void touch(const void *p, uint64_t n)
{
	const unsigned char *b = p;
	uint64_t sum = 0;

	for (uint64_t i = 0; i < n; i++)
		sum += b[i];
	sink += sum;
}

/* Read every byte a decoded record claims, as the session and the unwinder will. */
static void use(const struct perf_record *s)
{
	switch (s->type) {
	case PERF_RECORD_SAMPLE:
		if (s->u.s.callchain)
			touch(s->u.s.callchain, s->u.s.nr_callchain * 8);
		if (s->u.s.raw)
			touch(s->u.s.raw, s->u.s.raw_size);
		if (s->u.s.regs) {
			uint64_t regs[64], dwarf[ARCH_DWARF_NREGS], sp, fp, pc;
			size_t n = s->u.s.nr_regs < 64 ? s->u.s.nr_regs : 64;

			touch(s->u.s.regs, (uint64_t)s->u.s.nr_regs * 8);
			memcpy(regs, s->u.s.regs, n * 8);
			if (arch_dwarf_regs(regs, n, dwarf, &sp, &fp, &pc))
				sink += sp + fp + pc;
		}
		if (s->u.s.stack)
			touch(s->u.s.stack, s->u.s.stack_size);
		break;
	case PERF_RECORD_MMAP2:
		if (s->u.mmap.filename)
			sink += strlen(s->u.mmap.filename);
		break;
	case PERF_RECORD_COMM:
		if (s->u.comm.comm)
			sink += strlen(s->u.comm.comm);
		break;
	default:
		break;
	}
}

static void decode(const struct perf_event_header *rec, const struct config *c)
{
	struct perf_record s;

	sink += perf_record_time(rec, c->sample_type);
	if (perf_record_decode(rec, c->sample_type, c->regs_mask, &s) == 0)
		use(&s);
}

/* The size a stream record at data claims, or 0 when it cannot be framed. */
static size_t framed(const uint8_t *data, size_t left)
{
	struct perf_event_header h;

	if (left < sizeof(h))
		return 0;
	memcpy(&h, data, sizeof(h));
	return h.size >= sizeof(h) && h.size <= left ? h.size : 0;
}

static void decode_stream(const uint8_t *data, size_t size)
{
	const struct config *c = configs();
	size_t off = 0, n;

	while ((n = framed(data + off, size - off))) {
		struct perf_event_header *rec = malloc(n);

		if (!rec)
			abort();
		memcpy(rec, data + off, n);
		for (int i = 0; i < NCONFIGS; i++)
			decode(rec, &c[i]);
		free(rec);
		off += n;
	}
}

struct delivery {
	const struct config *c;
	uint64_t last_time; /* within one merge_round or merge_flush */
	size_t delivered;
};

/* A record with the reserved misc bit set stands for a consumer that fails. */
#define FAIL_MISC PERF_RECORD_MISC_EXT_RESERVED

static int deliver(void *ctx, const struct perf_event_header *rec)
{
	struct delivery *d = ctx;
	uint64_t t = perf_record_time(rec, d->c->sample_type);

	/* The merge's promise: each batch it hands out is in time order. */
	if (t < d->last_time)
		abort();
	d->last_time = t;
	d->delivered++;
	decode(rec, d->c);
	return rec->misc & FAIL_MISC ? -1 : 0;
}

#define CTL 4096 /* the control page, as the kernel sets data_offset */

/*
 * Play the kernel: write the stream into a ring of data_size bytes whose
 * reader starts at start, whole records at a time while they fit (a record
 * that cannot fit, or cannot be framed, goes in raw as far as there is
 * room), and drain it after each write as session.c does.
 */
static void ring_stream(const uint8_t *data, size_t size, size_t data_size, uint64_t start,
			const struct config *c)
{
	unsigned char *mem = calloc(1, CTL + data_size);
	struct perf_event_mmap_page *ctl = (struct perf_event_mmap_page *)(void *)mem;
	struct delivery d = {.c = c};
	const struct perf_event_header *rec;
	size_t off = 0, pushed = 0;
	uint64_t head = start;
	struct merge *m = merge_new(NULL, NULL);
	struct ring *r;

	if (!mem || !m)
		abort();
	ctl->data_offset = CTL;
	ctl->data_size = data_size;
	ctl->data_head = start;
	ctl->data_tail = start;
	r = ring_new_raw(mem, data_size);
	if (!r)
		abort();

	while (off < size) {
		size_t room = data_size - (size_t)(head - ctl->data_tail), n = 0, k;

		while (off + n < size && (k = framed(data + off + n, size - off - n)) &&
		       n + k <= room)
			n += k;
		if (n == 0)
			n = room < size - off ? room : size - off;
		for (size_t i = 0; i < n; i++)
			mem[CTL + ((head + i) & (data_size - 1))] = data[off + i];
		off += n;
		head += n;
		__atomic_store_n(&ctl->data_head, head, __ATOMIC_RELEASE);

		(void)ring_read_init(r);
		while ((rec = ring_next(r))) {
			if (rec->size < sizeof(*rec))
				abort();
			decode(rec, c);
			if (merge_push(m, rec, perf_record_time(rec, c->sample_type)) < 0)
				abort();
			pushed++;
		}
		ring_read_done(r);
		d.last_time = 0;
		(void)merge_round(m, deliver, &d);
	}
	/* Each failing delivery stops a flush; what is left comes out in the next. */
	for (size_t i = 0; merge_pending(m) && i <= pushed; i++) {
		d.last_time = 0;
		(void)merge_flush(m, deliver, &d);
	}
	if (merge_pending(m) || d.delivered != pushed)
		abort();
	merge_free(m);
	ring_free(r);
	free(mem);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct config *c = configs();

	/* Records are at most 64 KiB; a few of them make the point. */
	if (size > 1 << 18)
		return 0;
	decode_stream(data, size);
	/* Bodies wrap: a reader 24 bytes before the end of a small area. */
	ring_stream(data, size, 256, 256 - 24, &c[1]);
	/* Headers wrap too: 4 bytes before the end, where no kernel puts one. */
	ring_stream(data, size, 4096, 3 * 4096 - 4, &c[2]);
	/* Room for the largest DWARF-mode samples, reader at the start. */
	ring_stream(data, size, 1 << 16, 0, &c[0]);
	return 0;
}
