"""The warnings lifecycle (contract README s.5): the status transitions and detection's one MERGE.

``gold/warnings`` holds one row per (rule_id, person_id) ever detected. A run with check
date ``D`` applies the feedback first (:mod:`jobs.gold.feedback`), then calls
:func:`apply_detection` with the rows :func:`jobs.gold.warnings.build_detected` made.

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
    Reserved just before the detection MERGE (:func:`jobs.runstate.reserve_check_date`: a
    property of the warnings table and a marker file beside it); a D earlier than it
    raises :class:`CheckDateError`. The run's state (check date, detection fingerprint,
    marker) is :mod:`jobs.runstate`'s; this module is the status transitions and the MERGE.

No deletion vectors: the tables are created with ``delta.enableDeletionVectors=false`` so
delta-rs can read them.
"""
from __future__ import annotations

import datetime as dt
import logging

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs import runstate
from jobs.gold.warnings import WARNING_COLUMNS, WARNINGS_SCHEMA
from jobs.rules.evidence import evidence_rows
from jobs.tables import WARNINGS, delta_exists, ensure_table, table_path

log = logging.getLogger(__name__)

NEW, OPEN, RESOLVED, CONFIRMED, DISMISSED = "NEW", "OPEN", "RESOLVED", "CONFIRMED", "DISMISSED"
STATUSES = (NEW, OPEN, RESOLVED, CONFIRMED, DISMISSED)

# Columns taken from the detected row when a warning fires and is not (still) dismissed.
REFRESHED = ["rule_id", "category", "person_id", "person_name", "county_code", "township_code",
             "score", "amount_at_risk", "evidence"]


# ---------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------
def warnings_path(warehouse: str) -> str:
    return table_path(warehouse, *WARNINGS)


def ensure_warnings_table(spark: SparkSession, warehouse: str) -> str:
    """Create ``gold/warnings`` (empty, exact schema) unless it exists; return its path."""
    return ensure_table(spark, warnings_path(warehouse), WARNINGS_SCHEMA)


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

    # Step by step, each value a column of its own: written as one expression, the status
    # (and the evidence comparison inside it) appears in every column's "changed" test, and
    # Spark analyses and plans the copies one by one (seconds per detection, even for a
    # handful of rows).
    fires, known, old = F.col("_fires"), F.col("_known"), F.col("o_status")
    j = j.select("*", F.col("n_warning_id").isNotNull().alias("_fires"),
                 F.col("o_warning_id").isNotNull().alias("_known"))
    j = j.withColumn("_reopened", fires & known & (old == DISMISSED)
                     & has_new_evidence(F.col("n_evidence"), F.col("o_evidence")))
    reopened = F.col("_reopened")
    status = (F.when(~known, F.lit(NEW))
               .when(~fires, F.when(old.isin(NEW, OPEN), F.lit(RESOLVED)).otherwise(old))
               .when(old == DISMISSED, F.when(reopened, F.lit(NEW)).otherwise(old))
               .when(old == CONFIRMED, old)
               .when(old.isin(NEW, OPEN),
                     F.when(F.col("o_last_detected") >= d, old).otherwise(F.lit(OPEN)))
               .otherwise(F.lit(NEW)))  # RESOLVED (or anything unknown) that fires
    refresh = fires & (~known | (old != DISMISSED) | reopened)
    j = j.withColumn("_refresh", refresh)

    types = {f.name: f.dataType for f in WARNINGS_SCHEMA.fields}
    new = {
        "warning_id": F.coalesce("o_warning_id", "n_warning_id"),
        **{c: F.when(F.col("_refresh"), F.col(f"n_{c}")).otherwise(F.col(f"o_{c}")) for c in REFRESHED},
        "status": status,
        "first_detected": F.when(known, F.col("o_first_detected")).otherwise(d),
        "last_detected": F.when(fires, d).otherwise(F.col("o_last_detected")),
    }
    j = j.select(*[new[c].cast(types[c]).alias(c) for c in new], "o_run_id", "_fires", "_known",
                 old.alias("_old_status"), *[F.col(f"o_{c}") for c in new])
    changed = ~known
    for c in new:
        changed = changed | ~F.col(c).eqNullSafe(F.col(f"o_{c}"))
    j = j.withColumn("_changed", changed)
    run = F.when(F.col("_changed"), F.lit(run_id)).otherwise(F.col("o_run_id")).cast(types["run_id"])
    return j.select(*[run.alias(c) if c == "run_id" else F.col(c) for c in WARNING_COLUMNS],
                    "_changed", "_old_status", "_fires")


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
    runstate.reserve_check_date(spark, warehouse, check_date)   # raises for an earlier D

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
