/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_BASE_LOG_H
#define CPROF_LIB_BASE_LOG_H

/*
 * Leveled logging to stderr. The level starts at LOG_WARN; cmd/ raises it
 * with -v and lowers it with -q. Library code (lib/, symbolize/, proto/)
 * logs at LOG_DEBUG only: errors travel up as negative errno and are
 * reported once, by cmd/.
 */

enum log_level {
	LOG_ERR,
	LOG_WARN,
	LOG_INFO,
	LOG_DEBUG,
};

/* Set the most verbose level that is printed. Not thread-safe. */
void log_set_level(enum log_level level);

/* The current level. */
enum log_level log_get_level(void);

/* Print "cprof: MESSAGE\n" to stderr when level is enabled. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
