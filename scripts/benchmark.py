"""Benchmark: generation speed, ingest throughput, time of the checks, the JVM's memory
and CPU, payment scans, and beside each wall time Spark's own count of the work.

    .venv/bin/python scripts/benchmark.py --scale 0.1 --work /tmp/hedui-bench

Prints figures; asserts nothing (targets are in the README, not in timed tests). The
payment-scan count is read from the executed physical plans of the run: Spark's event
log is switched on for the benchmark session, and every SQL execution's final plan
(after adaptive re-planning) is walked for file scans of ``silver/payments``. A scan
inside a cached relation counts once per cached relation (it is materialised once). The
same log gives the tasks' CPU time; /proc gives the JVM's total and its JIT and collector
threads' (Linux).

Beside each wall time of a measurement that runs Spark (generation, the run, Spark's read
floor, the nothing-new and increment runs, the floor experiment), ``spark`` gives its jobs
(started), stages (run: a skipped stage never completes), task-seconds (the tasks'
"Executor Run Time") and task CPU-seconds, from the event log; for hedui's runs also
``by_phase`` (ingest, feedback, checks, other: the job groups and descriptions the
pipeline sets), for the floor experiment split at its own phases' marks. Jobs and stages
do not drift with the machine's speed as wall time does; task-seconds do (a task waiting
for a busy core is still running), task CPU-seconds much less. ``task_binary`` is the
largest serialized task binary a stage shipped, from the DAG scheduler's warning
"Broadcasting large task binary with size N" (stages over 1000 KiB only; it is in no
event log): read from the driver JVM's stderr, which this process passes through a pipe
(:class:`StderrTap`), and from the stderr of the runs in processes of their own; for
hedui's runs and the floor experiment also by phase (the phase of the stage submitted
last before the warning was read). The nothing-new and increment runs get an event log
through ``PYSPARK_SUBMIT_ARGS``; an empty one means no JVM was started.

The floor experiment (scripts/spark_floor.py, ``SNAP=1 SHUF=2``: hedui's shape of work,
one read and one Delta write per source, one aggregation per source, one join, checking
nothing) runs on the same landing zone in the same sitting, in a process of its own;
the targets put hedui's whole run and its Spark jobs as a multiple of it.
"""
from __future__ import annotations

import argparse
import bisect
import contextlib
import dataclasses
import datetime as dt
import glob
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)

from jobs.config import load_config  # noqa: E402
from jobs.spark.session import build_session  # noqa: E402


def walk(node: dict, under_cache: bool, hits: dict) -> None:
    """Payment scans in a plan tree. A scan inside a cached relation (below an
    InMemoryTableScan) is read once, when the cache materialises, however many plans
    show it: it is identified by its own description and metadata (attribute ids
    included), which are the same wherever the cached plan appears."""
    name = node.get("nodeName", "")
    metadata = json.dumps(node.get("metadata", {}), sort_keys=True)
    if name.startswith("Scan") and "silver/payments" in metadata:
        if under_cache:
            hits["cached"].add(node.get("simpleString", "") + metadata)
        else:
            hits["direct"] += 1
    for child in node.get("children", []):
        walk(child, under_cache or name == "InMemoryTableScan", hits)


def event_log(event_dir: str, app_id: str) -> Iterator[dict]:
    """The events of one application from Spark's event log (after ``spark.stop()``). A
    line that is not JSON is passed over: the last line of a log whose JVM ended without
    stopping Spark (the floor experiment does not stop it) may be cut short."""
    # Spark 4 rolls event logs: <dir>/eventlog_v2_<app>/events_<n>_<app>; older: <dir>/<app>
    rolled = sorted(glob.glob(os.path.join(event_dir, f"*{app_id}*", f"events_*{app_id}*")),
                    key=lambda p: int(os.path.basename(p).split("_")[1]))   # events_10 after events_9
    files = rolled + [p for p in glob.glob(os.path.join(event_dir, f"{app_id}*")) if os.path.isfile(p)]
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                try:
                    yield json.loads(line)
                except ValueError:
                    continue


def count_payment_scans(events: Iterable[dict], stage: str = "hedui checks") -> dict:
    """Scans of silver/payments in the SQL executions of one stage of the run."""
    final_plans: dict[int, dict] = {}
    phase: dict[int, str] = {}
    for ev in events:
        kind = ev.get("Event", "")
        if kind.endswith("SparkListenerSQLExecutionStart"):
            final_plans[ev["executionId"]] = ev["sparkPlanInfo"]
            phase[ev["executionId"]] = ev.get("description", "")
        elif kind.endswith("SparkListenerSQLAdaptiveExecutionUpdate"):
            final_plans[ev["executionId"]] = ev["sparkPlanInfo"]
    hits = {"direct": 0, "cached": set()}
    for exec_id, plan in final_plans.items():
        if phase.get(exec_id) == stage:
            walk(plan, None, hits)
    return {"direct_scans": hits["direct"], "cached_relations": len(hits["cached"]),
            "total": hits["direct"] + len(hits["cached"]), "sql_executions": sum(1 for e in final_plans if phase.get(e) == stage)}


def task_cpu_seconds(events: Iterable[dict]) -> float:
    """CPU time of all tasks (running and deserialising them), from their end events:
    exact, where the task threads' own counters vanish with the threads (Spark lets an
    idle one go after a minute)."""
    ns = 0
    for ev in events:
        if ev.get("Event") == "SparkListenerTaskEnd":
            metrics = ev.get("Task Metrics") or {}
            ns += metrics.get("Executor CPU Time", 0) + metrics.get("Executor Deserialize CPU Time", 0)
    return round(ns / 1e9, 1)


# ---------------------------------------------------------------------------------
# Spark's own counts of the work (event log) and the largest task binary (the driver's
# stderr): deterministic for a given code and landing zone, where wall time drifts
# ---------------------------------------------------------------------------------
PHASES = ("ingest", "feedback", "checks")


def guarded(measure, *args, **kwargs) -> dict:
    """``measure(*args, **kwargs)``, or what went wrong: a measurement that fails (a
    process killed on a crowded machine, a log cut short) must not cost the figures
    measured before it; the traceback goes to stderr."""
    try:
        return measure(*args, **kwargs)
    except Exception as exc:
        import traceback

        traceback.print_exc()
        return {"error": f"{type(exc).__name__}: {exc}"[:300]}


def now_ms() -> int:
    """Wall-clock time in epoch milliseconds, the clock of Spark's event log."""
    return int(time.time() * 1000)


def hedui_phase(properties: dict, submitted_ms: int | None = None) -> str:
    """The stage of a hedui run that a Spark job or stage ran in, from the local properties
    it carries: a source's ingest jobs are in the job group ``hedui ingest <source>``
    (``jobs/ingest/job.py::label_jobs``, description ``hedui ingest <source>: <step>``);
    the run's stages are described ``hedui ingest``, ``hedui feedback``, ``hedui checks``
    (``jobs/pipeline.py::Timer``). Delta prefixes the description of its own jobs with
    ``Delta: `` (once per nesting: "Delta: Delta: hedui ingest: Filtering files for query:
    Compute snapshot ...") and appends its step ("hedui checks - MERGE operation ..."); a
    MERGE with no description of its own writes just its step. Anything else (the lock,
    ``meta/runs``, the summary, a job of a thread that lost the properties) is ``other``."""
    for label in (properties.get("spark.job.description"), properties.get("spark.jobGroup.id")):
        while label and label.startswith("Delta: "):
            label = label[len("Delta: "):]
        if label and label.startswith("hedui "):
            name = label[len("hedui "):].split(":", 1)[0].split(" ", 1)[0]
            if name in PHASES:
                return name
    return "other"


def phases_by_time(marks: list[tuple[str, int]]):
    """A phase function (as :func:`hedui_phase`) for a program without job groups: the
    phase is the last of ``marks`` ((name, epoch ms) in time order) that began at or
    before the job's or stage's submission; ``other`` before the first."""
    def phase(properties: dict, submitted_ms: int | None = None) -> str:
        name = "other"
        for mark, at in marks:
            if submitted_ms is not None and submitted_ms >= at:
                name = mark
        return name
    return phase


def spark_work(events: Iterable[dict], windows: dict[str, tuple],
               binaries: dict[str, list[tuple[int, float]]] | None = None) -> dict[str, dict]:
    """Spark's work in one pass over an event log, per measurement: ``windows`` maps a name
    to (first ms, last ms, phase function or None); None for a bound means open. For each:
    ``jobs`` (jobs started), ``stages`` (stage attempts completed: a skipped stage, whose
    output an earlier job left, never runs and is not counted), ``task_seconds`` (the
    tasks' "Executor Run Time": time, so it stretches on a busy machine) and
    ``task_cpu_seconds`` (their CPU time, deserialisation included), and with a phase
    function the same ``by_phase``. A job belongs to the window of its submission time; a
    stage (and its tasks) to the window of its submission, its phase from the properties
    of the job that submitted it. ``binaries`` (name -> [(ms the warning was read, MiB)])
    adds ``task_binary_by_phase`` (:func:`binaries_by_phase`) to a window with phases."""
    def empty():
        return {"jobs": 0, "stages": 0, "task_ms": 0, "cpu_ns": 0}

    totals = {name: empty() for name in windows}
    phased: dict[str, dict[str, dict]] = {name: {} for name, w in windows.items() if w[2]}
    stage_of: dict[tuple, tuple[str, str | None]] = {}   # (stage, attempt) -> (window, phase)
    submissions: dict[str, list[tuple[int, str]]] = {name: [] for name in phased}

    def window_of(at):
        for name, (first, last, _) in windows.items():
            if at is None:
                if first is None and last is None:
                    return name
                continue
            if (first is None or at >= first) and (last is None or at <= last):
                return name
        return None

    def add(name, phase, key, value):
        totals[name][key] += value
        if phase is not None:
            phased[name].setdefault(phase, empty())[key] += value

    for ev in events:
        kind = ev.get("Event")
        if kind == "SparkListenerJobStart":
            at = ev.get("Submission Time")
            name = window_of(at)
            if name is not None:
                fn = windows[name][2]
                add(name, fn(ev.get("Properties") or {}, at) if fn else None, "jobs", 1)
        elif kind == "SparkListenerStageSubmitted":
            info = ev.get("Stage Info") or {}
            at = info.get("Submission Time")
            name = window_of(at)
            if name is not None:
                fn = windows[name][2]
                phase = fn(ev.get("Properties") or {}, at) if fn else None
                stage_of[(info.get("Stage ID"), info.get("Stage Attempt ID", 0))] = (name, phase)
                if phase is not None and at is not None:
                    submissions[name].append((at, phase))
        elif kind == "SparkListenerStageCompleted":
            info = ev.get("Stage Info") or {}
            where = stage_of.get((info.get("Stage ID"), info.get("Stage Attempt ID", 0)))
            if where:
                add(*where, "stages", 1)
        elif kind == "SparkListenerTaskEnd":
            where = stage_of.get((ev.get("Stage ID"), ev.get("Stage Attempt ID", 0)))
            if where:
                metrics = ev.get("Task Metrics") or {}
                add(*where, "task_ms", metrics.get("Executor Run Time", 0))
                add(*where, "cpu_ns", metrics.get("Executor CPU Time", 0) + metrics.get("Executor Deserialize CPU Time", 0))

    def figures(counts):
        return {"jobs": counts["jobs"], "stages": counts["stages"], "task_seconds": round(counts["task_ms"] / 1000, 1),
                "task_cpu_seconds": round(counts["cpu_ns"] / 1e9, 1)}

    out = {}
    for name in windows:
        out[name] = figures(totals[name])
        if name in phased:
            order = [p for p in (*PHASES, "other") if p in phased[name]] + sorted(set(phased[name]) - {*PHASES, "other"})
            out[name]["by_phase"] = {p: figures(phased[name][p]) for p in order}
            if binaries and binaries.get(name):
                out[name]["task_binary_by_phase"] = binaries_by_phase(submissions[name], binaries[name])
    return out


def binaries_by_phase(submissions: list[tuple[int, str]], binaries: list[tuple[int, float]]) -> dict:
    """The task binaries (:func:`task_binary_figures`) by phase: each in the phase of the
    stage submitted last at or before its warning was read (``submissions``: (ms, phase)).
    The DAG scheduler submits one stage at a time and warns while it submits it; a stage
    submitted in the moment between the warning and its reading takes it over, so this is
    the phase, not a sure stage."""
    ordered = sorted(submissions)
    times = [at for at, _ in ordered]
    sizes: dict[str, list[float]] = {}
    for at, size in binaries:
        i = bisect.bisect_right(times, at) - 1
        sizes.setdefault(ordered[i][1] if i >= 0 else "other", []).append(size)
    order = [p for p in (*PHASES, "other") if p in sizes] + sorted(set(sizes) - {*PHASES, "other"})
    return {phase: task_binary_figures(sizes[phase]) for phase in order}


def app_ids(event_dir: str) -> list[str]:
    """The applications that left an event log in ``event_dir`` (rolled or not, finished or
    in progress)."""
    if not os.path.isdir(event_dir):
        return []
    ids = set()
    for name in os.listdir(event_dir):
        name = name.removeprefix("eventlog_v2_").removesuffix(".inprogress")
        if name and not name.startswith("."):
            ids.add(name)
    return sorted(ids)


def event_logs(event_dir: str) -> Iterator[dict]:
    """The events of every application in ``event_dir`` (:func:`event_log`), one after the other."""
    for app in app_ids(event_dir):
        yield from event_log(event_dir, app)


def event_log_args(event_dir: str) -> str:
    """``PYSPARK_SUBMIT_ARGS`` that switch the event log on for a PySpark program started as
    a process of its own (hedui's session builder sets no event-log setting of its own)."""
    return (f"--conf spark.eventLog.enabled=true --conf spark.eventLog.dir={event_dir} "
            "--conf spark.eventLog.compress=false pyspark-shell")


# The DAG scheduler's warning for a stage whose serialized task binary (the stage's RDD and
# function, shipped to every task) exceeds 1000 KiB (Spark's TaskSetManager.TASK_SIZE_TO_WARN_KIB);
# the size as Utils.bytesToString writes it: "1092.4 KiB" up to 2 MiB, then "2.9 MiB".
TASK_BINARY = re.compile(r"Broadcasting large task binary with size ([0-9]+(?:\.[0-9]+)?) (B|KiB|MiB|GiB|TiB)\b")
MIB_PER_UNIT = {"B": 1 / 1024 ** 2, "KiB": 1 / 1024, "MiB": 1.0, "GiB": 1024.0, "TiB": 1024.0 ** 2}
WARN_THRESHOLD_NOTE = "none over Spark's 1000 KiB warning threshold"


def task_binary_sizes(text: str) -> list[float]:
    """The sizes (MiB) of the task binaries the DAG scheduler warned about in ``text`` (a
    driver's stderr), one per stage submitted."""
    return [float(value) * MIB_PER_UNIT[unit] for value, unit in TASK_BINARY.findall(text)]


def task_binary_figures(sizes_mib: list[float]) -> dict:
    """The largest task binary (MiB) and how many stages shipped one over Spark's warning
    threshold (1000 KiB) and over 1 MiB. Below the threshold Spark says nothing: then the
    largest is unknown but under 1000 KiB."""
    if not sizes_mib:
        return {"largest_mib": None, "stages_over_1000_kib": 0, "stages_over_1_mib": 0, "note": WARN_THRESHOLD_NOTE}
    return {"largest_mib": round(max(sizes_mib), 2), "stages_over_1000_kib": len(sizes_mib),
            "stages_over_1_mib": sum(1 for s in sizes_mib if s > 1.0)}


def run_captured(command: list[str], env: dict) -> tuple[int, str, str, list[tuple[int, float]]]:
    """``command`` in a process of its own (from the project root): its exit status, stdout,
    stderr, and the task binaries its stderr warned about with the epoch ms each was read
    (as :class:`StderrTap` does for this process's own JVM)."""
    binaries: list[tuple[int, float]] = []
    lines: list[str] = []
    with tempfile.TemporaryFile("w+", encoding="utf-8") as stdout:
        proc = subprocess.Popen(command, stdout=stdout, stderr=subprocess.PIPE, text=True, errors="replace",
                                cwd=ROOT, env=env)
        for line in proc.stderr:
            binaries += [(now_ms(), size) for size in task_binary_sizes(line)]
            lines.append(line)
        proc.wait()
        stdout.seek(0)
        return proc.returncode, stdout.read(), "".join(lines), binaries


class StderrTap:
    """This process's file descriptor 2 through a pipe, so the Spark JVM that PySpark starts
    (it inherits fd 2) writes its log through it: a thread passes every line on to the real
    stderr and keeps the task-binary sizes (:func:`task_binary_sizes`). Start it before the
    SparkSession. :meth:`mark` returns how many sizes were seen so far, with every line
    written before the call read: the sizes of a measurement are ``sizes[before:after]``
    (``read_at`` the epoch ms each was read)."""

    SENTINEL = b"\x00hedui-benchmark-mark\n"

    def __init__(self) -> None:
        self.sizes: list[float] = []
        self.read_at: list[int] = []    # epoch ms each size was read
        self._cond = threading.Condition()
        self._sent = self._seen = 0
        self._real: int | None = None

    def start(self) -> "StderrTap":
        sys.stderr.flush()
        self._real = os.dup(2)
        read_end, write_end = os.pipe()
        os.dup2(write_end, 2)
        os.close(write_end)
        threading.Thread(target=self._pump, args=(read_end,), name="stderr-tap", daemon=True).start()
        return self

    def _pump(self, read_end: int) -> None:
        with os.fdopen(read_end, "rb") as pipe:
            for line in pipe:
                marks = line.count(self.SENTINEL)
                if marks:
                    line = line.replace(self.SENTINEL, b"")
                try:
                    if line:
                        os.write(self._real, line)
                        sizes = task_binary_sizes(line.decode("utf-8", "replace"))
                    else:
                        sizes = []
                except Exception:   # never stop reading: a full pipe would block the JVM
                    sizes = []
                at = now_ms()
                with self._cond:
                    self.sizes += sizes
                    self.read_at += [at] * len(sizes)
                    self._seen += marks
                    self._cond.notify_all()

    def mark(self, timeout: float = 60) -> int:
        sys.stderr.flush()
        with self._cond:
            self._sent += 1
            want = self._sent
        os.write(2, self.SENTINEL)
        with self._cond:
            self._cond.wait_for(lambda: self._seen >= want, timeout)
            return len(self.sizes)

    def stop(self) -> None:
        """fd 2 back to the real stderr (the JVM, which lives on until this process ends,
        keeps writing through the pipe and the thread)."""
        if self._real is not None:
            sys.stderr.flush()
            os.dup2(self._real, 2)


def jvm_pid(spark) -> int | None:
    """The Spark JVM's process: the one PySpark started (``spark-submit`` execs into
    ``java``); in local mode it holds the driver and the executors."""
    proc = getattr(spark.sparkContext._gateway, "proc", None)
    return getattr(proc, "pid", None)


def read_proc(path: str) -> str | None:
    """A /proc file's text, or None when it is gone (a thread that ended) or absent."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return None


def jvm_peak_rss_gb(spark) -> float | None:
    """Peak resident memory (VmHWM) of the Spark JVM (:func:`jvm_pid`)."""
    status = read_proc(f"/proc/{jvm_pid(spark)}/status")
    for line in (status or "").splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024 / 1024, 2)
    return None


# JVM threads by kind, from the names Linux keeps (their first 15 characters): HotSpot's
# JIT compilers and the garbage collector's workers, which live as long as the JVM.
THREAD_KINDS = (("jit", ("C1 CompilerThre", "C2 CompilerThre")),
                ("gc", ("GC Thread", "ParGC Thread", "G1 ")))


def thread_kind(name: str) -> str:
    return next((kind for kind, prefixes in THREAD_KINDS if name.startswith(prefixes)), "other")


def stat_cpu_ticks(stat: str) -> tuple[str, int]:
    """(name, user + system clock ticks) from a /proc/<pid>[/task/<tid>]/stat line. The
    name is in parentheses and may itself hold spaces or parentheses."""
    name = stat[stat.index("(") + 1:stat.rindex(")")]
    fields = stat[stat.rindex(")") + 2:].split()
    return name, int(fields[11]) + int(fields[12])


def cpu_by_kind(process_stat: str, thread_stats: list[str], ticks_per_second: int) -> dict:
    """CPU-seconds of a process in all (``total``, ended threads included) and of its JIT
    and collector threads."""
    seconds = {"jit": 0.0, "gc": 0.0}
    for stat in thread_stats:
        name, ticks = stat_cpu_ticks(stat)
        kind = thread_kind(name)
        if kind in seconds:
            seconds[kind] += ticks / ticks_per_second
    total = stat_cpu_ticks(process_stat)[1] / ticks_per_second
    return {"total": round(total, 1), **{kind: round(value, 1) for kind, value in seconds.items()}}


def with_tasks(cpu: dict, tasks: float) -> dict:
    """``cpu`` (:func:`cpu_by_kind`) with the tasks' CPU-seconds and the rest (the
    driver's planning, Delta's log, block manager, RPC...) as ``other``."""
    other = cpu["total"] - cpu["jit"] - cpu["gc"] - tasks
    return {**cpu, "tasks": tasks, "other": round(max(other, 0.0), 1)}


def jvm_cpu_seconds(spark) -> dict | None:
    """The Spark JVM's CPU-seconds (:func:`cpu_by_kind`), read from /proc before Spark
    stops (Linux only). A thread that ends meanwhile is skipped: its time is in the total."""
    pid = jvm_pid(spark)
    process_stat = read_proc(f"/proc/{pid}/stat")
    if process_stat is None:
        return None
    thread_stats = [t for t in map(read_proc, glob.glob(f"/proc/{pid}/task/*/stat")) if t is not None]
    return cpu_by_kind(process_stat, thread_stats, os.sysconf("SC_CLK_TCK"))


def usable_cores() -> int:
    """The cores this process, and the JVM it starts, may run on: the CPU affinity that
    ``CORES=n bash scripts/benchmark.sh`` sets with ``taskset``, else the machine's."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def machine_speed() -> dict:
    """The CPU and the time of a fixed single-threaded Python loop (10 M additions),
    measured before Spark starts and again at the end: the machine's speed varies (in the
    9th session the loop took 1.5 s in one hour and 0.36 s in the next, code unchanged).
    Runs whose loop times differ are not comparable; agreeing times are not proof that
    they are (docs/BENCHMARKS.md, Method notes)."""
    model = None
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            model = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), None)
    t0 = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return {"cpu": model, "python_loop_seconds": round(time.perf_counter() - t0, 2)}


def end_jvm(proc) -> None:
    """The JVM that PySpark started (``spark.stop()`` leaves it running, resident, until
    this process exits), ended: the runs measured next start JVMs of their own, and the
    machine is small (on a shared 24 GB machine an idle 8 GB benchmark JVM beside them
    drew the kernel's OOM killer)."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def stop_measured(spark, events: str, app_id: str) -> dict:
    """Stop Spark and its JVM; the JVM's peak memory and CPU-seconds by kind (read from
    /proc before it stops, the tasks' from the event log it leaves)."""
    peak, cpu = jvm_peak_rss_gb(spark), jvm_cpu_seconds(spark)
    proc = getattr(spark.sparkContext._gateway, "proc", None)
    spark.stop()
    end_jvm(proc)
    figures = {"jvm_peak_rss_gb": peak}
    if cpu:
        figures["jvm_cpu_seconds"] = with_tasks(cpu, task_cpu_seconds(event_log(events, app_id)))
    return figures


def emit(out: dict) -> None:
    """Print the figures, with the machine's speed measured again now that Spark is done."""
    out["machine"]["python_loop_seconds_at_end"] = machine_speed()["python_loop_seconds"]
    print(json.dumps(out, indent=2))


def summarize(paths: list[str]) -> None:
    """Minimum, median and maximum of each figure over the JSON outputs of several runs."""
    runs = [r for r in (json.load(open(p, encoding="utf-8")) for p in paths) if "run" in r]
    figures = {"ingest": [r["run"]["stages"].get("ingest") for r in runs],
               "checks": [r["run"]["stages"].get("checks") for r in runs],
               "whole run": [r["run"]["seconds"] for r in runs],
               "floor exp.": [(r.get("floor_experiment") or {}).get("seconds", {}).get("total") for r in runs],
               "run jobs": [(r["run"].get("spark") or {}).get("jobs") for r in runs],
               "run stages": [(r["run"].get("spark") or {}).get("stages") for r in runs],
               "run task-s": [(r["run"].get("spark") or {}).get("task_seconds") for r in runs],
               "JVM peak GB": [r.get("jvm_peak_rss_gb") for r in runs],
               "JVM CPU-s": [(r.get("jvm_cpu_seconds") or {}).get("total") for r in runs],
               "  of it JIT": [(r.get("jvm_cpu_seconds") or {}).get("jit") for r in runs],
               "  of it tasks": [(r.get("jvm_cpu_seconds") or {}).get("tasks") for r in runs],
               "Python loop": [r.get("machine", {}).get("python_loop_seconds") for r in runs],
               "cores": [r.get("cores") for r in runs]}
    print(f"{len(runs)} runs over the same landing zone (min / median / max):")
    for name, values in figures.items():
        values = [v for v in values if v is not None]
        if values:
            print(f"  {name:14s} {min(values):8.2f} {statistics.median(values):8.2f} {max(values):8.2f}")


# ---------------------------------------------------------------------------------
# Baselines: the same landing files read once and written to plain Parquet, by Spark
# (hedui's own reader, no typing, no Delta) and by DuckDB; and the runs after the first
# ---------------------------------------------------------------------------------
def spark_floor(spark, cfg, landing: str, out: str) -> dict:
    """Spark's own floor: every landing file read once with the platform's reader (encoding
    and header per file, RFC 4180) and written to plain Parquet, a folder per source."""
    from functools import reduce

    from pyspark.sql import DataFrame

    from jobs.ingest.landing import discover, read_landing_file

    t0 = time.monotonic()
    files = discover(spark, landing, cfg.contract).files
    rows = 0
    for source in cfg.contract.names:
        frames = [read_landing_file(spark, f, cfg.contract[source], cfg.ingest) for f in files if f.source == source]
        if frames:
            df = reduce(DataFrame.unionByName, frames)
            df.write.mode("overwrite").parquet(os.path.join(out, source))
            rows += spark.read.parquet(os.path.join(out, source)).count()
    return {"seconds": round(time.monotonic() - t0, 1), "rows": rows}


def duckdb_floor(landing: str, out: str) -> dict:
    """DuckDB reading the same files into Parquet, a file per source (GB18030 files
    transcoded to UTF-8 first, as DuckDB reads UTF-8 only without extensions). The data
    files are hedui's (:func:`jobs.ingest.landing.data_format`: extensions in any case,
    ``_``- and ``.``-names passed over); a file DuckDB cannot read is counted, not fatal."""
    import codecs
    import gzip

    import duckdb

    from jobs.ingest.landing import PASSED_OVER, data_format

    def listing(folder):
        return sorted(n for n in os.listdir(folder) if not n.startswith(PASSED_OVER))

    t0 = time.monotonic()
    con = duckdb.connect()
    os.makedirs(out, exist_ok=True)
    rows = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for source in listing(landing):
            if not os.path.isdir(os.path.join(landing, source)):
                continue
            selects = []
            for batch in listing(os.path.join(landing, source)):
                if not os.path.isdir(os.path.join(landing, source, batch)):
                    continue
                for name in listing(os.path.join(landing, source, batch)):
                    path = os.path.join(landing, source, batch, name)
                    fmt = data_format(name)
                    if fmt == "parquet":
                        selects.append(f"SELECT * FROM read_parquet('{path}')")
                    if fmt != "csv":
                        continue
                    data = open(path, "rb").read()
                    if name.lower().endswith(".gz"):
                        data = gzip.decompress(data)
                    try:
                        data.decode("utf-8")
                    except UnicodeDecodeError:
                        data = data.decode("gb18030", errors="replace").encode("utf-8")
                    if data.startswith(codecs.BOM_UTF8):
                        data = data[3:]
                    text = os.path.join(tmp, f"{source}-{batch}-{len(selects)}.csv")
                    with open(text, "wb") as fh:
                        fh.write(data)
                    selects.append(f"SELECT * FROM read_csv('{text}', header=true, all_varchar=true, "
                                   f"quote='\"', escape='\"', strict_mode=false)")
            for i, select in enumerate(selects):
                target = os.path.join(out, f"{source}-{i}.parquet")
                try:
                    con.execute(f"COPY ({select}) TO '{target}' (FORMAT parquet)")
                    rows += con.execute(f"SELECT count(*) FROM read_parquet('{target}')").fetchone()[0]
                except duckdb.Error:
                    failed += 1
    return {"seconds": round(time.monotonic() - t0, 1), "rows": rows, "files_failed": failed}


def write_increment(spark, cfg, landing: str, staging: str, rows: int) -> int:
    """A new payments batch of ``rows`` rows with new payment ids (copies of delivered
    ones), written to ``staging``; :func:`deliver` moves it into the landing zone after
    the nothing-new run (before it, that run would have a new batch to load)."""
    from pyspark.sql import functions as F

    from jobs.ingest.landing import discover

    files = discover(spark, landing, cfg.contract).files
    parquet = [f.path for f in files if f.source == "payments" and f.format == "parquet"]
    want = max(1, rows)
    batch = (spark.read.parquet(*parquet).limit(want)
             .withColumn("payment_id", F.concat(F.col("payment_id"), F.lit("N"))))
    tmp = staging + ".tmp"
    batch.coalesce(1).write.mode("overwrite").parquet(tmp)
    os.makedirs(staging, exist_ok=True)
    part = next(n for n in os.listdir(tmp) if n.startswith("part-"))
    os.replace(os.path.join(tmp, part), os.path.join(staging, "payments_increment.parquet"))
    shutil.rmtree(tmp)
    return want


def deliver(staging: str, landing: str, day: dt.date) -> None:
    """The staged increment into ``<landing>/payments/<day>/``, as the next delivery."""
    out = os.path.join(landing, "payments", day.isoformat())
    shutil.rmtree(out, ignore_errors=True)
    shutil.move(staging, out)


def timed_cli(*args: str, events: str | None = None) -> dict:
    """``hedui <args>`` in a process of its own (a new JVM, as the daily cron starts it).
    With ``events`` (a folder), its Spark writes an event log there (``PYSPARK_SUBMIT_ARGS``):
    its jobs, stages and task-seconds by phase (:func:`spark_work`); an empty folder means
    no SparkContext, no JVM (``jvm_started``). The largest task binary is read from its
    stderr."""
    env = dict(os.environ)
    if events:
        shutil.rmtree(events, ignore_errors=True)
        os.makedirs(events)
        env["PYSPARK_SUBMIT_ARGS"] = event_log_args(events)
    t0 = time.monotonic()
    code, stdout, stderr, binaries = run_captured([sys.executable, "-m", "jobs.cli", *args], env)
    out = {"seconds": round(time.monotonic() - t0, 1), "exit_code": code}
    for line in stdout.splitlines():
        if line.strip().startswith("timings:"):
            out["stages"] = line.split(":", 1)[1].strip()
    out["task_binary"] = task_binary_figures([size for _, size in binaries])
    if events:
        out["jvm_started"] = bool(app_ids(events))
        out["spark"] = spark_work(event_logs(events), {"all": (None, None, hedui_phase)}, {"all": binaries})["all"]
        if "task_binary_by_phase" in out["spark"]:
            out["task_binary"]["by_phase"] = out["spark"].pop("task_binary_by_phase")
    if code not in (0, 1):
        out["stderr_tail"] = stderr.strip().splitlines()[-3:]
    return out


FLOOR_SCRIPT = os.path.join(ROOT, "scripts", "spark_floor.py")


def floor_experiment(landing: str, scratch: str) -> dict:
    """The floor experiment (scripts/spark_floor.py: the cost of hedui's shape of work in
    Spark and Delta, checking nothing) on the same landing zone, in a process of its own,
    as measured for issue 31 (``JARS=.jars SNAP=1 SHUF=2``): its own seconds (JVM and
    session, ingest, checks, total), its jobs, stages and task-seconds from its event log
    (split at its phases' wall-clock marks) and its largest task binary from its stderr.
    Its output goes to a temporary folder under ``scratch``, removed afterwards."""
    tmp = tempfile.mkdtemp(prefix="floor-experiment-", dir=scratch)
    events = os.path.join(tmp, "events")
    os.makedirs(events)
    env = {**os.environ, "JARS": ".jars", "SNAP": "1", "SHUF": "2", "PYSPARK_SUBMIT_ARGS": event_log_args(events)}
    try:
        t0 = time.monotonic()
        code, stdout, stderr, binaries = run_captured([sys.executable, FLOOR_SCRIPT, landing, os.path.join(tmp, "out")], env)
        out = {"process_seconds": round(time.monotonic() - t0, 1), "exit_code": code, "settings": "SNAP=1 SHUF=2"}
        printed = next((json.loads(line)["floor"] for line in stdout.splitlines() if line.startswith('{"floor"')), None)
        if printed is None:
            out["stderr_tail"] = stderr.strip().splitlines()[-3:]
            return out
        marks = printed["marks_ms"]
        out["seconds"] = {"jvm_session": printed["jvm_session_seconds"], "ingest": printed["ingest_seconds"],
                          "checks": printed["checks_seconds"], "total": printed["total_seconds"]}
        out["spark_jobs_counted_by_it"] = printed["spark_jobs"]
        phase = phases_by_time([("ingest", marks["session"]), ("checks", marks["ingest"]), ("other", marks["checks"] + 1)])
        out["spark"] = spark_work(event_logs(events), {"all": (None, None, phase)}, {"all": binaries})["all"]
        out["task_binary"] = task_binary_figures([size for _, size in binaries])
        if "task_binary_by_phase" in out["spark"]:
            out["task_binary"]["by_phase"] = out["spark"].pop("task_binary_by_phase")
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


TARGETS = {   # issues 24 and 31, on this machine
    "demo_run": ("whole `hedui run` at scale 0.001", 60),
    "nothing_new": ("`hedui run` again, nothing new, same check date (any scale; decided without a JVM)", 5),
    "run_0.1": ("whole `hedui run` at scale 0.1", 180),
    "increment_0.1": ("a new 1 % batch on a loaded warehouse, scale 0.1", 60),
    "run_1.0": ("whole `hedui run` at scale 1.0", 1200),
}
FLOOR_MULTIPLE = 1.5          # issue 31, the demo: the whole run and its Spark jobs within 1.5 x the floor experiment's
TASK_BINARY_LIMIT_MIB = 1.0   # issue 31: no task binary over 1 MiB


def met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def verdicts(out: dict) -> list[str]:
    """The targets that this benchmark's scale measures, met or not, and hedui as a
    multiple of the floor experiment (wall time and Spark jobs) and of DuckDB."""
    scale, lines = out["scale"], []
    demo = scale <= 0.001
    run = out.get("run", {}).get("seconds")

    def line(key, value):
        what, limit = TARGETS[key]
        if value is not None:
            lines.append(f"{what}: {value:.1f} s (target {limit} s): {met(value <= limit)}")
    if demo:
        line("demo_run", run)
    if abs(scale - 0.1) < 1e-9:
        line("run_0.1", run)
        line("increment_0.1", out.get("increment", {}).get("seconds"))
    if abs(scale - 1.0) < 1e-9:
        line("run_1.0", run)

    experiment = out.get("floor_experiment", {})
    target = f"target within {FLOOR_MULTIPLE} x" + ("" if demo else " at the demo scale")

    def multiple(what: str, value, floor, unit: str, note: str = "") -> None:
        if value is None or not floor:
            return
        times = value / floor
        verdict = f": {met(times <= FLOOR_MULTIPLE)}" if demo else ""
        lines.append(f"{what} {value:g}{unit} = {times:.2f} x the floor experiment's ({floor:g}{unit}{note}; {target}){verdict}")
    multiple("whole `hedui run`", run, experiment.get("seconds", {}).get("total"), " s",
             ", its JVM start included: the run's JVM was up before it was timed")
    multiple("Spark jobs of the whole run:", out.get("run", {}).get("spark", {}).get("jobs"),
             experiment.get("spark", {}).get("jobs"), "")

    binaries = {name: out.get(name, {}).get("task_binary") for name in ("run", "increment")}
    binaries = {name: b for name, b in binaries.items() if b}
    if binaries:
        largest = max((b["largest_mib"] for b in binaries.values() if b["largest_mib"] is not None), default=None)
        over = sum(b["stages_over_1_mib"] for b in binaries.values())
        warned = sum(b["stages_over_1000_kib"] for b in binaries.values())
        said = (f"largest {largest:.2f} MiB, {warned} stage(s) over Spark's 1000 KiB warning threshold, {over} over 1 MiB"
                if largest is not None else WARN_THRESHOLD_NOTE)
        floor_binary = experiment.get("task_binary")
        if floor_binary:
            said += ("; the floor experiment's: " + (f"largest {floor_binary['largest_mib']:.2f} MiB"
                                                      if floor_binary["largest_mib"] is not None else "none over 1000 KiB"))
        lines.append(f"task binaries of hedui's runs ({' and '.join(binaries)}): {said} "
                     f"(target none over {TASK_BINARY_LIMIT_MIB:g} MiB): {met(over == 0)}")

    nothing = out.get("nothing_new", {})
    if nothing.get("seconds") is not None:
        what, limit = TARGETS["nothing_new"]
        jvm = nothing.get("jvm_started")
        jobs = nothing.get("spark", {}).get("jobs")
        jvm_said = "JVM not measured" if jvm is None else ("a JVM started" if jvm else "no JVM")
        lines.append(f"{what}: {nothing['seconds']:.1f} s, {jvm_said}, {jobs if jobs is not None else '?'} Spark jobs "
                     f"(target {limit} s, no JVM): {met(nothing['seconds'] <= limit and jvm is False)}")

    floor = out.get("spark_floor", {}).get("seconds")
    ingest = out.get("run", {}).get("stages", {}).get("ingest")
    if floor and ingest:
        lines.append(f"ingest {ingest:.1f} s = {ingest / floor:.2f} x Spark's read floor (hedui's reader to plain "
                     f"Parquet, {floor:.1f} s; target within 3 x)")
    duck = out.get("duckdb_floor", {}).get("seconds")
    if duck and run:
        lines.append(f"whole run {run:.1f} s = {run / duck:.1f} x DuckDB reading the same files into Parquet ({duck:.1f} s)")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=0.1, help="generator scale (0.1 ~ 21M rows)")
    ap.add_argument("--work", default="/tmp/hedui-bench", help="scratch folder (wiped)")
    ap.add_argument("--as-of", default="2026-10-15")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--skip-generate", action="store_true", help="reuse <work>/landing")
    ap.add_argument("--skip-run", action="store_true", help="generation only (e.g. scale 1.0)")
    ap.add_argument("--conf", metavar="YAML", help="a configuration file on top of conf/ (as `hedui --conf`), "
                    "e.g. to compare a Spark setting")
    ap.add_argument("--skip-baselines", action="store_true",
                    help="no Spark floor, no DuckDB, no nothing-new and incremental runs")
    ap.add_argument("--summarize", nargs="+", metavar="JSON",
                    help="only summarise the outputs of earlier runs (scripts/benchmark.sh RUNS=n)")
    args = ap.parse_args()
    if args.summarize:
        summarize(args.summarize)
        return
    as_of = dt.date.fromisoformat(args.as_of)
    landing, warehouse, events = (os.path.join(args.work, x) for x in ("landing", "warehouse", "events"))
    if not args.skip_generate:
        shutil.rmtree(args.work, ignore_errors=True)
    shutil.rmtree(warehouse, ignore_errors=True)
    for folder in (events, events + "-nothing-new", events + "-increment"):
        shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(events, exist_ok=True)

    speed = machine_speed()
    cfg = load_config("local", args.conf)

    # the driver JVM's stderr through a pipe (the largest task binary is in no event log):
    # started before the session, so that the JVM inherits it
    tap = StderrTap().start()
    conf = {**cfg.spark.conf, "spark.eventLog.enabled": "true", "spark.eventLog.dir": events,
            "spark.eventLog.compress": "false"}
    spark = build_session(dataclasses.replace(cfg.spark, conf=conf), "hedui-benchmark")
    app_id = spark.sparkContext.applicationId
    out = {"scale": args.scale, "cores": usable_cores(), "machine_cores": os.cpu_count(), "machine": speed, "conf": args.conf}
    # each measurement in this JVM: (epoch ms at start, at end), task-binary sizes seen before and after
    spans: dict[str, list] = {}

    @contextlib.contextmanager
    def measured(name: str):
        spans[name] = [now_ms(), None, tap.mark(), None]
        try:
            yield
        finally:
            spans[name][1], spans[name][3] = now_ms(), tap.mark()

    if not args.skip_generate:
        from jobs.generate import generate
        t0 = time.monotonic()
        with measured("generate"):
            counts = generate(spark, cfg, landing, args.scale, args.seed, as_of)
        secs = time.monotonic() - t0
        rows = sum(v for k, v in counts.items() if isinstance(v, int) and k != "truth")
        out["generate"] = {"rows": rows, "seconds": round(secs, 1), "rows_per_second": int(rows / secs)}

    if args.skip_run:
        out.update(stop_measured(spark, events, app_id))
        add_spark_figures(out, spans, tap, event_log(events, app_id))
        tap.stop()
        emit(out)
        return
    from jobs.pipeline import run
    shutil.rmtree(os.path.join(landing, "payments", (as_of + dt.timedelta(days=1)).isoformat()), ignore_errors=True)
    t0 = time.monotonic()
    with measured("run"):
        result = run(spark, cfg, landing, warehouse, as_of, "bench-run")
    secs = time.monotonic() - t0
    read = sum(v["read"] for v in result.counts["ingest"].values())
    out["run"] = {"seconds": round(secs, 1), "stages": result.timings, "rows_ingested": read,
                  "ingest_rows_per_second": int(read / max(result.timings.get("ingest", 1), 0.001))}
    if not args.skip_baselines:
        floor = os.path.join(args.work, "floor")
        with measured("spark_floor"):
            out["spark_floor"] = spark_floor(spark, cfg, landing, os.path.join(floor, "spark"))
        day = as_of + dt.timedelta(days=1)
        staging = os.path.join(args.work, "increment")
        shutil.rmtree(staging, ignore_errors=True)
        out["increment_rows"] = write_increment(spark, cfg, landing, staging, read // 100)
    out.update(stop_measured(spark, events, app_id))
    add_spark_figures(out, spans, tap, event_log(events, app_id))
    tap.stop()
    out["payment_scans_in_run"] = count_payment_scans(event_log(events, app_id))
    if not args.skip_baselines:
        # the floor experiment on the landing zone the run loaded (before the increment is delivered)
        out["floor_experiment"] = guarded(floor_experiment, landing, args.work)
        conf = ["--conf", args.conf] if args.conf else []
        out["nothing_new"] = guarded(timed_cli, "run", "--landing", landing, "--warehouse", warehouse,
                                     "--as-of", as_of.isoformat(), *conf, events=events + "-nothing-new")
        deliver(staging, landing, day)
        out["increment"] = guarded(timed_cli, "run", "--landing", landing, "--warehouse", warehouse,
                                   "--as-of", day.isoformat(), *conf, events=events + "-increment")
        shutil.rmtree(os.path.join(landing, "payments", day.isoformat()), ignore_errors=True)
        out["duckdb_floor"] = guarded(duckdb_floor, landing, os.path.join(floor, "duckdb"))
        shutil.rmtree(floor, ignore_errors=True)
    out["targets"] = verdicts(out)
    emit(out)


def add_spark_figures(out: dict, spans: dict[str, list], tap: StderrTap, events: Iterable[dict]) -> None:
    """Each measurement of this JVM's (``spans``: name -> [first ms, last ms, task-binary
    sizes before, after]) with its Spark jobs, stages and task-seconds (the run's by phase)
    and its largest task binary, beside its wall time in ``out[name]``."""
    windows = {name: (first, last, hedui_phase if name == "run" else None) for name, (first, last, _, _) in spans.items()}
    binaries = {name: list(zip(tap.read_at[before:after], tap.sizes[before:after]))
                for name, (_, _, before, after) in spans.items()}
    for name, figures in spark_work(events, windows, binaries).items():
        before, after = spans[name][2], spans[name][3]
        out.setdefault(name, {})["task_binary"] = task_binary_figures(tap.sizes[before:after])
        if "task_binary_by_phase" in figures:
            out[name]["task_binary"]["by_phase"] = figures.pop("task_binary_by_phase")
        out[name]["spark"] = figures

if __name__ == "__main__":
    main()
