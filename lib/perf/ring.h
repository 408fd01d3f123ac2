/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_PERF_RING_H
#define CPROF_LIB_PERF_RING_H

#include <stddef.h>
#include <stdint.h>

#include <linux/perf_event.h>

/*
 * One perf ring buffer, read with libperf's protocol:
 *
 *	ring_read_init(r);			snapshot data_head (acquire)
 *	while ((ev = ring_next(r)))		records up to the snapshot
 *		use(ev);			valid until the next ring_next
 *	ring_read_done(r);			publish data_tail (release)
 *
 * A record that wraps past the end of the data area is copied into a buffer
 * the ring owns, so callers always see it contiguous.
 */
struct ring;

/*
 * Map the ring of perf event fd with data_pages pages of data (a power of
 * two) after the control page. Returns 0 and *ret (caller owns; free with
 * ring_free), or a negative errno from mmap.
 */
int ring_open(int fd, size_t data_pages, struct ring **ret);

/*
 * Wrap an existing control page followed by data_size bytes of data (a power
 * of two), e.g. one built by a test. The memory stays the caller's.
 * Returns NULL when out of memory.
 */
struct ring *ring_new_raw(void *base, size_t data_size);

/* Unmap (when ring_open mapped it) and free. NULL-safe. */
void ring_free(struct ring *r);

/* Snapshot the kernel's write position. Returns the bytes waiting to be read. */
size_t ring_read_init(struct ring *r);

/*
 * The next whole record before the snapshot, or NULL when there is none.
 * Borrowed: valid until the next ring_next or ring_read_done. A record whose
 * header is impossible (size below the header, or past the snapshot) ends
 * the read and counts in ring_corrupt().
 */
const struct perf_event_header *ring_next(struct ring *r);

/* Hand everything returned so far back to the kernel. */
void ring_read_done(struct ring *r);

/* How many times the reader found a malformed record and skipped the rest. */
uint64_t ring_corrupt(const struct ring *r);

#endif
