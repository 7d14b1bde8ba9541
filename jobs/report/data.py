"""What the report and the notebooks show, as DataFrame transforms over the warehouse tables.

Extract: :func:`read_table` (None when a table does not exist yet). Transforms take and
return a DataFrame and chain with ``df.transform(fn, ...)``; the results are small
(one row per rule, county, file...) and are collected by the report.
Time travel: :func:`warnings_history` and :func:`status_by_version` read earlier
versions of ``gold/warnings`` with ``versionAsOf``.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from functools import reduce

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from jobs.tables import INGEST_LOG, QUARANTINE, RUNS, WARNINGS, delta_exists, table_path

log = logging.getLogger(__name__)

STATUSES = ("NEW", "OPEN", "RESOLVED", "CONFIRMED", "DISMISSED")
OPEN_STATUSES = ("NEW", "OPEN")
STATUS_ZH = {"NEW": "新发现", "OPEN": "持续存在", "RESOLVED": "已消除",
             "CONFIRMED": "已核实", "DISMISSED": "已排除"}
REASON_ZH = {"INVALID_ID": "身份证号无效", "MISSING_REQUIRED": "必填项缺失",
             "BAD_DATE": "日期无法解析", "BAD_MONTH": "月份无法解析",
             "BAD_NUMBER": "数值无法解析", "BAD_ENUM": "代码值无效",
             "KEY_CONFLICT": "主键冲突", "UNKNOWN_WARNING": "预警编号不存在"}
UNASSIGNED = "未分配"
# Delta operations that change no rows: not a point of the trend.
METADATA_OPERATIONS = {"OPTIMIZE", "VACUUM START", "VACUUM END", "SET TBLPROPERTIES",
                       "UNSET TBLPROPERTIES", "ADD COLUMNS", "CHANGE COLUMN", "FSCK",
                       "ADD CONSTRAINT", "DROP CONSTRAINT", "UPGRADE PROTOCOL",
                       "CREATE TABLE", "REORG"}


# ---------------------------------------------------------------------------------
# Extract
# ---------------------------------------------------------------------------------
def read_table(spark: SparkSession, warehouse: str, parts: tuple[str, ...],
               version: int | None = None) -> DataFrame | None:
    """A warehouse table (optionally an earlier version), or None when it does not exist."""
    path = table_path(warehouse, *parts)
    if not delta_exists(spark, path):
        return None
    reader = spark.read.format("delta")
    if version is not None:
        reader = reader.option("versionAsOf", version)
    return reader.load(path)


def read_warnings(spark: SparkSession, warehouse: str, version: int | None = None) -> DataFrame | None:
    return read_table(spark, warehouse, WARNINGS, version)


def read_quarantine(spark: SparkSession, warehouse: str) -> DataFrame | None:
    return read_table(spark, warehouse, QUARANTINE)


def read_ingest_log(spark: SparkSession, warehouse: str) -> DataFrame | None:
    return read_table(spark, warehouse, INGEST_LOG)


def read_runs(spark: SparkSession, warehouse: str) -> DataFrame | None:
    return read_table(spark, warehouse, RUNS)


# ---------------------------------------------------------------------------------
# Column functions and transforms over gold/warnings
# ---------------------------------------------------------------------------------
def is_open(status: str = "status") -> Column:
    return F.col(status).isin(*OPEN_STATUSES)


def name_of(code: str, mapping: dict[str, str], null_label: str | None = None) -> Column:
    """The name of a code column from a code -> name mapping (unknown codes stay as they are)."""
    names = F.create_map(*[F.lit(x) for pair in mapping.items() for x in pair])
    c = F.col(code)
    return F.when(c.isNull(), F.lit(null_label)).otherwise(F.coalesce(names[c], c))


def with_names(df: DataFrame, cfg) -> DataFrame:
    """Adds rule_name, category_name, county_name, township_name (Chinese) for the code
    columns the frame has (rule_id, category, county_code, township_code)."""
    rules = {r: spec.name_zh for r, spec in cfg.rules.rules.items()}
    wanted = [("rule_id", "rule_name", rules, None),
              ("category", "category_name", cfg.rules.categories, None),
              ("county_code", "county_name", cfg.geo.counties, UNASSIGNED),
              ("township_code", "township_name", cfg.geo.townships, UNASSIGNED)]
    for code, name, mapping, null_label in wanted:
        if code in df.columns:
            df = df.withColumn(name, name_of(code, mapping, null_label))
    return df


def count_by_rule_status(warnings: DataFrame) -> DataFrame:
    """rule_id, status, n."""
    return warnings.groupBy("rule_id", "status").agg(F.count(F.lit(1)).alias("n"))


def count_by_county(warnings: DataFrame) -> DataFrame:
    """county_code (null = unassigned), status, n."""
    return warnings.groupBy("county_code", "status").agg(F.count(F.lit(1)).alias("n"))


def township_ranking(warnings: DataFrame, top: int = 15) -> DataFrame:
    """The ``top`` townships by open warnings (NEW, OPEN), then by all warnings, in rank order.

    Columns: county_code, township_code, n_open, n_total. Warnings without a township are
    not ranked.
    """
    return (warnings
            .filter(F.col("township_code").isNotNull())
            .groupBy("county_code", "township_code")
            .agg(F.sum(is_open().cast("int")).alias("n_open"),
                 F.count(F.lit(1)).alias("n_total"))
            .orderBy(F.desc("n_open"), F.desc("n_total"), F.asc("township_code"))
            .limit(top))


def amount_by_rule(warnings: DataFrame) -> DataFrame:
    """rule_id, n_with_amount, amount_total, amount_open: only rules that carry an amount."""
    amount = F.col("amount_at_risk")
    return (warnings.filter(amount.isNotNull())
            .groupBy("rule_id")
            .agg(F.count(F.lit(1)).alias("n_with_amount"),
                 F.sum(amount).cast("decimal(18,2)").alias("amount_total"),
                 F.coalesce(F.sum(F.when(is_open(), amount)), F.lit(0))
                 .cast("decimal(18,2)").alias("amount_open")))


def top_warnings(warnings: DataFrame, n: int = 20) -> DataFrame:
    """The ``n`` open warnings with the highest score (then amount, then warning_id)."""
    return (warnings.filter(is_open())
            .orderBy(F.desc("score"), F.desc_nulls_last("amount_at_risk"), F.asc("warning_id"))
            .limit(n))


# ---------------------------------------------------------------------------------
# Time travel of gold/warnings
# ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class TableVersion:
    version: int
    timestamp: datetime | None
    operation: str


def warnings_history(spark: SparkSession, warehouse: str, max_versions: int = 12) -> list[TableVersion]:
    """The latest ``max_versions`` versions of gold/warnings that changed rows, oldest first."""
    from delta.tables import DeltaTable

    path = table_path(warehouse, *WARNINGS)
    if not delta_exists(spark, path):
        return []
    rows = (DeltaTable.forPath(spark, path).history()
            .select("version", "timestamp", "operation").orderBy(F.desc("version")).collect())
    kept = [TableVersion(r["version"], r["timestamp"], r["operation"]) for r in rows
            if r["operation"] not in METADATA_OPERATIONS]
    return sorted(kept[:max_versions], key=lambda v: v.version)


def status_by_version(spark: SparkSession, warehouse: str, versions: list[int]) -> DataFrame | None:
    """version, check_date (latest last_detected in that version), status, n.

    One query over the versions read with ``versionAsOf``; None when there is none.
    """
    parts = []
    for version in versions:
        df = read_warnings(spark, warehouse, version)
        if df is None:
            continue
        # the version's check date from a one-row aggregate: a window partitioned by the
        # version would lose its partition once Spark folds the literal (one version),
        # and warn that it moves all rows to one partition
        check_date = df.agg(F.max("last_detected").alias("check_date"))
        parts.append(df.groupBy("status").agg(F.count(F.lit(1)).alias("n"))
                     .crossJoin(check_date)
                     .select(F.lit(version).alias("version"), "status", "n", "check_date"))
    return reduce(DataFrame.unionByName, parts) if parts else None


# ---------------------------------------------------------------------------------
# Run log
# ---------------------------------------------------------------------------------
def rule_counts(value) -> dict[str, int]:
    """Warnings per rule from the run log's ``warnings_by_rule`` JSON.

    Accepts ``{rule: n}``, ``{rule: {status: n}}`` and ``[{"rule_id": .., "count"|"n": ..}]``.
    """
    if value is None:
        return {}
    data = json.loads(value) if isinstance(value, str) else value
    out: dict[str, int] = {}
    if isinstance(data, dict):
        for rule, count in data.items():
            if isinstance(count, dict):
                out[str(rule)] = int(sum(v for v in count.values() if isinstance(v, (int, float))))
            elif isinstance(count, (int, float)):
                out[str(rule)] = int(count)
    elif isinstance(data, list):
        for item in data:
            if isinstance(item, dict) and "rule_id" in item:
                count = item.get("count", item.get("n", 0))
                out[str(item["rule_id"])] = out.get(str(item["rule_id"]), 0) + int(count or 0)
    return out


def runs_in_order(runs: DataFrame) -> list[dict]:
    """The runs of the run log (``hedui run``, not exports) as dicts, oldest first (by
    check_date, then started_at, then run_id)."""
    cols = set(runs.columns)
    if "command" in cols:
        runs = runs.filter(F.col("command") == "run")
    order = [c for c in ("check_date", "started_at", "run_id") if c in cols]
    return [r.asDict() for r in runs.orderBy(*[F.asc_nulls_first(c) for c in order]).collect()]


# ---------------------------------------------------------------------------------
# Data quality: quarantine and the ingest log
# ---------------------------------------------------------------------------------
def quarantine_reasons(quarantine: DataFrame) -> DataFrame:
    """source, reason, n: one count per reason code (a row with two reasons counts twice)."""
    return (quarantine.select("source", F.explode_outer("reasons").alias("reason"))
            .withColumn("reason", F.coalesce("reason", F.lit("UNKNOWN")))
            .groupBy("source", "reason").agg(F.count(F.lit(1)).alias("n")))


def latest_file_state(ingest_log: DataFrame) -> DataFrame:
    """A file's latest ingest-log row is its state (contract s.4): one row per file."""
    order = Window.partitionBy("source", "batch", "file").orderBy(
        F.desc_nulls_last("logged_at"), F.desc_nulls_last("run_id"))
    return (ingest_log.withColumn("_n", F.row_number().over(order))
            .filter(F.col("_n") == 1).drop("_n"))


def with_reconciliation(files: DataFrame) -> DataFrame:
    """Adds ``is_balanced``: rows_read = rows_loaded + rows_quarantined (null for FAILED files)."""
    balanced = (F.col("rows_read") == F.coalesce(F.col("rows_loaded"), F.lit(0))
                + F.coalesce(F.col("rows_quarantined"), F.lit(0)))
    return files.withColumn(
        "is_balanced",
        F.when(F.col("status") == "LOADED", F.coalesce(balanced, F.lit(False))))


def quarantine_per_file(quarantine: DataFrame) -> DataFrame:
    """source, batch, file, n_in_quarantine."""
    return quarantine.groupBy("source", "batch", "file").agg(F.count(F.lit(1)).alias("n_in_quarantine"))


def file_reconciliation(ingest_log: DataFrame, quarantine: DataFrame | None = None) -> DataFrame:
    """Per file: its latest state, ``is_balanced``, and the rows found in the quarantine table.

    ``has_quarantine_match``: the quarantine table holds as many rows of the file as the
    log says were quarantined (null for FAILED files or when there is no quarantine table).
    """
    files = ingest_log.transform(latest_file_state).transform(with_reconciliation)
    if quarantine is None:
        return (files.withColumn("n_in_quarantine", F.lit(None).cast("long"))
                .withColumn("has_quarantine_match", F.lit(None).cast("boolean")))
    joined = (files.join(quarantine.transform(quarantine_per_file), ["source", "batch", "file"], "left")
              .withColumn("n_in_quarantine", F.coalesce(F.col("n_in_quarantine"), F.lit(0))))
    return joined.withColumn(
        "has_quarantine_match",
        F.when(F.col("status") == "LOADED",
               F.col("n_in_quarantine") == F.coalesce(F.col("rows_quarantined"), F.lit(0))))


def rows_per_source(files: DataFrame) -> DataFrame:
    """source, rows_read, rows_loaded, rows_quarantined, n_files, n_failed over the files' latest state."""
    return (files.groupBy("source")
            .agg(F.sum(F.coalesce("rows_read", F.lit(0))).alias("rows_read"),
                 F.sum(F.coalesce("rows_loaded", F.lit(0))).alias("rows_loaded"),
                 F.sum(F.coalesce("rows_quarantined", F.lit(0))).alias("rows_quarantined"),
                 F.count(F.lit(1)).alias("n_files"),
                 F.sum((F.col("status") == "FAILED").cast("int")).alias("n_failed")))
