/* SPDX-License-Identifier: MIT */
/*
 * cprof top: the collector running with any target, and a full-screen table
 * of functions by flat and cum share redrawn every --delay, as perf top
 * shows it. Plain ANSI escapes (the alternate screen, cursor moves, clear
 * to end of line) and termios: every terminal and ssh session since the
 * VT100 understands them, where ncurses would bring a library and a
 * terminfo lookup for a one-table screen.
 *
 * The terminal is restored on every way out: q, SIGINT, SIGTERM, SIGHUP
 * (the flag ends the loop, which restores it), an error (restored before
 * it is said), and exit() in between (atexit). Ctrl-Z gives the terminal
 * back before stopping and takes it again on SIGCONT.
 *
 * Each refresh cuts a window of the collector (symbolized as a periodic
 * recording's are) into the live table (lib/views/live.h) and into one
 * profile of everything since the start, which `s` writes as pprof.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/pipeline.h"
#include "cmd/target.h"
#include "lib/base/log.h"
#include "lib/base/outfile.h"
#include "lib/base/parse.h"
#include "lib/views/live.h"
#include "lib/views/stacks.h"
#include "lib/views/text.h"

static const char usage[] =
	"usage: cprof top [OPTIONS] [-a | -p PID[,PID...] | -t TID[,TID...]]\n"
	"\n"
	"A live view of where the machine's time goes, as perf top: functions by\n"
	"flat and cum share, redrawn every --delay, in a full-screen table.\n";

static const char usage_options[] =
	"\n"
	"Targets (the whole system unless one is given):\n"
	"  -a, --all-cpus           the whole system, kernel included (the default)\n"
	"  -p, --pid PID[,PID...]   these processes and all their threads\n"
	"  -t, --tid TID[,TID...]   these threads only\n"
	"\n"
	"Options:\n"
	"  -C, --cpu LIST           only these CPUs, e.g. 0-3,6\n"
	"  -F, --freq HZ            samples per second per CPU (default 999)\n"
	"  -c, --count N            sample every Nth event instead of -F times a second\n"
	"  -e, --event NAME         event to sample (default cpu-clock), as record takes it\n"
	"      --kind KIND          what to show (default cpu): cpu, offcpu, wall, mutex,\n"
	"                           threadcreate or alloc, as record records them\n"
	"      --alloc-rate BYTES   --kind alloc: sample every BYTES allocated (default 512K)\n"
	"      --call-graph MODE    dwarf[,SIZE] (default), fp or none, as record\n"
	"  -g                       same as --call-graph=fp\n"
	"  -d, --delay SECONDS      redraw this often (default 1; fractions allowed)\n"
	"  -o, --output FILE        where s saves the profile (default cprof-top.pb.gz)\n"
	"  -h, --help               show this help\n";

static const char usage_more[] =
	"\n"
	"Keys:\n"
	"  c      decaying (each refresh counts 7/8 of the next, the default) or\n"
	"         cumulative (everything since the start)\n"
	"  g      rows per function, per function and process, per function and thread\n"
	"  /      filter the functions by a regular expression (Enter applies, an\n"
	"         empty one clears it, Esc cancels)\n"
	"  p      pause the display (recording goes on)\n"
	"  s      save everything recorded so far as pprof (-o)\n"
	"  q      quit (so do Ctrl-C and SIGTERM; the terminal is restored)\n"
	"\n"
	"The header shows the samples, the records lost and cprof's own CPU.\n"
	"cprof top needs a terminal; cprof record writes a profile without one.\n"
	"\n"
	"Examples:\n"
	"  cprof top\n"
	"  cprof top -p 4242 -d 0.5\n"
	"  cprof top --kind offcpu -p 4242\n";

struct top_opts {
	struct target_opts t;
	uint64_t delay_ns;
	const char *output;
};

static int parse_args(int argc, char **argv, struct top_opts *o)
{
	static const struct option options[] = {
		TARGET_LONG,
		{"delay", required_argument, NULL, 'd'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int c, r;

	*o = (struct top_opts){.delay_ns = 1000000000, .output = "cprof-top.pb.gz"};
	target_opts_init(&o->t);
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+" TARGET_SHORT "d:o:h", options, NULL)) != -1) {
		r = target_option(c, optarg, &o->t, usage);
		if (r < 0)
			return -1;
		if (r > 0)
			continue;
		switch (c) {
		case 'd':
			/* Windows shorter than a tenth of a second would be mostly symbolizing. */
			if (parse_seconds(optarg, &o->delay_ns) < 0 || o->delay_ns < 100000000)
				return cmd_usage_error(usage,
						       "invalid delay '%s' (seconds, at least 0.1)",
						       optarg),
				       -1;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			fputs(usage_options, stdout);
			fputs(usage_more, stdout);
			return 0;
		default:
			return cmd_option_error(usage, c, argv);
		}
	}
	if (strchr(o->t.kind, ','))
		return cmd_usage_error(usage, "top shows one kind at a time"), -1;
	if (optind < argc)
		return cmd_usage_error(usage, "top takes no command: record one with cprof record "
					      "-- COMMAND, or start it and give -p"),
		       -1;
	if (o->t.all_cpus + (o->t.pid_list != NULL) + (o->t.tid_list != NULL) > 1)
		return cmd_usage_error(usage, "give only one of -a, -p and -t"), -1;
	if (!o->t.pid_list && !o->t.tid_list)
		o->t.all_cpus = true;
	return 1;
}

/* The terminal: its settings before top took it, and whether top holds it now. */
static struct termios saved_tio;
static bool term_taken;
static volatile sig_atomic_t stop_signal, suspended, resized;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

static void on_tstp(int sig)
{
	(void)sig;
	suspended = 1;
}

static void on_winch(int sig)
{
	(void)sig;
	resized = 1;
}

static void term_write(const char *s)
{
	size_t n = strlen(s);

	while (n) {
		ssize_t k = write(STDOUT_FILENO, s, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return;
		s += k;
		n -= (size_t)k;
	}
}

/* Give the terminal back as it was: cooked mode, the cursor, the main screen. */
static void term_restore(void)
{
	if (!term_taken)
		return;
	term_taken = false;
	(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
	term_write("\033[?25h\033[?1049l");
}

/* Keys without Enter or echo, the alternate screen, no cursor. Returns 0 or -errno. */
static int term_take(void)
{
	struct termios raw;

	if (tcgetattr(STDIN_FILENO, &saved_tio) < 0)
		return -errno;
	raw = saved_tio;
	/* ISIG stays: Ctrl-C and Ctrl-Z are signals, handled like kill's. */
	raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	raw.c_cc[VMIN] = 0;
	raw.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) < 0)
		return -errno;
	term_taken = true;
	term_write("\033[?1049h\033[?25l\033[H\033[2J");
	return 0;
}

static void term_size(int *rows, int *cols)
{
	struct winsize ws;

	*rows = 24;
	*cols = 80;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col) {
		*rows = ws.ws_row;
		*cols = ws.ws_col;
	}
}

/* What the screen shows, and the state behind it. */
struct screen {
	const struct top_opts *o;
	struct live *live;
	struct profile *all; /* every window so far, for s */
	bool cumulative, paused;
	enum live_group group;
	regex_t filter;
	bool filtering;		 /* a filter is applied */
	char filter_text[128];	 /* the applied one */
	bool editing;		 /* typing a filter after / */
	char edit[128];		 /* what is typed so far */
	char message[256];	 /* the last thing a key did, in the bottom line */
	double cpu_percent;	 /* cprof's own over the last refresh */
	double last_cpu;	 /* cprof's CPU seconds at the last refresh */
	struct timespec last_at; /* and when */
	bool commented;		 /* all has its comments */
};

static const char *const group_names[] = {"function", "process", "thread"};

/* Append s to line, escaped for the terminal, cut at cols columns (bytes, whole UTF-8). */
static void put_cut(FILE *out, const char *s, int cols)
{
	char *buf = NULL;
	size_t len = 0, n;
	FILE *m = open_memstream(&buf, &len);

	if (!m)
		return;
	text_term(m, s);
	if (fclose(m) != 0) {
		free(buf);
		return;
	}
	n = len < (size_t)(cols > 0 ? cols : 0) ? len : (size_t)(cols > 0 ? cols : 0);
	while (n > 0 && n < len && ((unsigned char)buf[n] & 0xc0) == 0x80)
		n--;
	fwrite(buf, 1, n, out);
	free(buf);
}

static void draw(struct screen *sc, const struct session_stats *st)
{
	struct live_row *rows = NULL;
	size_t nrows = 0;
	double total = 0;
	char *buf = NULL;
	size_t len = 0;
	int h, w, shown;
	FILE *out = open_memstream(&buf, &len);
	char line[512];

	if (!out)
		return;
	term_size(&h, &w);
	if (live_rows(sc->live, sc->group, sc->cumulative, sc->filtering ? &sc->filter : NULL,
		      &rows, &nrows, &total) < 0)
		nrows = 0;
	fputs("\033[H", out);
	(void)snprintf(line, sizeof(line),
		       "cprof top: %s, %s, %s%s  samples %llu  lost %llu  processes %zu  "
		       "cprof %.1f%% CPU",
		       sc->o->t.pid_list   ? "-p"
		       : sc->o->t.tid_list ? "-t"
					   : "-a",
		       sc->cumulative ? "cumulative" : "decaying", group_names[sc->group],
		       sc->paused ? " [paused]" : "", (unsigned long long)st->samples,
		       (unsigned long long)st->lost, st->processes, sc->cpu_percent);
	put_cut(out, line, w);
	fputs("\033[K\n", out);
	if (sc->filtering) {
		fputs("filter: ", out);
		put_cut(out, sc->filter_text, w - 8);
	}
	fputs("\033[K\n", out);
	(void)snprintf(line, sizeof(line), "%7s %7s  %s%sfunction", "flat%", "cum%",
		       sc->group == LIVE_FUNCTION  ? ""
		       : sc->group == LIVE_PROCESS ? "process"
						   : "thread",
		       sc->group == LIVE_FUNCTION ? "" : "               ");
	fputs("\033[7m", out);
	put_cut(out, line, w);
	fputs("\033[K\033[0m\n", out);
	shown = 0;
	for (size_t i = 0; i < nrows && shown < h - 4; i++, shown++) {
		const struct live_row *r = &rows[i];
		int k = snprintf(line, sizeof(line), "%6.2f%% %6.2f%%  ",
				 total > 0 ? 100.0 * r->flat / total : 0.0,
				 total > 0 ? 100.0 * r->cum / total : 0.0);

		if (sc->group != LIVE_FUNCTION && k > 0 && (size_t)k < sizeof(line))
			(void)snprintf(line + k, sizeof(line) - (size_t)k, "%-21s ", r->owner);
		put_cut(out, line, w);
		put_cut(out, r->name, w - (int)strlen(line));
		fputs("\033[K\n", out);
	}
	if (nrows == 0) {
		fputs(total > 0 ? "(no function matches the filter)" : "(waiting for samples)",
		      out);
		fputs("\033[K\n", out);
	}
	fputs("\033[J", out);
	/* The bottom line: what is being typed, or what the last key did, or the keys. */
	(void)fprintf(out, "\033[%d;1H", h);
	if (sc->editing) {
		fputs("/", out);
		put_cut(out, sc->edit, w - 1);
	} else {
		put_cut(out,
			sc->message[0]
				? sc->message
				: "q quit  c cumulative/decaying  g group  / filter  p pause  "
				  "s save",
			w);
	}
	fputs("\033[K", out);
	if (fclose(out) == 0)
		term_write(buf);
	free(buf);
	free(rows);
}

/* Write everything recorded so far to -o, and say so in the bottom line. */
static void save(struct screen *sc, int argc, char **argv)
{
	struct outfile *f;
	int r;

	if (!sc->commented) {
		pipeline_add_comments(sc->all, argc, argv);
		sc->commented = true;
	}
	r = outfile_open(sc->o->output, &f);
	if (r == 0)
		r = pipeline_write(sc->all, VIEW_TOP, f);
	if (r < 0)
		(void)snprintf(sc->message, sizeof(sc->message), "cannot write '%s': %s",
			       sc->o->output, strerror(-r));
	else
		(void)snprintf(sc->message, sizeof(sc->message),
			       "saved everything since the start (%.1f s) to '%s'",
			       (double)sc->all->duration_nanos / 1e9, sc->o->output);
}

/* A key typed after /: edit the filter, apply it on Enter. */
static void edit_filter(struct screen *sc, int key)
{
	size_t n = strlen(sc->edit);

	if (key == 27) { /* Esc */
		sc->editing = false;
		return;
	}
	if (key == 127 || key == 8) {
		if (n)
			sc->edit[n - 1] = '\0';
		return;
	}
	if (key != '\r' && key != '\n') {
		if (key >= 32 && n + 1 < sizeof(sc->edit)) {
			sc->edit[n] = (char)key;
			sc->edit[n + 1] = '\0';
		}
		return;
	}
	sc->editing = false;
	if (sc->filtering)
		regfree(&sc->filter);
	sc->filtering = false;
	sc->message[0] = '\0';
	if (!sc->edit[0])
		return;
	if (regcomp(&sc->filter, sc->edit, REG_EXTENDED | REG_NOSUB) != 0) {
		(void)snprintf(sc->message, sizeof(sc->message), "not a regular expression: %s",
			       sc->edit);
		return;
	}
	sc->filtering = true;
	(void)snprintf(sc->filter_text, sizeof(sc->filter_text), "%s", sc->edit);
}

/* Keys waiting on stdin. Returns false on q. */
static bool read_keys(struct screen *sc, int argc, char **argv)
{
	unsigned char buf[64];
	ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

	for (ssize_t i = 0; i < n; i++) {
		int key = buf[i];

		if (sc->editing) {
			edit_filter(sc, key);
			continue;
		}
		switch (key) {
		case 'q':
			return false;
		case 'c':
			sc->cumulative = !sc->cumulative;
			break;
		case 'g':
			sc->group = (sc->group + 1) % LIVE_NGROUPS;
			break;
		case 'p':
			sc->paused = !sc->paused;
			break;
		case 's':
			save(sc, argc, argv);
			break;
		case '/':
			sc->editing = true;
			sc->edit[0] = '\0';
			break;
		case 27:
			/* An arrow's or a function key's sequence: none means anything here. */
			i = n;
			break;
		default:
			break;
		}
	}
	return true;
}

/* A window into the table and the whole profile. Returns 0 or a negative errno. */
static int feed(struct screen *sc, struct profile *window)
{
	struct stacks *st = NULL;
	struct stacks_options so = {.sample_index = stacks_sample_index(window, NULL)};
	int r;

	if (so.sample_index < 0)
		return so.sample_index;
	r = stacks_build(window, NULL, &so, &st);
	if (r == 0)
		r = live_add(sc->live, st);
	stacks_free(st);
	return r == 0 ? profile_merge(sc->all, window) : r;
}

static void measure_cpu(struct screen *sc)
{
	struct own_cost cost;
	struct timespec now;
	double dt;

	pipeline_own_cost(&cost);
	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	dt = (double)(now.tv_sec - sc->last_at.tv_sec) +
	     (double)(now.tv_nsec - sc->last_at.tv_nsec) / 1e9;
	if (dt > 0)
		sc->cpu_percent = 100.0 * (cost.cpu_seconds - sc->last_cpu) / dt;
	sc->last_cpu = cost.cpu_seconds;
	sc->last_at = now;
}

/* Ctrl-Z: the terminal back as it was, stop; on SIGCONT, take it again. */
static void suspend(void)
{
	struct sigaction dfl = {.sa_handler = SIG_DFL}, tstp = {.sa_handler = on_tstp};

	term_restore();
	sigemptyset(&dfl.sa_mask);
	(void)sigaction(SIGTSTP, &dfl, NULL);
	(void)raise(SIGTSTP);
	/* Here again after SIGCONT. */
	sigemptyset(&tstp.sa_mask);
	(void)sigaction(SIGTSTP, &tstp, NULL);
	(void)term_take();
}

static void install_signals(void)
{
	struct sigaction sa = {0};

	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a signal must cut the poll short. */
	sa.sa_handler = on_stop_signal;
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = on_tstp;
	(void)sigaction(SIGTSTP, &sa, NULL);
	sa.sa_handler = on_winch;
	(void)sigaction(SIGWINCH, &sa, NULL);
}

int cmd_top(int argc, char **argv)
{
	static struct target tg; /* large, and borrowed by the events until the end */
	struct collector_config cfg = {0};
	struct symbolize_options sym_opts = {0};
	struct pipeline pipe = {0};
	struct collector *c = NULL;
	struct collector_window w = {0};
	struct screen sc = {0};
	struct top_opts o;
	int r, ret;
	bool running = true;

	r = parse_args(argc, argv, &o);
	if (r <= 0)
		return r < 0 ? EXIT_USAGE : 0;
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return cmd_fail(-ENOTTY, "cprof record writes a profile without one",
				"cprof top needs a terminal");
	ret = target_bind(&tg, &o.t, usage, &cfg);
	if (ret)
		goto out;
	cfg.window_ns = o.delay_ns;
	sc.o = &o;
	sc.live = live_new();
	sc.all = profile_new();
	if (!sc.live || !sc.all) {
		ret = cmd_fail(-ENOMEM, NULL, "starting top");
		goto out;
	}
	ret = pipeline_open(&pipe, sym_opts, &cfg);
	if (ret)
		goto out;
	ret = target_open(&o.t, &cfg, &c);
	if (ret)
		goto out;
	install_signals();
	r = collector_start(c);
	if (r < 0) {
		ret = cmd_fail(r, NULL, "enabling the events");
		goto out;
	}
	if (atexit(term_restore) != 0 || (r = term_take()) < 0) {
		ret = cmd_fail(r < 0 ? r : -ENOMEM, NULL, "taking the terminal");
		goto out;
	}
	measure_cpu(&sc);
	draw(&sc, session_stats(collector_session(c)));
	ret = 0;
	while (running && !stop_signal) {
		const struct session_stats *st = session_stats(collector_session(c));
		bool redraw = false;
		unsigned due;

		r = collector_poll(c, &due);
		if (r < 0) {
			term_restore();
			ret = cmd_fail(r, NULL, "reading samples");
			break;
		}
		if (suspended) {
			suspended = 0;
			suspend();
			redraw = true;
		}
		if (resized) {
			resized = 0;
			redraw = true;
		}
		if (poll(&(struct pollfd){.fd = STDIN_FILENO, .events = POLLIN}, 1, 0) > 0) {
			running = read_keys(&sc, argc, argv);
			redraw = true;
		}
		if (due & COLLECTOR_CUT) {
			r = collector_cut(c, &w);
			if (r == 0 && w.n)
				r = feed(&sc, w.profiles[0]);
			collector_window_release(&w);
			if (r < 0) {
				term_restore();
				ret = cmd_fail(r, NULL, "keeping the profile");
				break;
			}
			measure_cpu(&sc);
			redraw = redraw || !sc.paused;
		}
		if (due & COLLECTOR_GONE) {
			term_restore();
			log_warn("every profiled process has exited");
			break;
		}
		if (redraw && running)
			draw(&sc, st);
	}
	term_restore();
	/* A signal's conventional status, as a shell shows a program it ended. */
	if (stop_signal && ret == 0)
		ret = 128 + stop_signal;
out:
	term_restore();
	collector_free(c);
	pipeline_close(&pipe);
	target_release(&tg);
	if (sc.filtering)
		regfree(&sc.filter);
	live_free(sc.live);
	profile_free(sc.all);
	return ret;
}
