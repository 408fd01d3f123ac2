/* SPDX-License-Identifier: MIT */
#ifndef CPROF_LIB_VIEWS_TEXT_H
#define CPROF_LIB_VIEWS_TEXT_H

#include <stdio.h>

/*
 * Writing names into text formats safely: names come from binaries and may
 * hold any bytes. Invalid UTF-8 becomes U+FFFD everywhere, so XML and DOT
 * consumers never see a byte they reject.
 */

/* s with invalid UTF-8 replaced, XML-escaped (&<>"'), for SVG text and attributes. */
void text_xml(FILE *out, const char *s);

/* s for a DOT double-quoted string: quotes and backslashes escaped, invalid UTF-8 replaced. */
void text_dot(FILE *out, const char *s);

/* s for a folded-stack frame: ';' (the separator) becomes ':', control characters spaces. */
void text_folded(FILE *out, const char *s);

/* s on one line of text (perf-script): control characters become spaces, invalid UTF-8 U+FFFD. */
void text_line(FILE *out, const char *s);

/*
 * s for a terminal (top, traces, tree): control characters, DEL and C1
 * controls shown escaped (\x1b, \u009b), so a name from a hostile binary
 * cannot move the cursor, retitle the window or hide what follows.
 */
void text_term(FILE *out, const char *s);

#endif
