"""`hedui report`: a static HTML report of a warehouse, readable offline.

``build_report(spark, cfg, warehouse, out_dir)`` writes ``<out_dir>/index.html`` (charts
embedded as PNG data URIs) and ``<out_dir>/report.json`` (the charts, the font used and
any missing glyph) and returns the path of index.html. ``generate_report`` does the same
and returns a :class:`Report` with the rendered charts and the glyph check.

Sections: warnings by rule and status; by county and the township ranking; amount at
risk per rule; the trend across versions of gold/warnings (Delta time travel) and across
runs (meta/runs); data quality (quarantine reasons, file reconciliation). ID numbers
appear only masked; names do not appear.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.config import Config
from jobs.report import charts as C
from jobs.report import data as D
from jobs.report import html as H
from jobs.masking import mask_ids_in_text, masked_id

log = logging.getLogger(__name__)

TITLE = "核对预警运行报告"
STATUS_COLORS = {"NEW": "#C44E52", "OPEN": "#DD8452", "RESOLVED": "#55A868",
                 "CONFIRMED": "#8172B3", "DISMISSED": "#8C8C8C"}


@dataclass
class Report:
    index_path: str
    manifest_path: str
    charts: list[H.Chart]
    glyph_problems: list[str]
    missing_tables: list[str]
    font: C.CjkFont

    @property
    def chart_ids(self) -> list[str]:
        return [c.chart_id for c in self.charts]


def build_report(spark: SparkSession, cfg: Config, warehouse: str, out_dir: str) -> str:
    """Writes the report of ``warehouse`` to ``out_dir``; returns the path of index.html."""
    return generate_report(spark, cfg, warehouse, out_dir).index_path


def generate_report(spark: SparkSession, cfg: Config, warehouse: str, out_dir: str, *,
                    strict_glyphs: bool = True, top_townships: int = 15,
                    max_versions: int = 12, top_warnings: int = 20) -> Report:
    """Builds the report. With ``strict_glyphs`` a missing glyph raises MissingGlyphError;
    otherwise it is recorded in ``Report.glyph_problems`` and in report.json."""
    ctx = _Context(spark, cfg, warehouse, C.ChartRenderer(strict=strict_glyphs))
    warnings = D.read_warnings(spark, warehouse)
    if warnings is None:
        ctx.missing.append("gold/warnings")
    else:
        warnings = warnings.cache()
    try:
        body = "".join([
            _summary(ctx, warnings),
            _by_rule(ctx, warnings),
            _by_place(ctx, warnings, top_townships),
            _amounts(ctx, warnings),
            _trend(ctx, max_versions),
            _quality(ctx),
            _top(ctx, warnings, top_warnings),
        ])
    finally:
        if warnings is not None:
            warnings.unpersist()
    generated = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    html = H.page(TITLE, f"仓库 {warehouse} · 生成于 {generated}", body)
    os.makedirs(out_dir, exist_ok=True)
    index_path = os.path.join(out_dir, "index.html")
    with open(index_path, "w", encoding="utf-8") as fh:
        fh.write(html)
    manifest_path = os.path.join(out_dir, "report.json")
    manifest = {
        "generated_at": generated,
        "warehouse": warehouse,
        "font": asdict(ctx.renderer.font),
        "charts": [{"id": c.chart_id, "title": c.title, "section": c.section,
                    "width": c.width, "height": c.height} for c in ctx.charts],
        "glyph_problems": ctx.renderer.glyph_problems,
        "missing_tables": ctx.missing,
    }
    with open(manifest_path, "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, ensure_ascii=False, indent=2)
    log.info("report written to %s (%d charts)", index_path, len(ctx.charts))
    return Report(index_path, manifest_path, ctx.charts, list(ctx.renderer.glyph_problems),
                  list(ctx.missing), ctx.renderer.font)


# ---------------------------------------------------------------------------------
@dataclass
class _Context:
    spark: SparkSession
    cfg: Config
    warehouse: str
    renderer: C.ChartRenderer
    charts: list[H.Chart] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    _runs: DataFrame | None = None
    _runs_read: bool = False

    def runs(self) -> DataFrame | None:
        """meta/runs, read once (None when there is no run log)."""
        if not self._runs_read:
            self._runs, self._runs_read = D.read_runs(self.spark, self.warehouse), True
        return self._runs

    def chart(self, chart_id: str, title: str, section: str, draw, caption: str = "") -> str:
        png = self.renderer.render(chart_id, draw)
        width, height = H.png_size(png)
        chart = H.Chart(chart_id, title, section, png, width, height)
        self.charts.append(chart)
        return H.figure(chart, caption)

    def rule_name(self, rule_id: str) -> str:
        spec = self.cfg.rules.rules.get(rule_id)
        return spec.name_zh if spec else rule_id

    def category_name(self, category: str | None) -> str:
        if category is None:
            return "—"
        return self.cfg.rules.categories.get(category, category)

    def county_name(self, code: str | None) -> str:
        if code is None:
            return D.UNASSIGNED
        return self.cfg.geo.counties.get(code, code)

    def township_name(self, code: str | None) -> str:
        if code is None:
            return D.UNASSIGNED
        return self.cfg.geo.townships.get(code, code)

    def rule_order(self, present) -> list[str]:
        known = [r for r in self.cfg.rules.rules if r in present]
        return known + sorted(r for r in present if r not in self.cfg.rules.rules)


def _status_label(status: str) -> str:
    return f"{D.STATUS_ZH.get(status, status)} {status}"


def _money(value) -> str:
    if value is None:
        return "—"
    return f"{Decimal(value):,.2f}"


def _statuses(present) -> list[str]:
    return [s for s in D.STATUSES if s in present] + sorted(s for s in present if s not in D.STATUSES)


def _section(title: str, *parts: str) -> str:
    return f"<section><h2>{title}</h2>{''.join(parts)}</section>"


# ---------------------------------------------------------------------------------
def _summary(ctx: _Context, warnings: DataFrame | None) -> str:
    if warnings is None:
        return H.note("仓库中没有预警表 gold/warnings：尚未运行核对。")
    row = warnings.agg(
        F.count(F.lit(1)).alias("n"),
        F.sum(D.is_open().cast("int")).alias("n_open"),
        F.sum(F.when(D.is_open(), F.col("amount_at_risk"))).alias("amount_open"),
        F.max("last_detected").alias("latest")).first()
    items = [("预警总数", row["n"]), ("待核查（新发现+持续存在）", row["n_open"] or 0),
             ("待核查涉及金额（元）", _money(row["amount_open"] or 0)),
             ("最近检查日期", row["latest"])]
    runs = ctx.runs()
    if runs is not None:
        items.append(("运行次数", runs.count()))
    return H.cards(items)


def _by_rule(ctx: _Context, warnings: DataFrame | None) -> str:
    if warnings is None:
        return ""
    counts = {(r["rule_id"], r["status"]): r["n"] for r in warnings.transform(D.count_by_rule_status).collect()}
    if not counts:
        return _section("一、按规则与状态", H.note("预警表为空。"))
    categories = {r["rule_id"]: r["category"] for r in warnings.select("rule_id", "category").distinct().collect()}
    rules = ctx.rule_order({r for r, _ in counts})
    statuses = _statuses({s for _, s in counts})
    series = {_status_label(s): [counts.get((r, s), 0) for r in rules] for s in statuses}
    colors = {_status_label(s): STATUS_COLORS.get(s, C.PALETTE[7]) for s in statuses}
    fig = ctx.chart("rule_status", "各规则预警数（按状态）", "rules",
                    lambda: C.stacked_hbar([ctx.rule_name(r) for r in rules], series,
                                           "各规则预警数（按状态）", "预警数", colors))
    rows = [[r, ctx.rule_name(r), ctx.category_name(categories.get(r) or _spec_category(ctx, r)),
             *[counts.get((r, s), 0) for s in statuses], sum(counts.get((r, s), 0) for s in statuses)]
            for r in rules]
    headers = ["规则编号", "规则名称", "类别", *[_status_label(s) for s in statuses], "合计"]
    return _section("一、按规则与状态", fig,
                    H.table(headers, rows, numeric=range(3, 4 + len(statuses))))


def _spec_category(ctx: _Context, rule_id: str) -> str | None:
    spec = ctx.cfg.rules.rules.get(rule_id)
    return spec.category if spec else None


def _by_place(ctx: _Context, warnings: DataFrame | None, top: int) -> str:
    if warnings is None:
        return ""
    counts = {(r["county_code"], r["status"]): r["n"] for r in warnings.transform(D.count_by_county).collect()}
    if not counts:
        return ""
    present = {c for c, _ in counts}
    known = ctx.cfg.geo.counties
    counties = list(known) + sorted(c for c in present if c is not None and c not in known)
    if None in present:
        counties.append(None)
    statuses = _statuses({s for _, s in counts})
    series = {_status_label(s): [counts.get((c, s), 0) for c in counties] for s in statuses}
    colors = {_status_label(s): STATUS_COLORS.get(s, C.PALETTE[7]) for s in statuses}
    county_fig = ctx.chart("county", "各区县预警数（按状态）", "places",
                           lambda: C.stacked_hbar([ctx.county_name(c) for c in counties], series,
                                                  "各区县预警数（按状态）", "预警数", colors))
    county_rows = [[c or "—", ctx.county_name(c), *[counts.get((c, s), 0) for s in statuses],
                    sum(counts.get((c, s), 0) for s in statuses)] for c in counties]
    county_table = H.table(["区县代码", "区县", *[_status_label(s) for s in statuses], "合计"],
                           county_rows, numeric=range(2, 3 + len(statuses)))
    ranking = warnings.transform(D.township_ranking, top).collect()
    parts = [county_fig, county_table]
    if ranking:
        labels = [f"{ctx.county_name(r['county_code'])} {ctx.township_name(r['township_code'])}" for r in ranking]
        town_series = {"待核查": [r["n_open"] for r in ranking],
                       "已处理或已消除": [r["n_total"] - r["n_open"] for r in ranking]}
        title = f"乡镇排名（待核查预警数前 {top} 名）"
        parts.append(ctx.chart("township", title, "places",
                               lambda: C.stacked_hbar(labels, town_series, title, "预警数",
                                                      {"待核查": STATUS_COLORS["NEW"],
                                                       "已处理或已消除": C.PALETTE[7]})))
        parts.append(H.table(["排名", "区县", "乡镇", "乡镇代码", "待核查", "合计"],
                             [[rank, ctx.county_name(r["county_code"]),
                               ctx.township_name(r["township_code"]), r["township_code"],
                               r["n_open"], r["n_total"]] for rank, r in enumerate(ranking, 1)],
                             numeric=(0, 4, 5)))
    else:
        parts.append(H.note("没有带乡镇代码的预警，无法排名。"))
    return _section("二、地区分布", *parts)


def _amounts(ctx: _Context, warnings: DataFrame | None) -> str:
    if warnings is None:
        return ""
    rows = warnings.transform(D.amount_by_rule).collect()
    rows = sorted(rows, key=lambda r: (-r["amount_total"], r["rule_id"]))
    if not rows:
        return _section("三、涉及金额", H.note("没有带涉及金额的预警。"))
    labels = [ctx.rule_name(r["rule_id"]) for r in rows]
    series = {"待核查": [float(r["amount_open"]) for r in rows],
              "已处理或已消除": [float(r["amount_total"] - r["amount_open"]) for r in rows]}
    fig = ctx.chart("amount", "各规则涉及金额（元）", "amounts",
                    lambda: C.stacked_hbar(labels, series, "各规则涉及金额（元）", "金额（元）",
                                           {"待核查": STATUS_COLORS["NEW"],
                                            "已处理或已消除": C.PALETTE[7]}, integer=False),
                    "金额为预警表 amount_at_risk 之和；无金额定义的规则不列入。")
    table = H.table(["规则编号", "规则名称", "有金额的预警数", "涉及金额合计（元）", "其中待核查（元）"],
                    [[r["rule_id"], ctx.rule_name(r["rule_id"]), r["n_with_amount"],
                      _money(r["amount_total"]), _money(r["amount_open"])] for r in rows],
                    numeric=(2, 3, 4))
    return _section("三、涉及金额", fig, table)


def _trend(ctx: _Context, max_versions: int) -> str:
    parts = []
    versions = D.warnings_history(ctx.spark, ctx.warehouse, max_versions)
    by_version = D.status_by_version(ctx.spark, ctx.warehouse, [v.version for v in versions])
    if by_version is not None:
        rows = by_version.collect()
        counts = {(r["version"], r["status"]): r["n"] for r in rows}
        check = {r["version"]: r["check_date"] for r in rows}
        kept = versions  # a version with no rows is a point at zero
        statuses = _statuses({r["status"] for r in rows}) or list(D.STATUSES[:2])
        labels = [f"v{v.version}\n{check.get(v.version) or ''}" for v in kept]
        series = {_status_label(s): [counts.get((v.version, s), 0) for v in kept] for s in statuses}
        colors = {_status_label(s): STATUS_COLORS.get(s, C.PALETTE[7]) for s in statuses}
        parts.append("<h3>预警表各版本（Delta 时间旅行）</h3>")
        parts.append(ctx.chart("trend_versions", "预警表各版本的状态分布", "trend",
                               lambda: C.lines(labels, series, "预警表各版本的状态分布", "预警数", colors),
                               "横轴：gold/warnings 的 Delta 版本（versionAsOf）及该版本最近的检查日期。"))
        parts.append(H.table(
            ["版本", "提交时间", "操作", "检查日期", *[_status_label(s) for s in statuses], "合计"],
            [[v.version, f"{v.timestamp:%Y-%m-%d %H:%M:%S}" if v.timestamp else None, v.operation,
              check.get(v.version),
              *[counts.get((v.version, s), 0) for s in statuses],
              sum(counts.get((v.version, s), 0) for s in statuses)] for v in kept],
            numeric=range(4, 5 + len(statuses))))
    runs = ctx.runs()
    if runs is None:
        ctx.missing.append("meta/runs")
        parts.append(H.note("没有运行日志 meta/runs。"))
    else:
        run_rows = D.runs_in_order(runs)
        if run_rows:
            parts.append(_runs(ctx, run_rows))
    if not parts:
        return _section("四、运行趋势", H.note("没有预警表的历史版本。"))
    return _section("四、运行趋势", *parts)


def _runs(ctx: _Context, run_rows: list[dict]) -> str:
    per_run = [D.rule_counts(r.get("warnings_by_rule")) for r in run_rows]
    labels = [f"{r.get('check_date') or ''}\n{r.get('run_id') or ''}"[:40] for r in run_rows]
    categories = list(ctx.cfg.rules.categories)
    by_cat = {c: [sum(n for rule, n in counts.items() if _spec_category(ctx, rule) == c) for counts in per_run]
              for c in categories}
    other = [sum(n for rule, n in counts.items() if _spec_category(ctx, rule) not in categories)
             for counts in per_run]
    series = {ctx.category_name(c): v for c, v in by_cat.items() if any(v)}
    if any(other):
        series["其他"] = other
    parts = ["<h3>各次运行（运行日志 meta/runs）</h3>"]
    if series:
        parts.append(ctx.chart("trend_runs", "各次运行的预警数（按类别）", "trend",
                               lambda: C.lines(labels, series, "各次运行的预警数（按类别）", "预警数"),
                               "来自 meta/runs 的 warnings_by_rule。"))
    rows = []
    for r, counts in zip(run_rows, per_run):
        started, finished = r.get("started_at"), r.get("finished_at")
        seconds = round((finished - started).total_seconds(), 1) if started and finished else None
        rows.append([r.get("run_id"), r.get("check_date"), r.get("outcome"), started, seconds,
                     sum(counts.values()) if counts else None])
    parts.append(H.table(["运行编号", "检查日期", "结果", "开始时间", "耗时（秒）", "预警数"], rows,
                         numeric=(4, 5)))
    return "".join(parts)


def _quality(ctx: _Context) -> str:
    parts = []
    quarantine = D.read_quarantine(ctx.spark, ctx.warehouse)
    if quarantine is None:
        ctx.missing.append("quarantine")
        parts.append(H.note("没有隔离表 quarantine。"))
    else:
        reasons = quarantine.transform(D.quarantine_reasons).collect()
        if reasons:
            sources = sorted({r["source"] for r in reasons})
            codes = [c for c in D.REASON_ZH if c in {r["reason"] for r in reasons}]
            codes += sorted({r["reason"] for r in reasons} - set(codes))
            n = {(r["source"], r["reason"]): r["n"] for r in reasons}
            series = {f"{D.REASON_ZH.get(c, c)} {c}": [n.get((s, c), 0) for s in sources] for c in codes}
            parts.append("<h3>隔离原因（按来源）</h3>")
            parts.append(ctx.chart("quarantine_reasons", "隔离行的原因（按来源）", "quality",
                                   lambda: C.stacked_hbar(sources, series, "隔离行的原因（按来源）",
                                                          "原因次数（一行可有多个原因）")))
            parts.append(H.table(["来源", *series.keys(), "合计"],
                                 [[s, *[n.get((s, c), 0) for c in codes], sum(n.get((s, c), 0) for c in codes)]
                                  for s in sources], numeric=range(1, 2 + len(codes))))
        else:
            parts.append(H.note("隔离表为空：没有被拒绝的行。"))
    ingest_log = D.read_ingest_log(ctx.spark, ctx.warehouse)
    if ingest_log is None:
        ctx.missing.append("meta/ingest_log")
        parts.append(H.note("没有导入日志 meta/ingest_log。"))
    else:
        parts.append(_reconciliation(ctx, ingest_log, quarantine))
    return _section("五、数据质量", *parts)


def _reconciliation(ctx: _Context, ingest_log: DataFrame, quarantine: DataFrame | None) -> str:
    files = D.file_reconciliation(ingest_log, quarantine).cache()
    try:
        per_source = files.transform(D.rows_per_source).orderBy("source").collect()
        rows = files.orderBy("source", "batch", "file").collect()
    finally:
        files.unpersist()
    if not rows:
        return H.note("导入日志为空。")
    parts = ["<h3>文件对账（读取 = 入库 + 隔离）</h3>"]
    sources = [r["source"] for r in per_source]
    series = {"入库": [int(r["rows_loaded"]) for r in per_source],
              "隔离": [int(r["rows_quarantined"]) for r in per_source]}
    parts.append(ctx.chart("source_rows", "各来源入库与隔离行数", "quality",
                           lambda: C.stacked_hbar(sources, series, "各来源入库与隔离行数", "行数",
                                                  {"入库": C.PALETTE[2], "隔离": C.PALETTE[3]}),
                           "每个文件取导入日志中的最新一条记录。"))
    loaded = [r for r in rows if r["status"] == "LOADED"]
    unbalanced = [r for r in loaded if r["is_balanced"] is False]
    failed = [r for r in rows if r["status"] == "FAILED"]
    summary = (f"{len(rows)} 个文件：{len(loaded)} 个已入库，其中 {len(loaded) - len(unbalanced)} 个对账一致、"
               f"{len(unbalanced)} 个不一致；{len(failed)} 个读取失败。")
    parts.append(f"<p>{summary}</p>")
    table_rows, classes = [], []
    for r in rows:
        table_rows.append([r["source"], r["batch"], r["file"], r["status"], r["rows_read"], r["rows_loaded"],
                           r["rows_quarantined"], r["is_balanced"], r["n_in_quarantine"],
                           mask_ids_in_text(r["error"]) if r["error"] else None])
        mark = {True: "good", False: "bad", None: ""}
        classes.append(["", "", "", "bad" if r["status"] == "FAILED" else "", "", "", "",
                        mark[r["is_balanced"]], mark[r["has_quarantine_match"]], ""])
    parts.append(H.table(["来源", "批次", "文件", "状态", "读取", "入库", "隔离", "读取=入库+隔离",
                          "隔离表行数", "错误"], table_rows, numeric=(4, 5, 6, 8), classes=classes))
    return "".join(parts)


def _top(ctx: _Context, warnings: DataFrame | None, n: int) -> str:
    if warnings is None:
        return ""
    rows = (warnings.transform(D.top_warnings, n)
            .select("warning_id", "rule_id", masked_id("person_id").alias("person_id_masked"),
                    "county_code", "township_code", "score", "amount_at_risk", "status",
                    "first_detected", "last_detected")
            .collect())
    if not rows:
        return _section("六、风险分最高的待核查预警", H.note("没有待核查的预警。"))
    table = H.table(["预警编号", "规则", "身份证号（已脱敏）", "区县", "乡镇", "风险分", "涉及金额（元）",
                     "状态", "首次发现", "最近发现"],
                    [[r["warning_id"], ctx.rule_name(r["rule_id"]), r["person_id_masked"],
                      ctx.county_name(r["county_code"]), ctx.township_name(r["township_code"]),
                      r["score"], _money(r["amount_at_risk"]), _status_label(r["status"]),
                      r["first_detected"], r["last_detected"]] for r in rows],
                    numeric=(5, 6))
    return _section(f"六、风险分最高的待核查预警（前 {n} 条）", table)
