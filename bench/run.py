#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""cprof against perf, side by side, on the same workloads in the same run.

For every scenario (workload x call-graph mode x frequency) the runner does
--runs rounds; each round runs the workload alone, under cprof and under perf,
in an order that rotates from round to round. It reports the median with min
and max of:

  total CPU    profiler CPU (user+sys) to get symbolized stacks: cprof record;
               perf record + perf script
  post CPU     the post-processing part of that (perf script; cprof: none)
  bytes/sample output file size / samples (pprof vs perf.data)
  lost         samples lost (cprof summary; perf's LOST records)
  complete     share of stacks that reach the thread's entry (_start, clone)
  peak RSS     of the profiler (perf: the larger of record and script)
  exit->disk   wall time from the workload's exit to a symbolized profile
  slowdown     the workload's wall and CPU time against its run alone
  unwind/smp   cprof: median unwind time per sample; perf: script CPU / sample

Profilers attach with -p to the running workload, so their own CPU time is
measured apart from the workload's (wait4 on each). Writes Markdown tables
to bench/README.md between the RESULTS markers (--out to change).

Usage: bench/run.py [--runs N] [--quick] [--scenario NAME...] [--out FILE]
"""

import argparse
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import time
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
CPROF = os.path.join(BUILD, "cmd", "cprof")
NOFP = os.path.join(BUILD, "tests", "nofp")
HOT = os.path.join(BUILD, "tests", "hot")
MAKE_PROFILE = os.path.join(BUILD, "tests", "make-profile")
MANYTHREADS = os.path.join(BUILD, "tests", "manythreads")
WAITS = os.path.join(BUILD, "tests", "waits")
# What each kind records in perf's terms, for the same run of perf record.
PERF_EVENTS = {"cpu": ["-e", "cpu-clock"], "offcpu": ["-e", "sched:sched_switch"],
               "wall": ["-e", "cpu-clock/freq=999/", "-e", "sched:sched_switch"],
               "mutex": ["-e", "syscalls:sys_enter_futex", "-e", "syscalls:sys_exit_futex"],
               "threadcreate": ["-e", "sched:sched_process_fork"]}
CHURN_SH = os.path.join(ROOT, "tests", "workloads", "churn.sh")
RESYMBOLIZE = os.path.join(BUILD, "tests", "resymbolize")
PPROF_DUMP = os.path.join(BUILD, "tests", "pprof-dump")
MAPS = os.path.join(BUILD, "tests", "maps")


def run_timed(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=None, cwd=None):
    """Run argv to completion; return (exit code, wall s, cpu s, maxrss KiB)."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=stdout, stderr=stderr, env=env, cwd=cwd)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss


class Scenario:
    """A workload under both profilers. system_wide: -a for SYSTEM_SECONDS while `copies`
    copies of the workload run ("{tmp}" in its argv is the run's scratch directory);
    else -p, to the workload's end or for `duration` s. cache: cprof's cache warm (primed
    by one unmeasured run) or cold (empty in every run)."""

    def __init__(self, name, workload, mode, freq, description, system_wide=False, copies=2,
                 cache="warm", duration=None, kind="cpu"):
        self.name, self.workload, self.mode, self.freq = name, workload, mode, freq
        self.description = description
        self.system_wide, self.copies = system_wide, copies
        self.cache, self.duration = cache, duration
        # A kind other than cpu records every event (no -F): perf gets the same tracepoints.
        self.kind = kind


def scenarios(quick):
    """The scenario list; workloads that need missing tools are left out with a note."""
    # About 10 s alone on these machines: the bytes-per-sample bar asks for >= 10 s recordings.
    sortzip = [NOFP, "sortzipn", "130"]
    hot = [HOT, "-n", "5000"]
    out = []
    for freq in ([999] if quick is True else [99, 999, 4000]):
        out.append(Scenario(f"nofp-dwarf-{freq}", sortzip, "dwarf", freq,
                            "no frame pointers, qsort callback + deflate"))
    if quick is not True:
        for freq in (99, 999, 4000):
            out.append(Scenario(f"hot-fp-{freq}", hot, "fp", freq, "frame pointers, one thread"))
        out.append(Scenario("threads-dwarf-999", [NOFP, "threads", "2", "5"], "dwarf", 999,
                            "two threads, no frame pointers"))
        out.append(Scenario("deep-dwarf-999", [NOFP, "deep", "200", "5"], "dwarf", 999,
                            "200-deep recursion"))
        out.append(Scenario("system-dwarf-999", [NOFP, "sortzipn", "150"], "dwarf", 999,
                            "-a for 10 s, both CPUs busy with two copies of the workload",
                            system_wide=True))
        out.append(Scenario("churn-dwarf-999",
                            ["sh", CHURN_SH, str(SYSTEM_SECONDS + 4), "build", "{tmp}/build"],
                            "dwarf", 999, "-a for 10 s while make -j2 rebuilds 40 C files in a "
                            "loop beside a shell loop of short processes", system_wide=True,
                            copies=1))
        out.append(Scenario("threads1000-dwarf-999", [MANYTHREADS, "1000", "24"], "dwarf", 999,
                            "-p -d 10 of a process with 1,000 live threads (about one CPU "
                            "busy between them)", duration=SYSTEM_SECONDS))
        # Off-CPU time at a modest and at a high switch rate (about 1,000 and 250,000 a
        # second): every switch a 16 KiB stack copy for both profilers.
        out.append(Scenario("offcpu-naps", [WAITS, "naps", "10", "1000"], "dwarf", 0,
                            "--kind offcpu of a thread sleeping 1 ms at a time for 10 s",
                            kind="offcpu"))
        out.append(Scenario("offcpu-pingpong", [WAITS, "pingpong", "10"], "dwarf", 0,
                            "--kind offcpu of two threads bouncing a byte through pipes for "
                            "10 s", kind="offcpu"))
        out.append(Scenario("wall-naps", [WAITS, "naps", "10", "1000"], "dwarf", 0,
                            "--kind wall (cpu-clock at 999 Hz and every switch) of a thread "
                            "sleeping 1 ms at a time for 10 s", kind="wall"))
        out.append(Scenario("mutex-contended", [WAITS, "mutex"], "dwarf", 0,
                            "--kind mutex of 4 threads taking one lock 200 times each",
                            kind="mutex"))
        out.append(Scenario("threadcreate-spawn", [WAITS, "spawn", "10"], "dwarf", 0,
                            "--kind threadcreate of a thread started and joined in a loop for "
                            "10 s", kind="threadcreate"))
        py = shutil.which("python3.11-dbg") or shutil.which("python3-dbg")
        node = shutil.which("node")
        for cache in ("warm", "cold"):
            suffix = "" if cache == "warm" else "-cold"
            if py:
                out.append(Scenario(f"cpython-dwarf-999{suffix}", [py, "-c", PY_LOOP], "dwarf",
                                    999, f"CPython (debug build, DWARF) running pure Python, "
                                    f"cprof's cache {cache}", cache=cache))
            if node:
                out.append(Scenario(f"node-dwarf-999{suffix}",
                                    [node, "--perf-basic-prof", "-e", JS_LOOP], "dwarf", 999,
                                    f"node running a JavaScript loop, cprof's cache {cache}",
                                    cache=cache))
    return out


PY_LOOP = """
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)
for _ in range(5):
    fib(34)
"""

JS_LOOP = """
function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
let s = 0; for (let i = 0; i < 80; i++) s += fib(35);
console.log(s);
"""

CPROF_SUMMARY = re.compile(
    r"cprof: (\d+) samples \((\d+) lost(?:, (\d+) of processes that could not be named)?\)"
    r".*?(?:; ([\d.]+)% of stacks complete)?; cprof used ([\d.]+) s of CPU")
CPROF_UNWIND = re.compile(r"median ([\d.]+) us each")


def workload(sc, tmp):
    return [a.replace("{tmp}", tmp) for a in sc.workload]


def run_baseline(sc, tmp):
    if sc.system_wide:
        return system_wide(sc, None, tmp)
    code, wall, cpu, _ = run_timed(workload(sc, tmp), cwd=tmp)
    return {"wl_wall": wall, "wl_cpu": cpu}


SYSTEM_SECONDS = 10


def system_wide(sc, profiler_argv, tmp, env=None):
    """Copies of the workload on the two CPUs; the profiler records -a for 10 s."""
    t0 = time.monotonic()
    wls = [subprocess.Popen(workload(sc, tmp), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, cwd=tmp)
           for _ in range(sc.copies)]
    r = {}
    if profiler_argv:
        err = open(os.path.join(tmp, "prof.err"), "w+")
        p0 = time.monotonic()
        prof = subprocess.Popen(profiler_argv, stdout=subprocess.DEVNULL, stderr=err, env=env)
        _, status, ru = os.wait4(prof.pid, 0)
        err.seek(0)
        r = {"prof_cpu": ru.ru_utime + ru.ru_stime, "prof_rss": ru.ru_maxrss,
             "prof_status": os.waitstatus_to_exitcode(status), "stderr": err.read(),
             "exit_to_disk": 0.0, "prof_wall": time.monotonic() - p0}
    cpu = 0.0
    for w in wls:
        _, _, ru = os.wait4(w.pid, 0)
        cpu += ru.ru_utime + ru.ru_stime
    r.update({"wl_wall": time.monotonic() - t0, "wl_cpu": cpu})
    return r


def attach(argv, profiler_argv_fn, tmp, env=None):
    """Start the workload, attach a profiler to it; return timings of both."""
    t0 = time.monotonic()
    # A many-threaded workload is attached to once all its threads run: it says so on a pipe.
    ready = os.pipe() if argv[0] == MANYTHREADS else None
    if ready:
        argv = [*argv, str(ready[1])]
    # In tmp: node leaves an isolate-*.log where it runs.
    wl = subprocess.Popen(argv, stdout=subprocess.DEVNULL, cwd=tmp,
                          pass_fds=[ready[1]] if ready else [])
    err = open(os.path.join(tmp, "prof.err"), "w+")
    if ready:
        os.close(ready[1])
        os.read(ready[0], 6)
        os.close(ready[0])
    p0 = time.monotonic()
    prof = subprocess.Popen(profiler_argv_fn(wl.pid), stdout=subprocess.DEVNULL, stderr=err,
                            env=env)
    _, status, pr_ru = os.wait4(prof.pid, 0)
    prof_end = time.monotonic()
    _, _, wl_ru = os.wait4(wl.pid, 0)
    wl_end = time.monotonic()
    err.seek(0)
    return {
        "prof_wall": prof_end - p0,
        "wl_wall": wl_end - t0,
        "wl_cpu": wl_ru.ru_utime + wl_ru.ru_stime,
        "prof_cpu": pr_ru.ru_utime + pr_ru.ru_stime,
        "prof_rss": pr_ru.ru_maxrss,
        "exit_to_disk": max(prof_end - wl_end, 0.0),
        "prof_status": os.waitstatus_to_exitcode(status),
        "stderr": err.read(),
    }


# cprof's cache for the warm scenarios of this run, primed by one unmeasured run each.
WARM_CACHE = tempfile.mkdtemp(prefix="cprof-bench-cache.")


def cprof_env(sc, tmp):
    cache = WARM_CACHE if sc.cache == "warm" else os.path.join(tmp, "cache")
    return dict(os.environ, CPROF_CACHE_DIR=cache)


def run_cprof(sc, tmp):
    out = os.path.join(tmp, "cprof.pb.gz")
    call_graph = "dwarf,16384" if sc.mode == "dwarf" else sc.mode
    rate = ["-F", str(sc.freq)] if sc.kind == "cpu" else ["--kind", sc.kind]
    argv = lambda target: [CPROF, "-v", "record", *target, *rate, "--call-graph",
                           call_graph, "-o", out]
    duration = ["-d", str(sc.duration)] if sc.duration else []
    env = cprof_env(sc, tmp)
    if sc.system_wide:
        r = system_wide(sc, argv(["-a", "-d", str(SYSTEM_SECONDS)]), tmp, env)
    else:
        r = attach(workload(sc, tmp), lambda pid: argv(["-p", str(pid), *duration]), tmp, env)
    m = CPROF_SUMMARY.search(r["stderr"])
    if r["prof_status"] != 0 or not m:
        raise RuntimeError("cprof failed: " + r["stderr"])
    samples = int(m.group(1))
    u = CPROF_UNWIND.search(r["stderr"])
    return {
        **r,
        "total_cpu": r["prof_cpu"],
        "post_cpu": 0.0,
        "samples": samples,
        "lost": int(m.group(2)),
        "unnamed": 100.0 * int(m.group(3) or 0) / samples if samples else None,
        "complete": float(m.group(4)) if m.group(4) else None,
        "bytes": os.path.getsize(out),
        "unwind_us": float(u.group(1)) if u and sc.mode == "dwarf" else None,
    }


ENTRIES = ("_start", "__clone3", "__clone", "clone3", "clone", "start_thread")


def perf_script_stats(path):
    """Samples, those whose last frame is a thread entry and those of unnamed processes
    (perf prints ":PID" for a comm it never learned), from perf script text."""
    samples = complete = unnamed = 0
    last = None
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("\t") or line.startswith(" "):
                last = line.split()
                continue
            if line.strip() and last is None:
                unnamed += line.startswith(":")
            if not line.strip():
                if last is not None:
                    samples += 1
                    sym = last[1].split("+")[0] if len(last) > 1 else ""
                    complete += sym in ENTRIES
                last = None
                continue
            last = last or []
    return samples, complete, unnamed


def run_perf(sc, tmp):
    data = os.path.join(tmp, "perf.data")
    cg = ["--call-graph", "dwarf,16384"] if sc.mode == "dwarf" else ["-g"]
    # The target goes last: "-a -- sleep 10" ends perf's own options.
    rate = ["-F", str(sc.freq)] if sc.kind == "cpu" else []
    argv = lambda target: ["perf", "record", "-q", *PERF_EVENTS[sc.kind], *rate, *cg,
                           "-o", data, *target]
    duration = ["--", "sleep", str(sc.duration)] if sc.duration else []
    if sc.system_wide:
        r = system_wide(sc, argv(["-a", "--", "sleep", str(SYSTEM_SECONDS)]), tmp)
    else:
        r = attach(workload(sc, tmp), lambda pid: argv(["-p", str(pid), *duration]), tmp)
    if r["prof_status"] != 0:
        raise RuntimeError("perf record failed: " + r["stderr"])
    text = os.path.join(tmp, "perf.txt")
    with open(text, "w") as f:
        code, wall, cpu, rss = run_timed(["perf", "script", "-i", data], stdout=f)
    samples, complete, unnamed = perf_script_stats(text)
    _, _, report_cpu, _ = run_timed(["perf", "report", "--stdio", "-i", data])
    # Off-CPU time the way perf users get it: per-task wait times with callchains.
    sched_cpu = None
    if sc.kind in ("offcpu", "wall"):
        _, _, sched_cpu, _ = run_timed(["perf", "sched", "timehist", "-g", "-s", "-i", data])
    lost = 0
    code2, _, _, _ = run_timed(["perf", "report", "--stdio", "-i", data, "--stats"],
                               stdout=open(os.path.join(tmp, "stats.txt"), "w"))
    with open(os.path.join(tmp, "stats.txt"), errors="replace") as f:
        for line in f:
            m = re.search(r"LOST(?:_SAMPLES)? events:\s+(\d+)", line)
            if m:
                lost += int(m.group(1))
    return {
        **r,
        "total_cpu": r["prof_cpu"] + cpu,
        "post_cpu": cpu,
        "exit_to_disk": r["exit_to_disk"] + wall,
        "prof_rss": max(r["prof_rss"], rss),
        "samples": samples,
        "lost": lost,
        "complete": 100.0 * complete / samples if samples else None,
        "unnamed": 100.0 * unnamed / samples if samples else None,
        "bytes": os.path.getsize(data),
        "unwind_us": 1e6 * cpu / samples if samples and sc.mode == "dwarf" else None,
        "report_cpu": report_cpu,
        "sched_cpu": sched_cpu,
    }


def med(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return statistics.median(values), min(values), max(values)


def fmt(t, unit="", digits=2):
    if t is None:
        return "–"
    m, lo, hi = t
    return f"{m:.{digits}f}{unit} ({lo:.{digits}f}–{hi:.{digits}f})"


def ratio(a, b):
    if a is None or b is None or b[0] == 0:
        return "–"
    return f"{a[0] / b[0]:.3g}"


def summarize(sc, runs):
    base, cp, pf = runs["none"], runs["cprof"], runs["perf"]

    def col(rs, key, scale=1.0):
        return med([r[key] * scale if r.get(key) is not None else None for r in rs])

    def per_sample(rs, key):
        return med([r[key] / r["samples"] if r["samples"] else None for r in rs])

    def slowdown(rs, key):
        b = statistics.median(r[key] for r in base)
        return med([r[key] / b for r in rs])

    rows = {}
    for name, rs in (("cprof", cp), ("perf", pf)):
        # Each run against the baseline of its own round: the machine's mood drifts.
        kernel_cost = med([(r["wl_cpu"] - b["wl_cpu"]) / r["samples"] * 1e6 if r["samples"] else None
                           for r, b in zip(rs, base)])
        rows[name] = {
            "total_cpu": col(rs, "total_cpu"),
            "post_cpu": col(rs, "post_cpu"),
            "bps": per_sample(rs, "bytes"),
            "samples": col(rs, "samples"),
            "lost": col(rs, "lost"),
            "complete": col(rs, "complete"),
            "rss": col(rs, "prof_rss", 1 / 1024),
            "exit": col(rs, "exit_to_disk"),
            "slow_wall": slowdown(rs, "wl_wall"),
            "slow_cpu": slowdown(rs, "wl_cpu"),
            "unwind": col(rs, "unwind_us"),
            "cpu_per_sample": med([r["total_cpu"] / r["samples"] * 1e6 if r["samples"] else None
                                   for r in rs]),
            "kernel_per_sample": kernel_cost,
            "report_cpu": col(rs, "report_cpu"),
            "sched_cpu": col(rs, "sched_cpu"),
            "unnamed": col(rs, "unnamed"),
            # Past the recording's length: setting up and finishing, for -d scenarios.
            "overrun": med([r["prof_wall"] - sc.duration if sc.duration and "prof_wall" in r
                            else None for r in rs]),
        }
    return rows


def table(sc, rows):
    c, p = rows["cprof"], rows["perf"]
    lines = [
        f"### {sc.name}: {sc.description}",
        "",
        f"`{' '.join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sc.workload))}`, "
        + (f"{sc.mode} mode, {sc.freq} Hz, cpu-clock" if sc.kind == "cpu" else
         f"{sc.mode} mode, every event: cprof --kind {sc.kind}, perf record "
         f"{' '.join(PERF_EVENTS[sc.kind])}"),
        "",
        "| metric | cprof | perf | cprof / perf |",
        "|---|---|---|---|",
        f"| total CPU to symbolized stacks (s) | {fmt(c['total_cpu'])} | {fmt(p['total_cpu'])} | "
        f"{ratio(c['total_cpu'], p['total_cpu'])} |",
        f"| of which post-processing (s) | {fmt(c['post_cpu'])} | {fmt(p['post_cpu'])} | |",
        f"| perf report --stdio instead of perf script (CPU s) | – | {fmt(p['report_cpu'])} | |",
        *([f"| perf sched timehist -g -s instead of perf script (CPU s) | – | "
           f"{fmt(p['sched_cpu'])} | |"] if p["sched_cpu"] else []),
        f"| profiler CPU per sample (µs) | {fmt(c['cpu_per_sample'], digits=1)} | "
        f"{fmt(p['cpu_per_sample'], digits=1)} | {ratio(c['cpu_per_sample'], p['cpu_per_sample'])} |",
        f"| kernel cost per sample, from the workload's extra CPU (µs) | "
        f"{fmt(c['kernel_per_sample'], digits=1)} | {fmt(p['kernel_per_sample'], digits=1)} | |",
        f"| samples | {fmt(c['samples'], digits=0)} | {fmt(p['samples'], digits=0)} | |",
        f"| bytes per sample | {fmt(c['bps'], digits=1)} | {fmt(p['bps'], digits=1)} | "
        f"{ratio(c['bps'], p['bps'])} |",
        f"| lost samples | {fmt(c['lost'], digits=0)} | {fmt(p['lost'], digits=0)} | |",
        f"| complete stacks (%) | {fmt(c['complete'], digits=1)} | {fmt(p['complete'], digits=1)} | |",
        f"| samples of unnamed processes (%) | {fmt(c['unnamed'], digits=2)} | "
        f"{fmt(p['unnamed'], digits=2)} | |",
        f"| wall time past -d, setting up and finishing (s) | {fmt(c['overrun'])} | "
        f"{fmt(p['overrun'])} | |",
        f"| peak RSS (MiB) | {fmt(c['rss'], digits=1)} | {fmt(p['rss'], digits=1)} | "
        f"{ratio(c['rss'], p['rss'])} |",
        f"| workload exit → symbolized profile (s) | {fmt(c['exit'])} | {fmt(p['exit'])} | "
        f"{ratio(c['exit'], p['exit'])} |",
        f"| workload wall slowdown (×) | {fmt(c['slow_wall'], digits=3)} | "
        f"{fmt(p['slow_wall'], digits=3)} | |",
        f"| workload CPU slowdown (×) | {fmt(c['slow_cpu'], digits=3)} | "
        f"{fmt(p['slow_cpu'], digits=3)} | |",
        f"| unwind cost per sample (µs; perf: script CPU / sample) | {fmt(c['unwind'], digits=1)} | "
        f"{fmt(p['unwind'], digits=1)} | {ratio(c['unwind'], p['unwind'])} |",
        "",
    ]
    return "\n".join(lines)


VIEWS = ["--top", "--traces", "--tree", "--folded", "--perf-script", "--flamegraph",
         "--callgrind", "--dot"]


PERIODIC_WINDOWS = 100
WINDOW_LINE = re.compile(r"window of ([\d.]+) s: (\d+) samples \((\d+) lost\), cprof used ([\d.]+) s "
                         r"of CPU, ([\d.]+) MiB resident")


def bench_periodic(runs):
    """record -a --every 1 for 100 windows under churn: each window's CPU and RSS, against a
    fresh cprof record -a -d 1 on the same machine."""
    rows = {"first": [], "later": [], "fresh": [], "rss1": [], "rss10": [], "rss25": [],
            "rss50": [], "rss75": [], "rss100": [], "lost": []}
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="cprof-bench.") as tmp:
            churn = subprocess.Popen(["sh", CHURN_SH, str(PERIODIC_WINDOWS + 30), "build",
                                      os.path.join(tmp, "build")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp,
                                     start_new_session=True)
            env = dict(os.environ, CPROF_CACHE_DIR=os.path.join(tmp, "cache"))
            prof = subprocess.Popen([CPROF, "-v", "record", "-a", "--every", "1", "--keep", "3",
                                     "-o", os.path.join(tmp, "w-%H%M%S.pb.gz")],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                                    text=True)
            windows = []
            for line in prof.stderr:
                m = WINDOW_LINE.search(line)
                if m:
                    windows.append(tuple(float(g) for g in m.groups()))
                    if len(windows) == PERIODIC_WINDOWS:
                        prof.send_signal(signal.SIGINT)
                        break
            prof.communicate()
            fresh = []
            for _ in range(3):
                _, _, cpu, _ = run_timed([CPROF, "record", "-a", "-d", "1", "-o",
                                          os.path.join(tmp, "fresh.pb.gz")], env=env)
                fresh.append(cpu)
            # The loop and every make and compiler under it, before the directory goes.
            os.killpg(churn.pid, signal.SIGKILL)
            churn.wait()
        if len(windows) < PERIODIC_WINDOWS:
            return "### periodic: failed\n\n- cprof wrote fewer windows than asked\n"
        rows["first"].append(windows[0][3])
        rows["later"].append(statistics.median(w[3] for w in windows[1:]))
        rows["fresh"].append(statistics.median(fresh))
        rows["rss1"].append(windows[0][4])
        rows["rss10"].append(windows[9][4])
        rows["rss25"].append(windows[24][4])
        rows["rss50"].append(windows[49][4])
        rows["rss75"].append(windows[74][4])
        rows["rss100"].append(windows[-1][4])
        rows["lost"].append(sum(w[2] for w in windows))
    m = {k: med(v) for k, v in rows.items()}
    return "\n".join([
        "### periodic: record -a --every 1 for 100 windows while make -j2 and a shell loop run",
        "",
        "| metric | value |",
        "|---|---|",
        f"| CPU of window 1 (s) | {fmt(m['first'], digits=3)} |",
        f"| CPU of windows 2–100, median (s) | {fmt(m['later'], digits=3)} |",
        f"| a fresh `cprof record -a -d 1` (s, whole process) | {fmt(m['fresh'], digits=3)} |",
        f"| resident after window 1 (MiB) | {fmt(m['rss1'], digits=1)} |",
        f"| resident after window 10 (MiB) | {fmt(m['rss10'], digits=1)} |",
        f"| resident after window 25 (MiB) | {fmt(m['rss25'], digits=1)} |",
        f"| resident after window 50 (MiB) | {fmt(m['rss50'], digits=1)} |",
        f"| resident after window 75 (MiB) | {fmt(m['rss75'], digits=1)} |",
        f"| resident after window 100 (MiB) | {fmt(m['rss100'], digits=1)} |",
        f"| records lost over the 100 windows | {fmt(m['lost'], digits=0)} |",
        "",
    ])


ALLOC_ROUNDS = "60"  # ~0.7 s of map building in two threads: 12 million allocations
ALLOC_TOOLS = ["none", "cprof launched", "cprof attached", "heaptrack", "massif"]


def workload_says(text):
    """The NAME VALUE lines tests/workloads/maps.cc prints."""
    return {k: float(v) for k, v in (line.split() for line in text.splitlines() if line.strip())}


def alloc_run(tool, tmp):
    """One run of maps under tool: (workload's own seconds, its peak RSS KiB, seconds from start
    to the tool's output, output bytes, build_map's share of allocations, bytes in use at exit)."""
    out = os.path.join(tmp, "out")
    cmd = [MAPS, ALLOC_ROUNDS]
    pb = os.path.join(tmp, "alloc.pb.gz")
    t0 = time.monotonic()
    if tool == "cprof attached":
        fifo = os.path.join(tmp, "go")
        os.mkfifo(fifo)
        with open(os.path.join(tmp, "w.out"), "w") as wout:
            w = subprocess.Popen(cmd + [fifo], stdout=wout)
            prof = subprocess.Popen([CPROF, "-v", "record", "--kind", "alloc", "-p", str(w.pid),
                                     "-o", pb], stderr=subprocess.PIPE, text=True)
            for line in prof.stderr:
                if "recording" in line:
                    break
            t0 = time.monotonic()
            with open(fifo, "w") as f:
                f.write("x")
            w.wait()
            prof.communicate()
        said = open(os.path.join(tmp, "w.out")).read()
    else:
        argv = {"none": cmd,
                "cprof launched": [CPROF, "-q", "record", "--kind", "alloc", "-o", pb, "--"] + cmd,
                "heaptrack": ["heaptrack", "-o", os.path.join(tmp, "ht")] + cmd,
                "massif": ["valgrind", "--tool=massif",
                           "--massif-out-file=" + os.path.join(tmp, "massif.out")] + cmd}[tool]
        said = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                              check=True).stdout
    done = time.monotonic() - t0
    w = workload_says("\n".join(l for l in said.splitlines() if l.split()[:1] in
                                (["kept"], ["elapsed_s"], ["maxrss_kb"])))
    size = share = inuse = None
    if tool.startswith("cprof"):
        size = os.path.getsize(pb)
        def folded(index):
            text = subprocess.run([CPROF, "report", "--folded", "--sample-index", index, pb],
                                  stdout=subprocess.PIPE, text=True, check=True).stdout
            return [l.rsplit(" ", 1) for l in text.splitlines() if l.strip()]
        rows = folded("alloc_objects")
        total = sum(int(n) for _, n in rows)
        share = sum(int(n) for s, n in rows if "build_map" in s) / total if total else None
        inuse = sum(int(n) for _, n in folded("inuse_space"))
    elif tool == "heaptrack":
        ht = [os.path.join(tmp, f) for f in os.listdir(tmp) if f.startswith("ht")][0]
        size = os.path.getsize(ht)
        def folded(cost):
            path = os.path.join(tmp, cost + ".folded")
            subprocess.run(["heaptrack_print", "-f", ht, "-F", path, "--flamegraph-cost-type",
                            cost], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            return [l.rsplit(" ", 1) for l in open(path) if l.strip()]
        rows = folded("allocations")
        total = sum(int(n) for _, n in rows)
        share = sum(int(n) for s, n in rows if "build_map" in s) / total if total else None
        inuse = sum(int(n) for _, n in folded("leaked"))
        done = time.monotonic() - t0
    elif tool == "massif":
        path = os.path.join(tmp, "massif.out")
        size = os.path.getsize(path)
        heaps = [int(l.split("=")[1]) for l in open(path) if l.startswith("mem_heap_B=")]
        inuse = heaps[-1] if heaps else None
    return w["elapsed_s"], w["maxrss_kb"], done, size, share, inuse


def bench_alloc(runs):
    """--kind alloc on an allocation-heavy C++ program (tests/workloads/maps.cc: two threads
    building maps of strings, 12 million allocations, while main keeps 16 MiB), launched and
    attached, against heaptrack and valgrind's massif on the same workload, in turn."""
    if not os.access(MAPS, os.X_OK):
        return "### alloc: not run\n\n- tests/maps is missing (a C++ compiler is needed)\n"
    missing = [t for t in ("heaptrack", "heaptrack_print", "valgrind") if not shutil.which(t)]
    res = {t: [] for t in ALLOC_TOOLS}
    for i in range(runs):
        for tool in ALLOC_TOOLS[i % 5:] + ALLOC_TOOLS[:i % 5]:
            if tool in ("heaptrack", "massif") and missing:
                continue
            with tempfile.TemporaryDirectory(prefix="cprof-bench.") as tmp:
                res[tool].append(alloc_run(tool, tmp))
        print(f"bench: alloc: run {i + 1}/{runs} done", file=sys.stderr)
    m = {t: [med([r[k] for r in rs if r[k] is not None]) if rs else None for k in range(6)]
         for t, rs in res.items()}
    base = m["none"][0]

    def scaled(t, s):
        return None if t is None else tuple(v * s for v in t)
    tools = ALLOC_TOOLS[1:]

    def row(label, f):
        return "| " + label + " | " + " | ".join(f(t) for t in tools) + " |"

    lines = [
        "### alloc: --kind alloc on maps.cc (two threads, 12 million allocations) "
        "against heaptrack and massif",
        "",
        "| metric | " + " | ".join(tools) + " |",
        "|---|" + "---|" * len(tools),
        row("workload time, its own clock (s; alone: " + fmt(base, digits=3) + ")",
            lambda t: fmt(m[t][0], digits=3)),
        row("slowdown (×)", lambda t: ratio(m[t][0], base)),
        row("target's peak RSS (MiB; alone: " + fmt(scaled(m["none"][1], 1 / 1024), digits=1) + ")",
            lambda t: fmt(scaled(m[t][1], 1 / 1024), digits=1)),
        row("start to profile written (s)", lambda t: fmt(m[t][2], digits=2)),
        row("output (KiB)", lambda t: fmt(scaled(m[t][3], 1 / 1024), digits=1)),
        row("build_map's share of allocations (%)", lambda t: fmt(scaled(m[t][4], 100), digits=2)),
        row("in use at exit (MiB; kept: 16)", lambda t: fmt(scaled(m[t][5], 1 / 1048576), digits=2)),
        "",
    ]
    if missing:
        lines.append("heaptrack and massif were not run: missing " + ", ".join(missing) + "\n")
    return "\n".join(lines)


SNAPSHOT_SLEEPERS = 95  # waits stuck: 3 readers, 95 sleepers, a spinner and main: 100 threads
STOPPED_LINE = re.compile(r"stopped ([0-9.]+) ms on average")


def stuck_in_place(pid):
    """Every thread of waits stuck waits where it should: 99 of its 100 in a syscall."""
    n = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/syscall") as f:
                n += f.read().split()[0] in ("0", "202", "230", "219")
        except OSError:
            pass
    return n == SNAPSHOT_SLEEPERS + 4


def bench_snapshot(runs):
    """Every thread's stack of a 100-thread process: cprof snapshot against eu-stack -p and
    gdb's thread apply all bt. How long the process was stopped, as its spinning thread saw it
    (the longest pause it noticed during the tool's run), and the tool's own time."""
    tools = [("cprof snapshot", lambda pid, tmp: [CPROF, "snapshot", "-p", str(pid), "-o",
                                                  os.path.join(tmp, "s.pb.gz")]),
             ("eu-stack -p", lambda pid, tmp: ["eu-stack", "-p", str(pid)]),
             ("gdb thread apply all bt", lambda pid, tmp: ["gdb", "-q", "-batch", "-nx", "-p",
                                                           str(pid), "-ex",
                                                           "thread apply all bt"])]
    tools = [t for t in tools if shutil.which(t[1](0, "")[0])]
    seen = {name: [] for name, _ in tools}
    said = []
    with tempfile.TemporaryDirectory(prefix="cprof-bench.") as tmp:
        gaps = os.path.join(tmp, "gaps")
        with open(gaps, "w") as out:
            w = subprocess.Popen([WAITS, "stuck", str(SNAPSHOT_SLEEPERS)], stdout=out,
                                 env=dict(os.environ, WAITS_GAPS="1"))
        try:
            deadline = time.monotonic() + 10
            while not stuck_in_place(w.pid) and time.monotonic() < deadline:
                time.sleep(0.01)
            for i in range(runs):
                for name, argv in tools[i % len(tools):] + tools[:i % len(tools)]:
                    before = os.path.getsize(gaps)
                    code, wall, cpu, _ = run_timed(argv(w.pid, tmp), stderr=subprocess.PIPE
                                                   if name.startswith("cprof") else
                                                   subprocess.DEVNULL)
                    # The spinner reports the pause once it runs again.
                    deadline = time.monotonic() + 1
                    while os.path.getsize(gaps) == before and time.monotonic() < deadline:
                        time.sleep(0.01)
                    with open(gaps) as f:
                        f.seek(before)
                        ns = [int(l.split()[1]) for l in f if l.startswith("gap_ns")]
                    seen[name].append((max(ns) / 1e6 if ns else 0.2, wall, cpu))
            for _ in range(runs):
                r = subprocess.run([CPROF, "snapshot", "-p", str(w.pid), "-o",
                                    os.path.join(tmp, "s.pb.gz")], capture_output=True, text=True)
                m = STOPPED_LINE.search(r.stderr)
                if m:
                    said.append(float(m.group(1)))
        finally:
            w.kill()
            w.wait()
    lines = ["### snapshot-100: every thread's stack of a process with 100 threads",
             "",
             "`waits stuck 95`: 3 threads in read(), 95 in nanosleep, one spinning, main in "
             "pthread_join. *Stopped* is the longest pause the spinning thread noticed while the "
             "tool ran: the same measure for every tool, median (least–most) of the runs. It "
             "includes any preemption of the spinner meanwhile (a scheduler tick is 4 ms here), so "
             "the least is the closer bound. eu-stack stops one thread at a time (attach, unwind, "
             "detach), so its threads' stacks share no instant, and 0.20 means below what the "
             "spinner notices; cprof and gdb stop every thread together.",
             "",
             "| tool | stopped (ms) | wall (s) | CPU (s) |", "|---|---|---|---|"]
    for name, _ in tools:
        t = seen[name]
        lines.append(f"| `{name}` | {fmt(med([x[0] for x in t]), digits=2)} | "
                     f"{fmt(med([x[1] for x in t]), digits=3)} | "
                     f"{fmt(med([x[2] for x in t]), digits=3)} |")
    if said:
        lines += ["", f"cprof's own account of the stop (its summary line): "
                  f"{fmt(med(said), digits=2)} ms."]
    return "\n".join(lines) + "\n"


def bench_report(runs):
    """cprof report's views against go tool pprof on one large profile."""
    with tempfile.TemporaryDirectory(prefix="cprof-bench.") as tmp:
        prof = os.path.join(tmp, "large.pb.gz")
        subprocess.run([MAKE_PROFILE, "large", prof, "1000000", "100000"], check=True)
        env = dict(os.environ, HOME=tmp, GOCACHE=os.path.join(tmp, "gocache"))
        cmds = [(f"cprof report {v}", [CPROF, "report", v, prof]) for v in VIEWS]
        if shutil.which("go"):
            cmds += [("go tool pprof -top", ["go", "tool", "pprof", "-top", prof]),
                     ("go tool pprof -traces", ["go", "tool", "pprof", "-traces", prof])]
        times = {name: [] for name, _ in cmds}
        for i in range(runs):
            for name, argv in cmds[i % len(cmds):] + cmds[:i % len(cmds)]:
                _, wall, cpu, rss = run_timed(argv, env=env)
                times[name].append((wall, cpu, rss / 1024))
        lines = ["### report-large: views of a profile of 1,000,000 samples over 100,000 stacks",
                 "", "`make-profile large` (tests/tools), 2.6 MB gzip. Wall time, CPU time, peak RSS.", "",
                 "| command | wall (s) | CPU (s) | peak RSS (MiB) |", "|---|---|---|---|"]
        for name, _ in cmds:
            t = times[name]
            lines.append(f"| `{name}` | {fmt(med([x[0] for x in t]))} | {fmt(med([x[1] for x in t]))} | "
                         f"{fmt(med([x[2] for x in t]), digits=0)} |")
        return "\n".join(lines) + "\n"


def load_segments(path):
    """(file offset, vaddr, size) of each PT_LOAD, from readelf."""
    out = subprocess.run(["readelf", "-lW", path], capture_output=True, text=True).stdout
    segs = []
    for line in out.splitlines():
        f = line.split()
        if f and f[0] == "LOAD":
            segs.append((int(f[1], 16), int(f[2], 16), int(f[5], 16)))
    return segs


def file_vaddr(segs, off):
    """The ELF address of file offset off, as the symbolizer computes it."""
    for o, v, size in segs:
        if o <= off < o + size:
            return off - o + v
    return None


def bench_symbolize(runs):
    """cprof's symbolizer against addr2line -i on the same unique addresses."""
    py = shutil.which("python3.11-dbg") or shutil.which("python3-dbg")
    if not py:
        return "### symbolize: skipped\n\nNeeds python3-dbg (bench/setup.sh).\n"
    with tempfile.TemporaryDirectory(prefix="cprof-bench.") as tmp:
        prof = os.path.join(tmp, "py.pb.gz")
        subprocess.run([CPROF, "-q", "record", "-F", "4000", "-o", prof, "--", py, "-c", PY_LOOP],
                       check=True, stdout=subprocess.DEVNULL)
        dump = subprocess.run([PPROF_DUMP, prof], capture_output=True, text=True, check=True).stdout
        # The addresses addr2line needs: per file, each location as a file address.
        maps, files, addrs = {}, {}, {}
        last = None
        for line in dump.splitlines():
            f = line.split()
            if f[0] == "mapping":
                last = f[1]
            elif f[0] == "range":
                maps[f[1]] = (last, int(f[2], 16), int(f[4], 16))
            elif f[0] == "location":
                mid = f[2].rstrip(":").split("=")[1]
                if mid in maps and maps[mid][0].startswith("/"):
                    path, start, off = maps[mid]
                    addrs.setdefault(path, set()).add(int(f[1], 16) - start + off)
        # One binary, both ways: the interpreter, big and with DWARF of its own.
        addrs = {path: a for path, a in addrs.items() if os.path.realpath(path) == os.path.realpath(py)}
        for path in addrs:
            segs = load_segments(path)
            addrs[path] = {v for v in (file_vaddr(segs, off) for off in addrs[path]) if v is not None}
        total = sum(len(a) for a in addrs.values())
        for path, a in addrs.items():
            files[path] = os.path.join(tmp, os.path.basename(path) + ".addrs")
            with open(files[path], "w") as fh:
                fh.write("\n".join("%x" % x for x in sorted(a)) + "\n")
        out = os.path.join(tmp, "out.pb.gz")
        rows = {"cprof (libdw, in process)": [], "addr2line -i -f -C": []}
        for i in range(runs):
            err = os.path.join(tmp, "resymbolize.err")
            with open(err, "w") as fh:
                _, wall, cpu, _ = run_timed([RESYMBOLIZE, "--only", next(iter(addrs)), prof, out],
                                            stderr=fh)
            with open(err) as fh:
                m = re.search(r"in ([\d.]+) s", fh.read())
            # The symbolizer's own time, not reading and writing the file around it.
            rows["cprof (libdw, in process)"].append((float(m.group(1)) if m else wall, cpu))
            wall = cpu2 = 0.0
            for path, fn in files.items():
                with open(fn) as fh:
                    t0 = time.monotonic()
                    p = subprocess.Popen(["addr2line", "-i", "-f", "-C", "-e", path], stdin=fh,
                                         stdout=subprocess.DEVNULL)
                    _, _, ru = os.wait4(p.pid, 0)
                    wall += time.monotonic() - t0
                    cpu2 += ru.ru_utime + ru.ru_stime
            rows["addr2line -i -f -C"].append((wall, cpu2))
        c = med([r[0] for r in rows["cprof (libdw, in process)"]])
        a = med([r[0] for r in rows["addr2line -i -f -C"]])
        lines = ["### symbolize: the unique addresses of a CPython profile, with inline frames and lines",
                 "", f"The {total} unique addresses in python3.11-dbg (DWARF in the binary) of a "
                 "CPython profile, symbolized with inline chains, files and lines: by cprof's "
                 "symbolizer (tests/tools/resymbolize --only; wall time of the symbolizer alone, "
                 "CPU time of the whole process, reading and writing the profile included) and by "
                 "`addr2line -i -f -C` (binutils) reading the same addresses.", "",
                 "| symbolizer | wall (s) | CPU (s) |", "|---|---|---|"]
        for name, rs in rows.items():
            lines.append(f"| {name} | {fmt(med([r[0] for r in rs]))} | {fmt(med([r[1] for r in rs]))} |")
        lines += ["", f"cprof / addr2line wall time: {ratio(c, a)}", ""]
        return "\n".join(lines)


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    perf = subprocess.run(["perf", "version"], capture_output=True, text=True).stdout.strip()
    rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True).stdout.strip()
    return (f"{os.cpu_count()} CPUs ({cpu}), Linux {platform.release()}, {perf}, "
            f"cprof {rev}, {time.strftime('%Y-%m-%d')}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="only the no-frame-pointer workload at 999 Hz")
    ap.add_argument("--list", action="store_true", help="list the scenarios and exit")
    ap.add_argument("--scenario", nargs="*", help="only these scenarios")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "README.md"))
    ap.add_argument("--bar-only", action="store_true",
                    help="run nothing; rewrite the bar from the results already in --out")
    args = ap.parse_args()
    if args.bar_only:
        write_results(args, [], machine_line=False)
        return

    for tool in (CPROF, NOFP, HOT):
        if not os.access(tool, os.X_OK):
            sys.exit(f"bench: {tool} is missing; build first (make all)")
    if not shutil.which("perf"):
        sys.exit("bench: perf is missing; apt-get install linux-perf")

    scs = [s for s in scenarios(args.quick or args.scenario) if not args.scenario or s.name in args.scenario]
    if any(s.kind != "cpu" for s in scs) and not os.path.exists("/sys/kernel/tracing/events") \
            and os.environ.get("CPROF_BENCH_NS") != "1":
        # Tracepoints need tracefs: mounted in a private mount namespace, never on the host's.
        os.execvp("unshare", ["unshare", "-m", "--propagation", "private", "env",
                              "CPROF_BENCH_NS=1", "sh", "-c",
                              'mount -t tracefs nodev /sys/kernel/tracing && exec "$0" "$@"',
                              sys.executable, *sys.argv])
    want_report = not args.quick and (not args.scenario or "report-large" in args.scenario)
    want_symbolize = not args.quick and (not args.scenario or "symbolize" in args.scenario)
    want_periodic = not args.quick and (not args.scenario or "periodic" in args.scenario)
    want_snapshot = not args.quick and (not args.scenario or "snapshot-100" in args.scenario)
    want_alloc = not args.quick and (not args.scenario or "alloc" in args.scenario)
    if args.list:
        for s in scenarios(False):
            print(f"{s.name}: {s.description}")
        print("report-large: cprof report views against go tool pprof on a large profile")
        print("symbolize: cprof's symbolizer against addr2line on a profile's addresses")
        print("periodic: record -a --every 1 for 100 windows under churn, CPU and RSS per window")
        print("snapshot-100: cprof snapshot against eu-stack and gdb on a 100-thread process")
        print("alloc: --kind alloc launched and attached against heaptrack and massif")
        return
    sections = []
    for sc in scs:
        runs = {"none": [], "cprof": [], "perf": []}
        order = ["none", "cprof", "perf"]
        failures = []
        if sc.cache == "warm":
            # What a warm cache is: one run of cprof on this workload before, not measured.
            with tempfile.TemporaryDirectory(prefix="cprof-bench.") as tmp:
                try:
                    run_cprof(sc, tmp)
                except RuntimeError as e:
                    failures.append(f"cprof (priming the cache): {e}")
        for i in range(args.runs):
            for who in order[i % 3:] + order[:i % 3]:
                with tempfile.TemporaryDirectory(prefix="cprof-bench.") as tmp:
                    fn = {"none": run_baseline, "cprof": run_cprof, "perf": run_perf}[who]
                    try:
                        runs[who].append(fn(sc, tmp))
                    except RuntimeError as e:
                        failures.append(f"{who}: {e}")
            print(f"bench: {sc.name}: run {i + 1}/{args.runs} done", file=sys.stderr)
        if failures or not all(runs.values()):
            sections.append(f"### {sc.name}: failed\n\n" + "\n".join(
                f"- {f.strip()}" for f in failures[:5]) + "\n")
        else:
            sections.append(table(sc, summarize(sc, runs)))
        # Written after every scenario, so a long run that dies keeps what it measured.
        write_results(args, sections)
    if want_report:
        sections.append(bench_report(args.runs))
        write_results(args, sections)
    if want_periodic:
        sections.append(bench_periodic(args.runs))
        write_results(args, sections)
    if want_symbolize:
        sections.append(bench_symbolize(args.runs))
        write_results(args, sections)
    if want_snapshot:
        sections.append(bench_snapshot(args.runs))
        write_results(args, sections)
    if want_alloc:
        sections.append(bench_alloc(args.runs))
        write_results(args, sections)


# The bar, checked against the tables: (scenarios, metric row, how to judge).
SMALL_C = ["nofp-dwarf-999", "threads-dwarf-999", "deep-dwarf-999", "system-dwarf-999"]
BIG = ["cpython-dwarf-999", "node-dwarf-999"]
BUSY = ["churn-dwarf-999"]
TEN_SECONDS = ["nofp-dwarf-99", "nofp-dwarf-999", "nofp-dwarf-4000", "system-dwarf-999",
               "cpython-dwarf-999", "node-dwarf-999"]
DWARF = ["nofp-dwarf-99", "nofp-dwarf-999", "nofp-dwarf-4000", "threads-dwarf-999",
         "deep-dwarf-999", "system-dwarf-999", "cpython-dwarf-999", "node-dwarf-999",
         "churn-dwarf-999", "threads1000-dwarf-999"]
DWARF_999 = [n for n in DWARF if n.endswith("-999")]


def cell(text):
    """'0.21 (0.19–0.23)' -> (0.21, 0.19, 0.23); None for '–' or anything else."""
    m = re.match(r"(-?[\d.]+(?:e[-+]?\d+)?) \((-?[\d.]+(?:e[-+]?\d+)?)–(-?[\d.]+(?:e[-+]?\d+)?)\)",
                 text)
    return tuple(float(g) for g in m.groups()) if m else None


def rows_of(section):
    """A scenario section's table: metric -> [cprof, perf, ratio] cells."""
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) >= 3 and cells[0] != "metric":
            rows[cells[0]] = cells[1:]
    return rows


def bar_section(kept):
    """The bar, scenario by scenario, judged from the tables below it."""
    out = ["### The bar", "",
           "Each line of the performance bar (the bench issue), judged from the "
           "scenario tables below as last run.", "",
           "| bar | scenario | cprof | perf | ratio | verdict |", "|---|---|---|---|---|---|"]
    tables = {name: rows_of(sec) for name, sec in kept.items()}

    def ratio_bar(label, names, metric, limit, text):
        for n in names:
            r = tables.get(n, {}).get(metric)
            c, p = (cell(r[0]), cell(r[1])) if r else (None, None)
            if not c or not p or not p[0]:
                continue
            q = c[0] / p[0]
            out.append(f"| {label} | {n} | {c[0]:g} | {p[0]:g} | {q:.3g} | "
                       f"{'met' if q <= limit else 'not met'} ({text}) |")

    ratio_bar("total CPU to symbolized stacks (s)", SMALL_C,
              "total CPU to symbolized stacks (s)", 1 / 3, "≤ 1/3")
    ratio_bar("total CPU to symbolized stacks (s)", BIG,
              "total CPU to symbolized stacks (s)", 1 / 10, "≤ 1/10")
    ratio_bar("total CPU to symbolized stacks (s)", BUSY,
              "total CPU to symbolized stacks (s)", 1 / 2, "≤ 1/2")
    ratio_bar("bytes per sample", TEN_SECONDS, "bytes per sample", 1 / 1000, "≤ 1/1000")
    for n in BUSY:
        t = tables.get(n, {})
        comp, unn = t.get("complete stacks (%)"), t.get("samples of unnamed processes (%)")
        c = cell(comp[0]) if comp else None
        if c:
            out.append(f"| complete stacks ≥ 97 % | {n} | {c[1]:g} at least | "
                       f"{comp[1].split(' ')[0]} | | {'met' if c[1] >= 97 else 'not met'} |")
        u = cell(unn[0]) if unn else None
        if u:
            out.append(f"| samples of unnamed processes < 0.1 % | {n} | {u[2]:g} at most | "
                       f"{unn[1].split(' ')[0]} | | {'met' if u[2] < 0.1 else 'not met'} |")
    for n in ["threads1000-dwarf-999"]:
        o = tables.get(n, {}).get("wall time past -d, setting up and finishing (s)")
        c = cell(o[0]) if o else None
        if c:
            out.append(f"| starts and ends within 1 s of -d | {n} | {c[2]:g} at most | "
                       f"{o[1].split(' ')[0]} | | {'met' if c[2] <= 1 else 'not met'} |")
    for n in DWARF_999:
        r = tables.get(n, {}).get("workload CPU slowdown (×)")
        c, p = (cell(r[0]), cell(r[1])) if r else (None, None)
        if c and p:
            # No slowdown at all (≤ 1, as with workloads that run for a fixed time) is met too.
            verdict = ("met" if c[0] <= max(p[0], 1.0) else
                       "within noise (ranges overlap)" if c[1] <= p[2] else "not met")
            out.append(f"| workload CPU slowdown (×), no worse than perf | {n} | {c[0]:g} | "
                       f"{p[0]:g} | | {verdict} |")
    for n in DWARF:
        t = tables.get(n, {})
        own, kern = t.get("profiler CPU per sample (µs)"), t.get(
            "kernel cost per sample, from the workload's extra CPU (µs)")
        c, k = (cell(own[0]), cell(kern[0])) if own and kern else (None, None)
        if c and k:
            verdict = ("not measurable: the workload's noise exceeds it (range below 0)" if k[1] < 0
                       else "met" if c[0] <= k[0] else "not met")
            out.append(f"| cprof CPU per sample ≤ the kernel's cost per sample (µs) | {n} | "
                       f"{c[0]:g} | kernel {k[0]:g} | | {verdict} |")
    for n in DWARF_999:
        r = tables.get(n, {}).get("lost samples")
        c = cell(r[0]) if r else None
        if c:
            out.append(f"| 0 lost samples | {n} | {c[2]:g} at most | | | "
                       f"{'met' if c[2] == 0 else 'not met'} |")
    return "\n".join(out) + "\n"


def write_results(args, sections, machine_line=True):
    """Rewrite the results block, replacing the scenarios measured now and keeping the others."""
    try:
        with open(args.out) as f:
            old = f.read()
    except FileNotFoundError:
        old = ""
    m = re.search(r"<!-- RESULTS.*?<!-- /RESULTS -->", old, re.S)
    line = re.search(r"(?m)^Machine: .*$", m.group(0)) if m else None
    kept = {}
    if m:
        for part in re.split(r"(?m)^(?=### )", m.group(0)):
            if part.startswith("### "):
                name = part[4:].split("\n", 1)[0].split(":", 1)[0]
                kept[name] = part.replace("<!-- /RESULTS -->", "").rstrip() + "\n"
    for sec in sections:
        kept[sec[4:].split("\n", 1)[0].split(":", 1)[0]] = sec.rstrip() + "\n"
    # In the order of the scenario list, whatever order they were run in.
    order = [sc.name for sc in scenarios(False)] + ["periodic", "report-large", "symbolize"]
    kept.pop("The bar", None)
    kept = dict(sorted(kept.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99))
    text = "\n".join([
        "<!-- RESULTS: regenerated by bench/run.py; edit outside these markers -->",
        "",
        f"Machine: {machine()}. Median of {args.runs} runs, (min–max), per scenario as last run."
        if machine_line or not line else line.group(0),
        "",
        bar_section(kept),
        *kept.values(),
        "<!-- /RESULTS -->",
    ])
    new = old[:m.start()] + text + old[m.end():] if m else (old + "\n" + text + "\n")
    with open(args.out, "w") as f:
        f.write(new)


if __name__ == "__main__":
    main()
