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
    transcoded to UTF-8 first, as DuckDB reads UTF-8 only without extensions)."""
    import codecs
    import gzip
    import tempfile

    import duckdb

    t0 = time.monotonic()
    con = duckdb.connect()
    os.makedirs(out, exist_ok=True)
    rows = 0
    with tempfile.TemporaryDirectory() as tmp:
        for source in sorted(os.listdir(landing)):
            if source.startswith(("_", ".")):
                continue
            selects = []
            for batch in sorted(os.listdir(os.path.join(landing, source))):
                for name in sorted(os.listdir(os.path.join(landing, source, batch))):
                    path = os.path.join(landing, source, batch, name)
                    if name.endswith(".parquet"):
                        selects.append(f"SELECT * FROM read_parquet('{path}')")
                        continue
                    data = open(path, "rb").read()
                    if name.endswith(".gz"):
                        data = gzip.decompress(data)
                    try:
                        data.decode("utf-8")
                    except UnicodeDecodeError:
                        data = data.decode("gb18030").encode("utf-8")
                    if data.startswith(codecs.BOM_UTF8):
                        data = data[3:]
                    text = os.path.join(tmp, f"{source}-{batch}-{name}.csv")
                    with open(text, "wb") as fh:
                        fh.write(data)
                    selects.append(f"SELECT * FROM read_csv('{text}', header=true, all_varchar=true, "
                                   f"quote='\"', escape='\"', strict_mode=false)")
            for i, select in enumerate(selects):
                target = os.path.join(out, f"{source}-{i}.parquet")
                con.execute(f"COPY ({select}) TO '{target}' (FORMAT parquet)")
                rows += con.execute(f"SELECT count(*) FROM read_parquet('{target}')").fetchone()[0]
    return {"seconds": round(time.monotonic() - t0, 1), "rows": rows}


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


def timed_cli(*args: str) -> dict:
    """``hedui <args>`` in a process of its own (a new JVM, as the daily cron starts it)."""
    import subprocess

    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "jobs.cli", *args], capture_output=True, text=True,
                          cwd=os.path.join(os.path.dirname(__file__), ".."))
    out = {"seconds": round(time.monotonic() - t0, 1), "exit_code": proc.returncode}
    for line in proc.stdout.splitlines():
        if line.strip().startswith("timings:"):
            out["stages"] = line.split(":", 1)[1].strip()
    return out


TARGETS = {   # issue 24, on this machine
    "demo_run": ("whole `hedui run` at scale 0.001", 60),
    "nothing_new": ("`hedui run` again, nothing new, same check date (any scale; decided without a JVM)", 5),
    "run_0.1": ("whole `hedui run` at scale 0.1", 180),
    "increment_0.1": ("a new 1 % batch on a loaded warehouse, scale 0.1", 60),
    "run_1.0": ("whole `hedui run` at scale 1.0", 1200),
}


def verdicts(out: dict) -> list[str]:
    """The targets that this benchmark's scale measures, met or not."""
    scale, lines = out["scale"], []
    run = out.get("run", {}).get("seconds")

    def line(key, value):
        what, limit = TARGETS[key]
        if value is not None:
            lines.append(f"{what}: {value:.1f} s (target {limit} s): {'met' if value <= limit else 'NOT met'}")
    if scale <= 0.001:
        line("demo_run", run)
    if abs(scale - 0.1) < 1e-9:
        line("run_0.1", run)
        line("increment_0.1", out.get("increment", {}).get("seconds"))
    if abs(scale - 1.0) < 1e-9:
        line("run_1.0", run)
    line("nothing_new", out.get("nothing_new", {}).get("seconds"))
    floor = out.get("spark_floor", {}).get("seconds")
    ingest = out.get("run", {}).get("stages", {}).get("ingest")
    if floor and ingest:
        lines.append(f"ingest {ingest:.1f} s = {ingest / floor:.2f} x Spark's floor ({floor:.1f} s; target within 3 x)")
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
    shutil.rmtree(os.path.join(landing, "payments", (as_of + dt.timedelta(days=1)).isoformat()), ignore_errors=True)
    t0 = time.monotonic()
    result = run(spark, cfg, landing, warehouse, as_of, "bench-run")
    secs = time.monotonic() - t0
    read = sum(v["read"] for v in result.counts["ingest"].values())
    out["run"] = {"seconds": round(secs, 1), "stages": result.timings, "rows_ingested": read,
                  "ingest_rows_per_second": int(read / max(result.timings.get("ingest", 1), 0.001))}
    if not args.skip_baselines:
        floor = os.path.join(args.work, "floor")
        out["spark_floor"] = spark_floor(spark, cfg, landing, os.path.join(floor, "spark"))
        day = as_of + dt.timedelta(days=1)
        staging = os.path.join(args.work, "increment")
        shutil.rmtree(staging, ignore_errors=True)
        out["increment_rows"] = write_increment(spark, cfg, landing, staging, read // 100)
    out.update(stop_measured(spark, events, app_id))
    out["payment_scans_in_run"] = count_payment_scans(event_log(events, app_id))
    if not args.skip_baselines:
        conf = ["--conf", args.conf] if args.conf else []
        out["nothing_new"] = timed_cli("run", "--landing", landing, "--warehouse", warehouse,
                                       "--as-of", as_of.isoformat(), *conf)
        deliver(staging, landing, day)
        out["increment"] = timed_cli("run", "--landing", landing, "--warehouse", warehouse,
                                     "--as-of", day.isoformat(), *conf)
        shutil.rmtree(os.path.join(landing, "payments", day.isoformat()), ignore_errors=True)
        out["duckdb_floor"] = duckdb_floor(landing, os.path.join(floor, "duckdb"))
        shutil.rmtree(floor, ignore_errors=True)
    out["targets"] = verdicts(out)
    emit(out)


if __name__ == "__main__":
    main()
