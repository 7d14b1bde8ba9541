"""End to end: hedui generate -> hedui run on one shared small landing zone.

- silver and quarantine equal an independent plain-Python reading of the landing zone
  (tests/e2e/reference.py), row by row;
- the warnings equal the POSITIVE rows of _truth/expected.csv (amounts to the cent)
  and contain no NEAR_MISS;
- section 1's forms the generator writes (jobs/generate/forms.py: header-only files,
  padded headers, blank lines, `_SUCCESS`, `.CSV`, a readme.txt...) load or are passed
  over as the contract says, and the run reports the non-data file as ignored.
"""
from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from pyspark.sql import functions as F

from jobs import tables
from tests.e2e.params import E2E_DATE
from tests.e2e.reference import expected_tables, landing_files

pytestmark = pytest.mark.slow


def _amount(text: str):
    return None if text in ("", None) else Decimal(text).quantize(Decimal("0.01"))


def test_run_finishes_cleanly(first_run):
    _, result = first_run
    assert result.exit_code == 0, result.failed_files
    assert result.failed_files == []


def test_run_reports_the_ignored_file(cfg, landing, first_run):
    """The generator's readme.txt (neither CSV nor parquet) is reported, `_SUCCESS` and
    `.crc` files are passed over without a word, `.CSV` and `.Csv.GZ` files load."""
    _, result = first_run
    _, ignored = landing_files(landing, cfg.contract)
    assert ignored and all(name.endswith("/readme.txt") for name in ignored)
    assert sorted(result.ignored_files) == ignored
    assert list(landing.glob("*/*/_SUCCESS")) and list(landing.glob("*/*/.*.crc"))


def test_warnings_are_exactly_the_truth(spark, first_run, truth):
    warehouse, _ = first_run
    got = {(r.rule_id, r.person_id): r.amount_at_risk
           for r in tables.read_delta(spark, tables.table_path(str(warehouse), *tables.WARNINGS)).collect()}
    positives = {(t["rule_id"], t["person_id"]): _amount(t["amount_at_risk"])
                 for t in truth if t["kind"] == "POSITIVE"}
    near = {(t["rule_id"], t["person_id"]) for t in truth if t["kind"] == "NEAR_MISS"}

    missing = sorted(set(positives) - set(got))
    extra = sorted(set(got) - set(positives))
    # report rule ids only: person ids are personal data, even synthetic ones
    assert not missing, f"missed warnings per rule: {Counter(r for r, _ in missing)}"
    assert not extra, f"unexpected warnings per rule: {Counter(r for r, _ in extra)}"
    wrong = [k for k in positives if got[k] != positives[k]]
    assert not wrong, f"amount_at_risk differs for: {Counter(r for r, _ in wrong)}"
    assert not near & set(got)


def test_truth_covers_every_rule(cfg, truth):
    for kind in ("POSITIVE", "NEAR_MISS"):
        per_rule = Counter(t["rule_id"] for t in truth if t["kind"] == kind)
        assert set(per_rule) == set(cfg.rules.rules), kind
        assert min(per_rule.values()) >= 3, (kind, per_rule)


def test_every_warning_is_complete(spark, cfg, first_run):
    warehouse, _ = first_run
    w = tables.read_delta(spark, tables.table_path(str(warehouse), *tables.WARNINGS))
    assert w.filter("status <> 'NEW' OR first_detected <> DATE'2026-10-15' OR last_detected <> DATE'2026-10-15'").count() == 0
    assert w.filter("warning_id IS NULL OR evidence IS NULL OR score IS NULL OR category IS NULL").count() == 0
    assert w.filter("score < 0 OR score > 100").count() == 0
    assert w.filter(F.col("county_code").isNull()).count() == 0
    assert {r.county_code for r in w.select("county_code").distinct().collect()} <= set(cfg.geo.counties)
    # warning ids never contain the ID number
    assert w.filter(F.instr("warning_id", F.col("person_id")) > 0).count() == 0


@pytest.fixture(scope="module")
def reference(spark, cfg, landing):
    return expected_tables(spark, landing, cfg.contract, E2E_DATE)


def test_silver_equals_an_independent_reading(spark, cfg, first_run, reference):
    warehouse, _ = first_run
    expected, _, _ = reference
    for name, spec in cfg.contract.sources.items():
        if name == "feedback":
            continue
        rows = tables.read_silver(spark, str(warehouse), spec).select(*spec.column_names).collect()
        got = {tuple(r[k] for k in spec.key): r.asDict() for r in rows}
        want = expected.get(name, {})
        assert len(got) == len(want), name
        assert got.keys() == want.keys(), name
        diff = [k for k in want if got[k] != want[k]]
        assert not diff, f"{name}: {len(diff)} rows differ, e.g. columns " \
                         f"{sorted(c for c in want[diff[0]] if want[diff[0]][c] != got[diff[0]][c])}"


def test_quarantine_and_ingest_log_reconcile(spark, first_run, reference):
    warehouse, _ = first_run
    _, quarantined, read = reference
    q = tables.read_delta(spark, tables.table_path(str(warehouse), *tables.QUARANTINE)).collect()
    got = {}
    for r in q:
        got.setdefault((r.source, r.file), []).append(sorted(r.reasons))
    assert {k: sorted(v) for k, v in got.items()} == quarantined
    log = tables.read_delta(spark, tables.table_path(str(warehouse), *tables.INGEST_LOG)).collect()
    assert {(r.source, r.file): r.rows_read for r in log} == read
    # the generator's header-only files (one of each form) are LOADED with 0 rows read
    empty = {file for (_, file), n in read.items() if n == 0}
    assert {f.rsplit(".", 1)[-1] if not f.lower().endswith(".csv.gz") else "gz" for f in empty} >= {"csv", "gz", "parquet"}
    # and the files with upper- or mixed-case extensions load
    assert any(f.endswith(".CSV") for _, f in read) and any(f.endswith(".Csv.GZ") for _, f in read)
    for r in log:
        assert r.status == "LOADED"
        assert r.rows_read == r.rows_loaded + r.rows_quarantined
        assert r.rows_quarantined == len(quarantined.get((r.source, r.file), []))
    # the generator's dirt reaches every reason code that ingest can give
    codes = {c for v in quarantined.values() for reasons in v for c in reasons}
    assert {"INVALID_ID", "BAD_DATE", "MISSING_REQUIRED", "KEY_CONFLICT"} <= codes
