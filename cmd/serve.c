/* SPDX-License-Identifier: MIT */
/*
 * cprof serve: Go's net/http/pprof for the whole host. Every pprof client
 * works unchanged: `go tool pprof http://127.0.0.1:6060/debug/pprof/profile`
 * collects 30 s of CPU profile of every process, `.../offcpu?seconds=5&pid=42`
 * five seconds of one process's off-CPU time. Answers are Go's: the
 * profile as an attachment, errors as plain text marked X-Go-Pprof, 400 for
 * a bad parameter, 500 when that kind is already being collected (one
 * collection per kind at a time, answered at once, not queued).
 *
 * Each request records with a pipeline of its own (cmd/pipeline.h): the
 * symbolizer and unwinder are not shared between threads; the cache
 * directory carries what one request learned to the next.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cmd/allocator.h"
#include "cmd/cmd.h"
#include "cmd/pipeline.h"
#include "cmd/snapshot.h"
#include "http/server.h"
#include "lib/base/cache.h"
#include "lib/base/log.h"
#include "lib/base/parse.h"
#include "lib/collect/collector.h"
#include "lib/collect/kinds.h"
#include "lib/collect/proc.h"
#include "lib/perf/sampler.h"
#include "proto/pprof.h"

static const char usage[] =
	"usage: cprof serve [--listen ADDR:PORT] [--prefix PATH] [OPTIONS]\n"
	"\n"
	"Serve profiles of the whole host over HTTP, as Go's net/http/pprof serves a\n"
	"Go program's: go tool pprof http://ADDR:PORT/debug/pprof/profile works.\n"
	"\n"
	"Options:\n"
	"      --listen ADDR:PORT   where to listen (default 127.0.0.1:6060; port 0: any\n"
	"                           free one, printed); IPv6 as [::1]:6060\n"
	"      --prefix PATH        where the handlers live (default /debug/pprof)\n"
	"      --max-seconds N      the longest collection a request may ask (default 300)\n"
	"      --token-file FILE    require 'Authorization: Bearer TOKEN' on every request,\n"
	"                           TOKEN the file's first line (for a --listen address\n"
	"                           other than loopback; TLS is a reverse proxy's job)\n"
	"  -F, --freq HZ            samples per second per CPU (default 999)\n"
	"      --call-graph MODE    dwarf (default), fp or none, as for record\n"
	"  -h, --help               show this help\n"
	"\n"
	"Endpoints, under the prefix (each takes seconds=N, default 30, and narrows\n"
	"the host with pid=PID[,PID...], comm=NAME or cpu=LIST):\n"
	"  /                an index of the profiles\n"
	"  /profile         on-CPU time (Go's CPU profile)\n"
	"  /offcpu, /block  time switched out, by stack (Go's block profile)\n"
	"  /wall            on- and off-CPU time together\n"
	"  /mutex           futex waits: contentions and delay\n"
	"  /threadcreate    threads and processes created\n"
	"  /heap, /allocs   heap allocations of one process (pid= needed): in use, and\n"
	"                   allocated (Go's heap and allocs profiles, as --kind alloc)\n"
	"  /threads, /goroutine  every thread's stack now (no seconds; debug=1, debug=2\n"
	"                   for Go's text forms)\n"
	"  /cmdline         cprof's command line, or with pid= that process's\n"
	"  /metrics         cprof's own cost and counters, in Prometheus' text format\n"
	"/offcpu, /wall, /mutex and /threadcreate read tracepoints: tracefs mounted, and root.\n"
	"SIGINT or SIGTERM stops the server (exit 0).\n"
	"\n"
	"Examples:\n"
	"  cprof serve --listen 127.0.0.1:6060\n"
	"  go tool pprof http://127.0.0.1:6060/debug/pprof/profile?seconds=10\n"
	"  go tool pprof -http=: 'http://127.0.0.1:6060/debug/pprof/offcpu?pid=4242'\n";

#define MAX_CONNECTIONS 16
#define DEFAULT_SECONDS 30

struct serve_opts {
	char host_buf[64];
	const char *host;
	uint16_t port;
	const char *prefix;
	uint64_t max_seconds;
	uint64_t freq;
	enum sampler_callgraph callgraph;
	int argc;
	char **argv;
	const char *token_file;
	char *token; /* what a request's bearer must be; NULL: none asked */
};

/* What /metrics counts, over the server's life. */
static struct {
	pthread_mutex_t lock;
	uint64_t served[16], refused[16]; /* by endpoint */
	uint64_t samples, lost, unauthorized;
	uint64_t unwind_median_ns; /* of the latest collection */
} metrics = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* One profile of the index: its path, the kind it collects, what it is. */
static const struct endpoint {
	const char *name, *kind, *description;
	const char *sample_type; /* the profile's default sample type, when not its kind's */
} endpoints[] = {
	{"profile", "cpu",
	 "On-CPU time of every thread, by stack. Give the duration in the seconds GET "
	 "parameter (default 30).",
	 NULL},
	{"offcpu", "offcpu", "Time threads spent switched out (sleeping, waiting, preempted).",
	 NULL},
	{"block", "offcpu", "Go's name for offcpu: stacks that led to blocking.", NULL},
	{"wall", "wall", "On- and off-CPU time together: where each thread ran and waited.", NULL},
	{"mutex", "mutex", "Time spent waiting for contended locks (futex waits).", NULL},
	{"threadcreate", "threadcreate", "Stacks that created new threads and processes.", NULL},
	{"heap", "alloc",
	 "Sampled heap allocations of process pid (needed) while collecting: what is in use, "
	 "by stack.",
	 NULL},
	{"allocs", "alloc",
	 "The same sampling, shown as everything allocated while collecting, by stack.",
	 "alloc_space"},
	{"threads", "threads",
	 "Every thread's stack now (a snapshot through ptrace); debug=1 and debug=2 for text.",
	 NULL},
	{"goroutine", "threads", "Go's name for threads: stacks of all current threads.", NULL},
};

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	stop_requested = sig;
}

/* Kinds being collected, one request each at most. */
static pthread_mutex_t busy_lock = PTHREAD_MUTEX_INITIALIZER;
static const struct kind *busy[8];

static bool claim(const struct kind *k)
{
	bool ok = true;
	size_t i, free_slot = SIZE_MAX;

	pthread_mutex_lock(&busy_lock);
	for (i = 0; i < sizeof(busy) / sizeof(busy[0]); i++) {
		if (busy[i] == k)
			ok = false;
		if (!busy[i] && free_slot == SIZE_MAX)
			free_slot = i;
	}
	if (ok && free_slot != SIZE_MAX)
		busy[free_slot] = k;
	pthread_mutex_unlock(&busy_lock);
	return ok && free_slot != SIZE_MAX;
}

static void release(const struct kind *k)
{
	pthread_mutex_lock(&busy_lock);
	for (size_t i = 0; i < sizeof(busy) / sizeof(busy[0]); i++)
		if (busy[i] == k)
			busy[i] = NULL;
	pthread_mutex_unlock(&busy_lock);
}

/* A plain-text answer, Go's way for errors: X-Go-Pprof marks them. */
/* Returns 0, for handlers to end with it. */
static int text(struct http_response *resp, int status, bool go_error, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int text(struct http_response *resp, int status, bool go_error, const char *fmt, ...)
{
	va_list ap;
	int n;

	resp->status = status;
	resp->content_type = "text/plain; charset=utf-8";
	resp->go_pprof = go_error;
	va_start(ap, fmt);
	n = vasprintf(&resp->body, fmt, ap);
	va_end(ap);
	if (n < 0) {
		resp->body = NULL;
		resp->status = 500;
		return 0;
	}
	resp->len = (size_t)n;
	return 0;
}

/* "1,2,3" into pids; false when it is not a list of pids. */
static bool parse_pid_list(const char *s, int32_t **ret, size_t *ret_n)
{
	size_t cap = 1, n = 0;
	int32_t *pids;
	const char *p = s;

	for (const char *c = s; *c; c++)
		cap += *c == ',';
	pids = calloc(cap, sizeof(*pids));
	if (!pids)
		return false;
	while (*p) {
		char tok[16];
		size_t len = strcspn(p, ",");
		uint64_t v;

		if (len == 0 || len >= sizeof(tok)) {
			free(pids);
			return false;
		}
		memcpy(tok, p, len);
		tok[len] = '\0';
		if (parse_uint(tok, 1, INT32_MAX, &v) < 0) {
			free(pids);
			return false;
		}
		pids[n++] = (int32_t)v;
		p += len + (p[len] == ',');
	}
	if (!n) {
		free(pids);
		return false;
	}
	*ret = pids;
	*ret_n = n;
	return true;
}

/* The processes whose comm is name, from /proc. Returns their count (0: none), or -errno. */
static int pids_named(const char *name, int32_t **ret, size_t *ret_n)
{
	DIR *dir = opendir("/proc");
	size_t n = 0, cap = 0;
	int32_t *pids = NULL;
	struct dirent *de;

	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		char path[300], comm[64];
		uint64_t pid;
		FILE *f;

		if (parse_uint(de->d_name, 1, INT32_MAX, &pid) < 0)
			continue;
		(void)snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue; /* gone meanwhile */
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = '\0';
		(void)fclose(f);
		comm[strcspn(comm, "\n")] = '\0';
		if (strcmp(comm, name) != 0)
			continue;
		if (n == cap) {
			int32_t *grown = realloc(pids, (cap = cap ? 2 * cap : 8) * sizeof(*pids));

			if (!grown) {
				free(pids);
				(void)closedir(dir);
				return -ENOMEM;
			}
			pids = grown;
		}
		pids[n++] = (int32_t)pid;
	}
	(void)closedir(dir);
	*ret = pids;
	*ret_n = n;
	return (int)n;
}

/* A profile as its pprof bytes (gzip'd protobuf), through a memfd. */
static int serialize(const struct profile *p, char **ret, size_t *ret_len)
{
	int fd = memfd_create("cprof-profile", MFD_CLOEXEC), r;
	struct stat st;
	char *buf;

	if (fd < 0)
		return -errno;
	r = pprof_write(p, fd);
	if (r == 0 && fstat(fd, &st) < 0)
		r = -errno;
	if (r < 0) {
		(void)close(fd);
		return r;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf || pread(fd, buf, (size_t)st.st_size, 0) != st.st_size) {
		free(buf);
		(void)close(fd);
		return -EIO;
	}
	(void)close(fd);
	*ret = buf;
	*ret_len = (size_t)st.st_size;
	return 0;
}

/*
 * The processes the request names with pid= or comm= into *pids (none:
 * NULL, 0). Returns 0, or 1 with resp holding the 400 (or 500) to answer.
 */
static int request_pids(const struct http_request *req, struct http_response *resp, int32_t **pids,
			size_t *npids)
{
	const char *pid = http_request_param(req, "pid"), *comm = http_request_param(req, "comm");
	int r;

	*pids = NULL;
	*npids = 0;
	if (pid && comm)
		return text(resp, 400, true, "give pid or comm, not both\n"), 1;
	if (pid && !parse_pid_list(pid, pids, npids))
		return text(resp, 400, true, "bad pid '%s': a comma list of process ids\n", pid), 1;
	if (comm) {
		r = pids_named(comm, pids, npids);
		if (r == 0)
			return text(resp, 400, true, "no process named '%s'\n", comm), 1;
		if (r < 0)
			return text(resp, 500, true, "listing processes: %s\n", strerror(-r)), 1;
	}
	return 0;
}

/* A view of p (a text one) as the response body. */
static int view_body(const struct profile *p, enum view_kind kind, struct http_response *resp)
{
	FILE *f = open_memstream(&resp->body, &resp->len);
	int r;

	if (!f)
		return -errno;
	r = pipeline_view(p, kind, f);
	if (fclose(f) != 0 && r == 0)
		r = -EIO;
	return r;
}

/*
 * /threads (and Go's name, /goroutine): every thread's stack now, as
 * cprof snapshot takes it, of the pid= or comm= processes or of every
 * process. debug=1 and debug=2 answer Go's goroutine text forms.
 */
static int threads(const struct serve_opts *o, const struct http_request *req,
		   struct http_response *resp)
{
	const char *debug = http_request_param(req, "debug");
	struct snapshot_tally tl;
	struct profile *p = NULL;
	char why[512] = "";
	int32_t *pids = NULL;
	size_t npids = 0;
	uint64_t level = 0;
	int r;

	if (debug && parse_uint(debug, 0, UINT32_MAX, &level) < 0)
		return text(resp, 400, true, "bad debug '%s': 0, 1 or 2\n", debug);
	if (request_pids(req, resp, &pids, &npids))
		return 0;
	for (size_t i = 0; i < npids; i++)
		if (proc_tgid("/proc", pids[i], &pids[i]) < 0) {
			r = text(resp, 400, true, "no process %d\n", pids[i]);
			free(pids);
			return r;
		}
	if (!claim(&kind_threads)) {
		free(pids);
		return text(resp, 500, true, "a threads profile is already being collected\n");
	}
	r = snapshot_collect(&(struct snapshot_run){.pids = pids,
						    .npids = npids,
						    .all = !npids,
						    .repeat = 1,
						    .max_stack = 8u << 20,
						    .stop = &stop_requested},
			     o->argc, o->argv, &p, &tl, why, sizeof(why));
	release(&kind_threads);
	free(pids);
	if (r < 0)
		return text(resp, r == -ESRCH ? 400 : 500, true, "%s\n",
			    why[0] ? why : strerror(-r));
	log_info("served threads: %zu threads of %zu processes", tl.threads, tl.processes);
	if (level == 0) {
		r = serialize(p, &resp->body, &resp->len);
		resp->content_type = "application/octet-stream";
		resp->disposition = "attachment; filename=\"profile\"";
	} else {
		r = view_body(p, level == 1 ? VIEW_THREADS_SUMMARY : VIEW_THREADS, resp);
		resp->content_type = "text/plain; charset=utf-8";
	}
	profile_free(p);
	if (r < 0) {
		free(resp->body);
		resp->body = NULL;
		return text(resp, 500, true, "could not write the threads profile: %s\n",
			    strerror(-r));
	}
	resp->status = 200;
	return 0;
}

/*
 * --kind alloc's probes for the request's process, into *ret (free it).
 * Returns 0, or 1 with the error answered.
 */
static int alloc_target(const int32_t *pids, size_t npids, struct http_response *resp,
			struct allocator **ret)
{
	struct allocator *a;
	int r;

	if (npids != 1)
		return text(resp, 400, true,
			    "heap profiles follow one process: give pid=PID (and no comm=)\n"),
		       1;
	a = malloc(sizeof(*a));
	if (!a)
		return text(resp, 500, true, "out of memory\n"), 1;
	r = allocator_for_process(pids[0], ALLOCATOR_DEFAULT_RATE, a);
	if (r < 0) {
		free(a);
		return text(resp, r == -ESRCH || r == -ENOENT ? 400 : 500, true,
			    "no heap profile of pid %d: %s\n", pids[0],
			    r == -ENOENT  ? "no malloc found in its executable or libc"
			    : r == -ESRCH ? "no such process"
					  : strerror(-r)),
		       1;
	}
	if (!a->target.hooks)
		allocator_measure_trap(a, DEFAULT_STACK_SIZE);
	*ret = a;
	return 0;
}

/* Collect kind k over the request's target for its seconds into resp. */
static int collect(const struct serve_opts *o, const struct endpoint *ep,
		   const struct http_request *req, struct http_response *resp,
		   struct session_stats *ret_stats)
{
	const struct kind *k = kind_find(ep->kind);
	struct allocator *alloc = NULL;
	const char *seconds = http_request_param(req, "seconds"),
		   *cpu = http_request_param(req, "cpu");
	const struct kind *kinds[1] = {k};
	struct collector_config cfg = {0};
	struct collector_window w = {0};
	struct symbolize_options sym = {0};
	struct pipeline pipe;
	struct collector *c = NULL;
	int32_t *pids = NULL;
	bool *cpus = NULL;
	uint64_t sec = DEFAULT_SECONDS;
	size_t npids = 0;
	int ncpu, r;

	if (seconds && parse_uint(seconds, 1, UINT32_MAX, &sec) < 0)
		return text(resp, 400, true, "bad seconds '%s': a whole number of seconds\n",
			    seconds);
	if (sec > o->max_seconds)
		return text(resp, 400, true,
			    "profile duration %llu s exceeds the server's --max-seconds %llu\n",
			    (unsigned long long)sec, (unsigned long long)o->max_seconds);
	if (request_pids(req, resp, &pids, &npids))
		return 0;
	if (cpu) {
		ncpu = sampler_online_cpus(&cpus);
		if (ncpu < 0 || parse_cpu_list(cpu, cpus, (size_t)ncpu) < 0) {
			free(cpus);
			free(pids);
			return text(resp, 400, true, "bad cpu '%s': a list such as 0-3,6\n", cpu);
		}
		cfg.session.sampler.cpus = cpus;
		cfg.session.sampler.ncpus = (size_t)ncpu;
	}
	if (k == &kind_alloc && alloc_target(pids, npids, resp, &alloc)) {
		free(cpus);
		free(pids);
		return 0;
	}
	if (!claim(k)) {
		free(cpus);
		free(pids);
		free(alloc);
		return text(resp, 500, true, "a %s profile is already being collected\n", k->name);
	}
	log_info("collecting %s for %llu s", k->name, (unsigned long long)sec);
	cfg.session.kinds = kinds;
	cfg.session.nkinds = 1;
	cfg.session.kind_options.event = sampler_event_default();
	cfg.session.kind_options.freq = o->freq;
	cfg.session.kind_options.alloc = alloc ? &alloc->target : NULL;
	cfg.session.pids = pids;
	cfg.session.npids = npids;
	cfg.session.sampler.callgraph = o->callgraph;
	cfg.session.sampler.stack_size = DEFAULT_STACK_SIZE;
	cfg.duration_ns = sec * 1000000000;
	r = pipeline_open(&pipe, sym, &cfg) ? -EIO : 0;
	if (r == 0)
		r = collector_open(&cfg, &c);
	if (r == 0)
		r = collector_start(c);
	while (r == 0 && !stop_requested) {
		unsigned due;

		r = collector_poll(c, &due);
		if (r < 0 || (due & (COLLECTOR_END | COLLECTOR_GONE)))
			break;
		/* Go stops a profile whose client went away; so does cprof. */
		if (http_request_gone(req)) {
			log_info("the client of the %s profile went away: stopped", k->name);
			break;
		}
	}
	if (c && r == 0)
		r = collector_stop(c, &w);
	if (r == 0 && w.n == 1) {
		*ret_stats = *session_stats(collector_session(c));
		pipeline_add_cost(w.profiles[0], ret_stats, true);
		if (ep->sample_type) {
			int t = profile_find_type(w.profiles[0], ep->sample_type);

			if (t >= 0)
				profile_set_default_type(w.profiles[0],
							 w.profiles[0]->types[t].type);
		}
		r = serialize(w.profiles[0], &resp->body, &resp->len);
	}
	if (r < 0) {
		text(resp, r == -ESRCH ? 400 : 500, true, "could not collect the %s profile: %s\n",
		     k->name, r == -ESRCH ? "no such process" : strerror(-r));
	} else {
		resp->status = 200;
		resp->content_type = "application/octet-stream";
		resp->disposition = "attachment; filename=\"profile\"";
		log_info("served %s (%zu bytes) for %llu s", k->name, resp->len,
			 (unsigned long long)sec);
	}
	collector_window_release(&w);
	collector_free(c);
	pipeline_close(&pipe);
	release(k);
	free(cpus);
	free(pids);
	free(alloc);
	return 0;
}

/* /cmdline: cprof's own command line, as Go's, or pid's, NUL-separated. */
static int cmdline(const struct serve_opts *o, const struct http_request *req,
		   struct http_response *resp)
{
	const char *pid = http_request_param(req, "pid");
	char path[64], *buf = NULL;
	size_t len = 0;
	uint64_t v = 0;
	FILE *f;

	(void)o;
	if (pid && parse_uint(pid, 1, INT32_MAX, &v) < 0)
		return text(resp, 400, true, "bad pid '%s'\n", pid);
	/* Without pid, cprof's own, as Go answers with os.Args. */
	if (pid)
		(void)snprintf(path, sizeof(path), "/proc/%llu/cmdline", (unsigned long long)v);
	else
		(void)snprintf(path, sizeof(path), "/proc/self/cmdline");
	f = fopen(path, "re");
	if (!f)
		return text(resp, 404, true, "no process %s\n", pid);
	buf = malloc(65536);
	len = buf ? fread(buf, 1, 65536, f) : 0;
	(void)fclose(f);
	/* NUL-separated, without the last NUL, as Go joins os.Args. */
	if (len && buf[len - 1] == '\0')
		len--;
	resp->status = buf ? 200 : 500;
	resp->content_type = "text/plain; charset=utf-8";
	resp->body = buf;
	resp->len = len;
	return 0;
}

static int index_page(const struct serve_opts *o, struct http_response *resp)
{
	FILE *f = open_memstream(&resp->body, &resp->len);

	if (!f) {
		resp->status = 500;
		return 0;
	}
	fprintf(f,
		"<html>\n<head>\n<title>%s/</title>\n<style>\n.profile-name{\n"
		"\tdisplay:inline-block;\n\twidth:6rem;\n}\n</style>\n</head>\n<body>\n"
		"%s/\n<br>\n<p>Profiles of every process on this host, collected for "
		"<code>seconds</code> (default %d) and narrowed with <code>pid</code>, "
		"<code>comm</code> or <code>cpu</code>.</p>\n<br>\nTypes of profiles available:\n"
		"<table>\n<thead><td>Profile</td></thead>\n",
		o->prefix, o->prefix, DEFAULT_SECONDS);
	/* Go links its goroutine profile as text (debug=1), the others by duration. */
	for (size_t i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++)
		if (strcmp(endpoints[i].kind, "threads") == 0)
			fprintf(f, "<tr><td><a href='%s?debug=1'>%s</a></td></tr>\n",
				endpoints[i].name, endpoints[i].name);
		else
			fprintf(f, "<tr><td><a href='%s?seconds=%d'>%s</a></td></tr>\n",
				endpoints[i].name, DEFAULT_SECONDS, endpoints[i].name);
	fprintf(f, "<tr><td><a href='cmdline'>cmdline</a></td></tr>\n</table>\n<br>\n<p>\n"
		   "Profile Descriptions:\n<ul>\n");
	for (size_t i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++)
		fprintf(f, "<li><div class=profile-name>%s: </div> %s</li>\n", endpoints[i].name,
			endpoints[i].description);
	fprintf(f, "<li><div class=profile-name>cmdline: </div> The command line of cprof serve, "
		   "or with pid=PID of that process</li>\n</ul>\n</p>\n</body>\n</html>\n");
	if (fclose(f) != 0) {
		resp->status = 500;
		return 0;
	}
	resp->status = 200;
	resp->content_type = "text/html; charset=utf-8";
	return 0;
}

/* Count a collection of endpoint i, served (2xx) or not, and what it sampled. */
static void count(size_t i, const struct http_response *resp, const struct session_stats *st)
{
	_Static_assert(sizeof(endpoints) / sizeof(endpoints[0]) <=
			       sizeof(metrics.served) / sizeof(metrics.served[0]),
		       "a counter for every endpoint");
	pthread_mutex_lock(&metrics.lock);
	if (resp->status / 100 == 2)
		metrics.served[i]++;
	else
		metrics.refused[i]++;
	if (st) {
		metrics.samples += st->samples;
		metrics.lost += st->lost;
		if (st->unwind_median_ns)
			metrics.unwind_median_ns = st->unwind_median_ns;
	}
	pthread_mutex_unlock(&metrics.lock);
}

/* The size in bytes of the files directly in dir (the cache is flat). */
static uint64_t dir_bytes(const char *dir)
{
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *de;
	uint64_t total = 0;

	while (d && (de = readdir(d))) {
		struct stat st;

		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode))
			total += (uint64_t)st.st_size;
	}
	if (d)
		(void)closedir(d);
	return total;
}

/* One metric: its help, type and value lines. */
static void metric(FILE *f, const char *name, const char *type, const char *help, double v)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type, name, v);
}

/* /metrics: cprof's own cost and counters, in Prometheus' text format 0.0.4. */
static int metrics_page(struct http_response *resp)
{
	FILE *f = open_memstream(&resp->body, &resp->len);
	struct own_cost cost;
	char *dir = NULL;

	if (!f)
		return text(resp, 500, false, "out of memory\n");
	pipeline_own_cost(&cost);
	(void)cache_dir_path(&dir);
	pthread_mutex_lock(&metrics.lock);
	metric(f, "cprof_cpu_seconds_total", "counter", "CPU time cprof has used, user and system.",
	       cost.cpu_seconds);
	metric(f, "cprof_resident_bytes", "gauge", "cprof's resident memory.", cost.resident_bytes);
	metric(f, "cprof_peak_resident_bytes", "gauge", "cprof's peak resident memory.",
	       cost.peak_resident_bytes);
	metric(f, "cprof_samples_total", "counter", "Samples taken into served profiles.",
	       (double)metrics.samples);
	metric(f, "cprof_lost_records_total", "counter",
	       "Records the kernel dropped because a ring was full.", (double)metrics.lost);
	metric(f, "cprof_unwind_median_seconds", "gauge",
	       "Median time to unwind a user stack, in the latest collection.",
	       (double)metrics.unwind_median_ns / 1e9);
	metric(f, "cprof_cache_bytes", "gauge",
	       "Bytes in cprof's cache directory (symbol names, inflated debug files).",
	       (double)dir_bytes(dir));
	metric(f, "cprof_unauthorized_requests_total", "counter",
	       "Requests refused for a missing or wrong bearer token.",
	       (double)metrics.unauthorized);
	fprintf(f, "# HELP cprof_collections_total Profile requests by endpoint and outcome.\n"
		   "# TYPE cprof_collections_total counter\n");
	for (size_t i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++)
		fprintf(f,
			"cprof_collections_total{profile=\"%s\",outcome=\"served\"} %llu\n"
			"cprof_collections_total{profile=\"%s\",outcome=\"refused\"} %llu\n",
			endpoints[i].name, (unsigned long long)metrics.served[i], endpoints[i].name,
			(unsigned long long)metrics.refused[i]);
	pthread_mutex_unlock(&metrics.lock);
	free(dir);
	if (fclose(f) != 0)
		return text(resp, 500, false, "out of memory\n");
	resp->status = 200;
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	return 0;
}

/* With --token-file: whether the request carries "Authorization: Bearer TOKEN". */
static bool authorized(const struct serve_opts *o, const struct http_request *req)
{
	const char *auth = http_request_header(req, "Authorization");
	size_t a, b;
	unsigned char diff = 0;

	if (!o->token)
		return true;
	if (!auth || strncmp(auth, "Bearer ", 7) != 0)
		return false;
	auth += 7;
	a = strlen(auth);
	b = strlen(o->token);
	/* Compared in time independent of where they differ. */
	for (size_t i = 0; i < b; i++)
		diff |= (unsigned char)(o->token[i] ^ (i < a ? auth[i] : 0));
	return diff == 0 && a == b;
}

static int route(void *ctx, const struct http_request *req, struct http_response *resp)
{
	const struct serve_opts *o = ctx;
	const char *path = http_request_path(req);
	size_t plen = strlen(o->prefix);

	if (!authorized(o, req)) {
		pthread_mutex_lock(&metrics.lock);
		metrics.unauthorized++;
		pthread_mutex_unlock(&metrics.lock);
		resp->authenticate = "Bearer";
		return text(resp, 401, false, "401 unauthorized: give the server's bearer token\n");
	}
	if (strcmp(path, "/metrics") == 0)
		return metrics_page(resp);
	if (strncmp(path, o->prefix, plen) != 0 || (path[plen] != '\0' && path[plen] != '/'))
		return text(resp, 404, false, "404 page not found\n");
	path += plen;
	if (*path == '/')
		path++;
	if (*path == '\0')
		return index_page(o, resp);
	if (strcmp(path, "cmdline") == 0)
		return cmdline(o, req, resp);
	for (size_t i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++) {
		struct session_stats st = {0};

		if (strcmp(path, endpoints[i].name) != 0)
			continue;
		if (strcmp(endpoints[i].kind, "threads") == 0)
			(void)threads(o, req, resp);
		else
			(void)collect(o, &endpoints[i], req, resp, &st);
		count(i, resp, &st);
		return 0;
	}
	return text(resp, 404, true, "Unknown profile\n");
}

static void handle(void *ctx, const struct http_request *req, struct http_response *resp)
{
	(void)route(ctx, req, resp);
}

/*
 * "127.0.0.1:6060" or "[::1]:6060" into host and port (the host kept in o,
 * without brackets; the argument left as it is).
 */
static int parse_listen(const char *arg, struct serve_opts *o)
{
	const char *colon = strrchr(arg, ':');
	size_t len = colon ? (size_t)(colon - arg) : 0;
	bool bracketed = arg[0] == '[';
	uint64_t port;

	if (bracketed && (len < 3 || arg[len - 1] != ']'))
		return -EINVAL;
	if (bracketed) {
		arg++;
		len -= 2;
	}
	if (!colon || len == 0 || len >= sizeof(o->host_buf) ||
	    parse_uint(colon + 1, 0, 65535, &port) < 0)
		return -EINVAL;
	memcpy(o->host_buf, arg, len);
	o->host_buf[len] = '\0';
	o->host = strcmp(o->host_buf, "localhost") == 0 ? "127.0.0.1" : o->host_buf;
	o->port = (uint16_t)port;
	return 0;
}

static int parse_args(int argc, char **argv, struct serve_opts *o)
{
	enum { OPT_LISTEN = 0x100, OPT_PREFIX, OPT_MAX_SECONDS, OPT_CALL_GRAPH, OPT_TOKEN_FILE };
	static const struct option options[] = {
		{"listen", required_argument, NULL, OPT_LISTEN},
		{"prefix", required_argument, NULL, OPT_PREFIX},
		{"max-seconds", required_argument, NULL, OPT_MAX_SECONDS},
		{"freq", required_argument, NULL, 'F'},
		{"call-graph", required_argument, NULL, OPT_CALL_GRAPH},
		{"token-file", required_argument, NULL, OPT_TOKEN_FILE},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int c;

	*o = (struct serve_opts){
		.prefix = "/debug/pprof",
		.max_seconds = 300,
		.freq = 999,
		.callgraph = SAMPLER_CALLGRAPH_DWARF,
		.argc = argc,
		.argv = argv,
	};
	(void)parse_listen("127.0.0.1:6060", o);
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+F:h", options, NULL)) != -1) {
		switch (c) {
		case OPT_LISTEN:
			if (parse_listen(optarg, o) < 0)
				return cmd_usage_error(usage, "invalid --listen '%s' (ADDR:PORT)",
						       optarg),
				       -1;
			break;
		case OPT_PREFIX:
			/* A path from the root, without a trailing slash: /debug/pprof. */
			if (optarg[0] != '/' || strlen(optarg) > 256)
				return cmd_usage_error(usage,
						       "invalid --prefix '%s' (a path: /x/y)",
						       optarg),
				       -1;
			o->prefix = optarg;
			if (strlen(optarg) > 1 && optarg[strlen(optarg) - 1] == '/')
				optarg[strlen(optarg) - 1] = '\0';
			if (strcmp(o->prefix, "/") == 0)
				o->prefix = "";
			break;
		case OPT_MAX_SECONDS:
			if (parse_uint(optarg, 1, 86400, &o->max_seconds) < 0)
				return cmd_usage_error(usage, "invalid --max-seconds '%s'", optarg),
				       -1;
			break;
		case 'F':
			if (parse_uint(optarg, 1, 100000, &o->freq) < 0)
				return cmd_usage_error(usage, "invalid frequency '%s'", optarg), -1;
			break;
		case OPT_CALL_GRAPH:
			if (strcmp(optarg, "dwarf") == 0)
				o->callgraph = SAMPLER_CALLGRAPH_DWARF;
			else if (strcmp(optarg, "fp") == 0)
				o->callgraph = SAMPLER_CALLGRAPH_FP;
			else if (strcmp(optarg, "none") == 0)
				o->callgraph = SAMPLER_CALLGRAPH_NONE;
			else
				return cmd_usage_error(usage,
						       "invalid call-graph '%s' (dwarf, fp, none)",
						       optarg),
				       -1;
			break;
		case OPT_TOKEN_FILE:
			o->token_file = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			return cmd_option_error(usage, c, argv);
		}
	}
	if (optind < argc)
		return cmd_usage_error(usage, "unexpected argument '%s'", argv[optind]), -1;
	return 1;
}

/*
 * The bearer token: the first line of o->token_file, which must be the
 * user's own and not readable by others (it is a password). Returns 0,
 * or the exit code of the failure, said.
 */
static int read_token(struct serve_opts *o)
{
	char line[512];
	struct stat st;
	FILE *f;

	if (!o->token_file)
		return 0;
	f = fopen(o->token_file, "re");
	if (!f)
		return cmd_fail(-errno, NULL, "cannot read --token-file '%s'", o->token_file);
	if (fstat(fileno(f), &st) == 0 && (st.st_mode & 0077)) {
		(void)fclose(f);
		return cmd_fail(-EACCES, "chmod 600 it", "--token-file '%s' is readable by others",
				o->token_file);
	}
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	(void)fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	if (strlen(line) < 16)
		return cmd_fail(-EINVAL,
				"put a random token of 16 characters or more on its first line",
				"--token-file '%s' holds no usable token", o->token_file);
	o->token = strdup(line);
	return o->token ? 0 : cmd_fail(-ENOMEM, NULL, "reading --token-file");
}

/* Whether host is a loopback address (127.0.0.0/8, ::1). */
static bool loopback(const char *host)
{
	return strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0;
}

int cmd_serve(int argc, char **argv)
{
	struct serve_opts o;
	struct http_server *server = NULL;
	struct sigaction sa = {0};
	sigset_t mask, old;
	uint16_t port;
	int r;

	r = parse_args(argc, argv, &o);
	if (r <= 0)
		return r < 0 ? EXIT_USAGE : 0;
	r = read_token(&o);
	if (r)
		return r;
	if (!loopback(o.host))
		log_warn("listening on %s, not loopback: profiles show every process's code%s",
			 o.host,
			 o.token ? ""
				 : "; give --token-file, and put TLS in front (a reverse proxy)");
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	/* The server's threads leave the signals to this one. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &mask, &old);
	r = http_server_start(o.host, o.port, MAX_CONNECTIONS, handle, &o, &server, &port);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r == -EINVAL)
		return cmd_usage_error(usage, "--listen takes an IP address and a port, e.g. "
					      "127.0.0.1:6060 or [::1]:6060");
	if (r == -ELIBACC) {
		log_info("%s", http_server_load_error());
		return cmd_fail(r, "install it: apt-get install libmicrohttpd12",
				"cannot load libmicrohttpd, which serves HTTP");
	}
	if (r < 0)
		return cmd_fail(
			r, r == -EADDRINUSE ? "give another port with --listen ADDR:PORT" : NULL,
			"cannot listen on %s:%u", o.host, o.port);
	if (log_get_level() >= LOG_WARN)
		fprintf(stderr, "cprof: serving http://%s%s%s:%u%s/; Ctrl-C to stop\n",
			strchr(o.host, ':') ? "[" : "", o.host, strchr(o.host, ':') ? "]" : "",
			port, o.prefix);
	while (!stop_requested)
		(void)pause();
	/* Collections see the flag and end; their clients get what was collected. */
	http_server_stop(server);
	free(o.token);
	return 0;
}
