/* SPDX-License-Identifier: MIT */
/*
 * JIT perf maps: the "START SIZE NAME" lines JITs write, as perf reads them
 * (tools/perf/Documentation/jit-interface.txt), and the file rules for
 * a map cprof finds for a process (here our own).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "symbolize/jitmap.h"
#include "tests/tap.h"

static const char *lookup(const char *text, uint64_t addr)
{
	static struct jitmap *m;

	jitmap_free(m);
	m = NULL;
	if (jitmap_parse(text, strlen(text), &m) < 0)
		return "<ENOMEM>";
	return jitmap_lookup(m, addr);
}

static bool is(const char *got, const char *want)
{
	if (!got || !want)
		return got == want;
	return strcmp(got, want) == 0;
}

static void parsing(void)
{
	/* node --perf-basic-prof writes bare hex; the JVM's agent too; some write 0x. */
	const char *node = "3ef414c0 398 LazyCompile:~main /app/x.js:1\n"
			   "0x3ef41a00 0x40 Builtin:ArgumentsAdaptorTrampoline\n";

	ok(is(lookup(node, 0x3ef414c0), "LazyCompile:~main /app/x.js:1"),
	   "a name runs to the end of its line, spaces and all");
	ok(is(lookup(node, 0x3ef414c0 + 0x397), "LazyCompile:~main /app/x.js:1"),
	   "the last byte of an entry is in it");
	ok(lookup(node, 0x3ef414c0 + 0x398) == NULL, "the byte after it is not");
	ok(lookup(node, 0x3ef414bf) == NULL, "nor the byte before");
	ok(is(lookup(node, 0x3ef41a3f), "Builtin:ArgumentsAdaptorTrampoline"),
	   "0x-prefixed fields are read too");
	ok(lookup("", 0x1000) == NULL, "an empty map names nothing");

	/* Lines a JIT did not write: skipped, the good ones around them kept. */
	ok(is(lookup("zz 10 bad\n1000 10 good\n2000\n3000 10\n4000 zz x\n", 0x1008), "good") &&
		   lookup("zz 10 bad\n1000 10 good\n2000\n3000 10\n4000 zz x\n", 0x3004) == NULL,
	   "malformed lines are skipped, not fatal");
	ok(lookup("11112222333344445 10 toolong\n", 0x1111222233334444ULL) == NULL,
	   "a start of more than 64 bits is refused, not wrapped");
	ok(is(lookup("1000 10 no newline at the end", 0x1001), "no newline at the end"),
	   "the last line needs no newline");
	ok(is(lookup("\t 1000\t10  \tindented\n", 0x1000), "indented"),
	   "blanks around the fields are skipped");

	/* Code replaced at the same addresses: the later entry is what runs now. */
	ok(is(lookup("1000 100 old\n1000 100 new\n", 0x1050), "new"),
	   "of two entries at one address the later wins");
	ok(is(lookup("1000 100 outer\n1040 10 inner\n", 0x1044), "inner") &&
		   is(lookup("1040 10 inner\n1000 100 outer\n", 0x1044), "outer"),
	   "of overlapping entries the later wins, whichever starts first");
	ok(is(lookup("1000 100 outer\n1040 10 inner\n", 0x1060), "outer"),
	   "past the later entry, the earlier one still covers");
	ok(lookup("1000 0 empty\n", 0x1000) == NULL, "a zero-size entry covers nothing");
	lookup("", 0); /* frees the last map */
}

/* Our own /tmp/perf-PID.map, written as a JIT in this process would. */
static void own_process(void)
{
	char path[64];
	struct jitmaps *j = NULL;
	const char *why = NULL;
	int fd;

	(void)snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)getpid());
	(void)unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (!ok(fd >= 0, "a perf map for this process can be written"))
		return;
	(void)!write(fd, "7000 20 jitted_fn\n", 18);
	(void)close(fd);
	ok(jitmaps_new(&j) == 0 && jitmaps_open(j, getpid()) == 0, "jitmaps_open finds it");
	ok(is(jitmaps_lookup(j, getpid(), 0x7010), "jitted_fn"), "and names its code");
	ok(jitmaps_lookup(j, getpid(), 0x8000) == NULL, "nothing outside it");
	ok(jitmaps_refused(j, &why) == 0 && why && !*why, "nothing refused");
	jitmaps_free(j);

	/* Writable by others: anyone could have put names in it. */
	j = NULL;
	(void)chmod(path, 0666);
	ok(jitmaps_new(&j) == 0 && jitmaps_open(j, getpid()) == 0, "a group/world-writable map");
	ok(jitmaps_lookup(j, getpid(), 0x7010) == NULL, "is not believed");
	ok(jitmaps_refused(j, &why) == 1 && why && strstr(why, path),
	   "and is counted, by name (%s)", why ? why : "");
	jitmaps_free(j);

	/* A symlink, even to a good file: the link's target is not the JIT's to choose. */
	j = NULL;
	{
		char target[80];

		(void)snprintf(target, sizeof(target), "%s.real", path);
		(void)rename(path, target);
		(void)chmod(target, 0644);
		ok(symlink(target, path) == 0, "a symlinked map");
		ok(jitmaps_new(&j) == 0 && jitmaps_open(j, getpid()) == 0 &&
			   jitmaps_lookup(j, getpid(), 0x7010) == NULL &&
			   jitmaps_refused(j, &why) == 1,
		   "is refused");
		jitmaps_free(j);
		(void)unlink(target);
	}
	(void)unlink(path);

	j = NULL;
	ok(jitmaps_new(&j) == 0 && jitmaps_open(j, getpid()) == 0 &&
		   jitmaps_lookup(j, getpid(), 0x7010) == NULL && jitmaps_refused(j, &why) == 0,
	   "no map: no names, no error, nothing refused");
	jitmaps_free(j);
}

int main(void)
{
	parsing();
	own_process();
	return tap_done();
}
