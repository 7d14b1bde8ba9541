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
    T.StructField("command", T.StringType(), False),
    T.StructField("check_date", T.DateType(), True),
    T.StructField("started_at", T.TimestampType(), False),
    T.StructField("finished_at", T.TimestampType(), False),
    T.StructField("outcome", T.StringType(), False),      # SUCCESS, PARTIAL (files FAILED), FAILED
    T.StructField("exit_code", T.IntegerType(), False),
    T.StructField("params", T.StringType(), True),         # JSON
    T.StructField("files", T.StringType(), True),          # JSON: [{source, file, status, error}]
    T.StructField("row_counts", T.StringType(), True),     # JSON: table -> rows
    T.StructField("warnings_by_rule", T.StringType(), True),  # JSON: rule_id -> status -> count
    T.StructField("timings", T.StringType(), True),        # JSON: stage -> seconds
    T.StructField("latest_batches", T.StringType(), True), # JSON: source -> latest batch loaded
    T.StructField("stale_sources", T.ArrayType(T.StringType()), True),
    T.StructField("error", T.StringType(), True),
])


def new_run_id(now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now()
    return f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def record_run(spark: SparkSession, warehouse: str, row: dict) -> None:
    values = {f.name: row.get(f.name) for f in RUNS_SCHEMA.fields}
    for key in ("params", "files", "row_counts", "warnings_by_rule", "timings", "latest_batches"):
        if values[key] is not None and not isinstance(values[key], str):
            values[key] = json.dumps(values[key], ensure_ascii=False, sort_keys=True, default=str)
    df = spark.createDataFrame([values], RUNS_SCHEMA)
    df.write.format("delta").mode("append").save(tables.table_path(warehouse, *tables.RUNS))


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


def stale_sources(batches: dict[str, str], sources: list[str], check_date: dt.date,
                  max_age_days: int) -> list[str]:
    """Sources whose latest batch is older than ``max_age_days`` at the check date (or
    that never delivered). Feedback comes from townships, not departments: never stale."""
    out = []
    for name in sources:
        if name == "feedback":
            continue
        batch = batches.get(name)
        when = batch_date(batch) if batch else None
        if batch is None or (when is not None and (check_date - when).days > max_age_days):
            out.append(name)
    return out
