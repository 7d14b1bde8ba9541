"""jobs.gold.lifecycle: every transition of README s.5, feedback once, the check-date guard."""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal

import pytest
from pyspark.sql import functions as F

from jobs.gold.feedback import apply_feedback, feedback_applied_path
from jobs.errors import CheckDateError
from jobs.gold.lifecycle import apply_detection, warnings_path
from jobs.runstate import check_check_date, latest_check_date
from jobs.gold.warnings import WARNING_COLUMNS, WARNINGS_SCHEMA

D1 = dt.date(2026, 10, 15)
D2 = dt.date(2026, 11, 15)
D3 = dt.date(2026, 12, 15)
D4 = dt.date(2027, 1, 15)

FEEDBACK = ("feedback_id string, warning_id string, outcome string, note string, "
            "verified_by string, verified_at date, _batch string, _file string, _run_id string, "
            "_ingested_at timestamp")


def ev(*rows) -> str:
    """Evidence JSON as build_detected writes it: rows (source, key, {values})."""
    return json.dumps([{"source": s, "key": k, "values": dict(sorted(v.items()))}
                       for s, k, v in sorted(rows, key=lambda r: (r[0], r[1]))],
                      ensure_ascii=False, separators=(",", ":"))


def detected(spark, *items):
    """items: (warning_id, evidence JSON, amount or None[, county]) firing now."""
    rows = []
    for item in items:
        wid, evidence, amount = item[:3]
        county = item[3] if len(item) > 3 else "532901"
        rows.append({"warning_id": wid, "rule_id": "DECEASED", "category": "INELIGIBLE",
                     "person_id": "53290119800101" + wid[-4:], "person_name": "某",
                     "county_code": county, "township_code": None,
                     "score": 80 + (int(amount // 500) if amount is not None else 0),
                     "amount_at_risk": amount, "evidence": evidence, "status": None,
                     "first_detected": None, "last_detected": None, "run_id": None})
    return spark.createDataFrame(rows, WARNINGS_SCHEMA)


def feedback(spark, *rows):
    """rows: (feedback_id, warning_id, outcome, verified_at, batch)."""
    return spark.createDataFrame(
        [(fid, wid, out, None, "核查员", at, batch, "fb.csv", "r-load", dt.datetime(2026, 10, 1))
         for fid, wid, out, at, batch in rows], FEEDBACK)


def state(spark, wh) -> dict:
    return {r["warning_id"]: r.asDict() for r in
            spark.read.format("delta").load(warnings_path(wh)).collect()}


E1 = ("payments", "P1", {"amount": "500.00", "pay_month": "2026-08"})
E2 = ("payments", "P2", {"amount": "500.00", "pay_month": "2026-09"})
E3 = ("payments", "P3", {"amount": "500.00", "pay_month": "2026-10"})


@pytest.mark.slow
def test_new_open_resolved_new(spark, tmp_path):
    wh = str(tmp_path / "wh")
    s1 = apply_detection(spark, wh, detected(spark, ("WA0001", ev(E1), Decimal("500.00")),
                                             ("WB0002", ev(E2), None)), D1, "r1")
    t = state(spark, wh)
    assert {w: (r["status"], r["first_detected"], r["last_detected"], r["run_id"])
            for w, r in t.items()} == {"WA0001": ("NEW", D1, D1, "r1"), "WB0002": ("NEW", D1, D1, "r1")}
    assert s1["firing"] == 2 and s1["changed"] == 2 and s1["transitions"] == {"(none)->NEW": 2}
    assert list(spark.read.format("delta").load(warnings_path(wh)).columns) == WARNING_COLUMNS

    apply_detection(spark, wh, detected(spark, ("WA0001", ev(E1, E2), Decimal("1000.00"))), D2, "r2")
    t = state(spark, wh)
    a, b = t["WA0001"], t["WB0002"]
    assert (a["status"], a["first_detected"], a["last_detected"], a["run_id"]) == ("OPEN", D1, D2, "r2")
    assert a["amount_at_risk"] == Decimal("1000.00") and a["evidence"] == ev(E1, E2)
    assert (b["status"], b["first_detected"], b["last_detected"], b["run_id"]) == ("RESOLVED", D1, D1, "r2")

    apply_detection(spark, wh, detected(spark, ("WB0002", ev(E2), None)), D3, "r3")
    t = state(spark, wh)
    assert (t["WA0001"]["status"], t["WA0001"]["last_detected"], t["WA0001"]["run_id"]) == \
        ("RESOLVED", D2, "r3")
    assert (t["WB0002"]["status"], t["WB0002"]["first_detected"], t["WB0002"]["last_detected"]) == \
        ("NEW", D1, D3)

    apply_detection(spark, wh, detected(spark, ("WA0001", ev(E1), Decimal("500.00")),
                                        ("WB0002", ev(E2), None)), D4, "r4")
    t = state(spark, wh)
    assert (t["WA0001"]["status"], t["WA0001"]["first_detected"], t["WA0001"]["last_detected"]) == \
        ("NEW", D1, D4)
    assert (t["WB0002"]["status"], t["WB0002"]["last_detected"], t["WB0002"]["run_id"]) == \
        ("OPEN", D4, "r4")


@pytest.mark.slow
def test_same_date_rerun_leaves_table_unchanged(spark, tmp_path):
    wh = str(tmp_path / "wh")
    det = detected(spark, ("WA0001", ev(E1), Decimal("500.00")), ("WB0002", ev(E2), None))
    apply_detection(spark, wh, det, D1, "r1")
    apply_detection(spark, wh, detected(spark, ("WA0001", ev(E1), Decimal("500.00"))), D2, "r2")
    before = state(spark, wh)
    assert (before["WA0001"]["status"], before["WB0002"]["status"]) == ("OPEN", "RESOLVED")

    # same landing zone, same D: nothing changes, run_id included
    again = detected(spark, ("WA0001", ev(E1), Decimal("500.00")))
    stats = apply_detection(spark, wh, again, D2, "r3")
    assert state(spark, wh) == before
    assert stats["changed"] == 0 and stats["firing"] == 1
    # a refreshed amount at the same D keeps the status (already seen at D)
    apply_detection(spark, wh, detected(spark, ("WA0001", ev(E1, E3), Decimal("1000.00"))), D2, "r4")
    a = state(spark, wh)["WA0001"]
    assert (a["status"], a["amount_at_risk"], a["run_id"]) == ("OPEN", Decimal("1000.00"), "r4")
    assert state(spark, wh)["WB0002"] == before["WB0002"]


def test_same_date_keeps_new(spark, tmp_path):
    wh = str(tmp_path / "wh")
    apply_detection(spark, wh, detected(spark, ("WA0001", ev(E1), None)), D1, "r1")
    apply_detection(spark, wh, detected(spark, ("WA0001", ev(E1), None)), D1, "r2")
    a = state(spark, wh)["WA0001"]
    assert (a["status"], a["run_id"]) == ("NEW", "r1")


def test_earlier_check_date_is_refused(spark, tmp_path):
    wh = str(tmp_path / "wh")
    assert latest_check_date(spark, wh) is None
    apply_detection(spark, wh, detected(spark, ("WA0001", ev(E1), None)), D1, "r1")
    apply_detection(spark, wh, detected(spark), D2, "r2")   # nothing fires at D2
    assert latest_check_date(spark, wh) == D2
    before = state(spark, wh)
    with pytest.raises(CheckDateError, match="2026-10-15.*2026-11-15"):
        apply_detection(spark, wh, detected(spark, ("WA0001", ev(E1), None)), D1, "r3")
    assert state(spark, wh) == before
    with pytest.raises(CheckDateError):   # checked before any feedback is applied
        apply_feedback(spark, wh, feedback(spark, ("F1", "WA0001", "CONFIRMED", D1, "b1")), "r3",
                       check_date=D1)
    assert state(spark, wh) == before
    check_check_date(spark, wh, D2)                        # the same D is allowed
    apply_detection(spark, wh, detected(spark), D2, "r4")
    assert state(spark, wh) == before
    check_check_date(spark, str(tmp_path / "empty"), D1)  # no table yet: anything goes


@pytest.mark.slow
def test_confirmed_is_not_overwritten_by_detection(spark, tmp_path):
    wh = str(tmp_path / "wh")
    apply_detection(spark, wh, detected(spark, ("WA0001", ev(E1), Decimal("500.00"))), D1, "r1")
    apply_feedback(spark, wh, feedback(spark, ("F1", "WA0001", "CONFIRMED", D1, "b1")), "r2")
    a = state(spark, wh)["WA0001"]
    assert (a["status"], a["run_id"]) == ("CONFIRMED", "r2")

    apply_detection(spark, wh, detected(spark, ("WA0001", ev(E1, E2), Decimal("1000.00"))), D2, "r3")
    a = state(spark, wh)["WA0001"]
    assert (a["status"], a["last_detected"], a["amount_at_risk"], a["evidence"]) == \
        ("CONFIRMED", D2, Decimal("1000.00"), ev(E1, E2))
    apply_detection(spark, wh, detected(spark), D3, "r4")    # no longer fires
    a = state(spark, wh)["WA0001"]
    assert (a["status"], a["last_detected"], a["run_id"]) == ("CONFIRMED", D2, "r3")


@pytest.mark.slow
def test_dismissed_kept_and_reopened_only_by_new_or_changed_evidence(spark, tmp_path):
    wh = str(tmp_path / "wh")
    apply_detection(spark, wh, detected(spark, ("WA0001", ev(E1, E2), Decimal("1000.00")),
                                        ("WB0002", ev(E1, E2), Decimal("1000.00")),
                                        ("WC0003", ev(E1, E2), Decimal("1000.00")),
                                        ("WD0004", ev(E1, E2), Decimal("1000.00"))), D1, "r1")
    apply_feedback(spark, wh, feedback(spark, ("F1", "WA0001", "DISMISSED", D1, "b1"),
                                       ("F2", "WB0002", "DISMISSED", D1, "b1"),
                                       ("F3", "WC0003", "DISMISSED", D1, "b1"),
                                       ("F4", "WD0004", "DISMISSED", D1, "b1")), "r2")
    # the same rows written in another order (rows and values): not new evidence
    shuffled = json.dumps([{"key": k, "source": s, "values": dict(reversed(sorted(v.items())))}
                           for s, k, v in (E2, E1)], separators=(",", ":"))
    E2b = ("payments", "P2", {"amount": "480.00", "pay_month": "2026-09"})
    apply_detection(spark, wh, detected(spark,
                    ("WA0001", ev(E2), Decimal("500.00")),           # E1 left the window
                    ("WB0002", ev(E1, E2, E3), Decimal("1500.00")),  # E3 is new
                    ("WC0003", ev(E1, E2b), Decimal("980.00")),      # E2's values changed
                    ("WD0004", shuffled, Decimal("1000.00"))),       # same rows, other order
                    D2, "r3")
    t = state(spark, wh)
    a = t["WA0001"]
    assert (a["status"], a["evidence"], a["amount_at_risk"], a["last_detected"], a["run_id"]) == \
        ("DISMISSED", ev(E1, E2), Decimal("1000.00"), D2, "r3")
    b = t["WB0002"]
    assert (b["status"], b["evidence"], b["amount_at_risk"], b["first_detected"], b["last_detected"]) == \
        ("NEW", ev(E1, E2, E3), Decimal("1500.00"), D1, D2)
    c = t["WC0003"]
    assert (c["status"], c["evidence"]) == ("NEW", ev(E1, E2b))
    d = t["WD0004"]
    assert (d["status"], d["evidence"], d["last_detected"]) == ("DISMISSED", ev(E1, E2), D2)

    # still dismissed, not firing: nothing changes
    apply_detection(spark, wh, detected(spark), D3, "r4")
    a = state(spark, wh)["WA0001"]
    assert (a["status"], a["last_detected"], a["run_id"]) == ("DISMISSED", D2, "r3")


@pytest.mark.slow
def test_feedback_order_and_null_outcome(spark, tmp_path):
    wh = str(tmp_path / "wh")
    apply_detection(spark, wh, detected(spark, ("WA0001", ev(E1), None), ("WB0002", ev(E1), None),
                                        ("WC0003", ev(E1), None), ("WD0004", ev(E1), None)), D1, "r1")
    fb = feedback(
        spark,
        # A: undated first, then by feedback_id among equal dates: F12 (CONFIRMED) wins
        ("F12", "WA0001", "CONFIRMED", dt.date(2026, 10, 10), "b1"),
        ("F11", "WA0001", "DISMISSED", dt.date(2026, 10, 10), "b1"),
        ("F19", "WA0001", "DISMISSED", None, "b1"),
        # B: the later verified_at wins over a larger feedback_id; no outcome has no effect
        ("F21", "WB0002", "DISMISSED", dt.date(2026, 10, 12), "b1"),
        ("F29", "WB0002", "CONFIRMED", dt.date(2026, 10, 1), "b1"),
        ("F22", "WB0002", None, dt.date(2026, 10, 20), "b1"),
        # C: only a row without outcome
        ("F31", "WC0003", None, dt.date(2026, 10, 20), "b1"),
        # unknown warning
        ("F41", "WZ9999", "CONFIRMED", dt.date(2026, 10, 20), "b1"),
    )
    stats = apply_feedback(spark, wh, fb, "r2")
    t = state(spark, wh)
    assert {w: (r["status"], r["run_id"]) for w, r in t.items()} == {
        "WA0001": ("CONFIRMED", "r2"), "WB0002": ("DISMISSED", "r2"),
        "WC0003": ("NEW", "r1"), "WD0004": ("NEW", "r1")}
    assert t["WB0002"]["evidence"] == ev(E1)
    assert stats == {"rows": 8, "already_applied": 0, "applied": 8, "without_outcome": 2,
                     "unknown_warning": 1, "warnings_changed": 2}
    assert apply_feedback(spark, wh, None, "r3")["rows"] == 0


@pytest.mark.slow
def test_feedback_is_applied_once_and_corrections_again(spark, tmp_path):
    wh = str(tmp_path / "wh")
    apply_detection(spark, wh, detected(spark, ("WA0001", ev(E1), None)), D1, "r1")
    fb = feedback(spark, ("F1", "WA0001", "DISMISSED", D1, "b1"))
    apply_feedback(spark, wh, fb, "r2")
    assert state(spark, wh)["WA0001"]["status"] == "DISMISSED"
    apply_detection(spark, wh, detected(spark, ("WA0001", ev(E1, E2), None)), D2, "r3")
    assert state(spark, wh)["WA0001"]["status"] == "NEW"          # reopened by new evidence

    before = state(spark, wh)
    stats = apply_feedback(spark, wh, fb, "r4")                   # rerun: not applied twice
    assert state(spark, wh) == before
    assert (stats["applied"], stats["already_applied"], stats["warnings_changed"]) == (0, 1, 0)

    corrected = feedback(spark, ("F1", "WA0001", "DISMISSED", D2, "b2"))
    stats = apply_feedback(spark, wh, corrected, "r5")           # a later batch: applied again
    a = state(spark, wh)["WA0001"]
    assert (a["status"], a["run_id"], stats["applied"]) == ("DISMISSED", "r5", 1)
    recorded = spark.read.format("delta").load(feedback_applied_path(wh))
    assert sorted((r["feedback_id"], r["_batch"], r["run_id"]) for r in recorded.collect()) == \
        [("F1", "b1", "r2"), ("F1", "b2", "r5")]


def test_feedback_before_any_warning_creates_the_table(spark, tmp_path):
    wh = str(tmp_path / "wh")
    stats = apply_feedback(spark, wh, feedback(spark, ("F1", "WX", "CONFIRMED", D1, "b1")), "r1")
    assert stats["unknown_warning"] == 1
    df = spark.read.format("delta").load(warnings_path(wh))
    assert df.count() == 0
    assert [(f.name, f.dataType) for f in df.schema.fields] == \
        [(f.name, f.dataType) for f in WARNINGS_SCHEMA.fields]


def test_duplicate_detected_rows_are_refused(spark, tmp_path):
    wh = str(tmp_path / "wh")
    with pytest.raises(ValueError, match="more than once"):
        apply_detection(spark, wh, detected(spark, ("WA0001", ev(E1), None),
                                            ("WA0001", ev(E2), None)), D1, "r1")


@pytest.mark.slow
def test_warnings_table_is_readable_by_delta_rs(spark, tmp_path):
    wh = str(tmp_path / "wh")
    apply_detection(spark, wh, detected(spark, ("WA0001", ev(E1), Decimal("500.00")),
                                        ("WB0002", ev(E2), None)), D1, "r1")
    apply_feedback(spark, wh, feedback(spark, ("F1", "WB0002", "DISMISSED", D1, "b1")), "r2")
    apply_detection(spark, wh, detected(spark, ("WA0001", ev(E1), Decimal("500.00"))), D2, "r3")
    script = (
        "import json, sys\n"
        "from deltalake import DeltaTable, QueryBuilder\n"
        "out = {}\n"
        "for name, cols in (('gold/warnings', 'warning_id, status, last_detected'),\n"
        "                   ('meta/feedback_applied', 'feedback_id, warning_id, outcome')):\n"
        "    t = DeltaTable(sys.argv[1] + '/' + name)\n"
        "    q = f'select {cols} from t order by 1'\n"
        "    tab = QueryBuilder().register('t', t).execute(q).read_all()\n"
        "    columns = [c.to_pylist() for c in tab.columns]\n"
        "    p = t.protocol()\n"
        "    out[name] = {'columns': [f.name for f in t.schema().fields],\n"
        "                 'rows': [[str(v) for v in r] for r in zip(*columns)],\n"
        "                 'features': list(p.reader_features or []) + list(p.writer_features or [])}\n"
        "print(json.dumps(out))\n"
        "sys.stdout.flush()\n"
    )
    proc = subprocess.run([sys.executable, "-c", script, wh], capture_output=True, text=True,
                          timeout=300)
    line = [x for x in proc.stdout.splitlines() if x.startswith("{")]
    assert line, proc.stderr[-2000:]
    got = json.loads(line[-1])
    w = got["gold/warnings"]
    assert w["columns"] == WARNING_COLUMNS
    assert w["rows"] == [["WA0001", "OPEN", "2026-11-15"], ["WB0002", "DISMISSED", "2026-10-15"]]
    assert "deletionVectors" not in w["features"]
    assert got["meta/feedback_applied"]["rows"] == [["F1", "WB0002", "DISMISSED"]]
    assert "deletionVectors" not in got["meta/feedback_applied"]["features"]
    # Spark sees the same
    assert spark.read.format("delta").load(warnings_path(wh)).where(F.col("status") == "OPEN").count() == 1


def test_relative_warehouse_path(spark, tmp_path):
    """`hedui run --warehouse data/demo/warehouse`: the check date is kept as a table
    property through SQL, which takes only absolute paths; a relative one must work
    (relative to the JVM's working directory, as Hadoop resolves it)."""
    import os
    jvm_cwd = spark.sparkContext._jvm.System.getProperty("user.dir")
    wh = os.path.relpath(tmp_path / "wh", jvm_cwd)
    assert not os.path.isabs(wh)
    apply_detection(spark, wh, detected(spark, ("WA0001", ev(E1), None)), D1, "r1")
    assert latest_check_date(spark, wh) == D1
    assert set(state(spark, str(tmp_path / "wh"))) == {"WA0001"}
