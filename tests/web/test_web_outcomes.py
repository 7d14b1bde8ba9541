"""Outcomes on the page: a feedback file of the contract in a new batch of the landing
zone, shown as waiting until a run loads it; withdrawal by a supervisor; audit rows."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from jobs.gold.export import FEEDBACK_HEADERS
from jobs.web.outcomes import FeedbackInbox, next_batch
from tests.web.conftest import DALI, csrf_of


def audit_rows(wh, **match) -> list[dict]:
    rows = DeltaTable(f"{wh.path}/meta/audit").to_pyarrow_table().to_pylist()
    return [r for r in rows if all(r.get(k) == v for k, v in match.items())]


def open_in(wh, township: str) -> list[dict]:
    return sorted((w for w in wh.warnings if w["township_code"] == township and w["status"] in ("NEW", "OPEN")),
                  key=lambda w: w["warning_id"])


def feedback_files(zone):
    return sorted(p for p in (zone / "feedback").rglob("*.csv") if not p.name.startswith("."))


def test_an_outcome_becomes_a_feedback_file_of_the_contract_and_waits(as_user, web_wh, zone, clock, cfg):
    # batches already delivered: the page's batch must sort after all of them
    for batch in ("2026-10-16", "20991231"):
        (zone / "feedback" / batch).mkdir(parents=True)
        (zone / "feedback" / batch / "feedback.csv").write_text(",".join(FEEDBACK_HEADERS) + "\n", "utf-8")
    w = open_in(web_wh, web_wh.township)[0]
    client = as_user("town")
    page = client.get(f"/warnings/{w['warning_id']}").get_data(as_text=True)
    assert 'name="outcome"' in page
    day = clock().date() - dt.timedelta(days=1)
    resp = client.post(f"/warnings/{w['warning_id']}/outcome", data={
        "csrf_token": csrf_of(page), "outcome": "DISMISSED", "note": "入户核实，\n本人健在",
        "verified_at": day.isoformat()})
    assert resp.status_code == 302

    files = [p for p in feedback_files(zone) if p.parent.name not in ("2026-10-16", "20991231")]
    assert len(files) == 1
    batch = files[0].parent.name
    assert batch.encode() > b"20991231" and batch.encode() > b"2026-10-16"
    raw = files[0].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows[0] == FEEDBACK_HEADERS
    fid, wid, outcome, note, by, when = rows[1]
    assert (wid, outcome, note, by, when) == (w["warning_id"], "不属实", "入户核实， 本人健在", "town", day.isoformat())
    assert re.fullmatch(r"FB\d{8}-[0-9A-F]{16}", fid)
    # nothing half-written or temporary is left where a run looks
    assert not [p for p in (zone / "feedback").iterdir() if p.name.startswith(".")]

    page = client.get(f"/warnings/{w['warning_id']}").get_data(as_text=True)
    assert "待生效" in page and "入户核实" in page and 'name="outcome"' not in page
    assert w["warning_id"] in client.get("/?status=WAITING").get_data(as_text=True)
    # one waiting outcome at a time
    resp = client.post(f"/warnings/{w['warning_id']}/outcome", data={
        "csrf_token": csrf_of(page), "outcome": "CONFIRMED", "note": "", "verified_at": day.isoformat()})
    assert resp.status_code in (400, 409) and len(feedback_files(zone)) == 3
    row = audit_rows(web_wh, username="town", action="OUTCOME", warning_id=w["warning_id"])[-1]
    detail = json.loads(row["detail"])
    assert detail["outcome"] == "DISMISSED" and detail["feedback_id"] == fid and detail["batch"] == batch
    assert "入户核实" not in row["detail"]          # the note's text is not in the audit


@pytest.mark.parametrize("form, message", [
    ({"outcome": "", "note": "x"}, "请选择核查结论"),
    ({"outcome": "MAYBE", "note": "x"}, "请选择核查结论"),
    ({"outcome": "DISMISSED", "note": ""}, "请填写核查说明"),
    ({"outcome": "CONFIRMED", "note": "", "verified_at": "2999-01-01"}, "不能晚于今天"),
    ({"outcome": "CONFIRMED", "note": "", "verified_at": "yesterday"}, "请填写核查日期"),
])
def test_a_bad_outcome_form_writes_nothing(as_user, web_wh, zone, form, message):
    w = open_in(web_wh, web_wh.township)[0]
    client = as_user("town")
    page = client.get(f"/warnings/{w['warning_id']}").get_data(as_text=True)
    resp = client.post(f"/warnings/{w['warning_id']}/outcome",
                       data={"csrf_token": csrf_of(page), "verified_at": "2026-10-16", **form})
    assert resp.status_code == 400 and message in resp.get_data(as_text=True)
    assert not (zone / "feedback").exists()


def test_a_closed_warning_takes_no_outcome(as_user, web_wh, zone):
    closed = next(w for w in web_wh.warnings if w["county_code"] == DALI and w["status"] == "RESOLVED")
    client = as_user("dali")
    page = client.get(f"/warnings/{closed['warning_id']}").get_data(as_text=True)
    assert 'name="outcome"' not in page
    resp = client.post(f"/warnings/{closed['warning_id']}/outcome", data={
        "csrf_token": csrf_of(page), "outcome": "CONFIRMED", "note": "", "verified_at": "2026-10-16"})
    assert resp.status_code == 400 and not (zone / "feedback").exists()


def test_a_supervisor_withdraws_a_waiting_outcome_a_reviewer_cannot(as_user, web_wh, zone):
    w = open_in(web_wh, web_wh.township)[0]
    reviewer = as_user("town")
    page = reviewer.get(f"/warnings/{w['warning_id']}").get_data(as_text=True)
    reviewer.post(f"/warnings/{w['warning_id']}/outcome", data={
        "csrf_token": csrf_of(page), "outcome": "CONFIRMED", "note": "", "verified_at": "2026-10-16"})
    [written] = feedback_files(zone)
    fid = written.name.removeprefix("serve-").removesuffix(".csv")
    page = reviewer.get(f"/warnings/{w['warning_id']}").get_data(as_text=True)
    assert "撤回" not in page
    resp = reviewer.post(f"/warnings/{w['warning_id']}/withdraw", data={"csrf_token": csrf_of(page), "feedback_id": fid})
    assert resp.status_code == 403 and written.exists()

    boss = as_user("dali_sup")
    page = boss.get(f"/warnings/{w['warning_id']}").get_data(as_text=True)
    assert "撤回" in page
    resp = boss.post(f"/warnings/{w['warning_id']}/withdraw", data={"csrf_token": csrf_of(page), "feedback_id": fid})
    assert resp.status_code == 302
    assert not written.exists() and (written.parent / f".withdrawn-{written.name}").exists()
    assert feedback_files(zone) == []
    page = boss.get(f"/warnings/{w['warning_id']}").get_data(as_text=True)
    assert "badge waiting" not in page and 'name="outcome"' in page
    rows = audit_rows(web_wh, username="dali_sup", action="WITHDRAW", warning_id=w["warning_id"])
    assert rows and json.loads(rows[-1]["detail"])["feedback_id"] == fid
    # withdrawing again: nothing waits any more
    assert boss.post(f"/warnings/{w['warning_id']}/withdraw",
                     data={"csrf_token": csrf_of(page), "feedback_id": fid}).status_code == 404


def test_a_township_csv_waits_too_and_a_loaded_file_no_longer_waits(cfg, tmp_path):
    """FeedbackInbox reads a township's own file (GB18030, Chinese values) as waiting until
    the ingest log has it LOADED (its latest row)."""
    zone, wh = tmp_path / "landing", tmp_path / "wh"
    batch = zone / "feedback" / "2026-10-20"
    batch.mkdir(parents=True)
    text = "反馈编号,预警编号,核查结论,核查说明,核查人,核查日期\r\nFB1,WA1,属实,已核实,张三,2026-10-19\r\nFB2,WA2,,,,\r\n"
    (batch / "town.csv").write_bytes(text.encode("gb18030"))
    inbox = FeedbackInbox(cfg, str(zone), str(wh), ttl=0)
    waiting = inbox.pending()
    assert list(waiting) == ["WA1"]          # a row without an outcome has no effect
    p = waiting["WA1"][0]
    assert (p.outcome, p.note, p.verified_by, p.file, p.from_page) == ("CONFIRMED", "已核实", "张三", "2026-10-20/town.csv", False)

    def log(status, minute):
        write_deltalake(f"{wh}/meta/ingest_log", pa.table({
            "source": ["feedback"], "batch": ["2026-10-20"], "file": ["2026-10-20/town.csv"], "status": [status],
            "logged_at": pa.array([dt.datetime(2026, 10, 21, 2, minute)], pa.timestamp("us"))}), mode="append")
    log("FAILED", 0)
    assert list(inbox.pending()) == ["WA1"]  # FAILED: retried by the next run, still waiting
    log("LOADED", 5)
    assert inbox.pending() == {}


@pytest.mark.parametrize("existing, today, must_start", [
    ([], "2026-10-16", "2026-10-16-web-"),
    (["2026-10-10", "2026-10-12"], "2026-10-16", "2026-10-16-web-"),
    (["2026-10-20"], "2026-10-16", "2026-10-20-web-"),
    (["20261231T0300"], "2026-10-16", "20261231T0300-web-"),
    (["2026-10-16-web-20261016T010000000000"], "2026-10-16", "2026-10-16-web-"),
    (["zzz"], "2026-10-16", "zzz-web-"),
])
def test_batch_names_sort_after_every_batch(existing, today, must_start):
    now = dt.datetime(2026, 10, 16, 3, 0, tzinfo=dt.timezone.utc)
    name = next_batch(existing, dt.date.fromisoformat(today), now)
    assert name.startswith(must_start)
    assert all(name.encode() > b.encode() for b in existing)
    later = next_batch([*existing, name], dt.date.fromisoformat(today), now + dt.timedelta(seconds=1))
    assert later.encode() > name.encode()


def test_no_withdrawal_while_a_run_holds_the_warehouse(as_user, web_wh, zone):
    import os
    import socket
    from pathlib import Path

    from jobs.lock import _process_start, lock_path
    w = open_in(web_wh, web_wh.township)[0]
    reviewer = as_user("town")
    page = reviewer.get(f"/warnings/{w['warning_id']}").get_data(as_text=True)
    reviewer.post(f"/warnings/{w['warning_id']}/outcome", data={
        "csrf_token": csrf_of(page), "outcome": "CONFIRMED", "note": "", "verified_at": "2026-10-16"})
    [written] = feedback_files(zone)
    fid = written.name.removeprefix("serve-").removesuffix(".csv")
    lock = Path(lock_path(web_wh.path))
    lock.write_text(json.dumps({"run_id": "r-test", "command": "run", "host": socket.gethostname(),
                                "pid": os.getpid(), "pid_start": _process_start(os.getpid())}))
    try:
        boss = as_user("boss")
        page = boss.get(f"/warnings/{w['warning_id']}").get_data(as_text=True)
        resp = boss.post(f"/warnings/{w['warning_id']}/withdraw", data={"csrf_token": csrf_of(page), "feedback_id": fid})
        assert resp.status_code == 409 and "正在运行" in resp.get_data(as_text=True)
        assert written.exists()
    finally:
        lock.unlink()
    resp = boss.post(f"/warnings/{w['warning_id']}/withdraw", data={"csrf_token": csrf_of(page), "feedback_id": fid})
    assert resp.status_code == 302 and not written.exists()


def test_the_history_shows_the_status_changes_of_the_delta_versions(cfg, web_wh, as_user):
    """The demo warehouse's three versions: a warning NEW at run 2, CONFIRMED at run 3;
    another NEW, OPEN, OPEN (one change after NEW)."""
    from jobs.web.data import WarningsData
    from tests.warehouse_fixture import RUN_DATES
    data = WarningsData(cfg, web_wh.path, ttl=0)
    by_status = {}
    for w in web_wh.warnings:
        by_status.setdefault((w["rule_id"], w["county_code"], w["status"]), []).append(w)
    confirmed = by_status[("DECEASED", "532923", "CONFIRMED")][0]
    changes = data.history(confirmed["warning_id"])
    assert [(c["version"], c["status"], c["check_date"]) for c in changes] == [
        (1, "NEW", RUN_DATES[1]), (2, "CONFIRMED", RUN_DATES[2])]
    first_run = [w for w in web_wh.warnings if w["first_detected"] == RUN_DATES[0]
                 and w["status"] == "OPEN" and w["rule_id"] == "IMPRISONED"]
    changes = data.history(first_run[0]["warning_id"])
    assert [c["status"] for c in changes] == ["NEW", "OPEN"]
    page = as_user("boss").get(f"/warnings/{confirmed['warning_id']}").get_data(as_text=True)
    assert f"检查日期 {RUN_DATES[2]}" in page and "属实" in page
