/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_BASE_PARSE_H
#define CPROF_LIB_BASE_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Parse a whole decimal number in [min, max] into *ret. Leading and trailing
 * junk ("12abc", " 5", "") is rejected, unlike a bare strtoul.
 * Returns 0, -EINVAL when s is not a number, -ERANGE when out of range.
 */
int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *ret);

/*
 * Parse a size in bytes with an optional binary suffix ("4096", "512M",
 * "1GiB", "2g"; K, M, G, T are powers of 1024) into *ret, in [min, max].
 * Returns 0, -EINVAL or -ERANGE.
 */
int parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *ret);

/*
 * Parse a duration in seconds with an optional fraction ("10", "0.5") into
 * nanoseconds. Returns 0, -EINVAL or -ERANGE (zero and above a year).
 */
int parse_seconds(const char *s, uint64_t *ret_ns);

/*
 * Parse a list like "0-3,6" into a bitmap of ncpus entries (ret[i] true when
 * CPU i is listed). Returns 0, -EINVAL on bad syntax, -ERANGE for a CPU >= ncpus.
 */
int parse_cpu_list(const char *s, bool *ret, size_t ncpus);

/*
 * Parse a list of process or thread ids like "12,345" into *ret (caller
 * frees) and *ret_n. Returns 0, -EINVAL when an entry is not an id in
 * [1, INT32_MAX] or the list is empty, or -ENOMEM.
 */
int parse_id_list(const char *list, int32_t **ret, size_t *ret_n);

#endif
