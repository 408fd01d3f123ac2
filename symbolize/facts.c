/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/cache.h"
#include "symbolize/facts.h"

#define FACTS_PREFIX "facts-"
#define FACTS_MAX_TOTAL ((uint64_t)16 << 20) /* all of them: the oldest go first */

/* Bumped whenever what is kept, or how it is found, changes. */
static const char facts_magic[8] = "cproffc1";

enum {
	FACT_CFI_KNOWN = 1 << 0,
	FACT_CFI_SANE = 1 << 1,
	FACT_CLASSES_KNOWN = 1 << 2,
};

struct saved_header {
	char magic[8];
	char build_id[48];
	struct facts_id id;
	uint32_t flags, nclasses;
};

struct saved_class {
	uint64_t start, end;
	uint32_t class, unused;
};

static void file_name(char out[sizeof(FACTS_PREFIX) + 48], const char *build_id)
{
	(void)snprintf(out, sizeof(FACTS_PREFIX) + 48, FACTS_PREFIX "%s", build_id);
}

static bool usable_id(const char *build_id)
{
	return *build_id && strlen(build_id) < 48 &&
	       strspn(build_id, "0123456789abcdef") == strlen(build_id);
}

int facts_parse(const void *data, size_t len, const char *build_id, const struct facts_id *id,
		struct file_facts *ret)
{
	const unsigned char *p = data;
	struct saved_header h;

	*ret = (struct file_facts){0};
	if (len < sizeof(h))
		return -EBADMSG;
	memcpy(&h, p, sizeof(h));
	if (memcmp(h.magic, facts_magic, sizeof(h.magic)) != 0 ||
	    strncmp(h.build_id, build_id, sizeof(h.build_id)) != 0 ||
	    h.flags & ~(uint32_t)(FACT_CFI_KNOWN | FACT_CFI_SANE | FACT_CLASSES_KNOWN) ||
	    h.nclasses > FACTS_MAX_CLASSES ||
	    len != sizeof(h) + (size_t)h.nclasses * sizeof(struct saved_class))
		return -EBADMSG;
	if (memcmp(&h.id, id, sizeof(h.id)) != 0)
		return -ESTALE;
	if (h.nclasses && !(h.flags & FACT_CLASSES_KNOWN))
		return -EBADMSG;
	if (h.nclasses && !(ret->classes = calloc(h.nclasses, sizeof(*ret->classes))))
		return -ENOMEM;
	for (size_t i = 0; i < h.nclasses; i++) {
		struct saved_class sc;

		memcpy(&sc, p + sizeof(h) + i * sizeof(sc), sizeof(sc));
		if (sc.start >= sc.end || (sc.class != FN_ENTRY && sc.class != FN_SWITCH)) {
			facts_release(ret);
			return -EBADMSG;
		}
		ret->classes[i] = (struct fn_range){sc.start, sc.end, (enum fn_class)sc.class};
	}
	ret->nclasses = h.nclasses;
	ret->cfi_known = h.flags & FACT_CFI_KNOWN;
	ret->cfi_sane = ret->cfi_known && (h.flags & FACT_CFI_SANE);
	ret->classes_known = h.flags & FACT_CLASSES_KNOWN;
	return 0;
}

int facts_load(struct cache *c, const char *build_id, const struct facts_id *id,
	       struct file_facts *ret)
{
	char name[sizeof(FACTS_PREFIX) + 48];
	char *data;
	size_t len;
	int r;

	*ret = (struct file_facts){0};
	if (!c || !usable_id(build_id))
		return -ENOENT;
	file_name(name, build_id);
	r = cache_read(c, name,
		       sizeof(struct saved_header) + FACTS_MAX_CLASSES * sizeof(struct saved_class),
		       &data, &len);
	if (r < 0)
		return r;
	r = facts_parse(data, len, build_id, id, ret);
	free(data);
	if (r == 0)
		cache_touch(c, name);
	return r;
}

int facts_save(struct cache *c, const char *build_id, const struct facts_id *id,
	       const struct file_facts *f)
{
	char name[sizeof(FACTS_PREFIX) + 48];
	struct saved_header h = {0};
	size_t n = f->classes_known ? f->nclasses : 0, size;
	unsigned char *buf;
	int r;

	if (!c || !usable_id(build_id) || n > FACTS_MAX_CLASSES)
		return 0;
	memcpy(h.magic, facts_magic, sizeof(h.magic));
	(void)snprintf(h.build_id, sizeof(h.build_id), "%s", build_id);
	h.id = *id;
	h.flags = (f->cfi_known ? FACT_CFI_KNOWN : 0) |
		  (f->cfi_known && f->cfi_sane ? FACT_CFI_SANE : 0) |
		  (f->classes_known ? FACT_CLASSES_KNOWN : 0);
	h.nclasses = (uint32_t)n;
	size = sizeof(h) + n * sizeof(struct saved_class);
	buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, &h, sizeof(h));
	for (size_t i = 0; i < n; i++) {
		struct saved_class sc = {f->classes[i].start, f->classes[i].end,
					 (uint32_t)f->classes[i].class, 0};

		memcpy(buf + sizeof(h) + i * sizeof(sc), &sc, sizeof(sc));
	}
	file_name(name, build_id);
	r = cache_write(c, name, buf, size);
	free(buf);
	if (r == 0)
		r = cache_trim(c, FACTS_PREFIX, FACTS_MAX_TOTAL);
	return r;
}

void facts_release(struct file_facts *f)
{
	free(f->classes);
	*f = (struct file_facts){0};
}
