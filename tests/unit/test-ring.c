/* SPDX-License-Identifier: MIT */
/*
 * The ring read protocol on a ring laid out as the kernel lays one out: a
 * control page, then a power-of-two data area that records wrap around.
 * The test plays the kernel: it writes records and moves data_head.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/perf_event.h>

#include "lib/perf/ring.h"
#include "tests/tap.h"

#define DATA 256
#define CTL 4096

static unsigned char *mem;
static uint64_t head;

static struct perf_event_mmap_page *ctl(void)
{
	return (struct perf_event_mmap_page *)(void *)mem;
}

/* Write a record of size bytes whose payload bytes are all fill, as the kernel would. */
static void produce(uint16_t size, unsigned char fill)
{
	unsigned char rec[512];
	struct perf_event_header h = {.type = PERF_RECORD_SAMPLE, .size = size};

	memset(rec, fill, size);
	memcpy(rec, &h, sizeof(h));
	for (uint16_t i = 0; i < size; i++)
		mem[CTL + ((head + i) & (DATA - 1))] = rec[i];
	head += size;
	__atomic_store_n(&ctl()->data_head, head, __ATOMIC_RELEASE);
}

static bool payload_is(const struct perf_event_header *h, uint16_t size, unsigned char fill)
{
	const unsigned char *p = (const unsigned char *)h;

	if (h->size != size)
		return false;
	for (uint16_t i = sizeof(*h); i < size; i++)
		if (p[i] != fill)
			return false;
	return true;
}

int main(void)
{
	const struct perf_event_header *h;
	struct ring *r;

	mem = aligned_alloc(4096, 2 * CTL); /* a size that is a multiple of the alignment */
	memset(mem, 0, CTL + DATA);
	ctl()->data_offset = CTL;
	ctl()->data_size = DATA;
	r = ring_new_raw(mem, DATA);
	ok(r != NULL, "ring over caller memory");

	ok(ring_read_init(r) == 0, "empty ring has nothing to read");
	ok(ring_next(r) == NULL, "no record in an empty ring");

	produce(64, 0xa1);
	produce(96, 0xb2);
	ok(ring_read_init(r) == 160, "two records waiting");
	h = ring_next(r);
	ok(h && payload_is(h, 64, 0xa1), "first record intact");
	h = ring_next(r);
	ok(h && payload_is(h, 96, 0xb2), "second record intact");
	ok(ring_next(r) == NULL, "nothing past the snapshot");
	ring_read_done(r);
	ok(ctl()->data_tail == 160, "data_tail published after the read");

	/* 160 + 80 = 240: the next 48-byte record straddles the end (16 bytes, then 32). */
	produce(80, 0xc3);
	produce(48, 0xd4);
	ok(ring_read_init(r) == 128, "records past the wrap point are visible");
	h = ring_next(r);
	ok(h && payload_is(h, 80, 0xc3), "record before the wrap");
	h = ring_next(r);
	ok(h && payload_is(h, 48, 0xd4), "record across the wrap comes out whole");
	ring_read_done(r);

	/* Read position 288 = 32 mod 256: a record ending exactly at the end, then one at 0. */
	produce(224, 0xe5);
	produce(24, 0xf6);
	ok(ring_read_init(r) == 248, "two more records, filling all but 8 bytes");
	h = ring_next(r);
	ok(h && payload_is(h, 224, 0xe5), "record ending at the very end of the area");
	h = ring_next(r);
	ok(h && payload_is(h, 24, 0xf6), "record starting at the very start after it");
	ring_read_done(r);

	/* A malformed size must not be followed into garbage. */
	{
		struct perf_event_header bad = {.type = PERF_RECORD_SAMPLE, .size = 4};

		memcpy(&mem[CTL + (head & (DATA - 1))], &bad, sizeof(bad));
		head += 8;
		__atomic_store_n(&ctl()->data_head, head, __ATOMIC_RELEASE);
		(void)ring_read_init(r);
		ok(ring_next(r) == NULL, "a record smaller than its header ends the read");
		ok(ring_corrupt(r) == 1, "and is counted");
		ring_read_done(r);
		ok(ctl()->data_tail == head, "the reader skipped past it");
	}
	/* Nor a size that is not a multiple of 8: the next record would be misaligned. */
	{
		struct perf_event_header odd = {.type = PERF_RECORD_SAMPLE, .size = 17};

		memcpy(&mem[CTL + (head & (DATA - 1))], &odd, sizeof(odd));
		head += 24;
		__atomic_store_n(&ctl()->data_head, head, __ATOMIC_RELEASE);
		(void)ring_read_init(r);
		ok(ring_next(r) == NULL, "a record whose size is not 8-aligned ends the read");
		ok(ring_corrupt(r) == 2, "and is counted");
		ring_read_done(r);
	}

	ring_free(r);
	free(mem);
	return tap_done();
}
