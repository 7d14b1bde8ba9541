"""Landing zone -> bronze -> silver, with quarantine and an ingest log.

Per source with files not yet LOADED:

1. extract: each pending file read into canonical string columns (landing.py); a file
   that cannot be read is FAILED with its reason and retried by later runs.
2. bronze: the rows as they arrived, plus ``_batch``, ``_file``, ``_run_id``,
   ``_ingested_at`` (partitioned by ``_batch``). Written with ``replaceWhere`` on the
   files of this attempt, so a rerun after a crash replaces, never duplicates.
3. transform: typed and normalised (normalize.py), every reason per row (typed once,
   cached); exact duplicates within a batch collapse; same key with different content in
   one batch is KEY_CONFLICT; the latest batch wins per key. Only the rows whose key
   another row shares are ranked (their keys come from an aggregation of the key
   columns alone, broadcast), so the whole load is never shuffled; and only they and
   the invalid rows keep their raw values in the cache.
4. load: quarantine (replaceWhere on the files), silver (MERGE on the key: a row from
   a later or equal batch replaces), then the ingest log row per file proving
   ``rows_read = rows_loaded + rows_quarantined``, counted from bronze and the
   quarantine as written (one commit for all sources of the run). A file is LOADED only once its log row is written, so an interrupted run is
   simply redone by the next one.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import reduce

from delta.tables import DeltaTable
from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from jobs import tables
from jobs.config import Config
from jobs.contract import SourceSpec
from jobs.ingest.landing import (Discovery, LandingFile, UnreadableFile, discover,
                                 read_landing_file)
from jobs.ingest.normalize import typed_column, with_typed_columns
from jobs.spark.workarounds import with_own_properties

log = logging.getLogger(__name__)

INGEST_LOG_SCHEMA = T.StructType([
    T.StructField("source", T.StringType(), False),
    T.StructField("batch", T.StringType(), False),
    T.StructField("file", T.StringType(), False),
    T.StructField("rows_read", T.LongType(), True),
    T.StructField("rows_loaded", T.LongType(), True),
    T.StructField("rows_quarantined", T.LongType(), True),
    T.StructField("status", T.StringType(), False),
    T.StructField("error", T.StringType(), True),
    T.StructField("run_id", T.StringType(), False),
    T.StructField("logged_at", T.TimestampType(), False),
])
QUARANTINE_SCHEMA = T.StructType([
    T.StructField("source", T.StringType(), False),
    T.StructField("batch", T.StringType(), False),
    T.StructField("file", T.StringType(), False),
    T.StructField("reasons", T.ArrayType(T.StringType()), False),
    T.StructField("raw", T.StringType(), True),
    T.StructField("run_id", T.StringType(), False),
    T.StructField("ingested_at", T.TimestampType(), False),
])


@dataclass
class SourceResult:
    source: str
    log_rows: list[tuple] = field(default_factory=list)             # ingest-log rows to append
    files_loaded: list[str] = field(default_factory=list)
    files_failed: dict[str, str] = field(default_factory=dict)   # file -> reason
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    seconds: float = 0.0


@dataclass
class IngestResult:
    run_id: str
    sources: dict[str, SourceResult] = field(default_factory=dict)
    unknown_sources: list[str] = field(default_factory=list)
    files_skipped: int = 0

    @property
    def failed_files(self) -> list[str]:
        return [f"{s}/{f}" for s, r in self.sources.items() for f in r.files_failed]


# ---------------------------------------------------------------------------------
# State: which files are already loaded
# ---------------------------------------------------------------------------------
def loaded_files(spark: SparkSession, warehouse: str) -> set[tuple[str, str]]:
    """(source, file) pairs whose latest ingest-log row is LOADED."""
    path = tables.table_path(warehouse, *tables.INGEST_LOG)
    if not tables.delta_exists(spark, path):
        return set()
    w = Window.partitionBy("source", "file").orderBy(F.col("logged_at").desc())
    rows = (tables.read_delta(spark, path)
            .withColumn("_n", F.row_number().over(w)).filter("_n = 1 AND status = 'LOADED'")
            .select("source", "file").collect())
    return {(r.source, r.file) for r in rows}


def pending_files(discovery: Discovery, done: set[tuple[str, str]]) -> list[LandingFile]:
    return [f for f in discovery.files if (f.source, f.file_id) not in done]


# ---------------------------------------------------------------------------------
# Transforms (pure)
# ---------------------------------------------------------------------------------
def content_hash(spec: SourceSpec) -> Column:
    return F.xxhash64(*[F.col(c) for c in spec.column_names])


def with_unknown_warning_reason(df: DataFrame, known_warning_ids: DataFrame | None) -> DataFrame:
    """Feedback rows naming no existing warning get UNKNOWN_WARNING (contract s.4)."""
    known = (known_warning_ids.select(F.col("warning_id").alias("_known")).distinct()
             if known_warning_ids is not None else None)
    if known is None:
        return df.withColumn("_reasons", F.when(
            F.size("_reasons") == 0, F.array(F.lit("UNKNOWN_WARNING"))).otherwise(F.col("_reasons")))
    joined = df.join(F.broadcast(known), df["warning_id"] == known["_known"], "left")
    unknown = F.col("warning_id").isNotNull() & F.col("_known").isNull() & (F.size("_reasons") == 0)
    return (joined.withColumn("_reasons", F.when(unknown, F.array(F.lit("UNKNOWN_WARNING")))
                              .otherwise(F.col("_reasons")))
            .drop("_known"))


def with_key_conflicts(df: DataFrame, spec: SourceSpec) -> DataFrame:
    """Among valid rows, the same key with different content in one batch -> KEY_CONFLICT
    for every such row (identical rows are not a conflict: they collapse later)."""
    valid = F.size("_reasons") == 0
    w = Window.partitionBy("_batch", *spec.key)
    variants = F.size(F.collect_set(F.when(valid, F.col("_hash"))).over(w))
    return (df.withColumn("_hash", content_hash(spec))
            .withColumn("_reasons", F.when(valid & (variants > 1), F.array(F.lit("KEY_CONFLICT")))
                        .otherwise(F.col("_reasons")))
            .drop("_hash"))


def key_hash(spec: SourceSpec, key: list[Column] | None = None) -> Column:
    """A 64-bit hash of the (normalised) key columns: rows of one key share it."""
    return F.xxhash64(*(key or [F.col(k) for k in spec.key]))


def shared_keys(bronze: DataFrame, spec: SourceSpec, check_date: dt.date) -> DataFrame:
    """Hashes (``_key_hash``) of the normalised keys that more than one delivered row
    holds, from the key columns alone: a small frame, and a superset of the keys that
    valid rows share (a hash collision only adds a key). Only rows with such a key can
    be duplicates, conflicts or corrections. Grouping by a long is cheaper than by the
    key strings (measured on the payments: 23 s against 30 s)."""
    keys = [typed_column(spec.columns[k], F.col(k), check_date) for k in spec.key]
    has_key = reduce(lambda a, b: a & b, [k.isNotNull() for k in keys])
    return (bronze.filter(has_key).select(key_hash(spec, keys).alias("_key_hash"))
            .groupBy("_key_hash").agg(F.count(F.lit(1)).alias("_rows"))
            .filter(F.col("_rows") > 1).select("_key_hash"))


def with_shared_flag(df: DataFrame, shared: DataFrame, spec: SourceSpec) -> DataFrame:
    """``_multi``: the row's key hash is one of ``shared`` (broadcast: they are few)."""
    flagged = shared.withColumn("_multi", F.lit(True))
    return (df.withColumn("_key_hash", key_hash(spec))
            .join(F.broadcast(flagged), "_key_hash", "left").drop("_key_hash"))


def with_raw_where_needed(df: DataFrame) -> DataFrame:
    """Keep the raw values (``_raw``, ``_extra``) only on rows that may go to the
    quarantine: invalid rows and rows whose key is shared (a KEY_CONFLICT). The others
    are typed already, and the cache of a big load is half as wide without them."""
    needed = (F.size("_reasons") > 0) | F.coalesce(F.col("_multi"), F.lit(False))
    return (df.withColumn("_raw", F.when(needed, F.col("_raw")))
              .withColumn("_extra", F.when(needed, F.col("_extra"))))


def resolved_shared_rows(df: DataFrame, spec: SourceSpec) -> DataFrame:
    """The rows of ``df`` flagged ``_multi`` (:func:`with_shared_flag`), ranked: rows of a
    key with different content in one batch get KEY_CONFLICT (:func:`with_key_conflicts`);
    ``_latest`` is true on the one valid row per key that silver takes (the latest batch,
    then the last file), false on the others (duplicates, earlier batches, invalid rows).
    A small frame: worth keeping, as the quarantine and silver both read it."""
    w = Window.partitionBy(*spec.key, "_valid").orderBy(F.col("_batch").desc(), F.col("_file").desc())
    return (df.filter(F.col("_multi")).transform(with_key_conflicts, spec)
            .withColumn("_valid", F.size("_reasons") == 0)
            .withColumn("_latest", F.col("_valid") & (F.row_number().over(w) == 1))
            .drop("_valid"))


def with_resolved_keys(df: DataFrame, spec: SourceSpec, shared_rows: DataFrame | None = None) -> DataFrame:
    """KEY_CONFLICT flags and ``_latest`` (see :func:`resolved_shared_rows`) on every row,
    ranking only the rows flagged ``_multi``, never shuffling the whole load; a row whose
    key no other row has is the latest when it is valid. ``shared_rows``: those rows
    already ranked (default: ranked here)."""
    single = (df.filter(F.col("_multi").isNull())
              .withColumn("_latest", F.size("_reasons") == 0))
    shared = shared_rows if shared_rows is not None else resolved_shared_rows(df, spec)
    return single.unionByName(shared).drop("_multi")


def to_quarantine(df: DataFrame, source: str) -> DataFrame:
    raw = F.to_json(F.map_concat(
        F.from_json(F.to_json("_raw"), T.MapType(T.StringType(), T.StringType())),
        F.coalesce("_extra", F.create_map().cast(T.MapType(T.StringType(), T.StringType())))))
    return df.select(F.lit(source).alias("source"), F.col("_batch").alias("batch"),
                     F.col("_file").alias("file"), F.col("_reasons").alias("reasons"),
                     raw.alias("raw"), F.col("_run_id").alias("run_id"),
                     F.col("_ingested_at").alias("ingested_at"))


def to_silver(df: DataFrame, spec: SourceSpec) -> DataFrame:
    cols = [F.col(c) for c in spec.column_names] + [F.col(m.name) for m in tables.META_COLUMNS]
    if spec.partition_year_of:
        year_of = spec.columns[spec.partition_year_of]
        src = F.col(year_of.name)
        year = F.substring(src, 1, 4).cast("int") if year_of.type == "month" else F.year(src)
        cols.append(year.alias(tables.YEAR_COLUMN))
    return df.select(*cols)


# ---------------------------------------------------------------------------------
# Loads (Delta)
# ---------------------------------------------------------------------------------
def _files_predicate(files: list[str], column: str = "_file") -> str:
    quoted = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    return f"{column} IN ({quoted})"


# Delta collects min/max/null-count statistics of the first 32 columns of every file it
# writes; for a load that is as costly as writing the Parquet itself (measured on the
# payments). Bronze keeps them for ``_file`` (the ingest reads a load back by file);
# silver for its key and the column its year partition comes from.
BRONZE_STATS_COLUMNS = ["_file"]


def stats_columns(columns: list[str]) -> dict[str, str]:
    """Table property limiting Delta's file statistics to ``columns``."""
    return {"delta.dataSkippingStatsColumns": ",".join(columns)}


def silver_stats_columns(spec: SourceSpec) -> list[str]:
    return list(spec.key) + ([spec.partition_year_of] if spec.partition_year_of else [])


def write_replacing(df: DataFrame, path: str, predicate: str, partition_by: list[str] | None = None,
                    properties: dict[str, str] | None = None, records_per_file: int | None = None) -> None:
    """Append ``df`` to the table at ``path`` replacing rows matching ``predicate``
    (one atomic commit), creating the table on first use (with ``properties``); at most
    ``records_per_file`` rows per Parquet file."""
    writer = df.write.format("delta").options(**_file_size(records_per_file))
    spark = df.sparkSession
    if tables.delta_exists(spark, path):
        writer.mode("overwrite").option("replaceWhere", predicate).save(path)
    else:
        if partition_by:
            writer = writer.partitionBy(*partition_by)
        writer.options(**(properties or {})).mode("append").save(path)


def _file_size(records_per_file: int | None) -> dict[str, str]:
    return {"maxRecordsPerFile": str(records_per_file)} if records_per_file else {}


def merge_silver(df: DataFrame, path: str, spec: SourceSpec, records_per_file: int | None = None) -> None:
    spark = df.sparkSession
    if not tables.delta_exists(spark, path):
        writer = (df.write.format("delta").mode("append").options(**_file_size(records_per_file))
                  .options(**stats_columns(silver_stats_columns(spec))))
        if spec.partition_year_of:
            writer = writer.partitionBy(tables.YEAR_COLUMN)
        writer.save(path)
        return
    on = " AND ".join(f"t.`{k}` = s.`{k}`" for k in spec.key)
    (DeltaTable.forPath(spark, path).alias("t")
     .merge(df.alias("s"), on)
     .whenMatchedUpdateAll(condition="s._batch >= t._batch")
     .whenNotMatchedInsertAll()
     .execute())


def rows_by_file(df: DataFrame, column: str) -> dict[str, int]:
    return {r[0]: int(r[1]) for r in df.groupBy(column).count().collect()}


def append_ingest_log(spark: SparkSession, warehouse: str, rows: list[tuple]) -> None:
    if not rows:
        return
    df = spark.createDataFrame(rows, INGEST_LOG_SCHEMA)
    df.write.format("delta").mode("append").save(tables.table_path(warehouse, *tables.INGEST_LOG))


# ---------------------------------------------------------------------------------
# One source
# ---------------------------------------------------------------------------------
def extract_source(spark: SparkSession, files: list[LandingFile], spec: SourceSpec,
                   cfg: Config) -> tuple[DataFrame | None, dict[str, str]]:
    frames, failed = [], {}
    for f in files:
        try:
            frames.append(read_landing_file(spark, f, spec, cfg.ingest))
        except UnreadableFile as exc:
            failed[f.file_id] = str(exc)
    if not frames:
        return None, failed
    return reduce(lambda a, b: a.unionByName(b), frames), failed


def _probe_files(spark: SparkSession, files: list[LandingFile], spec: SourceSpec,
                 cfg: Config) -> dict[str, str]:
    """After a failed bronze write: which files break a full read (e.g. truncated gzip)."""
    bad = {}
    for f in files:
        try:
            read_landing_file(spark, f, spec, cfg.ingest).count()
        except UnreadableFile as exc:
            bad[f.file_id] = str(exc)
        except Exception as exc:  # the Java error of a file that only fails when read whole
            from jobs.ingest.landing import _java_message
            bad[f.file_id] = f"cannot read the file: {_java_message(exc)}"
    return bad


def write_bronze(spark: SparkSession, files: list[LandingFile], spec: SourceSpec, cfg: Config,
                 warehouse: str, run_id: str, now: dt.datetime) -> tuple[list[LandingFile], dict[str, str]]:
    """Bronze append for the readable files; returns (files written, failed files)."""
    path = tables.bronze_path(warehouse, spec.name)
    todo = list(files)
    failed: dict[str, str] = {}
    for attempt in range(2):
        raw, unreadable = extract_source(spark, todo, spec, cfg)
        failed.update(unreadable)
        todo = [f for f in todo if f.file_id not in unreadable]
        if raw is None:
            return [], failed
        bronze = raw.withColumn("_run_id", F.lit(run_id)).withColumn("_ingested_at", F.lit(now))
        try:
            write_replacing(bronze, path, _files_predicate([f.file_id for f in todo]), ["_batch"],
                            stats_columns(BRONZE_STATS_COLUMNS), cfg.ingest.max_records_per_file)
            return todo, failed
        except Exception:
            if attempt:
                raise
            bad = _probe_files(spark, todo, spec, cfg)
            if not bad:
                raise
            failed.update(bad)
            todo = [f for f in todo if f.file_id not in bad]
    return todo, failed


def job_group(source: str) -> str:
    """The Spark job group of one source's ingest (Spark UI, event log, ``cancelJobGroup``)."""
    return f"hedui ingest {source}"


def label_jobs(spark: SparkSession, source: str, step: str) -> None:
    """Put this thread's next Spark jobs in the source's job group, described by the step
    ("hedui ingest payments: silver"): the event log then tells where the time goes."""
    spark.sparkContext.setJobGroup(job_group(source), f"{job_group(source)}: {step}")


def ingest_source(spark: SparkSession, spec: SourceSpec, files: list[LandingFile], cfg: Config,
                  warehouse: str, check_date: dt.date, run_id: str, now: dt.datetime,
                  quarantine_lock: threading.Lock | None = None) -> SourceResult:
    started = time.monotonic()
    result = SourceResult(spec.name)
    label_jobs(spark, spec.name, "bronze")
    written, failed = write_bronze(spark, files, spec, cfg, warehouse, run_id, now)
    result.files_failed = failed
    log_rows = [(spec.name, f.batch, f.file_id, None, None, None, "FAILED", failed[f.file_id], run_id, now)
                for f in files if f.file_id in failed]
    if written:
        file_ids = [f.file_id for f in written]
        bronze = (tables.read_delta(spark, tables.bronze_path(warehouse, spec.name))
                  .filter(F.col("_batch").isin(sorted({f.batch for f in written})))
                  .filter(F.col("_file").isin(file_ids)))
        known = None
        if spec.name == "feedback":
            wpath = tables.table_path(warehouse, *tables.WARNINGS)
            known = tables.read_delta(spark, wpath) if tables.delta_exists(spark, wpath) else None
        label_jobs(spark, spec.name, "silver")
        shared = shared_keys(bronze, spec, check_date).persist(StorageLevel.MEMORY_AND_DISK)
        typed = (bronze.transform(with_typed_columns, spec, check_date)
                 .transform(lambda d: with_unknown_warning_reason(d, known) if spec.name == "feedback" else d)
                 .transform(with_shared_flag, shared, spec)
                 .transform(with_raw_where_needed)
                 .withColumn("_run_id", F.lit(run_id)).withColumn("_ingested_at", F.lit(now))
                 .persist(StorageLevel.MEMORY_AND_DISK))   # typed once: quarantine and silver
        ranked = resolved_shared_rows(typed, spec).persist(StorageLevel.MEMORY_AND_DISK)
        try:
            flagged = typed.transform(with_resolved_keys, spec, ranked)
            bad = flagged.filter(F.size("_reasons") > 0)
            with quarantine_lock or nullcontext():
                write_replacing(to_quarantine(bad, spec.name), tables.table_path(warehouse, *tables.QUARANTINE),
                                f"source = '{spec.name}' AND " + _files_predicate(file_ids, "file"))
            merge_silver(flagged.filter(F.col("_latest")).transform(to_silver, spec),
                         tables.silver_path(warehouse, spec.name), spec, cfg.ingest.max_records_per_file)
        finally:
            for frame in (ranked, typed, shared):
                frame.unpersist()
        # the counts from the tables just written (one column each, no pass over the load)
        label_jobs(spark, spec.name, "counts")
        read_by_file = rows_by_file(bronze, "_file")
        quarantined_by_file = rows_by_file(
            tables.read_delta(spark, tables.table_path(warehouse, *tables.QUARANTINE))
            .filter((F.col("source") == spec.name) & F.col("file").isin(file_ids)), "file")
        for f in written:
            read = read_by_file.get(f.file_id, 0)
            quarantined = quarantined_by_file.get(f.file_id, 0)
            log_rows.append((spec.name, f.batch, f.file_id, read, read - quarantined, quarantined,
                             "LOADED", None, run_id, now))
            result.files_loaded.append(f.file_id)
            result.rows_read += read
            result.rows_loaded += read - quarantined
            result.rows_quarantined += quarantined
    result.log_rows = log_rows
    result.seconds = round(time.monotonic() - started, 2)
    for file_id, reason in failed.items():
        log.warning("%s: file %s FAILED: %s", spec.name, file_id, reason)
    log.info("%s: %d file(s) loaded, %d rows read, %d loaded, %d quarantined (%.1fs)", spec.name,
             len(result.files_loaded), result.rows_read, result.rows_loaded, result.rows_quarantined,
             result.seconds)
    return result


def ingest(spark: SparkSession, cfg: Config, landing: str, warehouse: str, check_date: dt.date,
           run_id: str, only: list[str] | None = None) -> IngestResult:
    """Load every new file of the landing zone. ``only`` limits the sources.

    Sources load side by side (``ingest.parallel_sources`` threads): each has its own
    bronze and silver tables; the one table they share, the quarantine, is written by one
    source at a time. Much of a small source's time is the driver's (planning, Delta
    commits), which the others' Spark jobs overlap.
    """
    now = dt.datetime.now().replace(microsecond=0)
    discovery = discover(spark, landing, cfg.contract)
    for name in discovery.unknown_sources:
        log.warning("unknown source folder skipped: %s", name)
    pending = pending_files(discovery, loaded_files(spark, warehouse))
    result = IngestResult(run_id=run_id, unknown_sources=discovery.unknown_sources,
                          files_skipped=len(discovery.files) - len(pending))
    todo = {name: [f for f in pending if f.source == name] for name in cfg.contract.names
            if only is None or name in only}
    todo = {name: files for name, files in todo.items() if files}
    quarantine_lock = threading.Lock()

    def load(name: str) -> SourceResult:
        return ingest_source(spark, cfg.contract[name], todo[name], cfg, warehouse, check_date, run_id, now,
                             quarantine_lock)

    # the biggest sources first, so that the small ones fill the gaps beside them
    order = sorted(todo, key=lambda n: -sum(f.size for f in todo[n]))
    with ThreadPoolExecutor(max_workers=cfg.ingest.parallel_sources, thread_name_prefix="ingest") as pool:
        futures = {name: pool.submit(with_own_properties(spark, load), name) for name in order}
    errors = [(name, fut.exception()) for name, fut in futures.items() if fut.exception() is not None]
    if errors:
        raise errors[0][1]
    result.sources = {name: futures[name].result() for name in todo}
    # One commit for the whole run's log: until it lands no file counts as LOADED, and a
    # rerun redoes the files safely (bronze and quarantine replace by file, silver MERGEs).
    append_ingest_log(spark, warehouse, [row for r in result.sources.values() for row in r.log_rows])
    return result
