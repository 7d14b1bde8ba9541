"""`hedui run`: ingest -> feedback -> rules -> warnings -> run log.

Each step is a job of its own package; this module only wires them, times them and
records the run. The check date ``D`` drives every window; a ``D`` earlier than one
already applied is refused before anything is written.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from pyspark.sql import SparkSession

from jobs import fs, lock, runlog, runstate, tables
from jobs.config import Config
from jobs.diagnostics import format_exception, write_log
from jobs.errors import StepFailed, safe_message
from jobs.gold import feedback, lifecycle
from jobs.gold.summary import summarize
from jobs.gold.warnings import build_detected
from jobs.ingest.job import IngestResult, ingest
from jobs.rules import detect
from jobs.runstate import rules_fingerprint

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    run_id: str
    check_date: dt.date
    exit_code: int
    failed_files: list[str]
    summary: str
    timings: dict[str, float] = field(default_factory=dict)
    counts: dict = field(default_factory=dict)
    unknown_sources: list[str] = field(default_factory=list)
    ignored_files: list[str] = field(default_factory=list)
    interrupted_runs: list[dict] = field(default_factory=list)


class Timer:
    """Times the stages of a run and labels their Spark jobs ("hedui <stage>") so the
    Spark UI, the event log and the benchmark can tell them apart."""

    def __init__(self, spark: SparkSession) -> None:
        self.spark = spark
        self.seconds: dict[str, float] = {}
        self.current: str | None = None       # the stage under way (or that failed)

    @contextmanager
    def stage(self, name: str):
        self.current = name
        started = time.monotonic()
        self.spark.sparkContext.setJobDescription(f"hedui {name}")
        try:
            yield
        finally:
            self.spark.sparkContext.setJobDescription(None)
            self.seconds[name] = round(time.monotonic() - started, 2)
            log.info("stage %s: %.1fs", name, self.seconds[name])


def run(spark: SparkSession, cfg: Config, landing: str, warehouse: str, check_date: dt.date,
        run_id: str | None = None) -> RunResult:
    """One ``hedui run``: holds the warehouse lock (re-entrant: the command line may hold
    it already), refuses an earlier check date before anything is written, records a
    RUNNING row in ``meta/runs`` first and completes it at the end."""
    started_at = dt.datetime.now().replace(microsecond=0)
    run_id = run_id or runlog.new_run_id(started_at)
    with lock.held(warehouse, "run", run_id, fs.files_for(warehouse, spark), cfg.run.lock):
        runstate.check_check_date(spark, warehouse, check_date)   # raises before any write
        return _run(spark, cfg, landing, warehouse, check_date, run_id, started_at)


def _run(spark, cfg, landing, warehouse, check_date, run_id, started_at) -> RunResult:
    timer = Timer(spark)
    params = {"landing": landing, "warehouse": warehouse, "check_date": check_date.isoformat(),
              "env": cfg.env, "rules": cfg.rules.enabled}
    base = {"run_id": run_id, "command": "run", "check_date": check_date, "started_at": started_at,
            "params": params}
    interrupted = runlog.start_run(spark, warehouse, base)
    for r in interrupted:
        log.warning("an earlier run did not finish: %s (started %s); this run redoes its work",
                    r["run_id"], r["started_at"])
    ingested: IngestResult | None = None
    try:
        with timer.stage("ingest"):
            ingested = ingest(spark, cfg, landing, warehouse, check_date, run_id,
                              row_checks=feedback.row_checks(spark, warehouse))
        with timer.stage("feedback"):
            # every silver feedback row not yet recorded as applied (meta/feedback_applied):
            # rows loaded by this run, and any a crashed run loaded but did not apply
            rows = tables.read_silver(spark, warehouse, cfg.contract[feedback.SOURCE])
            feedback_stats = feedback.apply_feedback(spark, warehouse, rows, run_id)
        with timer.stage("checks"):
            inputs = runstate.detection_inputs(check_date, rules_fingerprint(cfg), ingested.loaded)
            if runstate.detection_is_current(spark, warehouse, inputs):
                # nothing new since the last detection, same date and rules: the same warnings
                detection_stats = {"check_date": check_date.isoformat(), "skipped":
                                   "nothing new since the last detection (same check date, rules and data)"}
            else:
                # each table listed once: the rules' plan scans them many times
                silver = tables.read_all_silver(spark, warehouse, cfg.contract, as_files=True)
                candidates = detect(silver, check_date, cfg.rules, cfg.contract)
                detected = build_detected(candidates, silver, cfg, check_date)
                detection_stats = lifecycle.apply_detection(spark, warehouse, detected, check_date, run_id)
                runstate.record_detection_inputs(spark, warehouse, inputs)
    except Exception as exc:
        failure = exc if isinstance(exc, StepFailed) else StepFailed(timer.current or "start", safe_message(exc, 500))
        entries = (ingested.errors if ingested is not None else []) + [(failure.reason, format_exception(exc))]
        failure.log_path = write_log(fs.files_for(warehouse, spark), warehouse, run_id, entries)
        log.error("run failed: %s", failure)
        _record(spark, warehouse, base, ingested, timer, outcome="FAILED", exit_code=3, error=failure.reason)
        if failure is exc:
            raise
        raise failure from exc
    failed = ingested.failed_files
    exit_code = 1 if failed else 0
    batches = runlog.latest_batches(spark, warehouse)
    stale = runlog.stale_sources(batches, cfg.contract, check_date, cfg.run.stale_source_days)
    by_rule = lifecycle.warning_counts(spark, warehouse)
    stats = {"ingest": _ingest_counts(ingested), "feedback": feedback_stats, "detection": detection_stats}
    _record(spark, warehouse, base, ingested, timer, outcome="PARTIAL" if failed else "SUCCESS",
            exit_code=exit_code, warnings=by_rule, latest_batches=batches, stale=stale, stats=stats)
    errors_log = write_log(fs.files_for(warehouse, spark), warehouse, run_id, ingested.errors)
    notes = {"run_id": run_id, "failed_files": failed, "unknown_source_folders": ingested.unknown_sources,
             "ignored_files": ingested.ignored_files,
             "interrupted_runs": [f"{r['run_id']} (started {r['started_at']})" for r in interrupted],
             "timings": timer.seconds, **({"tracebacks": errors_log} if errors_log else {})}
    summary = summarize(spark, warehouse, check_date, stale, {**stats, **notes}, cfg)
    return RunResult(run_id=run_id, check_date=check_date, exit_code=exit_code, failed_files=failed,
                     summary=summary, timings=timer.seconds, counts=stats,
                     unknown_sources=ingested.unknown_sources, ignored_files=ingested.ignored_files,
                     interrupted_runs=interrupted)


def _ingest_counts(ingested: IngestResult | None) -> dict:
    if ingested is None:
        return {}
    return {name: {"files": len(r.files_loaded), "failed": len(r.files_failed), "read": r.rows_read,
                   "loaded": r.rows_loaded, "quarantined": r.rows_quarantined, "seconds": r.seconds}
            for name, r in ingested.sources.items()}


def _record(spark, warehouse, base: dict, ingested, timer, *, outcome, exit_code, error=None, warnings=None,
            latest_batches=None, stale=None, stats=None) -> None:
    files = []
    if ingested is not None:
        for name, r in ingested.sources.items():
            files += [{"source": name, "file": f, "status": "LOADED"} for f in r.files_loaded]
            files += [{"source": name, "file": f, "status": "FAILED", "error": e}
                      for f, e in r.files_failed.items()]
    try:
        runlog.finish_run(spark, warehouse, {
            **base, "finished_at": dt.datetime.now().replace(microsecond=0), "outcome": outcome,
            "exit_code": exit_code, "files": files,
            "row_counts": (stats or {}).get("ingest") or _ingest_counts(ingested),
            "warnings_by_rule": warnings, "timings": timer.seconds, "latest_batches": latest_batches,
            "stale_sources": stale, "error": error,
            "unknown_sources": ingested.unknown_sources if ingested is not None else None,
            "ignored_files": ingested.ignored_files if ingested is not None else None,
        })
    except Exception:  # the run log must not hide the run's own error
        log.exception("could not record the run in meta/runs")
