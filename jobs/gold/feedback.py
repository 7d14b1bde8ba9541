"""Feedback from the townships: every special case of the ``feedback`` source, in one place.

The pipeline hands :func:`row_checks` to the ingest (which knows nothing of warnings) and
calls :func:`apply_feedback` after it. The source itself is declared in conf/sources.yaml
(``origin: downstream``: never stale, never generated).

- **Loading**: a feedback row naming no warning that exists when the row is loaded gets
  the reason ``UNKNOWN_WARNING`` (contract s.4) and is quarantined.
- **Applying**: rows already recorded in ``meta/feedback_applied`` (by ``feedback_id`` and
  ``_batch``) are skipped, so a row is applied once, and a corrected row (same id, later
  batch) is applied again. Per warning, the remaining rows with an outcome apply in order
  of ``verified_at`` (undated first), then ``feedback_id``: the last one sets the status
  (CONFIRMED or DISMISSED); a row without an outcome has no effect. Only the status and
  ``run_id`` change: a DISMISSED warning keeps the evidence it had. The warnings MERGE
  commits before the rows are recorded: a crash in between re-applies the same outcome
  at the rerun, which changes nothing (a row is only updated when its status differs).
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Callable

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from jobs import tables
from jobs.gold.lifecycle import CONFIRMED, DISMISSED, ensure_warnings_table, warnings_path
from jobs.runstate import check_check_date
from jobs.tables import ensure_table, merge_metric

log = logging.getLogger(__name__)

SOURCE = "feedback"
OUTCOMES = (CONFIRMED, DISMISSED)
UNKNOWN_WARNING = "UNKNOWN_WARNING"

FEEDBACK_APPLIED_SCHEMA = T.StructType([
    T.StructField("feedback_id", T.StringType(), True),
    T.StructField("_batch", T.StringType(), True),
    T.StructField("warning_id", T.StringType(), True),
    T.StructField("outcome", T.StringType(), True),
    T.StructField("verified_at", T.DateType(), True),
    T.StructField("run_id", T.StringType(), True),
])


def feedback_applied_path(warehouse: str) -> str:
    return tables.table_path(warehouse, *tables.FEEDBACK_APPLIED)


# ---------------------------------------------------------------------------------
# Loading: the row check the ingest applies to the feedback source
# ---------------------------------------------------------------------------------
def with_unknown_warning_reason(df: DataFrame, known_warning_ids: DataFrame | None) -> DataFrame:
    """Feedback rows naming no existing warning get UNKNOWN_WARNING (contract s.4)."""
    known = (known_warning_ids.select(F.col("warning_id").alias("_known")).distinct()
             if known_warning_ids is not None else None)
    if known is None:
        return df.withColumn("_reasons", F.when(
            F.size("_reasons") == 0, F.array(F.lit(UNKNOWN_WARNING))).otherwise(F.col("_reasons")))
    joined = df.join(F.broadcast(known), df["warning_id"] == known["_known"], "left")
    unknown = F.col("warning_id").isNotNull() & F.col("_known").isNull() & (F.size("_reasons") == 0)
    return (joined.withColumn("_reasons", F.when(unknown, F.array(F.lit(UNKNOWN_WARNING)))
                              .otherwise(F.col("_reasons")))
            .drop("_known"))


def row_checks(spark: SparkSession, warehouse: str) -> dict[str, Callable[[DataFrame], DataFrame]]:
    """Per source, a transform the ingest applies to its typed rows (after the contract's
    own reasons): for ``feedback``, :func:`with_unknown_warning_reason` against the
    warnings table as it stands."""
    def check(df: DataFrame) -> DataFrame:
        path = warnings_path(warehouse)
        known = tables.read_delta(spark, path) if tables.delta_exists(spark, path) else None
        return with_unknown_warning_reason(df, known)
    return {SOURCE: check}


# ---------------------------------------------------------------------------------
# Applying
# ---------------------------------------------------------------------------------
def latest_outcomes(feedback: DataFrame) -> DataFrame:
    """(warning_id, outcome): per warning, the outcome of its last row with one.

    Order: ``verified_at`` (undated first), then ``feedback_id`` (then ``_batch``).
    """
    w = Window.partitionBy("warning_id").orderBy(
        F.col("verified_at").desc_nulls_last(), F.col("feedback_id").desc(), F.col("_batch").desc())
    return (feedback.where(F.col("outcome").isin(*OUTCOMES) & F.col("warning_id").isNotNull())
                    .withColumn("_rn", F.row_number().over(w))
                    .where(F.col("_rn") == 1)
                    .select("warning_id", "outcome"))


def apply_feedback(spark: SparkSession, warehouse: str, feedback_rows: DataFrame | None,
                   run_id: str, check_date: dt.date | None = None) -> dict:
    """Apply the feedback rows not applied before; record them in ``meta/feedback_applied``.

    ``feedback_rows`` has the silver feedback columns (``feedback_id``, ``warning_id``,
    ``outcome``, ``verified_at``, ``_batch``; others are ignored). With ``check_date``,
    the run's date is checked first (:func:`check_check_date`), so a refused run applies
    nothing. Returns counts: ``rows``, ``already_applied``, ``applied``,
    ``without_outcome``, ``unknown_warning`` (among the applied) and ``warnings_changed``.
    """
    from delta.tables import DeltaTable

    if check_date is not None:
        check_check_date(spark, warehouse, check_date)
    wpath = ensure_warnings_table(spark, warehouse)
    apath = ensure_table(spark, feedback_applied_path(warehouse), FEEDBACK_APPLIED_SCHEMA)
    stats = {"rows": 0, "already_applied": 0, "applied": 0, "without_outcome": 0,
             "unknown_warning": 0, "warnings_changed": 0}
    if feedback_rows is None:
        return stats

    rows = (feedback_rows.select(
                F.col("feedback_id").cast("string"), F.col("_batch").cast("string"),
                F.col("warning_id").cast("string"), F.col("outcome").cast("string"),
                F.col("verified_at").cast("date"))
            .where(F.col("feedback_id").isNotNull())
            .dropDuplicates(["feedback_id", "_batch"]))
    done = (spark.read.format("delta").load(apath)
            .select("feedback_id", "_batch", F.lit(True).alias("_done")))
    known = (spark.read.format("delta").load(wpath)
             .select("warning_id", F.lit(True).alias("_known")))
    flagged = (rows.join(done, ["feedback_id", "_batch"], "left")
                   .join(known, "warning_id", "left")
                   .persist(StorageLevel.MEMORY_AND_DISK))
    try:
        is_fresh = F.col("_done").isNull()
        counts = flagged.agg(
            F.count(F.lit(1)).alias("rows"),
            F.sum((~is_fresh).cast("int")).alias("already_applied"),
            F.sum((is_fresh & F.col("outcome").isNull()).cast("int")).alias("without_outcome"),
            F.sum((is_fresh & F.col("_known").isNull()).cast("int")).alias("unknown_warning"),
        ).first()
        stats.update({k: counts[k] or 0 for k in ("rows", "already_applied", "without_outcome",
                                                  "unknown_warning")})
        stats["applied"] = stats["rows"] - stats["already_applied"]
        if stats["applied"] == 0:
            return stats

        fresh = flagged.where(is_fresh)
        # 1. the statuses (one MERGE; a row is written only when its status changes)
        metrics = (DeltaTable.forPath(spark, wpath).alias("t")
                   .merge(latest_outcomes(fresh).alias("s"), "t.warning_id = s.warning_id")
                   .whenMatchedUpdate(condition="NOT (t.status <=> s.outcome)",
                                      set={"status": "s.outcome", "run_id": F.lit(run_id)})
                   .execute())
        stats["warnings_changed"] = merge_metric(metrics, "num_updated_rows")
        # 2. then the record of what was applied (a crash before it re-applies the same
        #    outcomes at the rerun, which changes nothing)
        record = fresh.select("feedback_id", "_batch", "warning_id", "outcome", "verified_at",
                              F.lit(run_id).alias("run_id"))
        (DeltaTable.forPath(spark, apath).alias("t")
         .merge(record.alias("s"), "t.feedback_id = s.feedback_id AND t._batch = s._batch")
         .whenNotMatchedInsertAll()
         .execute())
    finally:
        flagged.unpersist()
    log.info("feedback: %s", stats)
    return stats
