"""The HTML report (jobs.report): data transforms, masking, fonts and glyphs, rendering.

The report is built once on the demo warehouse (tests/warehouse_fixture.py). Rendering is
checked twice: every embedded PNG decodes with many colours, and headless Chromium
screenshots each chart alone (``index.html#only=<chart_id>``) and the whole page; the
chart's region of the screenshot must have many distinct colours and match the PNG.
"""
from __future__ import annotations

import base64
import datetime as dt
import io
import json
import os
import re
import shutil
import subprocess
from decimal import Decimal

import numpy as np
import pytest
from chispa import assert_df_equality
from matplotlib import image as mpimg
from pyspark.sql import types as T

from jobs.report import build_report, charts as C, data as D, drilldown as DD
from jobs.masking import mask_id, mask_ids_in_text, masked_id
from jobs.tables import WARNINGS, table_path
from warehouse_fixture import RUN_DATES, WARNINGS_SCHEMA, shared_demo_warehouse

CHART_IDS = {"rule_status", "county", "township", "amount", "trend_versions", "trend_runs",
             "quarantine_reasons", "source_rows"}
MIN_COLOURS = 64          # a matplotlib chart has hundreds (anti-aliased text and lines)
DATA_URI = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=]+)")
UNMASKED_ID = re.compile(r"(?<![0-9])[0-9]{17}[0-9X](?![0-9])")


# ---------------------------------------------------------------------------------
# Masking
# ---------------------------------------------------------------------------------
def test_mask_id():
    assert mask_id("53290119900101123X") == "532901********123X"
    assert mask_id("532901900101123") == "532901********1123"
    assert mask_id("123") == "********"
    assert mask_id(None) is None


def test_masked_id_column(spark):
    df = spark.createDataFrame([("53290119900101123X",), ("12345",), (None,)], "id string")
    expected = spark.createDataFrame([("532901********123X",), ("********",), (None,)], "id string")
    assert_df_equality(df.select(masked_id("id").alias("id")), expected, ignore_row_order=True)


def test_mask_ids_in_text_covers_dirty_forms():
    text = ('{"id": "532901199001011234", "fw": "５３２９０１１９９００１０１１２３４", '
            '"sp": "532901 19900101 1234", "cert": "53290119900101123442", "amount": "500.00", '
            '"phone": "13812345678"}')
    out = mask_ids_in_text(text)
    assert "199001011" not in out and "１９９００１０１" not in out and "19900101 " not in out
    assert out.count("********") == 4
    assert '"amount": "500.00"' in out and "13812345678" in out


# ---------------------------------------------------------------------------------
# Fonts and glyphs
# ---------------------------------------------------------------------------------
def test_find_cjk_font():
    font = C.find_cjk_font()
    assert font.name.startswith("Noto Sans CJK")
    assert os.path.isfile(font.path)


def test_no_cjk_font_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(C.font_manager.fontManager, "ttflist", [])
    monkeypatch.setattr(C.font_manager, "findSystemFonts", lambda *a, **k: [])
    with pytest.raises(C.CjkFontError, match="fonts-noto-cjk"):
        C.find_cjk_font()


def _titled(title: str):
    return lambda: C.hbar(["大理市", "祥云县"], [3, 1], title, "预警数")


def test_chinese_chart_has_no_missing_glyph():
    renderer = C.ChartRenderer(strict=True)
    png = renderer.render("zh", _titled("各区县预警数（按状态）"))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert renderer.glyph_problems == []


def test_missing_glyph_is_recorded_or_raised():
    # U+10348 (GOTHIC LETTER HWAIR) is in neither Noto Sans CJK nor DejaVu Sans.
    lenient = C.ChartRenderer(strict=False)
    lenient.render("emoji", _titled("预警 \U00010348"))
    assert lenient.glyph_problems and "missing from font" in lenient.glyph_problems[0]
    assert lenient.glyph_problems[0].startswith("emoji: ")
    with pytest.raises(C.MissingGlyphError, match="missing from font"):
        C.ChartRenderer(strict=True).render("emoji", _titled("预警 \U00010348"))


def test_without_the_cjk_font_chinese_glyphs_are_caught():
    renderer = C.ChartRenderer(strict=False, font=C.CjkFont("DejaVu Sans", ""))
    renderer.render("latin-only", _titled("预警"))
    assert any("missing from font" in p for p in renderer.glyph_problems)


# ---------------------------------------------------------------------------------
# Transforms
# ---------------------------------------------------------------------------------
def _warnings(spark, rows):
    full = []
    for i, (rule, county, town, status, amount) in enumerate(rows):
        full.append((f"w{i}", rule, "INELIGIBLE", f"53290119900101{i:04d}", None, county, town, 50,
                     Decimal(amount) if amount is not None else None, "[]", status,
                     dt.date(2026, 9, 15), dt.date(2026, 10, 15), "r1"))
    return spark.createDataFrame(full, WARNINGS_SCHEMA)


def test_township_ranking_orders_by_open_then_total(spark):
    df = _warnings(spark, [
        ("DECEASED", "532901", "532901003", "NEW", None),
        ("VEHICLE", "532901", "532901003", "RESOLVED", None),
        ("VEHICLE", "532923", "532923105", "OPEN", None),
        ("VEHICLE", "532923", "532923105", "NEW", None),
        ("VEHICLE", "532924", "532924108", "DISMISSED", None),
        ("VEHICLE", "532924", "532924108", "CONFIRMED", None),
        ("VEHICLE", "532924", "532924108", "RESOLVED", None),
        ("VEHICLE", None, None, "NEW", None),
    ])
    got = [tuple(r) for r in df.transform(D.township_ranking, 2).collect()]
    assert got == [("532923", "532923105", 2, 2), ("532901", "532901003", 1, 2)]


def test_amount_by_rule_skips_null_amounts(spark):
    df = _warnings(spark, [
        ("DECEASED", "532901", None, "NEW", "500.00"),
        ("DECEASED", "532901", None, "RESOLVED", "250.50"),
        ("DUPLICATE_PAYMENT", "532901", None, "CONFIRMED", "0.00"),
        ("VEHICLE", "532901", None, "NEW", None),
    ])
    got = {r["rule_id"]: (r["n_with_amount"], r["amount_total"], r["amount_open"])
           for r in df.transform(D.amount_by_rule).collect()}
    assert got == {"DECEASED": (2, Decimal("750.50"), Decimal("500.00")),
                   "DUPLICATE_PAYMENT": (1, Decimal("0.00"), Decimal("0.00"))}


LOG_SCHEMA = T.StructType([
    T.StructField("source", T.StringType()), T.StructField("batch", T.StringType()),
    T.StructField("file", T.StringType()), T.StructField("rows_read", T.LongType()),
    T.StructField("rows_loaded", T.LongType()), T.StructField("rows_quarantined", T.LongType()),
    T.StructField("status", T.StringType()), T.StructField("error", T.StringType()),
    T.StructField("run_id", T.StringType()), T.StructField("logged_at", T.TimestampType())])
Q_SCHEMA = ("source string, batch string, file string, reasons array<string>, raw string, "
            "run_id string, ingested_at timestamp")


def test_file_reconciliation_uses_the_latest_row_per_file(spark):
    t1, t2 = dt.datetime(2026, 9, 15, 2), dt.datetime(2026, 10, 15, 2)
    log = spark.createDataFrame([
        ("payments", "b1", "a.csv", None, None, None, "FAILED", "truncated", "r1", t1),
        ("payments", "b1", "a.csv", 10, 9, 1, "LOADED", None, "r2", t2),
        ("payments", "b1", "b.csv", 10, 8, 1, "LOADED", None, "r2", t2),     # 10 != 8 + 1
        ("deaths", "b1", "c.csv", 5, 5, 0, "LOADED", None, "r1", t1),
        ("deaths", "b2", "d.csv", None, None, None, "FAILED", "not a CSV", "r2", t2),
    ], LOG_SCHEMA)
    quarantine = spark.createDataFrame([
        ("payments", "b1", "a.csv", ["BAD_NUMBER"], "{}", "r2", t2),
        ("payments", "b1", "b.csv", ["BAD_DATE"], "{}", "r2", t2),
        ("payments", "b1", "b.csv", ["BAD_DATE"], "{}", "r2", t2),       # log says 1
    ], Q_SCHEMA)
    got = {(r["source"], r["file"]):
           (r["status"], r["is_balanced"], r["n_in_quarantine"], r["has_quarantine_match"])
           for r in D.file_reconciliation(log, quarantine).collect()}
    assert got == {("payments", "a.csv"): ("LOADED", True, 1, True),
                   ("payments", "b.csv"): ("LOADED", False, 2, False),
                   ("deaths", "c.csv"): ("LOADED", True, 0, True),
                   ("deaths", "d.csv"): ("FAILED", None, 0, None)}
    no_q = {r["file"]: r["has_quarantine_match"] for r in D.file_reconciliation(log, None).collect()}
    assert set(no_q.values()) == {None}


def test_quarantine_reasons_counts_each_reason(spark):
    t = dt.datetime(2026, 10, 15, 2)
    q = spark.createDataFrame([
        ("enrollment", "b", "f", ["BAD_DATE", "INVALID_ID"], None, "r", t),
        ("enrollment", "b", "f", ["INVALID_ID"], None, "r", t),
        ("payments", "b", "f", [], None, "r", t),
    ], Q_SCHEMA)
    got = {(r["source"], r["reason"]): r["n"] for r in q.transform(D.quarantine_reasons).collect()}
    assert got == {("enrollment", "BAD_DATE"): 1, ("enrollment", "INVALID_ID"): 2, ("payments", "UNKNOWN"): 1}


@pytest.mark.parametrize("value, expected", [
    ('{"DECEASED": 3, "VEHICLE": 1}', {"DECEASED": 3, "VEHICLE": 1}),
    ('{"DECEASED": {"NEW": 2, "OPEN": 1}}', {"DECEASED": 3}),
    ('[{"rule_id": "DECEASED", "count": 2}, {"rule_id": "DECEASED", "n": 1}]', {"DECEASED": 3}),
    (None, {}),
])
def test_rule_counts_reads_the_run_log_shapes(value, expected):
    assert D.rule_counts(value) == expected


# ---------------------------------------------------------------------------------
# Evidence drill-down
# ---------------------------------------------------------------------------------
def test_parse_evidence_key_forms(cfg):
    items = DD.parse_evidence(json.dumps([
        {"source": "enrollment", "key": "EN1", "values": {"program": "DIBAO"}},
        {"source": "payments", "key": {"payment_id": "PM1"}, "values": None},
        {"source": "deaths", "key": ["DR1"]},
    ]), cfg.contract)
    assert [(i.source, i.key) for i in items] == [
        ("enrollment", {"enrollment_id": "EN1"}), ("payments", {"payment_id": "PM1"}),
        ("deaths", {"report_id": "DR1"})]
    assert items[0].values == {"program": "DIBAO"} and items[1].values == {}
    assert DD.parse_evidence(None) == []
    with pytest.raises(DD.EvidenceError, match="not JSON"):
        DD.parse_evidence("{oops", cfg.contract)
    with pytest.raises(DD.EvidenceError, match="source"):
        DD.parse_evidence('[{"key": "x"}]', cfg.contract)


@pytest.fixture(scope="module")
def demo(spark, cfg, tmp_path_factory):
    return shared_demo_warehouse(spark, cfg, tmp_path_factory)


@pytest.mark.slow
def test_evidence_lookups_find_the_silver_rows(spark, cfg, demo):
    warnings = D.read_warnings(spark, demo.path)
    row = warnings.filter("rule_id = 'DECEASED'").orderBy("warning_id").first()
    lookups = DD.evidence_lookups(spark, demo.path, cfg.contract, row["evidence"])
    assert {lk.source for lk in lookups} == {"enrollment", "deaths", "payments"}
    for lk in lookups:
        rows = lk.rows.collect()
        assert len(rows) == 1, lk.item
        key_col, key = next(iter(lk.item.key.items()))
        assert rows[0][key_col] == key
        assert rows[0]["person_id"] == mask_id(row["person_id"])
    vehicle = warnings.filter("rule_id = 'VEHICLE'").orderBy("warning_id").first()
    missing = [lk for lk in DD.evidence_lookups(spark, demo.path, cfg.contract, vehicle["evidence"])
               if lk.source == "vehicles"]
    assert missing and missing[0].rows is None


@pytest.mark.slow
def test_time_travel_counts_match_delta_rs(spark, demo):
    """status_by_version (Spark, versionAsOf) against an independent reader (delta-rs)."""
    from deltalake import DeltaTable, QueryBuilder

    versions = D.warnings_history(spark, demo.path)
    assert [v.version for v in versions] == [0, 1, 2]
    rows = D.status_by_version(spark, demo.path, [0, 1, 2]).collect()
    got = {(r["version"], r["status"]): r["n"] for r in rows}
    assert {r["version"]: r["check_date"] for r in rows} == dict(enumerate(RUN_DATES))
    expected = {}
    for version in (0, 1, 2):
        table = DeltaTable(table_path(demo.path, *WARNINGS), version=version)
        result = (QueryBuilder().register("w", table)
                  .execute("SELECT status, CAST(COUNT(*) AS BIGINT) AS n FROM w GROUP BY status").read_all())
        for status, n in zip(result.column("status").to_pylist(), result.column("n").to_pylist()):
            expected[(version, status)] = n
    assert got == expected
    assert len({v for v, _ in got}) == 3 and got[(0, "NEW")] != got[(2, "NEW")]
    # one version alone: the same counts and its own check date
    one = D.status_by_version(spark, demo.path, [1]).collect()
    assert {(r["version"], r["status"]): r["n"] for r in one} == {k: n for k, n in got.items() if k[0] == 1}
    assert {r["check_date"] for r in one} == {RUN_DATES[1]}


# ---------------------------------------------------------------------------------
# The report on the demo warehouse
# ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def report(spark, cfg, demo, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    index = build_report(spark, cfg, demo.path, str(out))
    with open(os.path.join(out, "report.json"), encoding="utf-8") as fh:
        manifest = json.load(fh)
    with open(index, encoding="utf-8") as fh:
        html = fh.read()
    return index, manifest, html


def _pngs(html: str) -> list[bytes]:
    return [base64.b64decode(m) for m in DATA_URI.findall(html)]


def _rgb(array: np.ndarray) -> np.ndarray:
    """An image array as uint8 RGB."""
    if array.dtype != np.uint8:
        array = np.round(array * 255).astype(np.uint8)
    return array[..., :3]


def distinct_colours(array: np.ndarray) -> int:
    rgb = _rgb(array).reshape(-1, 3).astype(np.uint32)
    return len(np.unique((rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]))


@pytest.mark.slow
@pytest.mark.notebook
def test_report_has_every_chart_and_no_missing_glyph(report):
    index, manifest, html = report
    assert os.path.basename(index) == "index.html"
    assert manifest["glyph_problems"] == []
    assert manifest["font"]["name"].startswith("Noto Sans CJK")
    assert {c["id"] for c in manifest["charts"]} == CHART_IDS
    assert manifest["missing_tables"] == []


@pytest.mark.slow
@pytest.mark.notebook
def test_report_is_self_contained(report):
    _, manifest, html = report
    links = re.findall(r"""\b(?:src|href|srcset|poster)\s*=\s*["']?([^"'\s>]*)""", html, re.I)
    assert links and all(link.startswith("data:image/png;base64,") for link in links)
    text = DATA_URI.sub("", html)
    assert "url(" not in text and "@import" not in text and "<link" not in text
    assert len(DATA_URI.findall(html)) == len(manifest["charts"])


@pytest.mark.slow
@pytest.mark.notebook
def test_embedded_pngs_decode_with_real_content(report):
    _, manifest, html = report
    pngs = _pngs(html)
    assert len(pngs) == len(CHART_IDS)
    for png, chart in zip(pngs, manifest["charts"]):
        img = mpimg.imread(io.BytesIO(png), format="png")
        assert img.shape[1] == chart["width"] and img.shape[0] == chart["height"]
        assert distinct_colours(img) >= MIN_COLOURS, chart["id"]


@pytest.mark.slow
@pytest.mark.notebook
def test_report_shows_chinese_names_and_masks_ids(report, cfg, demo, spark):
    _, _, html = report
    text = DATA_URI.sub("", html)
    rules = {r["rule_id"] for r in D.read_warnings(spark, demo.path).select("rule_id").distinct().collect()}
    for rule_id in rules:
        assert cfg.rules.rules[rule_id].name_zh in text
    assert cfg.geo.counties["532901"] in text and "未分配" in text
    for pid in demo.person_ids:
        assert pid not in html
        assert pid[6:14] + pid[14:] not in text
    assert UNMASKED_ID.search(text) is None
    assert any(mask_id(pid) in text for pid in demo.person_ids)
    assert "1 个读取失败" in text and "0 个不一致" in text


# ---------------------------------------------------------------------------------
# Headless Chromium
# ---------------------------------------------------------------------------------
def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def screenshot(url: str, png: str, width: int, height: int, profile: str) -> np.ndarray:
    browser = _chromium()
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={profile}", "--force-device-scale-factor=1", "--hide-scrollbars",
           "--force-color-profile=srgb", f"--screenshot={png}", f"--window-size={width},{height}", url]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert os.path.isfile(png), f"chromium wrote no screenshot (exit {proc.returncode}): {proc.stderr[-2000:]}"
    return mpimg.imread(png)


def chart_region_check(shot: np.ndarray, chart_png: bytes) -> tuple[int, float, float]:
    """For the chart's region of a screenshot (top-left, the PNG's size): distinct colours,
    share of non-white pixels ("ink") and mean difference from the PNG itself (0..255)."""
    source = _rgb(mpimg.imread(io.BytesIO(chart_png), format="png")).astype(np.int16)
    h, w = source.shape[:2]
    region = _rgb(shot)[:h, :w].astype(np.int16)
    ink = float((region < 235).any(axis=-1).mean())
    if region.shape != source.shape:
        return distinct_colours(region), ink, 255.0
    return distinct_colours(region), ink, float(np.abs(region - source).mean())


MIN_INK = 0.03   # bars, axes and labels cover well above 3 % of a chart


@pytest.fixture(scope="module")
def chromium():
    if _chromium() is None:
        pytest.skip("headless Chromium is not installed (apt-get install chromium; scripts/setup.sh does)")
    return _chromium()


@pytest.mark.slow
@pytest.mark.notebook
def test_every_chart_renders_in_chromium(report, chromium, tmp_path):
    index, manifest, html = report
    pngs = dict(zip([c["id"] for c in manifest["charts"]], _pngs(html)))
    for chart in manifest["charts"]:
        shot = screenshot(f"file://{index}#only={chart['id']}", str(tmp_path / f"{chart['id']}.png"),
                          chart["width"] + 40, chart["height"] + 60, str(tmp_path / "profile"))
        colours, ink, diff = chart_region_check(shot, pngs[chart["id"]])
        assert colours >= MIN_COLOURS, f"{chart['id']}: {colours} colours"
        assert ink >= MIN_INK, f"{chart['id']}: only {ink:.1%} of the region is drawn"
        assert diff < 8, f"{chart['id']}: differs from its PNG by {diff:.1f} on average"
    page = screenshot(f"file://{index}", str(tmp_path / "page.png"), 1400, 2400, str(tmp_path / "profile"))
    assert distinct_colours(page) >= MIN_COLOURS


@pytest.mark.slow
@pytest.mark.notebook
def test_chromium_check_fails_on_a_broken_chart(report, chromium, tmp_path):
    """The screenshot check can fail: a chart whose PNG is corrupt renders as a broken image."""
    index, manifest, html = report
    chart = manifest["charts"][0]
    png = _pngs(html)[0]
    broken = html.replace(base64.b64encode(png).decode("ascii"),
                          base64.b64encode(png[:40] + b"\0" * 200).decode("ascii"), 1)
    page = tmp_path / "broken.html"
    page.write_text(broken, encoding="utf-8")
    shot = screenshot(f"file://{page}#only={chart['id']}", str(tmp_path / "broken.png"),
                      chart["width"] + 40, chart["height"] + 60, str(tmp_path / "profile"))
    colours, ink, diff = chart_region_check(shot, png)
    # Its alt text alone has many anti-aliased colours, but it is nearly blank and unlike the chart.
    assert ink < MIN_INK and diff >= 8


@pytest.mark.slow
@pytest.mark.notebook
def test_report_on_a_warehouse_with_only_warnings(spark, cfg, tmp_path):
    """Before the first full run: no run log, quarantine or ingest log yet."""
    from jobs.report import generate_report

    warehouse = str(tmp_path / "wh")
    _warnings(spark, [("DECEASED", "532901", "532901003", "NEW", "500.00"),
                      ("VEHICLE", None, None, "OPEN", None)]) \
        .write.format("delta").save(table_path(warehouse, *WARNINGS))
    result = generate_report(spark, cfg, warehouse, str(tmp_path / "out"))
    assert set(result.missing_tables) == {"meta/runs", "quarantine", "meta/ingest_log"}
    assert {"rule_status", "county", "township", "amount", "trend_versions"} <= set(result.chart_ids)
    assert result.glyph_problems == []
    assert os.path.isfile(result.index_path)
