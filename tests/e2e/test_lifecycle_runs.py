"""End to end, over several runs: a later batch and a feedback batch move statuses as
the contract's lifecycle says; an identical rerun changes nothing; an earlier check
date is refused.

Run 2 (D + 1 day) gets a corrections batch that ends one IN_CUSTODY case before D, and a
feedback batch made from the export's own template (one CONFIRMED, one DISMISSED, one
left empty, one naming no warning).
"""
from __future__ import annotations

import csv
import json
import datetime as dt
import shutil

import pytest

from jobs import tables
from jobs.gold.export import export_counties
from jobs.errors import CheckDateError
from jobs.pipeline import run
from tests.e2e.params import E2E_DATE

pytestmark = pytest.mark.slow
D2 = E2E_DATE + dt.timedelta(days=1)


def warnings(spark, wh):
    rows = tables.read_delta(spark, tables.table_path(str(wh), *tables.WARNINGS)).collect()
    return {(r.rule_id, r.person_id): r.asDict() for r in rows}


def write_csv(path, header, rows, bom=False):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


@pytest.fixture(scope="module")
def runs(spark, cfg, landing, first_run, tmp_path_factory):
    base = tmp_path_factory.mktemp("lifecycle")
    wh, zone = base / "warehouse", base / "landing"
    shutil.copytree(first_run[0], wh)
    shutil.copytree(landing, zone)
    before = warnings(spark, wh)

    # a later corrections batch ends one IN_CUSTODY case the day before D
    custody = sorted(k for k in before if k[0] == "IN_CUSTODY")[0]
    rows = (tables.read_delta(spark, tables.silver_path(str(wh), "corrections"))
            .filter(f"person_id = '{custody[1]}' AND kind IN ('DRUG_REHAB', 'DETENTION')").collect())
    assert rows
    ended = [[r.record_id, r.person_id, r.name or "", r.kind, r.start_date.isoformat(),
              (E2E_DATE - dt.timedelta(days=1)).isoformat()] for r in rows]
    write_csv(zone / "corrections" / "2026-10-16" / "corrections.csv",
              ["record_id", "person_id", "name", "kind", "start_date", "end_date"], ended)

    # feedback from the export's template: CONFIRMED, DISMISSED, no outcome, unknown id
    out = base / "export"
    export_counties(spark, cfg, str(wh), str(out))
    template = []
    for f in sorted(out.glob("*/feedback_*.csv")):
        with open(f, encoding="utf-8-sig") as fh:
            template += list(csv.DictReader(fh))
    by_id = {w["warning_id"]: k for k, w in before.items()}
    chosen = [r for r in template if by_id[r["预警编号"]] != custody][:3]
    outcomes = ["属实", "不属实", ""]
    fb_rows = [[r["反馈编号"], r["预警编号"], o, "核查说明", "核查人", "2026-10-16"]
               for r, o in zip(chosen, outcomes)]
    fb_rows.append(["FB-UNKNOWN-1", "W00000000000000000000", "属实", "", "", ""])
    write_csv(zone / "feedback" / "2026-10-16" / "feedback.csv",
              ["反馈编号", "预警编号", "核查结论", "核查说明", "核查人", "核查日期"], fb_rows, bom=True)

    # a folder that is no source of the contract: reported, recorded, skipped
    write_csv(zone / "weather" / "2026-10-16" / "rain.csv", ["day", "mm"], [["2026-10-16", "3"]])
    second = run(spark, cfg, str(zone), str(wh), D2, "e2e-run-2")
    # an export with full ID numbers, which the run log must record
    export_counties(spark, cfg, str(wh), str(base / "export-unmasked"), unmasked=True, run_id="e2e-export-1")
    after2 = warnings(spark, wh)
    third = run(spark, cfg, str(zone), str(wh), D2, "e2e-run-3")
    after3 = warnings(spark, wh)
    return dict(wh=wh, zone=zone, before=before, after2=after2, after3=after3, second=second,
                third=third, custody=custody, confirmed=by_id[chosen[0]["预警编号"]],
                dismissed=by_id[chosen[1]["预警编号"]], untouched=by_id[chosen[2]["预警编号"]])


def test_later_batch_resolves_and_feedback_sets_outcomes(runs):
    after = runs["after2"]
    assert runs["second"].exit_code == 0
    assert after[runs["custody"]]["status"] == "RESOLVED"
    assert after[runs["custody"]]["run_id"] == "e2e-run-2"
    assert after[runs["custody"]]["last_detected"] == E2E_DATE
    assert after[runs["confirmed"]]["status"] == "CONFIRMED"
    assert after[runs["dismissed"]]["status"] == "DISMISSED"
    # a feedback row without an outcome has no effect: the warning goes on as detection says
    assert after[runs["untouched"]]["status"] in ("OPEN", "RESOLVED")


def test_detection_moves_every_status_as_the_lifecycle_says(runs):
    before, after = runs["before"], runs["after2"]
    assert set(before) <= set(after)
    for key, new in after.items():
        old = before.get(key)
        fired = new["last_detected"] == D2
        if key in (runs["confirmed"], runs["dismissed"]):
            continue
        if old is None:
            assert new["status"] == "NEW" and new["first_detected"] == D2
        elif fired:
            assert new["status"] == "OPEN", key[0]
            assert new["first_detected"] == E2E_DATE
        else:
            assert new["status"] == "RESOLVED", key[0]
            assert new["last_detected"] == E2E_DATE
    # confirmed and dismissed keep their outcome whatever detection says
    assert after[runs["confirmed"]]["first_detected"] == E2E_DATE
    assert after[runs["dismissed"]]["evidence"] == before[runs["dismissed"]]["evidence"]


def test_identical_rerun_changes_nothing(runs):
    assert runs["third"].exit_code == 0
    assert runs["after3"] == runs["after2"]   # run_id included
    # nothing new, same date, same rules: the checks are not even run
    assert "skipped" in runs["third"].counts["detection"]
    assert runs["third"].counts["ingest"] == {}


def test_a_changed_rule_configuration_runs_the_checks_again(spark, cfg, runs, tmp_path):
    """Same data, same date, but a rule switched off: detection runs, and that rule's open
    warnings no longer fire (RESOLVED)."""
    import dataclasses
    wh = tmp_path / "warehouse"
    shutil.copytree(runs["wh"], wh)
    (wh / "_hedui" / "lock").unlink(missing_ok=True)
    rule = "MEDICAL_BURDEN"
    spec = cfg.rules.rules[rule]
    off = dataclasses.replace(cfg, rules=dataclasses.replace(
        cfg.rules, rules={**cfg.rules.rules, rule: dataclasses.replace(spec, enabled=False)}))
    result = run(spark, off, str(runs["zone"]), str(wh), D2, "e2e-run-rules-changed")
    assert "skipped" not in result.counts["detection"]
    after, before = warnings(spark, wh), runs["after3"]
    was_open = [k for k, w in before.items() if k[0] == rule and w["status"] in ("NEW", "OPEN")]
    assert was_open and all(after[k]["status"] == "RESOLVED" for k in was_open)
    assert all(after[k] == w for k, w in before.items() if k not in was_open)


def test_unknown_feedback_is_quarantined(spark, runs):
    q = (tables.read_delta(spark, tables.table_path(str(runs["wh"]), *tables.QUARANTINE))
         .filter("source = 'feedback'").collect())
    assert [sorted(r.reasons) for r in q] == [["UNKNOWN_WARNING"]]
    log = (tables.read_delta(spark, tables.table_path(str(runs["wh"]), *tables.INGEST_LOG))
           .filter("source = 'feedback'").collect())
    assert [(r.rows_read, r.rows_loaded, r.rows_quarantined) for r in log] == [(4, 3, 1)]


def test_earlier_check_date_is_refused_and_writes_nothing(spark, cfg, runs):
    path = tables.table_path(str(runs["wh"]), *tables.WARNINGS)
    version = spark.sql(f"DESCRIBE HISTORY delta.`{path}`").agg({"version": "max"}).first()[0]
    runs_path = tables.table_path(str(runs["wh"]), *tables.RUNS)
    n_runs = tables.read_delta(spark, runs_path).count()
    with pytest.raises(CheckDateError):
        run(spark, cfg, str(runs["zone"]), str(runs["wh"]), E2E_DATE, "e2e-run-early")
    assert spark.sql(f"DESCRIBE HISTORY delta.`{path}`").agg({"version": "max"}).first()[0] == version
    assert tables.read_delta(spark, runs_path).count() == n_runs


def test_run_log_records_unknown_folders_and_unmasked_exports(spark, runs):
    rows = {r.run_id: r for r in tables.read_delta(spark, tables.table_path(str(runs["wh"]), *tables.RUNS)).collect()}
    assert rows["e2e-run-2"].unknown_sources == ["weather"]
    assert rows["e2e-run-2"].outcome == "SUCCESS" and rows["e2e-run-2"].finished_at is not None
    assert "unknown_source_folders: weather" in runs["second"].summary
    export = rows["e2e-export-1"]
    assert (export.command, export.outcome, export.check_date) == ("export", "SUCCESS", D2)
    assert json.loads(export.params)["unmasked"] is True
