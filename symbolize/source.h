/* SPDX-License-Identifier: MIT */
#ifndef CPROF_SYMBOLIZE_SOURCE_H
#define CPROF_SYMBOLIZE_SOURCE_H

#include <stdio.h>

/*
 * Finding the source file a profile names, as pprof's list and weblist
 * find it: the name trimmed (--trim-path prefixes, else the part after a
 * search directory's own name, and /proc/self/cwd/), then as an absolute
 * path, else under each --source-path directory and its parents; and when
 * that fails and DEBUGINFOD_URLS is set, debuginfod's source lookup by the
 * build id of the binary it was sampled in (libdebuginfod, loaded only
 * then). Only regular files are opened: a profile's names are not trusted.
 */
struct source_find {
	const char *search_path; /* ':'-separated; NULL: the current directory */
	const char *trim_path;	 /* ':'-separated prefixes, or NULL */
};

/* A stream on the file's text, or NULL with errno set (ENOENT: not found). */
FILE *source_find_open(const struct source_find *o, const char *file, const char *build_id);

#endif
