/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "lib/base/log.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

/* Sorted by name. */
static const struct command commands[] = {
	{"doctor", cmd_doctor, "check what profiling needs here and how to fix what is missing"},
	{"record", cmd_record, "sample a command, processes or the whole system into a profile"},
	{"report", cmd_report, "show a pprof profile (cprof's or Go's) in the terminal"},
	{"serve", cmd_serve, "serve profiles of the host over HTTP, as Go's net/http/pprof"},
	{"snapshot", cmd_snapshot, "every thread's stack right now, as Go's goroutine profile"},
	{"top", cmd_top, "a live view of the hottest functions, as perf top"},
};

static const char usage[] = "usage: cprof [-v | -q] COMMAND [ARGS]\n"
			    "       cprof --help | --version\n"
			    "\n"
			    "A sampling profiler for Linux: perf_event_open in, pprof out.\n"
			    "\n"
			    "Options:\n"
			    "  -v, --verbose   print more (repeat for debug messages)\n"
			    "  -q, --quiet     print errors only\n"
			    "  -h, --help      show this help\n"
			    "      --version   show the version\n"
			    "\n"
			    "Commands:\n";

static void print_usage(FILE *f)
{
	fputs(usage, f);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s  %s\n", commands[i].name, commands[i].summary);
	fputs("\nRun 'cprof COMMAND --help' for a command's options and examples.\n", f);
}

int cmd_fail(int err, const char *hint, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (hint)
		log_err("%s: %s; %s", what, strerror(err < 0 ? -err : err), hint);
	else
		log_err("%s: %s", what, strerror(err < 0 ? -err : err));
	return 1;
}

long cmd_sysctl(const char *path, long fallback)
{
	FILE *f = fopen(path, "re");
	long v = fallback;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = fallback;
		(void)fclose(f);
	}
	return v;
}

int cmd_usage_error(const char *cmd_usage, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_err("%s", msg);
	/* The synopsis is the usage text up to its first blank line. */
	const char *end = strstr(cmd_usage, "\n\n");

	fprintf(stderr, "%.*s\n", end ? (int)(end - cmd_usage) : (int)strlen(cmd_usage), cmd_usage);
	return EXIT_USAGE;
}

int cmd_option_error(const char *cmd_usage, int c, char **argv)
{
	if (c == ':')
		(void)cmd_usage_error(cmd_usage, "option '%s' needs a value", argv[optind - 1]);
	else
		(void)cmd_usage_error(cmd_usage, "unknown option '%s'", argv[optind - 1]);
	return -1;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{"verbose", no_argument, NULL, 'v'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{0},
	};
	int level = LOG_WARN, c;

	/* '+': stop at the command name; its options are its own. */
	while ((c = getopt_long(argc, argv, "+vqh", options, NULL)) != -1) {
		switch (c) {
		case 'v':
			level = level < LOG_DEBUG ? level + 1 : LOG_DEBUG;
			break;
		case 'q':
			level = LOG_ERR;
			break;
		case 'h':
			print_usage(stdout);
			return 0;
		case 'V':
			printf("cprof %s\n", CPROF_VERSION);
			return 0;
		default:
			print_usage(stderr);
			return EXIT_USAGE;
		}
	}
	log_set_level((enum log_level)level);
	if (optind >= argc) {
		print_usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[optind], commands[i].name) == 0)
			return commands[i].fn(argc - optind, argv + optind);
	log_err("'%s' is not a cprof command; see 'cprof --help'", argv[optind]);
	return EXIT_USAGE;
}
