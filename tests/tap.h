/* SPDX-License-Identifier: MIT */
#ifndef CPROF_TESTS_TAP_H
#define CPROF_TESTS_TAP_H

/*
 * The smallest TAP producer that does the job: ok(cond, "name", ...) prints
 * "ok N - name" or "not ok N - name" with where it failed, and tap_done()
 * prints the plan and returns the exit code. No framework.
 */

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static int tap_count, tap_failures;

static inline bool tap_ok(bool cond, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static inline bool tap_ok(bool cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond) {
		tap_failures++;
		printf("# failed at %s:%d\n", file, line);
	}
	(void)fflush(stdout);
	return cond;
}

#define ok(cond, ...) tap_ok((cond), __FILE__, __LINE__, __VA_ARGS__)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failures ? 1 : 0;
}

#endif
