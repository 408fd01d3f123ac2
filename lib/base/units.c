/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lib/base/units.h"

struct scale {
	const char *name;
	double factor;
};

static const struct scale time_units[] = {
	{"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"hrs", 3600e9}, {NULL, 0},
};

static const struct scale byte_units[] = {
	{"B", 1},  {"kB", 1024.0}, {"MB", 1048576.0}, {"GB", 1073741824.0}, {"TB", 1099511627776.0},
	{NULL, 0},
};

static const struct scale *units_table(const char *unit)
{
	if (strcmp(unit, "nanoseconds") == 0)
		return time_units;
	if (strcmp(unit, "bytes") == 0)
		return byte_units;
	return NULL;
}

int units_scale(int64_t value, const char *unit)
{
	const struct scale *s = units_table(unit);
	int i = 0;

	if (!s)
		return 0;
	/* The largest unit the value reaches at least 1 of. */
	while (s[i + 1].name && fabs((double)value) >= s[i + 1].factor)
		i++;
	return i;
}

void units_format_at(char *buf, size_t size, int64_t value, const char *unit, int scale)
{
	const struct scale *s = units_table(unit);
	size_t len;

	if (value == 0 || !s) {
		(void)snprintf(buf, size, "%" PRId64, value);
		return;
	}
	(void)snprintf(buf, size, "%.2f", (double)value / s[scale].factor);
	len = strlen(buf);
	if (len > 3 && strcmp(buf + len - 3, ".00") == 0)
		buf[len - 3] = '\0';
	len = strlen(buf);
	(void)snprintf(buf + len, size - len, "%s", s[scale].name);
}

void units_format(char *buf, size_t size, int64_t value, const char *unit)
{
	units_format_at(buf, size, value, unit, units_scale(value, unit));
}

void units_percent(char *buf, size_t size, int64_t value, int64_t total)
{
	double ratio = total ? fabs((double)value / (double)total) * 100.0 : 0.0;

	if (ratio >= 99.95 && ratio <= 100.05)
		(void)snprintf(buf, size, "  100%%");
	else if (ratio >= 1.0)
		(void)snprintf(buf, size, "%5.2f%%", ratio);
	else
		(void)snprintf(buf, size, "%5.2g%%", ratio);
}
