"""The run log (``meta/runs``): one row per command run, and source freshness."""
from __future__ import annotations

import datetime as dt
import json
import re
import uuid

from pyspark.sql import SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from jobs import tables

RUNS_SCHEMA = T.StructType([
    T.StructField("run_id", T.StringType(), False),
    T.StructField("command", T.StringType(), False),      # run, export
    T.StructField("check_date", T.DateType(), True),
    T.StructField("started_at", T.TimestampType(), False),
    T.StructField("finished_at", T.TimestampType(), True),  # null while RUNNING
    T.StructField("outcome", T.StringType(), False),      # RUNNING, SUCCESS, PARTIAL (files FAILED), FAILED, INTERRUPTED
    T.StructField("exit_code", T.IntegerType(), True),
    T.StructField("params", T.StringType(), True),         # JSON
    T.StructField("files", T.StringType(), True),          # JSON: [{source, file, status, error}]
    T.StructField("row_counts", T.StringType(), True),     # JSON: table -> rows
    T.StructField("warnings_by_rule", T.StringType(), True),  # JSON: rule_id -> status -> count
    T.StructField("timings", T.StringType(), True),        # JSON: stage -> seconds
    T.StructField("latest_batches", T.StringType(), True), # JSON: source -> latest batch loaded
    T.StructField("stale_sources", T.ArrayType(T.StringType()), True),
    T.StructField("error", T.StringType(), True),
    T.StructField("unknown_sources", T.ArrayType(T.StringType()), True),  # landing folders that are no source
    T.StructField("ignored_files", T.ArrayType(T.StringType()), True),    # landing files neither CSV nor parquet
])
RUNNING, INTERRUPTED = "RUNNING", "INTERRUPTED"
_JSON_FIELDS = ("params", "files", "row_counts", "warnings_by_rule", "timings", "latest_batches")


def new_run_id(now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now()
    return f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def runs_path(warehouse: str) -> str:
    return tables.table_path(warehouse, *tables.RUNS)


def _frame(spark: SparkSession, row: dict):
    values = {f.name: row.get(f.name) for f in RUNS_SCHEMA.fields}
    for key in _JSON_FIELDS:
        if values[key] is not None and not isinstance(values[key], str):
            values[key] = json.dumps(values[key], ensure_ascii=False, sort_keys=True, default=str)
    return spark.createDataFrame([values], RUNS_SCHEMA)


def _ensure_runs_table(spark: SparkSession, warehouse: str) -> str:
    """meta/runs with this schema (a table of an earlier version gets the new columns and
    its NOT NULL end columns relaxed: a RUNNING row has no end yet)."""
    return tables.ensure_table(spark, runs_path(warehouse), RUNS_SCHEMA)


def record_run(spark: SparkSession, warehouse: str, row: dict) -> None:
    """Append one finished row (a command that records itself once: export)."""
    path = _ensure_runs_table(spark, warehouse)
    _frame(spark, row).write.format("delta").mode("append").save(path)


def start_run(spark: SparkSession, warehouse: str, row: dict) -> list[dict]:
    """Record a RUNNING row first, so a run that is killed leaves a trace; mark any
    earlier RUNNING row INTERRUPTED (the warehouse lock says none of them still runs) and
    return those as ``[{run_id, command, started_at}]``."""
    from delta.tables import DeltaTable

    path = _ensure_runs_table(spark, warehouse)
    stuck = (tables.read_delta(spark, path).filter(F.col("outcome") == RUNNING)
             .select("run_id", "command", "started_at").collect())
    interrupted = [{"run_id": r.run_id, "command": r.command, "started_at": r.started_at} for r in stuck
                   if r.run_id != row["run_id"]]
    if interrupted:
        (DeltaTable.forPath(spark, path).update(
            condition=(F.col("outcome") == RUNNING) & (F.col("run_id") != row["run_id"]),
            set={"outcome": F.lit(INTERRUPTED),
                 "error": F.lit("the run ended without recording its end (killed or crashed); "
                                "the next run redid its work")}))
    _frame(spark, {**row, "outcome": RUNNING, "finished_at": None, "exit_code": None}) \
        .write.format("delta").mode("append").save(path)
    return interrupted


def finish_run(spark: SparkSession, warehouse: str, row: dict) -> None:
    """Complete the run's RUNNING row (one MERGE on ``run_id``)."""
    from delta.tables import DeltaTable

    path = _ensure_runs_table(spark, warehouse)
    (DeltaTable.forPath(spark, path).alias("t")
     .merge(_frame(spark, row).alias("s"), "t.run_id = s.run_id")
     .whenMatchedUpdateAll()
     .whenNotMatchedInsertAll()
     .execute())


def latest_batches(spark: SparkSession, warehouse: str) -> dict[str, str]:
    """Per source, the latest batch with a LOADED file."""
    path = tables.table_path(warehouse, *tables.INGEST_LOG)
    if not tables.delta_exists(spark, path):
        return {}
    w = Window.partitionBy("source", "file").orderBy(F.col("logged_at").desc())
    rows = (tables.read_delta(spark, path)
            .withColumn("_n", F.row_number().over(w)).filter("_n = 1 AND status = 'LOADED'")
            .groupBy("source").agg(F.max("batch").alias("batch")).collect())
    return {r.source: r.batch for r in rows}


_BATCH_DATE = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})")


def batch_date(batch: str) -> dt.date | None:
    """The delivery date a batch folder is named by (YYYY-MM-DD or YYYYMMDD...), if any."""
    m = _BATCH_DATE.match(batch)
    if not m:
        return None
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def stale_sources(batches: dict[str, str], contract, check_date: dt.date, max_age_days: int) -> list[str]:
    """Sources whose latest batch is older than ``max_age_days`` at the check date (or
    that never delivered). Sources that come back from downstream (``origin: downstream``,
    the townships' feedback) deliver when they have something to say: never stale."""
    out = []
    for name in contract.names:
        if contract[name].origin == "downstream":
            continue
        batch = batches.get(name)
        when = batch_date(batch) if batch else None
        if batch is None or (when is not None and (check_date - when).days > max_age_days):
            out.append(name)
    return out
