"""The warnings lifecycle (contract README s.5): feedback first, then detection; one MERGE each.

``gold/warnings`` holds one row per (rule_id, person_id) ever detected. A run with check
date ``D`` calls :func:`apply_feedback` with the feedback rows it loaded, then
:func:`apply_detection` with the rows :func:`jobs.gold.warnings.build_detected` made.

Feedback
    Rows already recorded in ``meta/feedback_applied`` (by ``feedback_id`` and ``_batch``)
    are skipped, so a row is applied once, and a corrected row (same id, later batch) is
    applied again. Per warning, the remaining rows with an outcome apply in order of
    ``verified_at`` (undated first), then ``feedback_id``: the last one sets the status
    (CONFIRMED or DISMISSED); a row without an outcome has no effect. Only the status and
    ``run_id`` change: a DISMISSED warning keeps the evidence it had. The warnings MERGE
    commits before the rows are recorded: a crash in between re-applies the same outcome
    at the rerun, which changes nothing (a row is only updated when its status differs).

Detection
    - fires, unknown or RESOLVED -> NEW (``first_detected`` = D the first time only);
    - fires, NEW/OPEN last seen before D -> OPEN; last seen at D -> keeps its status;
    - fires, CONFIRMED -> stays CONFIRMED;
    - fires, DISMISSED -> stays DISMISSED with its stored evidence, unless an evidence row
      (source + key) is absent from the stored evidence or has other values: then NEW
      (rows of the stored evidence that no longer appear do not count);
    - does not fire, NEW/OPEN -> RESOLVED; anything else does not change.
    - ``last_detected`` = D whenever it fires; name, place, score, amount and evidence are
      refreshed when it fires and is not (still) DISMISSED.
    - Only rows whose values change are written, with ``run_id`` = this run; so a rerun
      with the same data and the same D leaves the table as it was, ``run_id`` included.

Latest check date
    Stored in the warnings table's properties (``hedui.latestCheckDate``), which live in
    the Delta log's metadata (checkpointed, never cleaned up) and are set in a commit just
    before the detection MERGE (a failed MERGE leaves D reserved: rerunning with the same D
    completes it). A D earlier than it raises :class:`CheckDateError`. A table without the
    property (not written by this module) falls back to its largest ``last_detected``.

No deletion vectors: the tables are created with ``delta.enableDeletionVectors=false`` so
delta-rs can read them.
"""
from __future__ import annotations

import datetime as dt
import logging

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from jobs import fs
from jobs.errors import CheckDateError
from jobs.gold.warnings import WARNING_COLUMNS, WARNINGS_SCHEMA
from jobs.rules.evidence import evidence_rows
from jobs.tables import FEEDBACK_APPLIED, WARNINGS, delta_exists, table_path

log = logging.getLogger(__name__)

NEW, OPEN, RESOLVED, CONFIRMED, DISMISSED = "NEW", "OPEN", "RESOLVED", "CONFIRMED", "DISMISSED"
STATUSES = (NEW, OPEN, RESOLVED, CONFIRMED, DISMISSED)
OUTCOMES = (CONFIRMED, DISMISSED)
LATEST_CHECK_DATE_PROPERTY = "hedui.latestCheckDate"
NO_DELETION_VECTORS = {"delta.enableDeletionVectors": "false"}

FEEDBACK_APPLIED_SCHEMA = T.StructType([
    T.StructField("feedback_id", T.StringType(), True),
    T.StructField("_batch", T.StringType(), True),
    T.StructField("warning_id", T.StringType(), True),
    T.StructField("outcome", T.StringType(), True),
    T.StructField("verified_at", T.DateType(), True),
    T.StructField("run_id", T.StringType(), True),
])

# Columns taken from the detected row when a warning fires and is not (still) dismissed.
REFRESHED = ["rule_id", "category", "person_id", "person_name", "county_code", "township_code",
             "score", "amount_at_risk", "evidence"]


# ---------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------
def warnings_path(warehouse: str) -> str:
    return table_path(warehouse, *WARNINGS)


def feedback_applied_path(warehouse: str) -> str:
    return table_path(warehouse, *FEEDBACK_APPLIED)


def _ensure_table(spark: SparkSession, path: str, schema: T.StructType) -> str:
    from delta.tables import DeltaTable

    if not delta_exists(spark, path):
        # the builder, like SQL's delta.`<path>`, takes an absolute path only
        builder = DeltaTable.createIfNotExists(spark).location(fs.qualify(spark, path)).addColumns(schema)
        for key, value in NO_DELETION_VECTORS.items():
            builder = builder.property(key, value)
        builder.execute()
        log.info("created Delta table %s", path)
    return path


def ensure_warnings_table(spark: SparkSession, warehouse: str) -> str:
    """Create ``gold/warnings`` (empty, exact schema) unless it exists; return its path."""
    return _ensure_table(spark, warnings_path(warehouse), WARNINGS_SCHEMA)


def _table_properties(spark: SparkSession, path: str) -> dict[str, str]:
    from delta.tables import DeltaTable

    row = DeltaTable.forPath(spark, path).detail().select("properties").first()
    return dict(row["properties"] or {}) if row else {}


def _latest_check_date(spark: SparkSession, path: str, props: dict[str, str]) -> dt.date | None:
    prop = props.get(LATEST_CHECK_DATE_PROPERTY)
    if prop:
        return dt.date.fromisoformat(prop)
    # a table written without the property: the latest date anything fired
    return spark.read.format("delta").load(path).agg(F.max("last_detected")).first()[0]


def latest_check_date(spark: SparkSession, warehouse: str) -> dt.date | None:
    """The latest check date applied to ``gold/warnings`` (None when none yet)."""
    path = warnings_path(warehouse)
    if not delta_exists(spark, path):
        return None
    return _latest_check_date(spark, path, _table_properties(spark, path))


def _refuse_earlier(check_date: dt.date, latest: dt.date | None) -> None:
    if latest is not None and check_date < latest:
        raise CheckDateError(
            f"check date {check_date.isoformat()} is earlier than the latest check date "
            f"already applied to the warnings table ({latest.isoformat()}); "
            f"run with --as-of {latest.isoformat()} or later")


def check_check_date(spark: SparkSession, warehouse: str, check_date: dt.date) -> None:
    """Raise :class:`CheckDateError` when ``check_date`` is before the latest one applied.

    A pipeline can call it before loading anything; :func:`apply_detection` checks again.
    """
    _refuse_earlier(check_date, latest_check_date(spark, warehouse))


# The latest check date also sits in a small file beside the tables, which the command line
# reads before Spark starts (local warehouses) to refuse an earlier date at once. The
# table property stays the authority: it is checked again once Spark is up.
CHECK_DATE_MARKER = ("_hedui", "latest_check_date")


def check_date_marker_path(warehouse: str) -> str:
    return table_path(warehouse, *CHECK_DATE_MARKER)


def read_check_date_marker(files, warehouse: str) -> dt.date | None:
    """The latest check date the marker file records (None: no marker, or unreadable)."""
    text = files.read_text(check_date_marker_path(warehouse)) if files is not None else None
    try:
        return dt.date.fromisoformat(text.strip()) if text else None
    except ValueError:
        return None


def refuse_earlier_than_marker(files, warehouse: str, check_date: dt.date) -> None:
    """Raise :class:`CheckDateError` when the marker names a later check date."""
    _refuse_earlier(check_date, read_check_date_marker(files, warehouse))


def _set_latest_check_date(spark: SparkSession, path: str, check_date: dt.date) -> None:
    quoted = fs.qualify(spark, path).replace("`", "``")
    spark.sql(f"ALTER TABLE delta.`{quoted}` SET TBLPROPERTIES "
              f"('{LATEST_CHECK_DATE_PROPERTY}' = '{check_date.isoformat()}')")


def _merge_metric(metrics: DataFrame | None, name: str) -> int:
    """A count from the DataFrame a Delta MERGE returns (0 when not reported)."""
    if metrics is None or name not in metrics.columns:
        return 0
    row = metrics.first()
    return int(row[name] or 0) if row else 0


# ---------------------------------------------------------------------------------
# Feedback
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
    apath = _ensure_table(spark, feedback_applied_path(warehouse), FEEDBACK_APPLIED_SCHEMA)
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
        stats["warnings_changed"] = _merge_metric(metrics, "num_updated_rows")
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


# ---------------------------------------------------------------------------------
# Detection
# ---------------------------------------------------------------------------------
def has_new_evidence(new_evidence: Column, stored_evidence: Column) -> Column:
    """True when a row of the new evidence is absent from the stored one or differs in values."""
    return F.size(F.array_except(evidence_rows(new_evidence), evidence_rows(stored_evidence))) > 0


def transition(current: DataFrame, detected: DataFrame, check_date: dt.date,
               run_id: str) -> DataFrame:
    """Every warning after detection at ``check_date``, with ``_changed``, ``_old_status``, ``_fires``.

    ``current``: the warnings table; ``detected``: the rows firing now (warnings columns;
    status, dates and run_id ignored). Rows with ``_changed`` are those to write.
    """
    d = F.lit(check_date).cast("date")
    o = current.select([F.col(c).alias(f"o_{c}") for c in WARNING_COLUMNS])
    n = (detected.where(F.col("warning_id").isNotNull())
                 .select([F.col(c).alias(f"n_{c}") for c in WARNING_COLUMNS]))
    j = o.join(n, F.col("o_warning_id") == F.col("n_warning_id"), "full_outer")

    fires = F.col("n_warning_id").isNotNull()
    known = F.col("o_warning_id").isNotNull()
    old = F.col("o_status")
    reopened = fires & known & (old == DISMISSED) & has_new_evidence(F.col("n_evidence"),
                                                                     F.col("o_evidence"))
    status = (F.when(~known, F.lit(NEW))
               .when(~fires, F.when(old.isin(NEW, OPEN), F.lit(RESOLVED)).otherwise(old))
               .when(old == DISMISSED, F.when(reopened, F.lit(NEW)).otherwise(old))
               .when(old == CONFIRMED, old)
               .when(old.isin(NEW, OPEN),
                     F.when(F.col("o_last_detected") >= d, old).otherwise(F.lit(OPEN)))
               .otherwise(F.lit(NEW)))  # RESOLVED (or anything unknown) that fires
    refresh = fires & (~known | (old != DISMISSED) | reopened)

    new = {
        "warning_id": F.coalesce("o_warning_id", "n_warning_id"),
        **{c: F.when(refresh, F.col(f"n_{c}")).otherwise(F.col(f"o_{c}")) for c in REFRESHED},
        "status": status,
        "first_detected": F.when(known, F.col("o_first_detected")).otherwise(d),
        "last_detected": F.when(fires, d).otherwise(F.col("o_last_detected")),
    }
    changed = ~known
    for c, expr in new.items():
        changed = changed | ~expr.eqNullSafe(F.col(f"o_{c}"))
    new["run_id"] = F.when(changed, F.lit(run_id)).otherwise(F.col("o_run_id"))

    types = {f.name: f.dataType for f in WARNINGS_SCHEMA.fields}
    return j.select(*[new[c].cast(types[c]).alias(c) for c in WARNING_COLUMNS],
                    changed.alias("_changed"), old.alias("_old_status"), fires.alias("_fires"))


def apply_detection(spark: SparkSession, warehouse: str, detected: DataFrame,
                    check_date: dt.date, run_id: str) -> dict:
    """Apply the warnings firing at ``check_date`` to ``gold/warnings`` (one MERGE).

    Raises :class:`CheckDateError` when ``check_date`` is earlier than the latest check
    date already applied. Returns counts: ``firing``, ``changed``, ``transitions``
    ({"OLD->NEW": n}; OLD is "(none)" for a warning seen for the first time) and
    ``by_rule_status`` (the table after the run: {rule_id: {status: n}}).
    """
    from delta.tables import DeltaTable

    path = ensure_warnings_table(spark, warehouse)
    props = _table_properties(spark, path)
    _refuse_earlier(check_date, _latest_check_date(spark, path, props))
    if props.get(LATEST_CHECK_DATE_PROPERTY) != check_date.isoformat():
        _set_latest_check_date(spark, path, check_date)  # reserve D before the MERGE
    fs.HadoopFiles(spark).write_text(check_date_marker_path(warehouse), check_date.isoformat() + "\n")

    # Single writer: the table does not change between this read and the MERGE below.
    current = spark.read.format("delta").load(path)
    full = transition(current, detected, check_date, run_id).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        summary = (full.groupBy("rule_id", F.coalesce("_old_status", F.lit("(none)")).alias("old"),
                                F.col("status").alias("new"), "_changed")
                       .agg(F.count(F.lit(1)).alias("n"),
                            F.countDistinct("warning_id").alias("ids"),
                            F.sum(F.col("_fires").cast("int")).alias("firing"))
                       .collect())
        if any(r["n"] != r["ids"] for r in summary):
            raise ValueError("detected rows: the same (rule_id, person_id) occurs more than once")
        n_changed = sum(r["n"] for r in summary if r["_changed"])
        if n_changed:
            changes = full.where(F.col("_changed")).select(*WARNING_COLUMNS)
            (DeltaTable.forPath(spark, path).alias("t")
             .merge(changes.alias("s"), "t.warning_id = s.warning_id")
             .whenMatchedUpdateAll()
             .whenNotMatchedInsertAll()
             .execute())
    finally:
        full.unpersist()

    transitions: dict[str, int] = {}
    by_rule_status: dict[str, dict[str, int]] = {}
    for r in summary:
        if r["_changed"]:
            key = f"{r['old']}->{r['new']}"
            transitions[key] = transitions.get(key, 0) + r["n"]
        per_rule = by_rule_status.setdefault(r["rule_id"], {})
        per_rule[r["new"]] = per_rule.get(r["new"], 0) + r["n"]
    stats = {
        "check_date": check_date.isoformat(),
        "firing": sum(r["firing"] or 0 for r in summary),
        "changed": n_changed,
        "transitions": dict(sorted(transitions.items())),
        "by_rule_status": {k: dict(sorted(v.items())) for k, v in sorted(by_rule_status.items())},
    }
    log.info("detection at %s: %s firing, %s rows changed", check_date, stats["firing"], n_changed)
    return stats


def warning_counts(spark: SparkSession, warehouse: str) -> dict[str, dict[str, int]]:
    """{rule_id: {status: count}} of the warnings table (empty when it does not exist)."""
    path = warnings_path(warehouse)
    if not delta_exists(spark, path):
        return {}
    out: dict[str, dict[str, int]] = {}
    rows = (spark.read.format("delta").load(path).groupBy("rule_id", "status").count()
            .orderBy("rule_id", "status").collect())
    for r in rows:
        out.setdefault(r["rule_id"], {})[r["status"]] = r["count"]
    return out
