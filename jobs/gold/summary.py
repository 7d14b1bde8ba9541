"""The run's text summary: warnings per rule and status, open warnings per county, stale sources.

It names no person: only rule ids, county names, counts and amounts (any 18-character
ID number that would slip in through ``run_stats`` is masked).
"""
from __future__ import annotations

import datetime as dt
import logging
import unicodedata
from decimal import Decimal

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs.config import CONF_DIR, Config, load_geo, read_yaml
from jobs.rules import load_rules
from jobs.masking import mask_ids_in_text
from jobs.gold.lifecycle import NEW, OPEN, STATUSES, warnings_path
from jobs.tables import delta_exists

log = logging.getLogger(__name__)


def _names(cfg: Config | None) -> tuple[dict[str, str], dict[str, str]]:
    """(rule_id -> Chinese name, county_code -> name)."""
    if cfg is not None:
        rules, counties = cfg.rules, cfg.geo.counties
    else:  # names only: the project's own conf/ (never the specification folder)
        rules = load_rules(read_yaml(CONF_DIR / "rules.yaml", "rules"))
        counties = load_geo(CONF_DIR / "geo").counties
    return {r: s.name_zh for r, s in rules.rules.items()}, dict(counties)


def _width(text: str) -> int:
    """Display width: CJK (wide) characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _table(header: list[str], rows: list[list]) -> list[str]:
    """Aligned text columns: the first left-aligned, the others right-aligned."""
    widths = [max(_width(str(x)) for x in col) for col in zip(header, *rows)]

    def fmt(cells: list) -> str:
        out = []
        for i, (cell, width) in enumerate(zip(cells, widths)):
            pad = " " * (width - _width(str(cell)))
            out.append(f"{cell}{pad}" if i == 0 else f"{pad}{cell}")
        return "  " + "  ".join(out)

    return [fmt(header), *(fmt(r) for r in rows)]


def _stat_lines(stats: dict, indent: str = "  ") -> list[str]:
    lines = []
    for key, value in stats.items():
        if isinstance(value, dict):
            if value and all(not isinstance(v, (dict, list)) for v in value.values()):
                lines.append(f"{indent}{key}: " + ", ".join(f"{k}={v}" for k, v in value.items()))
            else:
                lines.append(f"{indent}{key}:" + ("" if value else " -"))
                lines += _stat_lines(value, indent + "  ")
        elif isinstance(value, (list, tuple)):
            lines.append(f"{indent}{key}: " + (", ".join(str(v) for v in value) or "-"))
        else:
            lines.append(f"{indent}{key}: {value}")
    return lines


def summarize(spark: SparkSession, warehouse: str, check_date: dt.date, stale_sources: list[str],
              run_stats: dict, cfg: Config | None = None) -> str:
    """A readable multi-line summary of the warnings table after a run.

    ``cfg`` (optional) supplies the Chinese rule and county names; without it they are
    read from the project's conf/.
    """
    path = warnings_path(warehouse)
    df = spark.read.format("delta").load(path) if delta_exists(spark, path) else None
    counts: dict[str, dict[str, int]] = {}
    county_rows: list = []
    open_amount = Decimal("0.00")
    n_open = 0
    if df is not None:
        for r in df.groupBy("rule_id", "status").count().collect():
            counts.setdefault(r["rule_id"], {})[r["status"]] = r["count"]
        is_open = F.col("status").isin(NEW, OPEN)
        county_rows = (df.where(is_open).groupBy("county_code")
                         .agg(F.count(F.lit(1)).alias("n"),
                              F.sum("amount_at_risk").alias("amount"))
                         .collect())
        total = df.where(is_open).agg(F.count(F.lit(1)), F.sum("amount_at_risk")).first()
        n_open, open_amount = total[0], total[1] or Decimal("0.00")
    return format_summary(check_date, counts, county_rows, n_open, open_amount, stale_sources, run_stats, cfg)


def format_summary(check_date: dt.date, counts: dict[str, dict[str, int]], county_rows: list,
                   n_open: int, open_amount: Decimal, stale_sources: list[str], run_stats: dict,
                   cfg: Config | None = None) -> str:
    """The summary's text from its figures: warnings per rule and status, open warnings
    per county (rows with ``county_code``, ``n``, ``amount``), open count and amount, stale
    sources and the run's own figures (also used without Spark: :mod:`jobs.runstate`)."""
    rule_names, county_names = _names(cfg)
    lines = [f"hedui run summary, check date {check_date.isoformat()}", ""]
    lines.append("Warnings by rule and status:")
    if counts:
        rows = []
        for rule_id in sorted(counts):
            by = counts[rule_id]
            rows.append([f"{rule_id} {rule_names.get(rule_id, '')}".strip(),
                         *[by.get(s, 0) for s in STATUSES], sum(by.values())])
        totals = [sum(r[i] for r in rows) for i in range(1, len(STATUSES) + 2)]
        rows.append(["total", *totals])
        lines += _table(["rule", *STATUSES, "total"], rows)
    else:
        lines.append("  (no warnings)")

    lines += ["", "Open warnings (NEW, OPEN) by county:"]
    if county_rows:
        known = sorted((r for r in county_rows if r["county_code"] in county_names),
                       key=lambda r: r["county_code"])
        other = [r for r in county_rows if r["county_code"] not in county_names]
        rows = [[f"{county_names[r['county_code']]} ({r['county_code']})", r["n"],
                 f"{r['amount'] or 0:.2f}"] for r in known]
        if other:
            rows.append(["unassigned", sum(r["n"] for r in other),
                         f"{sum((r['amount'] or 0) for r in other):.2f}"])
        lines += _table(["county", "open", "amount at risk"], rows)
    else:
        lines.append("  (none)")
    lines += ["", f"Open warnings: {n_open}; total amount at risk: {open_amount:,.2f} CNY", ""]

    lines.append("Stale sources (no new batch for longer than the configured age): "
                 + (", ".join(sorted(stale_sources)) if stale_sources else "none"))
    if run_stats:
        lines += ["", "Run:"]
        lines += _stat_lines(run_stats)
    return mask_ids_in_text("\n".join(lines)) + "\n"
