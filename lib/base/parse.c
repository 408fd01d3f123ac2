/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/parse.h"

int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	/* strtoull accepts leading blanks and a minus sign: neither is a count. */
	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

int parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	static const char units[] = "KMGT";
	unsigned long long v;
	const char *u;
	char *end;
	int shift = 0;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end && (u = strchr(units, toupper((unsigned char)*end)))) {
		shift = 10 * (int)(u - units + 1);
		end++;
		if (*end == 'i')
			end++;
		if (*end == 'B')
			end++;
	} else if (*end == 'B') {
		end++;
	}
	if (*end != '\0')
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	v <<= shift;
	if (v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

int parse_seconds(const char *s, uint64_t *ret_ns)
{
	static const uint64_t year_ns = 366ULL * 24 * 3600 * 1000000000ULL;
	uint64_t whole = 0, frac = 0, scale = 100000000ULL;
	const char *p = s;

	if (!s || (!isdigit((unsigned char)*p) && *p != '.'))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		whole = whole * 10 + (uint64_t)(*p - '0');
		if (whole > year_ns / 1000000000ULL)
			return -ERANGE;
	}
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		for (; isdigit((unsigned char)*p); p++) {
			frac += (uint64_t)(*p - '0') * scale;
			scale /= 10;
		}
	}
	if (*p != '\0')
		return -EINVAL;
	whole = whole * 1000000000ULL + frac;
	if (whole == 0 || whole > year_ns)
		return -ERANGE;
	*ret_ns = whole;
	return 0;
}

int parse_cpu_list(const char *s, bool *ret, size_t ncpus)
{
	const char *p = s;

	if (!s || !*s)
		return -EINVAL;
	memset(ret, 0, ncpus * sizeof(*ret));
	for (;;) {
		unsigned long lo, hi;
		char *end;

		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		lo = strtoul(p, &end, 10);
		hi = lo;
		p = end;
		if (*p == '-') {
			p++;
			if (!isdigit((unsigned char)*p))
				return -EINVAL;
			hi = strtoul(p, &end, 10);
			p = end;
			if (hi < lo)
				return -EINVAL;
		}
		if (hi >= ncpus)
			return -ERANGE;
		for (unsigned long c = lo; c <= hi; c++)
			ret[c] = true;
		if (*p == '\0')
			return 0;
		if (*p != ',')
			return -EINVAL;
		p++;
	}
}

int parse_id_list(const char *list, int32_t **ret, size_t *ret_n)
{
	char *copy = strdup(list), *tok, *save = NULL;
	int32_t *pids;
	size_t n = 0;

	if (!copy)
		return -ENOMEM;
	pids = calloc(strlen(list) / 2 + 1, sizeof(*pids));
	if (!pids) {
		free(copy);
		return -ENOMEM;
	}
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		uint64_t v;

		if (parse_uint(tok, 1, INT32_MAX, &v) < 0) {
			free(copy);
			free(pids);
			return -EINVAL;
		}
		pids[n++] = (int32_t)v;
	}
	free(copy);
	if (n == 0) {
		free(pids);
		return -EINVAL;
	}
	*ret = pids;
	*ret_n = n;
	return 0;
}
