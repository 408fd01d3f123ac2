/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_PERF_DECODE_H
#define CPROF_LIB_PERF_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include <linux/perf_event.h>

/*
 * Decoding of PERF_RECORD_* records as the kernel lays them out for the
 * sample_type cprof asks for (DESIGN.md: sample_id_all, so every record
 * carries pid, tid, time and cpu). Decoded records point into the raw
 * record: they are borrowed and live as long as it does.
 */

/* The sample_type bits the decoder understands; others make decoding fail. */
#define RECORD_SAMPLE_TYPES_KNOWN                                                        \
	(PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME |  \
	 PERF_SAMPLE_ID | PERF_SAMPLE_STREAM_ID | PERF_SAMPLE_CPU | PERF_SAMPLE_PERIOD | \
	 PERF_SAMPLE_CALLCHAIN | PERF_SAMPLE_RAW | PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER)

#define RECORD_BUILD_ID_MAX 20

struct perf_record {
	uint32_t type; /* PERF_RECORD_* */
	uint16_t misc;
	/* From the sample itself or the sample_id trailer; -1 or 0 when absent. */
	int32_t pid, tid;
	uint64_t time;
	uint32_t cpu;
	uint64_t id;
	union {
		struct {
			uint64_t ip;
			uint64_t period;
			const uint64_t *callchain; /* with PERF_CONTEXT_* markers */
			uint64_t nr_callchain;
			const void *raw;
			uint32_t raw_size;
			uint64_t regs_abi;    /* PERF_SAMPLE_REGS_ABI_*, 0: no registers */
			const uint64_t *regs; /* in sample_regs_user bit order */
			uint32_t nr_regs;
			const void *stack;   /* copy of the user stack from the sampled sp */
			uint64_t stack_size; /* bytes valid in stack (dyn_size) */
		} s;
		struct {
			uint64_t addr, len, pgoff;
			uint32_t prot, flags;
			uint32_t maj, min;
			uint64_t ino, ino_generation;
			uint8_t build_id_size; /* 0 without PERF_RECORD_MISC_MMAP_BUILD_ID */
			uint8_t build_id[RECORD_BUILD_ID_MAX];
			const char *filename;
		} mmap;
		struct {
			const char *comm;
		} comm;
		struct {
			int32_t ppid, ptid; /* PERF_RECORD_FORK and _EXIT */
		} task;
		struct {
			uint64_t lost;
		} lost;
	} u;
};

/*
 * Decode one record. sample_type and regs_mask are the attr's sample_type and
 * sample_regs_user. Returns 0, or -EINVAL when the record is shorter than
 * its fields say (nothing in *ret is then meaningful), -ENOTSUP for a
 * sample_type outside RECORD_SAMPLE_TYPES_KNOWN.
 */
int perf_record_decode(const struct perf_event_header *hdr, uint64_t sample_type,
		       uint64_t regs_mask, struct perf_record *ret);

/*
 * The timestamp of a record without decoding all of it, for the time-ordered
 * merge. Returns 0 when the record has none (PERF_RECORD_FINISHED_ROUND…).
 */
uint64_t perf_record_time(const struct perf_event_header *hdr, uint64_t sample_type);

/*
 * The PERF_SAMPLE_IDENTIFIER of a record, where the kernel puts it for
 * every record kind: first in a sample, last in the sample_id trailer of
 * the others. Returns 0 when sample_type has none or the record is too short.
 */
uint64_t perf_record_id(const struct perf_event_header *hdr, uint64_t sample_type);

#endif
