/* SPDX-License-Identifier: MIT */
/* Record decoding against records laid out by hand from the perf_event_open(2) ABI. */
#include <errno.h>
#include <string.h>

#include <linux/perf_event.h>

#include "lib/perf/decode.h"
#include "tests/tap.h"

#define TYPE                                                                     \
	(PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU | \
	 PERF_SAMPLE_PERIOD | PERF_SAMPLE_CALLCHAIN)

#define TYPE_NO_CHAIN (TYPE & ~(uint64_t)PERF_SAMPLE_CALLCHAIN)

/* A record under construction: a header, then u64/u32 fields appended in order. */
struct builder {
	union {
		unsigned char bytes[1024];
		struct perf_event_header hdr;
	} u;
	size_t len;
};

static void start(struct builder *b, uint32_t type, uint16_t misc)
{
	memset(b, 0, sizeof(*b));
	b->u.hdr.type = type;
	b->u.hdr.misc = misc;
	b->len = sizeof(b->u.hdr);
}

static void put(struct builder *b, const void *p, size_t n)
{
	memcpy(b->u.bytes + b->len, p, n);
	b->len += n;
}

static void u64(struct builder *b, uint64_t v)
{
	put(b, &v, 8);
}

static void u32x2(struct builder *b, uint32_t a, uint32_t c)
{
	put(b, &a, 4);
	put(b, &c, 4);
}

/* A string padded with NULs to a multiple of 8, as the kernel pads filenames and comms. */
static void str(struct builder *b, const char *s)
{
	size_t n = (strlen(s) + 1 + 7) & ~(size_t)7;

	memset(b->u.bytes + b->len, 0, n);
	memcpy(b->u.bytes + b->len, s, strlen(s));
	b->len += n;
}

/* sample_id_all's trailer for TYPE: pid/tid, time, cpu/res. */
static void trailer(struct builder *b, uint32_t pid, uint32_t tid, uint64_t time, uint32_t cpu)
{
	u32x2(b, pid, tid);
	u64(b, time);
	u32x2(b, cpu, 0);
}

static const struct perf_event_header *finish(struct builder *b)
{
	b->u.hdr.size = (uint16_t)b->len;
	return &b->u.hdr;
}

int main(void)
{
	const struct perf_event_header *h;
	struct builder b;
	struct perf_record s;

	/* A sample with a kernel and a user part. */
	start(&b, PERF_RECORD_SAMPLE, PERF_RECORD_MISC_KERNEL);
	u64(&b, 0xffffffff81000010ULL); /* ip */
	u32x2(&b, 100, 101);		/* pid, tid */
	u64(&b, 123456789);		/* time */
	u32x2(&b, 1, 0);		/* cpu, res */
	u64(&b, 1001001);		/* period */
	u64(&b, 5);			/* nr */
	u64(&b, PERF_CONTEXT_KERNEL);
	u64(&b, 0xffffffff81000010ULL);
	u64(&b, PERF_CONTEXT_USER);
	u64(&b, 0x401000);
	u64(&b, 0x402000);
	h = finish(&b);
	ok(perf_record_decode(h, TYPE, 0, &s) == 0, "sample decodes");
	ok(s.type == PERF_RECORD_SAMPLE && s.pid == 100 && s.tid == 101, "pid and tid");
	ok(s.time == 123456789 && s.cpu == 1, "time and cpu");
	ok(s.u.s.ip == 0xffffffff81000010ULL && s.u.s.period == 1001001, "ip and period");
	ok(s.u.s.nr_callchain == 5 && s.u.s.callchain[1] == 0xffffffff81000010ULL &&
		   s.u.s.callchain[4] == 0x402000,
	   "callchain with its context markers");
	ok(perf_record_time(h, TYPE) == 123456789, "perf_record_time finds a sample's time");

	/* The same sample cut short inside the callchain. */
	b.len -= 16;
	h = finish(&b);
	ok(perf_record_decode(h, TYPE, 0, &s) == -EINVAL,
	   "a callchain longer than the record is rejected");

	/* A callchain count that would overflow the record. */
	start(&b, PERF_RECORD_SAMPLE, 0);
	u64(&b, 1);
	u32x2(&b, 1, 1);
	u64(&b, 1);
	u32x2(&b, 0, 0);
	u64(&b, 1);
	u64(&b, UINT64_MAX / 4);
	h = finish(&b);
	ok(perf_record_decode(h, TYPE, 0, &s) == -EINVAL, "an absurd callchain count is rejected");

	/* MMAP2 with a build id (Linux 5.12+). */
	start(&b, PERF_RECORD_MMAP2, PERF_RECORD_MISC_USER | PERF_RECORD_MISC_MMAP_BUILD_ID);
	u32x2(&b, 200, 201);
	u64(&b, 0x7f0000001000ULL);
	u64(&b, 0x2000);
	u64(&b, 0x1000);
	{
		unsigned char bid[24] = {20, 0, 0, 0};

		for (int i = 0; i < 20; i++)
			bid[4 + i] = (unsigned char)(0xa0 + i);
		put(&b, bid, sizeof(bid));
	}
	u32x2(&b, 5, 2); /* prot, flags */
	str(&b, "/usr/lib/libfoo.so");
	trailer(&b, 200, 201, 555, 0);
	h = finish(&b);
	ok(perf_record_decode(h, TYPE, 0, &s) == 0, "mmap2 with build id decodes");
	ok(s.pid == 200 && s.u.mmap.addr == 0x7f0000001000ULL && s.u.mmap.len == 0x2000 &&
		   s.u.mmap.pgoff == 0x1000,
	   "mmap2 range and offset");
	ok(s.u.mmap.build_id_size == 20 && s.u.mmap.build_id[0] == 0xa0 &&
		   s.u.mmap.build_id[19] == 0xa0 + 19,
	   "mmap2 build id");
	ok(s.u.mmap.prot == 5 && strcmp(s.u.mmap.filename, "/usr/lib/libfoo.so") == 0,
	   "mmap2 prot and file name");
	ok(s.time == 555, "the sample_id trailer gives the time");
	ok(perf_record_time(h, TYPE) == 555, "perf_record_time reads the trailer");

	/* MMAP2 with device and inode. */
	start(&b, PERF_RECORD_MMAP2, PERF_RECORD_MISC_USER);
	u32x2(&b, 300, 300);
	u64(&b, 0x400000);
	u64(&b, 0x1000);
	u64(&b, 0);
	u32x2(&b, 8, 1); /* maj, min */
	u64(&b, 4242);	 /* ino */
	u64(&b, 7);	 /* ino_generation */
	u32x2(&b, 5, 2);
	str(&b, "/bin/true");
	trailer(&b, 300, 300, 556, 1);
	h = finish(&b);
	ok(perf_record_decode(h, TYPE, 0, &s) == 0 && s.u.mmap.build_id_size == 0 &&
		   s.u.mmap.maj == 8 && s.u.mmap.min == 1 && s.u.mmap.ino == 4242 &&
		   strcmp(s.u.mmap.filename, "/bin/true") == 0 && s.cpu == 1,
	   "mmap2 with device and inode");

	/* A file name without its NUL inside the record. */
	b.len = sizeof(b.u.hdr) + 8 + 24 + 24 + 8;
	memset(b.u.bytes + b.len, 'x', 8);
	b.len += 8;
	trailer(&b, 300, 300, 556, 1);
	h = finish(&b);
	ok(perf_record_decode(h, TYPE, 0, &s) == -EINVAL, "an unterminated file name is rejected");

	/* COMM at exec. */
	start(&b, PERF_RECORD_COMM, PERF_RECORD_MISC_COMM_EXEC);
	u32x2(&b, 400, 400);
	str(&b, "server");
	trailer(&b, 400, 400, 600, 0);
	h = finish(&b);
	ok(perf_record_decode(h, TYPE, 0, &s) == 0 && strcmp(s.u.comm.comm, "server") == 0 &&
		   (s.misc & PERF_RECORD_MISC_COMM_EXEC) && s.time == 600,
	   "comm at exec");

	/* FORK of a thread. */
	start(&b, PERF_RECORD_FORK, 0);
	u32x2(&b, 500, 500); /* pid, ppid */
	u32x2(&b, 501, 500); /* tid, ptid */
	u64(&b, 700);
	trailer(&b, 500, 501, 700, 0);
	h = finish(&b);
	ok(perf_record_decode(h, TYPE, 0, &s) == 0 && s.pid == 500 && s.tid == 501 &&
		   s.u.task.ppid == 500 && s.u.task.ptid == 500 && s.time == 700,
	   "fork of a thread");

	/* LOST. */
	start(&b, PERF_RECORD_LOST, 0);
	u64(&b, 1);
	u64(&b, 17);
	trailer(&b, 0, 0, 800, 0);
	h = finish(&b);
	ok(perf_record_decode(h, TYPE, 0, &s) == 0 && s.u.lost.lost == 17, "lost records");

	/* A record shorter than its trailer. */
	start(&b, PERF_RECORD_EXIT, 0);
	u64(&b, 1);
	h = finish(&b);
	ok(perf_record_decode(h, TYPE, 0, &s) == -EINVAL, "a record shorter than its trailer");
	ok(perf_record_decode(h, TYPE | PERF_SAMPLE_BRANCH_STACK, 0, &s) == -ENOTSUP,
	   "an unknown sample_type bit is refused, not guessed at");
	/* PERF_SAMPLE_IDENTIFIER: first in a sample, last in the trailer of the others. */
	start(&b, PERF_RECORD_SAMPLE, PERF_RECORD_MISC_USER);
	u64(&b, 0xabc);	   /* identifier */
	u64(&b, 0x401000); /* ip */
	u32x2(&b, 7, 8);
	u64(&b, 900); /* time */
	u32x2(&b, 0, 0);
	u64(&b, 1);
	h = finish(&b);
	ok(perf_record_id(h, PERF_SAMPLE_IDENTIFIER | TYPE_NO_CHAIN) == 0xabc &&
		   perf_record_time(h, PERF_SAMPLE_IDENTIFIER | TYPE_NO_CHAIN) == 900,
	   "a sample's identifier comes first, and its time after ip and tid");
	ok(perf_record_decode(h, PERF_SAMPLE_IDENTIFIER | TYPE_NO_CHAIN, 0, &s) == 0 &&
		   s.id == 0xabc && s.u.s.ip == 0x401000 && s.tid == 8,
	   "and the decoder reads the same");
	ok(perf_record_id(h, TYPE_NO_CHAIN) == 0, "no identifier asked for: none");
	start(&b, PERF_RECORD_COMM, 0);
	u32x2(&b, 7, 7);
	str(&b, "worker");
	trailer(&b, 7, 7, 901, 1);
	u64(&b, 0xdef);
	h = finish(&b);
	ok(perf_record_id(h, PERF_SAMPLE_IDENTIFIER | TYPE_NO_CHAIN) == 0xdef &&
		   perf_record_time(h, PERF_SAMPLE_IDENTIFIER | TYPE_NO_CHAIN) == 901,
	   "another record's identifier ends its trailer");
	start(&b, PERF_RECORD_SAMPLE, 0);
	h = finish(&b);
	ok(perf_record_id(h, PERF_SAMPLE_IDENTIFIER) == 0, "a bare header has no identifier");

	return tap_done();
}
