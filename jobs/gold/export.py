"""`hedui export`: one CSV of open warnings per county, and a feedback template beside it.

Layout (contract README s.5)::

    <out>/<county_code>/warnings_<D>.csv     for each of the 12 counties (headers only when none)
    <out>/<county_code>/feedback_<D>.csv     the template the township fills in
    <out>/unassigned/warnings_<D>.csv        warnings without a county (or with a code
    <out>/unassigned/feedback_<D>.csv        that is not one of the 12)

- UTF-8 with BOM, CRLF line ends (Excel); open warnings only (NEW, OPEN), sorted by score
  descending, then warning_id.
- Rule and category by their Chinese names, county and township by name (the code when
  the name is unknown), the evidence as one line (``source key: name=value, ...; ...``).
- ID numbers masked as first 6 + ``********`` + last 4, in the ID column and inside the
  evidence, unless ``unmasked=True`` (or ``export.mask_ids: false``).
- ``D`` defaults to the latest check date applied to the table; the files show the table
  as it stands.

The open warnings of a prefecture are few (thousands): they are collected to the driver,
sorted, and each file is written through Hadoop's FileSystem API, so ``<out>`` may be a
local path or any URI Spark can write (``hdfs://``, ``s3a://``).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import uuid

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs import runlog
from jobs.config import Config
from jobs.errors import ExportError
from jobs.fs import write_bytes
from jobs.masking import mask_id, mask_ids_in_text
from jobs.gold.lifecycle import NEW, OPEN, warnings_path
from jobs.runstate import latest_check_date
from jobs.tables import delta_exists

log = logging.getLogger(__name__)

WARNING_HEADERS = ["预警编号", "规则", "类别", "姓名", "身份证号", "区县", "乡镇", "风险分",
                   "涉及金额", "状态", "首次发现", "最近发现", "证据摘要"]
FEEDBACK_HEADERS = ["反馈编号", "预警编号", "核查结论", "核查说明", "核查人", "核查日期"]
UNASSIGNED = "unassigned"
_BOM = "\ufeff"


# ---------------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------------
def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def evidence_summary(evidence: str | None, masked: bool = True) -> str:
    """The evidence JSON as one readable line: ``source key: a=1, b=2; source key: ...``."""
    if not evidence:
        return ""
    try:
        rows = json.loads(evidence)
    except ValueError:
        line = _one_line(evidence)
    else:
        parts = []
        for row in rows or []:
            values = row.get("values") or {}
            shown = ", ".join(f"{k}={'' if v is None else v}" for k, v in sorted(values.items()))
            head = " ".join(x for x in (row.get("source") or "", row.get("key") or "") if x)
            parts.append(f"{head}: {shown}" if shown else head)
        line = _one_line("; ".join(parts))
    return mask_ids_in_text(line) if masked else line


def _csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return (_BOM + buf.getvalue()).encode("utf-8")


def _feedback_id(check_date: dt.date) -> str:
    return f"FB{check_date:%Y%m%d}-{uuid.uuid4().hex[:16].upper()}"


# ---------------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------------
def open_warnings(spark: SparkSession, warehouse: str) -> list:
    """The NEW and OPEN warnings as Rows, sorted by score descending, then warning_id."""
    df = (spark.read.format("delta").load(warnings_path(warehouse))
          .where(F.col("status").isin(NEW, OPEN))
          .orderBy(F.col("score").desc_nulls_last(), F.col("warning_id").asc()))
    rows = df.collect()
    return sorted(rows, key=lambda r: (-(r["score"] if r["score"] is not None else -1),
                                       r["warning_id"] or ""))


def warning_record(row, cfg: Config, masked: bool) -> list[str]:
    """One row of the warnings file (the order of :data:`WARNING_HEADERS`)."""
    rule = cfg.rules.rules.get(row["rule_id"])
    county = row["county_code"]
    township = row["township_code"]
    amount = row["amount_at_risk"]
    return [
        row["warning_id"] or "",
        rule.name_zh if rule else (row["rule_id"] or ""),
        cfg.rules.categories.get(row["category"], row["category"] or ""),
        _one_line(row["person_name"] or ""),
        mask_id(row["person_id"]) if masked else (row["person_id"] or ""),
        cfg.geo.counties.get(county, county or "") if county else "",
        cfg.geo.townships.get(township, township) if township else "",
        "" if row["score"] is None else str(row["score"]),
        "" if amount is None else f"{amount:.2f}",
        row["status"] or "",
        row["first_detected"].isoformat() if row["first_detected"] else "",
        row["last_detected"].isoformat() if row["last_detected"] else "",
        evidence_summary(row["evidence"], masked),
    ]


def export_counties(spark: SparkSession, cfg: Config, warehouse: str, out_dir: str,
                    as_of: dt.date | str | None = None, unmasked: bool = False,
                    run_id: str | None = None) -> dict:
    """Write the per-county warnings files and feedback templates; return what was written.

    Returns ``{"check_date", "masked", "rows", "counties": {code: rows}, "unassigned": rows,
    "files": [paths]}``. Raises :class:`ExportError` when there is no check date to use.
    With ``run_id`` the export is recorded in ``meta/runs`` (command ``export``, its folder,
    check date and whether ID numbers were written unmasked).
    """
    started_at = dt.datetime.now().replace(microsecond=0)
    if isinstance(as_of, str):
        as_of = dt.date.fromisoformat(as_of)
    table_exists = delta_exists(spark, warnings_path(warehouse))
    check_date = as_of or (latest_check_date(spark, warehouse) if table_exists else None)
    if check_date is None:
        raise ExportError("no check date applied to the warnings table yet: run `hedui run` "
                          "first or pass --as-of")
    masked = cfg.export.mask_ids and not unmasked
    rows = open_warnings(spark, warehouse) if table_exists else []

    groups: dict[str, list] = {code: [] for code in sorted(cfg.geo.counties)}
    groups[UNASSIGNED] = []
    for row in rows:
        code = row["county_code"]
        groups[code if code in cfg.geo.counties else UNASSIGNED].append(row)

    out = out_dir.rstrip("/")
    files: list[str] = []
    for code, members in groups.items():
        warnings_file = f"{out}/{code}/warnings_{check_date.isoformat()}.csv"
        feedback_file = f"{out}/{code}/feedback_{check_date.isoformat()}.csv"
        write_bytes(spark, warnings_file,
                    _csv_bytes(WARNING_HEADERS, [warning_record(r, cfg, masked) for r in members]))
        write_bytes(spark, feedback_file,
                    _csv_bytes(FEEDBACK_HEADERS,
                               [[_feedback_id(check_date), r["warning_id"], "", "", "", ""]
                                for r in members]))
        files += [warnings_file, feedback_file]

    result = {
        "check_date": check_date.isoformat(),
        "masked": masked,
        "rows": len(rows),
        "counties": {c: len(m) for c, m in groups.items() if c != UNASSIGNED},
        "unassigned": len(groups[UNASSIGNED]),
        "files": files,
    }
    log.info("exported %d open warnings for %s (%s) to %s", len(rows), check_date,
             "masked" if masked else "UNMASKED", out)
    if run_id is not None:
        runlog.record_run(spark, warehouse, {
            "run_id": run_id, "command": "export", "check_date": check_date, "started_at": started_at,
            "finished_at": dt.datetime.now().replace(microsecond=0), "outcome": "SUCCESS", "exit_code": 0,
            "params": {"out": out, "check_date": check_date.isoformat(), "unmasked": not masked,
                       "unmasked_requested": unmasked},
            "row_counts": {"exported": len(rows)}})
    return result
