/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_BASE_UNITS_H
#define CPROF_LIB_BASE_UNITS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Values shown the way pprof shows them: a time in nanoseconds as "1.73s" or
 * "720ms", bytes as "12.50MB", counts as plain numbers; two decimals with
 * ".00" trimmed, and 0 as "0". A table uses one scale for every row: the
 * smallest any of its nonzero values would pick alone (pprof's "minimum"
 * output unit), so "1407.41ms" sits above "590.59ms".
 */

/* The scale value would pick on its own, for units_format_at. */
int units_scale(int64_t value, const char *unit);

/* Format value at scale (from units_scale; the smallest of a table's). */
void units_format_at(char *buf, size_t size, int64_t value, const char *unit, int scale);

/* Format value at its own scale. */
void units_format(char *buf, size_t size, int64_t value, const char *unit);

/* value as a share of total: "70.04%", "  100%", " 0.5%" (pprof's Percentage). */
void units_percent(char *buf, size_t size, int64_t value, int64_t total);

#endif
