/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/perf/ring.h"

struct ring {
	struct perf_event_mmap_page *ctl;
	size_t map_size; /* 0 when the memory is not ours */
	const unsigned char *data;
	size_t size;	     /* of the data area, a power of two */
	uint64_t head;	     /* snapshot of data_head */
	uint64_t pos;	     /* next record to return */
	unsigned char *copy; /* a wrapped record, made contiguous */
	size_t copy_cap;
	uint64_t corrupt;
};

static struct ring *ring_alloc(void *base, size_t data_size)
{
	struct ring *r = calloc(1, sizeof(*r));
	struct perf_event_mmap_page *ctl = base;

	if (!r)
		return NULL;
	r->ctl = ctl;
	/* Kernels since 4.1 say where the data lives; older ones use the next page. */
	if (ctl->data_offset && ctl->data_size) {
		r->data = (const unsigned char *)base + ctl->data_offset;
		r->size = ctl->data_size;
	} else {
		r->data = (const unsigned char *)base + sysconf(_SC_PAGESIZE);
		r->size = data_size;
	}
	r->pos = ctl->data_tail;
	r->head = r->pos;
	return r;
}

int ring_open(int fd, size_t data_pages, struct ring **ret)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t len = (data_pages + 1) * page;
	struct ring *r;
	void *base;

	if (data_pages == 0 || (data_pages & (data_pages - 1)))
		return -EINVAL;
	base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED)
		return -errno;
	r = ring_alloc(base, data_pages * page);
	if (!r) {
		(void)munmap(base, len);
		return -ENOMEM;
	}
	r->map_size = len;
	*ret = r;
	return 0;
}

struct ring *ring_new_raw(void *base, size_t data_size)
{
	return ring_alloc(base, data_size);
}

void ring_free(struct ring *r)
{
	if (!r)
		return;
	if (r->map_size)
		(void)munmap(r->ctl, r->map_size);
	free(r->copy);
	free(r);
}

size_t ring_read_init(struct ring *r)
{
	/* Pairs with the kernel's store-release of data_head: the records below it are visible. */
	r->head = __atomic_load_n(&r->ctl->data_head, __ATOMIC_ACQUIRE);
	return (size_t)(r->head - r->pos);
}

const struct perf_event_header *ring_next(struct ring *r)
{
	struct perf_event_header hdr;
	size_t mask = r->size - 1, off, avail = (size_t)(r->head - r->pos), first;

	if (avail < sizeof(hdr))
		return NULL;
	off = r->pos & mask;

	/* The header itself may straddle the end of the data area. */
	first = r->size - off;
	if (first >= sizeof(hdr)) {
		memcpy(&hdr, r->data + off, sizeof(hdr));
	} else {
		memcpy(&hdr, r->data + off, first);
		memcpy((unsigned char *)&hdr + first, r->data, sizeof(hdr) - first);
	}
	if (hdr.size < sizeof(hdr) || hdr.size > avail || (hdr.size & 7)) {
		/*
		 * Nothing after a bad size can be framed: drop the rest of this read.
		 * The kernel pads every record to 8 bytes; an odd size would hand the
		 * next one out misaligned.
		 */
		r->corrupt++;
		r->pos = r->head;
		return NULL;
	}

	r->pos += hdr.size;
	/* The kernel keeps records 8-aligned; one that is not is handed out as an aligned copy. */
	if (first >= hdr.size && !(off & 7))
		return (const struct perf_event_header *)(r->data + off);

	/* The record wraps: copy both halves out so the caller sees it whole. */
	if (r->copy_cap < hdr.size) {
		unsigned char *c = realloc(r->copy, hdr.size);

		if (!c) {
			r->corrupt++;
			return NULL;
		}
		r->copy = c;
		r->copy_cap = hdr.size;
	}
	if (first >= hdr.size) {
		memcpy(r->copy, r->data + off, hdr.size);
	} else {
		memcpy(r->copy, r->data + off, first);
		memcpy(r->copy + first, r->data, hdr.size - first);
	}
	return (const struct perf_event_header *)r->copy;
}

void ring_read_done(struct ring *r)
{
	/* Our reads of the records happen before the kernel may overwrite them. */
	__atomic_store_n(&r->ctl->data_tail, r->pos, __ATOMIC_RELEASE);
}

uint64_t ring_corrupt(const struct ring *r)
{
	return r->corrupt;
}
