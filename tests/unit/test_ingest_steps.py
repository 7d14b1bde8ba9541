"""The ingest's steps, each alone: bronze, extract, type, load (the key resolution has its
own tests in test_ingest.py)."""
from __future__ import annotations

import datetime as dt
import hashlib
import json

from pyspark.sql import functions as F

from jobs import tables
from jobs.ingest.job import Attempt, extract, to_bronze, typed_rows
from jobs.ingest.keys import shared_keys
from jobs.ingest.landing import LandingFile
from jobs.ingest.load import INGEST_LOG_COLUMNS, append_ingest_log, write_quarantine

from tests.unit.test_ingest import D, P1, P2

HEADER = b"report_id,person_id,death_date\n"


def landing_file(tmp_path, name: str, data: bytes) -> LandingFile:
    path = tmp_path / "landing" / "deaths" / "2026-09-01" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return LandingFile("deaths", "2026-09-01", name, str(path), len(data))


def test_bronze_copies_byte_for_byte_and_fails_what_it_cannot_read(spark, tmp_path):
    data = HEADER + f"R1,{P1},2026-07-20\n".encode()
    good = landing_file(tmp_path, "a.csv", data)
    gone = LandingFile("deaths", "2026-09-01", "gone.csv", str(tmp_path / "nowhere.csv"))
    copies, failed = to_bronze(spark, [good, gone], str(tmp_path / "wh"))
    assert list(failed) == ["2026-09-01/gone.csv"] and "cannot read" in failed["2026-09-01/gone.csv"]
    [copy] = copies
    assert (copy.size, copy.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert (tmp_path / "wh" / "bronze" / "deaths" / "2026-09-01" / "a.csv").read_bytes() == data
    # copied again (a rerun after a crash): replaced, not doubled
    copies, _ = to_bronze(spark, [good], str(tmp_path / "wh"))
    assert sorted(p.name for p in (tmp_path / "wh" / "bronze" / "deaths" / "2026-09-01").iterdir()) == ["a.csv"]


def test_extract_reads_the_bronze_copies(spark, cfg, tmp_path):
    files = [landing_file(tmp_path, "a.csv", HEADER + f"R1,{P1},2026-07-20\nR2,,x\n".encode()),
             landing_file(tmp_path, "b.csv", b"not,a,contract,header\n1,2,3,4\n")]
    copies, _ = to_bronze(spark, files, str(tmp_path / "wh"))
    (tmp_path / "landing" / "deaths" / "2026-09-01" / "a.csv").unlink()    # bronze alone suffices
    raw, failed = extract(spark, copies, cfg.contract["deaths"], cfg)
    assert list(failed) == ["2026-09-01/b.csv"] and "required column" in failed["2026-09-01/b.csv"]
    assert sorted((r.report_id, r.person_id, r._file) for r in raw.collect()) == [
        ("R1", P1, "2026-09-01/a.csv"), ("R2", None, "2026-09-01/a.csv")]


def test_typed_rows_add_the_reasons_and_the_pipelines_checks(spark, cfg, tmp_path):
    spec = cfg.contract["deaths"]
    copies, _ = to_bronze(spark, [landing_file(tmp_path, "a.csv", HEADER + (
        f"R1,{P1},2026-07-20\nR2,{P2},2026-02-30\nR3,{P2},2026-07-21\n").encode())], str(tmp_path / "wh"))
    raw, _ = extract(spark, copies, spec, cfg)

    def flag_r3(df):                       # a row check handed in by the pipeline
        return df.withColumn("_reasons", F.when(F.col("report_id") == "R3", F.array(F.lit("UNKNOWN_WARNING")))
                             .otherwise(F.col("_reasons")))
    attempt = Attempt(cfg, str(tmp_path / "wh"), D, "run-1", dt.datetime(2026, 10, 15, 3), flag_r3)
    typed = typed_rows(raw, spec, attempt, shared_keys(raw, spec, D))
    got = {r.report_id: (r.death_date, r._reasons, r._raw is not None, r._run_id) for r in typed.collect()}
    assert got == {"R1": (dt.date(2026, 7, 20), [], False, "run-1"),
                   "R2": (None, ["BAD_DATE"], True, "run-1"),
                   "R3": (dt.date(2026, 7, 21), ["UNKNOWN_WARNING"], True, "run-1")}   # raw kept: quarantined


def test_quarantine_replaces_by_file_and_the_ingest_log_appends(spark, tmp_path):
    wh = str(tmp_path / "wh")
    when = dt.datetime(2026, 10, 15, 3)

    def part(file: str, n: int):
        return spark.createDataFrame(
            [("deaths", "b1", file, ["BAD_DATE"], json.dumps({"report_id": f"R{i}"}), "r", when) for i in range(n)],
            "source string, batch string, file string, reasons array<string>, raw string, run_id string, "
            "ingested_at timestamp")
    write_quarantine(spark, wh, [part("b1/a.csv", 2), part("b1/b.csv", 1)], [("deaths", "b1/a.csv"), ("deaths", "b1/b.csv")])
    # a rerun of a.csv only: its rows are replaced, b.csv's stay; a file with none loses its rows
    write_quarantine(spark, wh, [part("b1/a.csv", 1)], [("deaths", "b1/a.csv"), ("deaths", "b1/c.csv")])
    q = tables.read_delta(spark, tables.table_path(wh, *tables.QUARANTINE))
    assert sorted((r.file, r.raw) for r in q.collect()) == [
        ("b1/a.csv", '{"report_id": "R0"}'), ("b1/b.csv", '{"report_id": "R0"}')]

    row = {"source": "deaths", "batch": "b1", "file": "b1/a.csv", "rows_read": 3, "rows_loaded": 2,
           "rows_quarantined": 1, "status": "LOADED", "error": None, "run_id": "r", "logged_at": when,
           "size": 120, "sha256": "ab" * 32}
    append_ingest_log(spark, wh, [tuple(row[c] for c in INGEST_LOG_COLUMNS)])
    append_ingest_log(spark, wh, [tuple({**row, "run_id": "r2"}[c] for c in INGEST_LOG_COLUMNS)])
    log = tables.read_delta(spark, tables.table_path(wh, *tables.INGEST_LOG)).collect()
    assert sorted(r.run_id for r in log) == ["r", "r2"] and {r.size for r in log} == {120}
