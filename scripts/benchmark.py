"""Benchmark: generation speed, ingest throughput, time of the checks, the JVM's memory
and CPU, payment scans.

    .venv/bin/python scripts/benchmark.py --scale 0.1 --work /tmp/hedui-bench

Prints figures; asserts nothing (targets are in the README, not in timed tests). The
payment-scan count is read from the executed physical plans of the run: Spark's event
log is switched on for the benchmark session, and every SQL execution's final plan
(after adaptive re-planning) is walked for file scans of ``silver/payments``. A scan
inside a cached relation counts once per cached relation (it is materialised once). The
same log gives the tasks' CPU time; /proc gives the JVM's total and its JIT and collector
threads' (Linux).
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import glob
import json
import os
import shutil
import statistics
import sys
import time
from collections.abc import Iterable, Iterator

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

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
    """The events of one application from Spark's event log (after ``spark.stop()``)."""
    # Spark 4 rolls event logs: <dir>/eventlog_v2_<app>/events_<n>_<app>; older: <dir>/<app>
    rolled = sorted(glob.glob(os.path.join(event_dir, f"*{app_id}*", f"events_*{app_id}*")),
                    key=lambda p: int(os.path.basename(p).split("_")[1]))   # events_10 after events_9
    files = rolled + [p for p in glob.glob(os.path.join(event_dir, f"{app_id}*")) if os.path.isfile(p)]
    for path in files:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                yield json.loads(line)


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


def stop_measured(spark, events: str, app_id: str) -> dict:
    """Stop Spark; the JVM's peak memory and CPU-seconds by kind (read from /proc before
    it stops, the tasks' from the event log it leaves)."""
    peak, cpu = jvm_peak_rss_gb(spark), jvm_cpu_seconds(spark)
    spark.stop()
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
    shutil.rmtree(events, ignore_errors=True)
    os.makedirs(events, exist_ok=True)

    speed = machine_speed()
    cfg = load_config("local", args.conf)
    conf = {**cfg.spark.conf, "spark.eventLog.enabled": "true", "spark.eventLog.dir": events,
            "spark.eventLog.compress": "false"}
    spark = build_session(dataclasses.replace(cfg.spark, conf=conf), "hedui-benchmark")
    app_id = spark.sparkContext.applicationId
    out = {"scale": args.scale, "cores": usable_cores(), "machine_cores": os.cpu_count(), "machine": speed, "conf": args.conf}

    if not args.skip_generate:
        from jobs.generate import generate
        t0 = time.monotonic()
        counts = generate(spark, cfg, landing, args.scale, args.seed, as_of)
        secs = time.monotonic() - t0
        rows = sum(v for k, v in counts.items() if isinstance(v, int) and k != "truth")
        out["generate"] = {"rows": rows, "seconds": round(secs, 1), "rows_per_second": int(rows / secs)}

    if args.skip_run:
        out.update(stop_measured(spark, events, app_id))
        emit(out)
        return
    from jobs.pipeline import run
    t0 = time.monotonic()
    result = run(spark, cfg, landing, warehouse, as_of, "bench-run")
    secs = time.monotonic() - t0
    read = sum(v["read"] for v in result.counts["ingest"].values())
    out["run"] = {"seconds": round(secs, 1), "stages": result.timings, "rows_ingested": read,
                  "ingest_rows_per_second": int(read / max(result.timings.get("ingest", 1), 0.001))}
    out.update(stop_measured(spark, events, app_id))
    out["payment_scans_in_run"] = count_payment_scans(event_log(events, app_id))
    emit(out)


if __name__ == "__main__":
    main()
