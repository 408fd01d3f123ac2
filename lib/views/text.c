/* SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <stddef.h>

#include "lib/views/text.h"

/* Length of the valid UTF-8 sequence at s, or 0 when the bytes are not one. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0 && s[0] >= 0xc2)
		n = 2;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3;
	else if ((s[0] & 0xf8) == 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* Overlong three-byte forms and UTF-16 surrogates are not valid either. */
	if (n == 3 && ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0)))
		return 0;
	if (n == 4 && ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90)))
		return 0;
	return n;
}

enum mode { XML, DOT, FOLDED, LINE, TERM };

static void put(FILE *out, const char *str, enum mode mode)
{
	const unsigned char *s = (const unsigned char *)str;

	while (*s) {
		size_t n = utf8_len(s);

		if (n == 0) {
			fputs("\xef\xbf\xbd", out); /* U+FFFD */
			s++;
			continue;
		}
		if (n == 2 && mode == TERM && s[0] == 0xc2 && s[1] < 0xa0) {
			/* A C1 control (U+0080-U+009F): some terminals take U+009B for ESC [. */
			fprintf(out, "\\u%04x", s[1]);
			s += 2;
			continue;
		}
		if (n > 1) {
			fwrite(s, 1, n, out);
			s += n;
			continue;
		}
		switch (mode) {
		case XML:
			if (*s == '&')
				fputs("&amp;", out);
			else if (*s == '<')
				fputs("&lt;", out);
			else if (*s == '>')
				fputs("&gt;", out);
			else if (*s == '"')
				fputs("&quot;", out);
			else if (*s == '\'')
				fputs("&apos;", out);
			else if (*s < 0x20)
				fputc(' ', out); /* XML 1.0 allows no control characters */
			else
				fputc(*s, out);
			break;
		case DOT:
			if (*s == '"' || *s == '\\')
				fputc('\\', out);
			fputc(*s < 0x20 ? ' ' : *s, out);
			break;
		case FOLDED:
			fputc(*s == ';' ? ':' : *s < 0x20 ? ' ' : *s, out);
			break;
		case LINE:
			fputc(*s < 0x20 ? ' ' : *s, out);
			break;
		case TERM:
			if (*s < 0x20 || *s == 0x7f)
				fprintf(out, "\\x%02x", *s);
			else
				fputc(*s, out);
			break;
		}
		s++;
	}
}

void text_xml(FILE *out, const char *s)
{
	put(out, s, XML);
}

void text_dot(FILE *out, const char *s)
{
	put(out, s, DOT);
}

void text_folded(FILE *out, const char *s)
{
	put(out, s, FOLDED);
}

void text_line(FILE *out, const char *s)
{
	put(out, s, LINE);
}

void text_term(FILE *out, const char *s)
{
	put(out, s, TERM);
}
