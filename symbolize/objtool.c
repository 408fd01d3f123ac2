/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <regex.h>

#include "lib/base/vec.h"
#include "symbolize/internal.h"
#include "symbolize/objtool.h"

/* objdump's limits: a binary that makes it loop or balloon is cut off. */
#define OBJDUMP_CPU_SECONDS 60
#define OBJDUMP_MEMORY ((rlim_t)2 << 30)

struct objtool {
	struct elfcache *files;
};

int objtool_new(struct objtool **ret)
{
	struct objtool *t = calloc(1, sizeof(*t));
	int r;

	if (!t)
		return -ENOMEM;
	r = elfcache_new(NULL, NULL, &t->files);
	if (r < 0) {
		free(t);
		return r;
	}
	*ret = t;
	return 0;
}

void objtool_free(struct objtool *t)
{
	if (!t)
		return;
	elfcache_free(t->files);
	free(t);
}

/* Mapping id's file, and the bias from its own addresses to the profile's. */
static struct elf_file *mapping_file(struct objtool *t, const struct profile *p, uint32_t id,
				     int64_t *ret_bias)
{
	const struct profile_mapping *m = profile_mapping(p, id);
	struct elf_file *f;
	uint64_t vaddr;

	if (!m || (m->flags & (PROFILE_MAPPING_KERNEL | PROFILE_MAPPING_ANON)))
		return NULL;
	f = elfcache_lookup(t->files, profile_str(p, m->file), profile_str(p, m->build_id), m->pid,
			    m->start, m->limit);
	if (!f || !f->elf || f->fd < 0 || !elfcache_offset_to_vaddr(f, m->offset, &vaddr))
		return NULL;
	*ret_bias = (int64_t)(m->start - vaddr);
	return f;
}

int objtool_symbols(struct objtool *t, const struct profile *p, uint32_t mapping, const regex_t *re,
		    struct code_sym **ret, size_t *ret_n)
{
	struct code_sym *v = NULL;
	size_t n = 0, cap = 0;
	GElf_Addr off;
	int64_t bias;
	struct elf_file *f = mapping_file(t, p, mapping, &bias);

	if (!f)
		return -ENOENT;
	(void)elfcache_symbol(t->files, f, 0, &off); /* builds f->syms */
	for (size_t i = 0; i < f->nsyms; i++) {
		const struct elf_symbol *s = &f->syms[i];
		char *pretty = demangle(s->name);
		const char *name = pretty ? pretty : s->name;

		if (s->end > s->addr && regexec(re, name, 0, NULL, 0) == 0) {
			if (VEC_PUSH_RESERVE(v, n, cap) < 0 || !(v[n].name = strdup(name))) {
				free(pretty);
				code_syms_free(v, n);
				return -ENOMEM;
			}
			v[n].start = s->addr;
			v[n].end = s->end;
			v[n].bias = bias;
			n++;
		}
		free(pretty);
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/* objdump on fd's file from start to end, its output on a pipe. Returns the pid or -errno. */
static pid_t spawn_objdump(int fd, uint64_t start, uint64_t end, int *ret_out)
{
	char path[64], from[32], to[32];
	int pipefd[2];
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	(void)snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	(void)snprintf(from, sizeof(from), "--start-address=0x%" PRIx64, start);
	(void)snprintf(to, sizeof(to), "--stop-address=0x%" PRIx64, end);
	pid = fork();
	if (pid < 0) {
		int e = -errno;

		(void)close(pipefd[0]);
		(void)close(pipefd[1]);
		return e;
	}
	if (pid == 0) {
		struct rlimit cpu = {OBJDUMP_CPU_SECONDS, OBJDUMP_CPU_SECONDS},
			      mem = {OBJDUMP_MEMORY, OBJDUMP_MEMORY};
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		(void)setrlimit(RLIMIT_CPU, &cpu);
		(void)setrlimit(RLIMIT_AS, &mem);
		if (dup2(pipefd[1], STDOUT_FILENO) < 0 ||
		    (null >= 0 && dup2(null, STDERR_FILENO) < 0) ||
		    (null >= 0 && dup2(null, STDIN_FILENO) < 0) || fcntl(fd, F_SETFD, 0) < 0)
			_exit(127);
		execlp("objdump", "objdump", "-d", "-C", "-l", "--no-show-raw-insn", from, to, path,
		       (char *)NULL);
		_exit(127);
	}
	(void)close(pipefd[1]);
	*ret_out = pipefd[0];
	return pid;
}

/* "  1139:\tpush   %rbp": the address and the instruction, tabs as spaces. */
static bool parse_insn(char *line, uint64_t *ret_addr, char **ret_text)
{
	char *end, *text;
	uint64_t addr;

	line += strspn(line, " ");
	addr = strtoull(line, &end, 16);
	if (end == line || *end != ':' || end[1] != '\t')
		return false;
	text = end + 2;
	for (char *c = text; *c; c++)
		if (*c == '\t')
			*c = ' ';
	*ret_addr = addr;
	*ret_text = text;
	return true;
}

/* "/src/hot.c:44" or "/src/hot.c:44 (discriminator 2)": objdump -l's source line. */
static bool parse_source(char *line, char **ret_file, int64_t *ret_line)
{
	char *colon, *end;
	long long n;

	if (line[0] == ' ' || line[0] == '\t' || line[0] == '\0')
		return false;
	end = strstr(line, " (discriminator");
	if (end)
		*end = '\0';
	colon = strrchr(line, ':');
	if (!colon || colon == line)
		return false;
	n = strtoll(colon + 1, &end, 10);
	if (end == colon + 1 || *end)
		return false;
	*colon = '\0';
	*ret_file = line;
	*ret_line = n;
	return true;
}

int objtool_disasm(struct objtool *t, const struct profile *p, uint32_t mapping, uint64_t start,
		   uint64_t end, struct code_insn **ret, size_t *ret_n)
{
	struct code_insn *v = NULL;
	size_t n = 0, cap = 0, linecap = 0;
	char *line = NULL, *function = NULL, *file = NULL;
	int64_t bias, lineno = 0;
	struct elf_file *f = mapping_file(t, p, mapping, &bias);
	int out = -1, status, r = 0;
	pid_t pid;
	FILE *in;

	if (!f)
		return -ENOENT;
	pid = spawn_objdump(f->fd, start, end, &out);
	if (pid < 0)
		return (int)pid;
	in = fdopen(out, "r");
	if (!in) {
		(void)close(out);
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		return -ENOMEM;
	}
	while (r == 0 && getline(&line, &linecap, in) > 0) {
		size_t len = strcspn(line, "\n");
		uint64_t addr;
		char *text, *src;
		int64_t ln;

		line[len] = '\0';
		if (parse_insn(line, &addr, &text)) {
			if (VEC_PUSH_RESERVE(v, n, cap) < 0) {
				r = -ENOMEM;
				break;
			}
			v[n] = (struct code_insn){
				.addr = addr,
				.text = strdup(text),
				.function = function ? strdup(function) : NULL,
				.file = file ? strdup(file) : NULL,
				.line = lineno,
			};
			if (!v[n++].text)
				r = -ENOMEM;
		} else if (len > 3 && strcmp(line + len - 3, "():") == 0) {
			free(function);
			line[len - 3] = '\0';
			function = strdup(line);
		} else if (line[len ? len - 1 : 0] != ':' && parse_source(line, &src, &ln)) {
			free(file);
			file = strdup(src);
			lineno = ln;
		}
	}
	free(line);
	free(function);
	free(file);
	(void)fclose(in);
	if (r < 0)
		(void)kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r == 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
		r = WIFEXITED(status) && WEXITSTATUS(status) == 127 ? -ENOEXEC : -EIO;
	if (r < 0) {
		code_insns_free(v, n);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}
