/* SPDX-License-Identifier: MIT */
/*
 * A main() for a fuzz target outside libFuzzer, so every build (gcc or
 * clang, plain or with ASan+UBSan) replays the seed corpora and the crash
 * regressions as an ordinary test:
 *
 *	fuzz-pprof-corpus FILE|DIR...
 *
 * runs LLVMFuzzerTestOneInput once on each file named, and on each file in
 * each directory named (sorted, dot files skipped, not recursive), printing
 * TAP: "ok N - FILE". A target that crashes ends the run, as it would under
 * libFuzzer; a file that cannot be read is "not ok".
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/fuzz/fuzz.h"

static int count, failures;

static void report(const char *path, int err)
{
	count++;
	if (!err) {
		printf("ok %d - %s\n", count, path);
	} else {
		failures++;
		printf("not ok %d - %s # %s\n", count, path, strerror(err));
	}
	/* The line is out before the next input, which may crash the process. */
	(void)fflush(stdout);
}

/*
 * Read all of path into a buffer of exactly its size, so that ASan sees a
 * read past the input. Returns 0 or an errno.
 */
static int read_all(const char *path, uint8_t **ret, size_t *ret_size)
{
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return errno;
	for (;;) {
		ssize_t n;

		if (len == cap) {
			uint8_t *b = realloc(buf, cap ? cap * 2 : 4096);

			if (!b) {
				err = ENOMEM;
				break;
			}
			buf = b;
			cap = cap ? cap * 2 : 4096;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	(void)close(fd);
	if (err) {
		free(buf);
		return err;
	}
	/* Trim to the size: the slack after the data would hide overreads. */
	*ret = malloc(len ? len : 1);
	if (!*ret) {
		free(buf);
		return ENOMEM;
	}
	if (len)
		memcpy(*ret, buf, len);
	free(buf);
	*ret_size = len;
	return 0;
}

static void run_file(const char *path)
{
	uint8_t *data = NULL;
	size_t size = 0;
	int err = read_all(path, &data, &size);

	if (!err) {
		(void)LLVMFuzzerTestOneInput(data, size);
		free(data);
	}
	report(path, err);
}

static int visible_file(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

static void run_dir(const char *dir)
{
	struct dirent **names;
	int n = scandir(dir, &names, visible_file, alphasort);

	if (n < 0) {
		report(dir, errno);
		return;
	}
	for (int i = 0; i < n; i++) {
		size_t len = strlen(dir) + strlen(names[i]->d_name) + 2;
		char *path = malloc(len);
		struct stat st;

		if (!path) {
			report(names[i]->d_name, ENOMEM);
		} else {
			(void)snprintf(path, len, "%s/%s", dir, names[i]->d_name);
			if (stat(path, &st) != 0)
				report(path, errno);
			else if (S_ISREG(st.st_mode))
				run_file(path);
		}
		free(path);
		free(names[i]);
	}
	free(names);
}

int main(int argc, char **argv)
{
	struct stat st;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		if (stat(argv[i], &st) != 0)
			report(argv[i], errno);
		else if (S_ISDIR(st.st_mode))
			run_dir(argv[i]);
		else
			run_file(argv[i]);
	}
	if (count == 0) {
		printf("1..0 # SKIP no inputs\n");
		return 0;
	}
	printf("1..%d\n", count);
	return failures ? 1 : 0;
}
