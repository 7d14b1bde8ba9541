"""The conformance corpus: landing zones written by an independent hand (tests/data/
conformance/, copied byte for byte from the contract's corpus) and what an independent
implementation of the contract says must come out of them.

For each case, a first `hedui run` at the case's CHECK_DATE on a fresh warehouse must give:
exit status 0; exactly the expected open (NEW/OPEN) warnings, amounts to the cent; per file
rows read / loaded / quarantined; per source silver rows and quarantine reason counts, and
no FAILED file. Failures name rules, files and sources only (person ids are personal data,
even synthetic ones).
"""
from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
import shutil
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from jobs import tables
from jobs.cli import EXIT_OK

pytestmark = pytest.mark.slow

CORPUS = Path(__file__).resolve().parents[1] / "data" / "conformance"
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "CHECK_DATE").is_file())


def _amount(text):
    return None if text in ("", None) else Decimal(str(text)).quantize(Decimal("0.01"))


@pytest.fixture(scope="module", params=CASES)
def case(request, conformance_run):
    """(case folder, expected counts, run result, warehouse) after a first run
    (tests/conftest.py: conformance_run)."""
    first = conformance_run(request.param)
    expected = json.loads((first.root / "expected" / "expected_counts.json").read_text(encoding="utf-8"))
    return first.root, expected, first.result, str(first.warehouse)


def test_exit_status_and_no_failed_file(case):
    _, expected, result, _ = case
    want_failed = sorted(f for s in expected["sources"].values() for f in s["failed_files"])
    assert sorted(result.failed_files) == want_failed
    assert result.exit_code == EXIT_OK


def test_open_warnings_are_exactly_the_expected(spark, case):
    root, _, _, warehouse = case
    with open(root / "expected" / "expected_warnings.csv", encoding="utf-8", newline="") as fh:
        want = {(r["rule_id"], r["person_id"]): (r["category"], _amount(r["amount_at_risk"]))
                for r in csv.DictReader(fh)}
    rows = (tables.read_delta(spark, tables.table_path(warehouse, *tables.WARNINGS))
            .filter(F.col("status").isin("NEW", "OPEN")).collect())
    got = {(r.rule_id, r.person_id): (r.category, _amount(r.amount_at_risk)) for r in rows}
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    assert not missing, f"missed warnings per rule: {Counter(r for r, _ in missing)}"
    assert not extra, f"unexpected warnings per rule: {Counter(r for r, _ in extra)}"
    wrong = sorted(k for k in want if got[k] != want[k])
    assert not wrong, f"category or amount_at_risk differs per rule: {Counter(r for r, _ in wrong)}"


def test_rows_per_file(spark, case):
    _, expected, _, warehouse = case
    want = {path: (f["rows_read"], f["rows_loaded"], f["rows_quarantined"])
            for s in expected["sources"].values() for path, f in s["per_file"].items()}
    logged = tables.read_delta(spark, tables.table_path(warehouse, *tables.INGEST_LOG)).collect()
    got = {f"{r.source}/{r.file}": (r.rows_read, r.rows_loaded, r.rows_quarantined)
           for r in logged if r.status == "LOADED"}
    assert got == want


def test_silver_rows_and_quarantine_reasons_per_source(spark, case):
    _, expected, _, warehouse = case
    quarantine = tables.read_delta(spark, tables.table_path(warehouse, *tables.QUARANTINE))
    reasons = (quarantine.select("source", F.explode("reasons").alias("reason"))
               .groupBy("source", "reason").count().collect())
    got_reasons: dict[str, dict[str, int]] = {}
    for r in reasons:
        got_reasons.setdefault(r.source, {})[r.reason] = r["count"]
    for source, want in expected["sources"].items():
        silver = tables.read_delta(spark, tables.silver_path(warehouse, source)).count()
        assert silver == want["silver_rows"], source
        assert got_reasons.get(source, {}) == want["quarantine_reasons"], source


def test_a_rerun_with_nothing_new_starts_no_jvm(spark, case):
    """Issue 31: the same landing zone and check date again is decided before Spark starts
    (the subprocess has no Java: had it tried, it would fail), prints the usual summary and
    records the run in meta/runs (readable by Spark)."""
    import os
    import subprocess
    import sys

    root, _, result, warehouse = case
    landing = str(Path(warehouse).parent / "landing")
    check_date = (root / "CHECK_DATE").read_text().strip()
    env = {**os.environ, "JAVA_HOME": "/nonexistent-java", "PYSPARK_SUBMIT_ARGS": "--bogus"}
    out = subprocess.run([sys.executable, "-m", "jobs.cli", "run", "--landing", landing, "--warehouse", warehouse,
                          "--as-of", check_date, "--run-id", "nothing-new-1"],
                         env=env, capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.returncode == 0, out.stderr
    assert "decided without starting Spark" in out.stdout
    table = lambda text: text.split("Stale sources")[0]   # warnings per rule, status and county
    assert table(out.stdout) == table(result.summary)
    runs = tables.read_delta(spark, tables.table_path(warehouse, *tables.RUNS)).filter("run_id = 'nothing-new-1'")
    assert [(r.outcome, r.exit_code, r.command) for r in runs.collect()] == [("SUCCESS", 0, "run")]


def test_anything_new_needs_spark(cfg, case, tmp_path):
    """A new file, another check date or other rules: not decided without Spark."""
    from jobs import runstate

    root, _, _, warehouse = case
    landing = Path(warehouse).parent / "landing"
    d = dt.date.fromisoformat((root / "CHECK_DATE").read_text().strip())
    assert runstate.nothing_new(cfg, str(landing), warehouse, d) is not None
    assert runstate.nothing_new(cfg, str(landing), warehouse, d + dt.timedelta(days=1)) is None
    other = dataclasses.replace(cfg, run=dataclasses.replace(cfg.run, warning_id_secret="another"))
    assert runstate.nothing_new(other, str(landing), warehouse, d) is None
    copy = tmp_path / "landing"
    shutil.copytree(landing, copy)
    extra = copy / "deaths" / "2099-01-01" / "late.CSV"
    extra.parent.mkdir(parents=True)
    extra.write_text("report_id,person_id,death_date\n", encoding="utf-8")
    assert runstate.nothing_new(cfg, str(copy), warehouse, d) is None
    extra.rename(extra.with_name("readme.txt"))                  # an ignored file changes nothing
    assert runstate.nothing_new(cfg, str(copy), warehouse, d) is not None
