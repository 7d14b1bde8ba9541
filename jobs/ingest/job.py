"""Landing zone -> bronze -> silver, with the quarantine and the ingest log.

A run loads every file not yet LOADED, source by source (sources side by side), each in
its steps:

1. **bronze** (:mod:`.bronze`): the file copied as it arrived, with its size and SHA-256;
   a file that cannot be read at all is FAILED with its reason and retried by later runs.
   Every source's copies are made first; then one text scan reads all their CSV copies
   as bytes (odd quotes, lines that are not UTF-8): one Spark job for the run.
2. **extract** (:mod:`.landing`): each bronze copy read into the contract's columns as
   strings (encoding and header per file, RFC 4180 CSV), ``_batch``, ``_file``, the
   extra columns and whether a record was malformed.
3. **type** (:mod:`.normalize`): typed and normalised, every reason per row, plus the
   checks the pipeline hands in (feedback: ``UNKNOWN_WARNING``); typed once and cached.
   A file holding a malformed record is FAILED as a whole (its rows go nowhere).
4. **resolve keys** (:mod:`.keys`): exact duplicates in a batch collapse, the same key
   with other content in one batch is KEY_CONFLICT, the latest batch wins.
5. **load** (:mod:`.load`): silver per source (created, then MERGEd on the key), then
   one quarantine commit for the run's rejected rows.
6. **log**: one ingest-log commit for the run, last: per file ``rows_read = rows_loaded
   + rows_quarantined``, its size and SHA-256. Until it lands no file counts as LOADED, so
   an interrupted run is redone by the next one (bronze copies again, silver MERGEs the
   same rows, the quarantine replaces by file): nothing doubled, nothing lost.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import reduce
from typing import Callable

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs import tables
from jobs.config import Config
from jobs.contract import SourceSpec
from jobs.errors import HeduiError, StepFailed, UnreadableFile, safe_message
from jobs.ingest import keys
from jobs.ingest.bronze import BronzeCopy, copy_to_bronze
from jobs.ingest.landing import MALFORMED, Discovery, LandingFile, TextScan, discover, read_landing_file, scan_text
from jobs.ingest.load import (INGEST_LOG_COLUMNS, append_ingest_log, loaded_files, merge_silver,
                              to_quarantine, to_silver, write_quarantine)
from jobs.ingest.normalize import with_typed_columns
from jobs.spark.workarounds import with_own_properties

log = logging.getLogger(__name__)

RowCheck = Callable[[DataFrame], DataFrame]


@dataclass
class SourceResult:
    source: str
    log_rows: list[tuple] = field(default_factory=list)          # ingest-log rows to append
    files_loaded: list[str] = field(default_factory=list)
    files_failed: dict[str, str] = field(default_factory=dict)   # file -> reason
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    seconds: float = 0.0
    quarantine: DataFrame | None = None                          # this source's rejected rows (detached)
    step: str = "bronze"                                         # the step under way (or that failed)
    error: tuple[str, str] | None = None                         # (heading, masked traceback) of an unexpected error

    @property
    def files_attempted(self) -> list[str]:
        return self.files_loaded + list(self.files_failed)


@dataclass
class IngestResult:
    run_id: str
    sources: dict[str, SourceResult] = field(default_factory=dict)
    unknown_sources: list[str] = field(default_factory=list)
    ignored_files: list[str] = field(default_factory=list)   # neither CSV nor parquet: reported, not loaded
    files_skipped: int = 0
    loaded: frozenset[tuple[str, str]] = frozenset()     # every (source, file) LOADED after this run

    @property
    def failed_files(self) -> list[str]:
        return [f"{s}/{f}" for s, r in self.sources.items() for f in r.files_failed]

    @property
    def files_loaded(self) -> int:
        return sum(len(r.files_loaded) for r in self.sources.values())

    @property
    def errors(self) -> list[tuple[str, str]]:
        """(heading, masked traceback) of each source that failed unexpectedly."""
        return [r.error for r in self.sources.values() if r.error is not None]


@dataclass(frozen=True)
class Attempt:
    """What one run needs to load a source: where, when, and the hooks."""

    cfg: Config
    warehouse: str
    check_date: dt.date
    run_id: str
    now: dt.datetime
    row_check: RowCheck | None = None


def pending_files(discovery: Discovery, done: set[tuple[str, str]]) -> list[LandingFile]:
    return [f for f in discovery.files if (f.source, f.file_id) not in done]


# ---------------------------------------------------------------------------------
# The steps of one source
# ---------------------------------------------------------------------------------
def to_bronze(spark: SparkSession, files: list[LandingFile], warehouse: str
              ) -> tuple[list[BronzeCopy], dict[str, str]]:
    """Step 1: the bronze copies of ``files``; (copies, failed file -> reason)."""
    copies, failed = [], {}
    for f in files:
        try:
            copies.append(copy_to_bronze(spark, f, warehouse))
        except UnreadableFile as exc:
            failed[f.file_id] = str(exc)
    return copies, failed


def extract(spark: SparkSession, copies: list[BronzeCopy], spec: SourceSpec, cfg: Config,
            scans: dict[str, TextScan] | None = None) -> tuple[DataFrame | None, dict[str, str]]:
    """Step 2: the bronze copies' rows as the contract's string columns (one frame)."""
    frames, failed = [], {}
    for c in copies:
        try:
            frames.append(read_landing_file(spark, c.readable(), spec, cfg.ingest, (scans or {}).get(c.file.file_id)))
        except UnreadableFile as exc:
            failed[c.file.file_id] = str(exc)
    if not frames:
        return None, failed
    return reduce(DataFrame.unionByName, frames), failed


def typed_rows(raw: DataFrame, spec: SourceSpec, attempt: Attempt, shared: DataFrame) -> DataFrame:
    """Step 3: typed values, ``_reasons`` (the contract's and the pipeline's checks),
    ``_multi`` (a key another row shares) and the raw values where the quarantine may need
    them; ``_run_id``, ``_ingested_at``."""
    return (raw.transform(with_typed_columns, spec, attempt.check_date)
            .transform(attempt.row_check or (lambda d: d))
            .transform(keys.with_shared_flag, shared, spec)
            .transform(keys.with_raw_where_needed)
            .withColumn("_run_id", F.lit(attempt.run_id))
            .withColumn("_ingested_at", F.lit(attempt.now)))


def file_counts(typed: DataFrame) -> dict[str, tuple[int, bool]]:
    """file -> (rows, whether one of its records is malformed): the first full read."""
    rows = typed.groupBy("_file").agg(F.count(F.lit(1)).alias("n"), F.max(MALFORMED).alias("bad")).collect()
    return {r["_file"]: (int(r["n"]), bool(r["bad"])) for r in rows}


def probe(spark: SparkSession, copies: list[BronzeCopy], spec: SourceSpec, cfg: Config,
          scans: dict[str, TextScan]) -> dict[str, str]:
    """After a failed full read: which files break it (e.g. a truncated gzip), read alone."""
    bad = {}
    for c in copies:
        try:
            read_landing_file(spark, c.readable(), spec, cfg.ingest, scans.get(c.file.file_id)).count()
        except UnreadableFile as exc:
            bad[c.file.file_id] = str(exc)
        except Exception as exc:  # the Java error of a file that only fails when read whole
            bad[c.file.file_id] = f"cannot read the file: {safe_message(exc)}"
    return bad


def scan_copies(spark: SparkSession, copies: list[BronzeCopy]) -> dict[tuple[str, str], TextScan]:
    """:func:`~jobs.ingest.landing.scan_text` of the bronze copies (of any sources: one
    Spark job for all), before they are parsed, by (source, file id); a file that cannot
    be scanned (a truncated gzip) is left to the read, which names it."""
    try:
        return scan_text(spark, [c.readable() for c in copies])
    except Exception:
        scans = {}
        for c in copies:
            try:
                scans.update(scan_text(spark, [c.readable()]))
            except Exception:
                continue
        return scans


def job_group(source: str) -> str:
    """The Spark job group of one source's ingest (Spark UI, event log, ``cancelJobGroup``)."""
    return f"hedui ingest {source}"


def label_jobs(spark: SparkSession, source: str, step: str, result: SourceResult | None = None) -> None:
    """Put this thread's next Spark jobs in the source's job group, described by the step
    ("hedui ingest payments: silver"): the event log then tells where the time goes; the
    result remembers the step, so that an unexpected error can name it."""
    spark.sparkContext.setJobGroup(job_group(source), f"{job_group(source)}: {step}")
    if result is not None:
        result.step = step


@dataclass(frozen=True)
class Staged:
    """A source's pending files after step 1: their bronze copies, the files that could
    not be copied (file -> reason) and what the run's text scan found in the copies."""

    copies: list[BronzeCopy]
    failed: dict[str, str]
    scans: dict[str, TextScan] = field(default_factory=dict)   # file id -> scan


def stage_source(spark: SparkSession, spec: SourceSpec, files: list[LandingFile], attempt: Attempt
                 ) -> Staged | SourceResult:
    """Step 1 for one source (its files copied to bronze), or its FAILED result."""
    started = time.monotonic()
    result = SourceResult(spec.name)
    try:
        label_jobs(spark, spec.name, "bronze", result)
        return Staged(*to_bronze(spark, files, attempt.warehouse))
    except Exception as exc:
        return _failed_source(spec, files, attempt, result, exc, started)


def ingest_source(spark: SparkSession, spec: SourceSpec, files: list[LandingFile], attempt: Attempt,
                  staged: Staged) -> SourceResult:
    """Steps 2-5 for one source's pending files, once :func:`stage_source` has copied
    them and the run's text scan has read the copies; the result carries its ingest-log
    rows and its quarantine rows (written by :func:`ingest` for all sources at once).

    Whatever a file holds, one source never costs the run: an unexpected error while
    loading it (a defect, a plan Spark cannot run on this content) FAILs the source's
    pending files with the error's type and the step, keeps its masked traceback for the
    run's log, and leaves silver as it was (the MERGE is the source's one commit, last)."""
    started = time.monotonic()
    result = SourceResult(spec.name)
    try:
        return _load_source(spark, spec, files, attempt, result, started, staged)
    except Exception as exc:
        return _failed_source(spec, files, attempt, result, exc, started)


def _failed_source(spec: SourceSpec, files: list[LandingFile], attempt: Attempt, result: SourceResult,
                   exc: Exception, started: float) -> SourceResult:
    """The source's pending files FAILED by an unexpected error in ``result.step``."""
    from jobs.diagnostics import format_exception

    reason = f"unexpected error in step {result.step}: {safe_message(exc)}"
    log.error("%s: %s; its files are FAILED and retried by the next run", spec.name, reason)
    failed = SourceResult(spec.name, step=result.step,
                          error=(f"source {spec.name}, step {result.step}", format_exception(exc)))
    for f in files:
        failed.log_rows.append(_log_row(attempt, f, None, None, None, None, "FAILED", reason))
        failed.files_failed[f.file_id] = reason
    failed.seconds = round(time.monotonic() - started, 2)
    return failed


def _load_source(spark: SparkSession, spec: SourceSpec, files: list[LandingFile], attempt: Attempt,
                 result: SourceResult, started: float, staged: Staged) -> SourceResult:
    cfg = attempt.cfg
    copies, failed, scans = staged.copies, dict(staged.failed), staged.scans
    by_id = {c.file.file_id: c for c in copies}
    label_jobs(spark, spec.name, "type", result)
    counts: dict[str, tuple[int, bool]] = {}
    typed = shared = None
    todo = list(copies)
    for retry in (False, True):
        raw, unreadable = extract(spark, todo, spec, cfg, scans)
        failed.update(unreadable)
        todo = [c for c in todo if c.file.file_id not in unreadable]
        if raw is None:
            break
        shared = keys.shared_keys(raw, spec, attempt.check_date).persist(StorageLevel.MEMORY_AND_DISK)
        typed = typed_rows(raw, spec, attempt, shared).persist(StorageLevel.MEMORY_AND_DISK)
        try:
            counts = file_counts(typed)
            break
        except Exception:
            typed.unpersist()
            shared.unpersist()
            typed = shared = None
            bad = probe(spark, todo, spec, cfg, scans)
            if retry or not bad:
                raise
            failed.update(bad)
            todo = [c for c in todo if c.file.file_id not in bad]
    malformed = sorted({f for f, (_, bad) in counts.items() if bad}
                       | {c.file.file_id for c in todo if c.file.file_id in scans and scans[c.file.file_id].odd_quotes})
    for f in malformed:
        failed[f] = ("not valid CSV (RFC 4180): a record with more or fewer fields than the header, "
                     "an unclosed quoted field, or a quote inside an unquoted field")
    loaded = [c for c in todo if c.file.file_id not in failed]
    if typed is not None and loaded:
        good = typed if not malformed else typed.filter(~F.col("_file").isin(malformed))
        ranked = keys.resolved_shared_rows(good, spec).persist(StorageLevel.MEMORY_AND_DISK)
        try:
            flagged = good.transform(keys.with_resolved_keys, spec, ranked)
            label_jobs(spark, spec.name, "quarantine", result)
            # detached (its plan no longer reads the typed rows, unpersisted below); the
            # checkpoint is taken by the job that counts its rows per file, not a job of its own
            quarantine = to_quarantine(flagged.filter(F.size("_reasons") > 0), spec.name).localCheckpoint(eager=False)
            quarantined = {r["file"]: int(r["count"]) for r in quarantine.groupBy("file").count().collect()}
            label_jobs(spark, spec.name, "silver", result)
            merge_silver(flagged.filter(F.col("_latest")).transform(to_silver, spec),
                         tables.silver_path(attempt.warehouse, spec.name), spec, cfg.ingest.max_records_per_file)
        finally:
            for frame in (ranked, typed, shared):
                frame.unpersist()
        result.quarantine = quarantine
        for c in loaded:
            read = counts.get(c.file.file_id, (0, False))[0]    # a header and no records: 0 rows
            q = quarantined.get(c.file.file_id, 0)
            result.log_rows.append(_log_row(attempt, c.file, c, read, read - q, q, "LOADED", None))
            result.files_loaded.append(c.file.file_id)
            result.rows_read += read
            result.rows_loaded += read - q
            result.rows_quarantined += q
    elif typed is not None:
        typed.unpersist()
        shared.unpersist()
    for f in files:
        if f.file_id in failed:
            result.log_rows.append(_log_row(attempt, f, by_id.get(f.file_id), None, None, None, "FAILED",
                                            failed[f.file_id]))
            log.warning("%s: file %s FAILED: %s", spec.name, f.file_id, failed[f.file_id])
    result.files_failed = {f.file_id: failed[f.file_id] for f in files if f.file_id in failed}
    result.seconds = round(time.monotonic() - started, 2)
    log.info("%s: %d file(s) loaded, %d rows read, %d loaded, %d quarantined (%.1fs)", spec.name,
             len(result.files_loaded), result.rows_read, result.rows_loaded, result.rows_quarantined,
             result.seconds)
    return result


def _log_row(attempt: Attempt, f: LandingFile, copy: BronzeCopy | None, read, loaded, quarantined,
             status: str, error: str | None) -> tuple:
    values = {"source": f.source, "batch": f.batch, "file": f.file_id, "rows_read": read,
              "rows_loaded": loaded, "rows_quarantined": quarantined, "status": status, "error": error,
              "run_id": attempt.run_id, "logged_at": attempt.now,
              "size": copy.size if copy else None, "sha256": copy.sha256 if copy else None}
    return tuple(values[c] for c in INGEST_LOG_COLUMNS)


# ---------------------------------------------------------------------------------
# A run
# ---------------------------------------------------------------------------------
@contextmanager
def shared_step(name: str):
    """A step of the ingest that no one source owns (the landing zone's listing, the
    warehouse's shared tables): its failure is the run's, named (exit status 3)."""
    try:
        yield
    except HeduiError:
        raise
    except Exception as exc:
        raise StepFailed(f"ingest ({name})", safe_message(exc)) from exc


def ingest(spark: SparkSession, cfg: Config, landing: str, warehouse: str, check_date: dt.date,
           run_id: str, only: list[str] | None = None,
           row_checks: dict[str, RowCheck] | None = None) -> IngestResult:
    """Load every new file of the landing zone. ``only`` limits the sources;
    ``row_checks`` (source -> transform) adds the pipeline's own row checks.

    Sources load side by side (``ingest.parallel_sources`` threads), each writing its own
    silver table; the quarantine and the ingest log, which they share, are written once,
    at the end. Much of a small source's time is the driver's (planning, Delta commits),
    which the others' Spark jobs overlap.
    """
    now = dt.datetime.now().replace(microsecond=0)
    with shared_step("listing the landing zone"):
        discovery = discover(spark, landing, cfg.contract)
    for name in discovery.unknown_sources:
        log.warning("unknown source folder skipped: %s", name)
    for name in discovery.ignored_files:
        log.warning("file ignored (neither .csv, .csv.gz nor .parquet): %s", name)
    with shared_step("reading the ingest log"):
        done = loaded_files(spark, warehouse)
    pending = pending_files(discovery, done)
    result = IngestResult(run_id=run_id, unknown_sources=discovery.unknown_sources,
                          ignored_files=list(discovery.ignored_files),
                          files_skipped=len(discovery.files) - len(pending), loaded=frozenset(done))
    todo = {name: [f for f in pending if f.source == name] for name in cfg.contract.names
            if only is None or name in only}
    todo = {name: files for name, files in todo.items() if files}
    if not todo:
        return result

    def attempt(name: str) -> Attempt:
        return Attempt(cfg, warehouse, check_date, run_id, now, (row_checks or {}).get(name))

    def scan(staged: dict[str, Staged]) -> dict[str, Staged]:
        spark.sparkContext.setJobGroup("hedui ingest", "hedui ingest: text scan")
        scans = scan_copies(spark, [c for st in staged.values() for c in st.copies])
        return {name: replace(st, scans={fid: v for (src, fid), v in scans.items() if src == name})
                for name, st in staged.items()}

    def load(name: str, staged: Staged | SourceResult) -> SourceResult:
        if isinstance(staged, SourceResult):     # step 1 failed unexpectedly
            return staged
        return ingest_source(spark, cfg.contract[name], todo[name], attempt(name), staged)

    # the biggest sources first, so that the small ones fill the gaps beside them
    order = sorted(todo, key=lambda n: -sum(f.size or 0 for f in todo[n]))
    with ThreadPoolExecutor(max_workers=cfg.ingest.parallel_sources, thread_name_prefix="ingest") as pool:
        # step 1 for every source, then one text scan of all their CSV copies (one Spark
        # job for the run, not one a source), then steps 2-5 source by source
        staging = {name: pool.submit(with_own_properties(spark, stage_source), spark, cfg.contract[name],
                                     todo[name], attempt(name)) for name in order}
        staged = {name: fut.result() for name, fut in staging.items()}
        with shared_step("text scan"):
            scanned = pool.submit(with_own_properties(spark, scan),
                                  {n: st for n, st in staged.items() if isinstance(st, Staged)}).result()
        futures = {name: pool.submit(with_own_properties(spark, load), name, scanned.get(name, staged[name]))
                   for name in order}
    errors = [(name, fut.exception()) for name, fut in futures.items() if fut.exception() is not None]
    if errors:
        raise errors[0][1]
    result.sources = {name: futures[name].result() for name in todo}
    parts = [r.quarantine for r in result.sources.values() if r.quarantine is not None]
    attempted = [(name, f) for name, r in result.sources.items() for f in r.files_attempted]
    try:
        with shared_step("quarantine commit"):
            write_quarantine(spark, warehouse, parts, attempted)
    finally:
        for part in parts:
            part.unpersist()
    with shared_step("ingest-log commit"):
        append_ingest_log(spark, warehouse, [row for r in result.sources.values() for row in r.log_rows])
    result.loaded = frozenset(done | {(name, f) for name, r in result.sources.items() for f in r.files_loaded})
    return result
