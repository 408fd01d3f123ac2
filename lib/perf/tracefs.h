/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_PERF_TRACEFS_H
#define CPROF_LIB_PERF_TRACEFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Tracepoints as tracefs describes them: the id perf_event_open takes as
 * the config of a PERF_TYPE_TRACEPOINT event, and where each field of the
 * event's raw record lies. tracefs is looked for where the kernel puts it
 * (/sys/kernel/tracing, then /sys/kernel/debug/tracing), and believed only
 * when statfs says it is tracefs (or debugfs): the files are the kernel's.
 * cprof never mounts it; what to do when it is missing is the error.
 */

/* A field of a tracepoint's raw record. */
struct tracefs_field {
	uint32_t offset, size;
	bool is_signed;
};

/*
 * The id of tracepoint SYSTEM:EVENT ("sched", "sched_switch"). Returns 0
 * and *ret, or -ENODEV (tracefs is not mounted), -ENOENT (no such
 * tracepoint in this kernel), -EACCES (tracefs is root's: not readable),
 * -EINVAL (a name with '/' or "..").
 */
int tracefs_event_id(const char *system, const char *event, uint64_t *ret);

/*
 * Field name of the tracepoint's format. Returns 0 and *ret, the errors of
 * tracefs_event_id, or -ENOENT when the event has no such field.
 */
int tracefs_field(const char *system, const char *event, const char *name,
		  struct tracefs_field *ret);

/* The field's value in a raw record of raw_size bytes; 0 when the record is too short. */
int64_t tracefs_read(const struct tracefs_field *f, const void *raw, uint32_t raw_size);

#endif
