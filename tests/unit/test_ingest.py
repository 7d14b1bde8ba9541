"""Ingest: landing zone -> bronze -> silver, quarantine and ingest log, on hand-made files."""
from __future__ import annotations

import datetime as dt
import gzip
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from jobs import tables
from jobs.errors import UnreadableFile
from jobs.ingest.bronze import bronze_file_path
from jobs.ingest.job import ingest, job_group
from jobs.ingest.keys import shared_keys, with_raw_where_needed, with_resolved_keys, with_shared_flag
from jobs.ingest.landing import LandingFile, detect_encoding, discover, map_header, read_landing_file
from jobs.ingest.load import loaded_files
from jobs.spark.workarounds import with_own_properties

D = dt.date(2026, 10, 15)
P1 = "11010519491231002X"        # valid 18-digit IDs (GB 11643 examples / id_vectors)
P2 = "610104196209276908"
P3 = "440308199901101512"
P2_OLD = "610104620927690"        # P2 as a 15-digit pre-1999 number


def write_csv(path: Path, lines: list[str], encoding: str = "utf-8", bom: bool = False, gz: bool = False):
    path.parent.mkdir(parents=True, exist_ok=True)
    data = ("\n".join(lines) + "\n").encode(encoding)
    if bom:
        data = b"\xef\xbb\xbf" + data
    path.write_bytes(gzip.compress(data) if gz else data)


def silver(spark, wh, source):
    return tables.read_delta(spark, tables.silver_path(str(wh), source))


def ingest_log(spark, wh):
    return tables.read_delta(spark, tables.table_path(str(wh), *tables.INGEST_LOG))


def quarantine(spark, wh):
    return tables.read_delta(spark, tables.table_path(str(wh), *tables.QUARANTINE))


# ---------------------------------------------------------------------------------
# Pure pieces
# ---------------------------------------------------------------------------------
def test_detect_encoding_per_file():
    text = "身份证号,姓名\n"
    assert detect_encoding(text.encode("utf-8")) == "UTF-8"
    assert detect_encoding(b"\xef\xbb\xbf" + text.encode("utf-8")) == "UTF-8"
    assert detect_encoding(text.encode("gb18030")) == "GB18030"
    # a multi-byte character cut by the sniff window is still UTF-8
    assert detect_encoding(text.encode("utf-8")[:4]) == "UTF-8"
    with pytest.raises(UnreadableFile):
        detect_encoding(b"PK\x03\x04\x00\x00binary")


def test_map_header_aliases_any_case_and_order(cfg):
    spec = cfg.contract["deaths"]
    assert map_header([" 死亡日期 ", "REPORT_ID", "身份证号", "extra"], spec) == \
        ["death_date", "report_id", "person_id", None]
    with pytest.raises(UnreadableFile, match="death_date"):
        map_header(["report_id", "person_id"], spec)
    with pytest.raises(UnreadableFile, match="twice"):
        map_header(["report_id", "person_id", "身份证号", "death_date"], spec)


# ---------------------------------------------------------------------------------
# A small landing zone with every file form
# ---------------------------------------------------------------------------------
@pytest.fixture
def zone(tmp_path, spark):
    landing, wh = tmp_path / "landing", tmp_path / "wh"
    b1 = landing / "deaths" / "2026-09-01"
    # canonical header, plain UTF-8, dirty IDs that normalise, a bad date, a missing ID
    write_csv(b1 / "a.csv", [
        "report_id,person_id,name,death_date,cause_code",
        f"R1,{P1.lower()},张三,2026-07-20,I21",
        f"R2,{P2_OLD},李四,2026/07/21,",
        f"R3,{P3},王五,2026-02-30,C34",          # impossible date -> BAD_DATE
        "R4,,赵六,20260722,",                     # missing required ID
        "R5,440308199901101513,x,2026-07-01,",    # bad check digit -> INVALID_ID
    ])
    # Chinese headers in another order, GB18030, exact duplicate and a key conflict
    write_csv(b1 / "b.csv", [
        "死亡日期,身份证号,报告卡编号,姓名,根本死因编码",
        f"20260801,{P3},R6,王五,X59",
        f"20260801,{P3},R6,王五,X59",
        f"20260802,{P1},R7,张三,A00",
        f"20260803,{P2},R7,李四,A00",
    ], encoding="gb18030")
    # UTF-8 with BOM, gzip
    write_csv(b1 / "c.csv.gz", ["report_id,person_id,death_date", f"R8,{P2},2026-08-05"], bom=True, gz=True)
    # parquet with native types, and one with strings
    spark.createDataFrame([("R9", P1, dt.date(2026, 8, 9), "I10")],
                          "report_id string, person_id string, death_date date, cause_code string") \
        .coalesce(1).write.parquet(str(b1 / "d.parquet.tmp"))
    part = next((b1 / "d.parquet.tmp").glob("part-*.parquet"))
    part.rename(b1 / "d.parquet")
    spark.createDataFrame([("R10", P3, "20260810", "")], "`报告卡编号` string, `身份证号` string, `死亡日期` string, cause_code string") \
        .coalesce(1).write.parquet(str(b1 / "e.parquet.tmp"))
    next((b1 / "e.parquet.tmp").glob("part-*.parquet")).rename(b1 / "e.parquet")
    for tmp in b1.glob("*.tmp"):
        for f in tmp.iterdir():
            f.unlink()
        tmp.rmdir()
    # unknown source and a generator truth folder: not sources
    write_csv(landing / "weather" / "2026-09-01" / "w.csv", ["x", "1"])
    write_csv(landing / "_truth" / "expected.csv", ["kind", "POSITIVE"])
    return landing, wh


def test_every_file_form_loads_to_silver(spark, cfg, zone, run_id):
    landing, wh = zone
    result = ingest(spark, cfg, str(landing), str(wh), D, run_id)
    assert result.unknown_sources == ["weather"]
    r = result.sources["deaths"]
    assert r.files_failed == {}
    assert sorted(r.files_loaded) == ["2026-09-01/a.csv", "2026-09-01/b.csv", "2026-09-01/c.csv.gz",
                                      "2026-09-01/d.parquet", "2026-09-01/e.parquet"]

    got = silver(spark, wh, "deaths").select("report_id", "person_id", "name", "death_date", "cause_code")
    schema = "report_id string, person_id string, name string, death_date date, cause_code string"
    expected = spark.createDataFrame([
        ("R1", P1, "张三", dt.date(2026, 7, 20), "I21"),
        ("R2", P2, "李四", dt.date(2026, 7, 21), None),
        ("R6", P3, "王五", dt.date(2026, 8, 1), "X59"),
        ("R8", P2, None, dt.date(2026, 8, 5), None),
        ("R9", P1, None, dt.date(2026, 8, 9), "I10"),
        ("R10", P3, None, dt.date(2026, 8, 10), None),
    ], schema)
    assert_df_equality(got, expected, ignore_row_order=True, ignore_nullable=True)

    q = {(row.file, json.loads(row.raw)["report_id"]): sorted(row.reasons)
         for row in quarantine(spark, wh).collect()}
    assert q == {
        ("2026-09-01/a.csv", "R3"): ["BAD_DATE"],
        ("2026-09-01/a.csv", "R4"): ["MISSING_REQUIRED"],
        ("2026-09-01/a.csv", "R5"): ["INVALID_ID"],
        ("2026-09-01/b.csv", "R7"): ["KEY_CONFLICT"],
    }
    # both conflicting R7 rows are quarantined (the dict above keys them once)
    assert quarantine(spark, wh).filter("array_contains(reasons, 'KEY_CONFLICT')").count() == 2

    log = {row.file: row for row in ingest_log(spark, wh).collect()}
    assert {f: (x.rows_read, x.rows_loaded, x.rows_quarantined, x.status) for f, x in log.items()} == {
        "2026-09-01/a.csv": (5, 2, 3, "LOADED"),
        "2026-09-01/b.csv": (4, 2, 2, "LOADED"),
        "2026-09-01/c.csv.gz": (1, 1, 0, "LOADED"),
        "2026-09-01/d.parquet": (1, 1, 0, "LOADED"),
        "2026-09-01/e.parquet": (1, 1, 0, "LOADED"),
    }
    # bronze keeps every file as it arrived, byte for byte, with its size and SHA-256 logged
    import hashlib
    for name in ("a.csv", "b.csv", "c.csv.gz", "d.parquet", "e.parquet"):
        arrived = (landing / "deaths" / "2026-09-01" / name).read_bytes()
        kept = (wh / "bronze" / "deaths" / "2026-09-01" / name).read_bytes()
        assert kept == arrived, name
        row = log[f"2026-09-01/{name}"]
        assert (row.size, row.sha256) == (len(arrived), hashlib.sha256(arrived).hexdigest())
    assert not [p for p in (wh / "bronze").rglob("*") if p.name.startswith(".")]   # no .crc, no partial copies
    # ... and its rows read again from bronze alone are the rows that were read
    f = LandingFile("deaths", "2026-09-01", "a.csv", bronze_file_path(str(wh), LandingFile("deaths", "2026-09-01", "a.csv", "")))
    again = read_landing_file(spark, f, cfg.contract["deaths"], cfg.ingest)
    assert again.count() == 5 and again.filter("report_id = 'R2'").first().person_id == P2_OLD


def test_rerun_loads_nothing_twice_and_new_batch_is_incremental(spark, cfg, zone, run_id):
    landing, wh = zone
    ingest(spark, cfg, str(landing), str(wh), D, run_id)
    v_before = spark.sql(f"DESCRIBE HISTORY delta.`{tables.silver_path(str(wh), 'deaths')}`").count()
    again = ingest(spark, cfg, str(landing), str(wh), D, "run-2")
    assert again.sources == {} and again.files_skipped == 5
    assert silver(spark, wh, "deaths").count() == 6
    assert len(list((wh / "bronze" / "deaths").rglob("*.*"))) == 5

    # a later batch corrects R1 (new death date) and adds R11; R2 stays as it was
    write_csv(landing / "deaths" / "2026-10-01" / "a.csv", [
        "report_id,person_id,death_date", f"R1,{P1},2026-07-19", f"R11,{P3},2026-09-30"])
    third = ingest(spark, cfg, str(landing), str(wh), D, "run-3")
    assert list(third.sources["deaths"].files_loaded) == ["2026-10-01/a.csv"]
    s = {r.report_id: r for r in silver(spark, wh, "deaths").collect()}
    assert s["R1"].death_date == dt.date(2026, 7, 19) and s["R1"]._batch == "2026-10-01"
    assert s["R1"]._run_id == "run-3" and s["R2"]._run_id == run_id
    assert s["R11"].death_date == dt.date(2026, 9, 30)
    assert len(s) == 7
    # incremental: one MERGE commit, not a rewrite
    history = spark.sql(f"DESCRIBE HISTORY delta.`{tables.silver_path(str(wh), 'deaths')}`")
    assert history.count() == v_before + 1
    assert history.orderBy(F.col("version").desc()).first().operation == "MERGE"


def test_latest_batch_wins_even_when_loaded_together(spark, cfg, tmp_path, run_id):
    landing, wh = tmp_path / "l", tmp_path / "w"
    write_csv(landing / "prison" / "2026-01-01" / "p.csv",
              ["record_id,person_id,admission_date,release_date", f"X1,{P1},2020-01-01,"])
    write_csv(landing / "prison" / "2026-02-01" / "p.csv",
              ["record_id,person_id,admission_date,release_date", f"X1,{P1},2020-01-01,2026-01-31"])
    # an invalid correction never replaces a valid row
    write_csv(landing / "prison" / "2026-03-01" / "p.csv",
              ["record_id,person_id,admission_date,release_date", f"X1,{P1},2020-13-01,2026-02-28"])
    ingest(spark, cfg, str(landing), str(wh), D, run_id)
    rows = silver(spark, wh, "prison").collect()
    assert [(r.record_id, r.release_date, r._batch) for r in rows] == [("X1", dt.date(2026, 1, 31), "2026-02-01")]


def test_sources_loaded_side_by_side_label_their_own_jobs(spark, cfg, tmp_path, run_id):
    """Each source's Spark jobs are in its own job group, whichever thread ran them, and
    the caller's own group is left as it was."""
    landing, wh = tmp_path / "l", tmp_path / "w"
    write_csv(landing / "prison" / "2026-01-01" / "p.csv",
              ["record_id,person_id,admission_date,release_date", f"X1,{P1},2020-01-01,"])
    write_csv(landing / "deaths" / "2026-01-01" / "d.csv",
              ["report_id,person_id,death_date", f"R1,{P2},2026-07-20"])
    sc = spark.sparkContext
    sc.setJobGroup("caller", "the caller's jobs")
    try:
        ingest(spark, cfg, str(landing), str(wh), D, run_id)
        tracker = sc.statusTracker()
        assert all(tracker.getJobIdsForGroup(job_group(s)) for s in ("prison", "deaths"))
        assert sc.getLocalProperty("spark.jobGroup.id") == "caller"
    finally:
        sc.setJobGroup(None, None)
        sc.setLocalProperty("spark.jobGroup.id", None)


def test_threads_keep_their_own_spark_properties(spark):
    """Two threads started through ``with_own_properties`` each set a job group, wait for
    each other, and still see their own (a shared copy would show the last one set)."""
    barrier = threading.Barrier(2)

    def work(name):
        spark.sparkContext.setJobGroup(name, name)
        barrier.wait(timeout=60)
        return spark.sparkContext.getLocalProperty("spark.jobGroup.id")

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(with_own_properties(spark, work), name) for name in ("a", "b")]
    assert [f.result() for f in futures] == ["a", "b"]


def test_failed_file_is_recorded_and_retried(spark, cfg, tmp_path, run_id):
    landing, wh = tmp_path / "l", tmp_path / "w"
    b = landing / "tax" / "2026-10-01"
    write_csv(b / "ok.csv", ["record_id,person_id,tax_month,income", f"T1,{P1},2026-09,100.50"])
    write_csv(b / "nocol.csv", ["record_id,person_id,income", f"T2,{P1},100"])       # tax_month missing
    full = gzip.compress(("record_id,person_id,tax_month,income\n" +
                          "".join(f"T{i},{P2},2026-09,1.00\n" for i in range(3, 5000))).encode())
    (b / "cut.csv.gz").write_bytes(full[: len(full) // 2])                           # truncated gzip
    result = ingest(spark, cfg, str(landing), str(wh), D, run_id)
    r = result.sources["tax"]
    assert r.files_loaded == ["2026-10-01/ok.csv"]
    assert set(r.files_failed) == {"2026-10-01/nocol.csv", "2026-10-01/cut.csv.gz"}
    assert "tax_month" in r.files_failed["2026-10-01/nocol.csv"]
    assert sorted(result.failed_files) == ["tax/2026-10-01/cut.csv.gz", "tax/2026-10-01/nocol.csv"]
    log = {x.file: x for x in ingest_log(spark, wh).collect()}
    assert log["2026-10-01/nocol.csv"].status == "FAILED" and log["2026-10-01/nocol.csv"].error
    assert [x.income for x in silver(spark, wh, "tax").collect()] == [Decimal("100.50")]
    # a fixed file is picked up by the next run; the loaded one is not read again
    write_csv(b / "nocol.csv", ["record_id,person_id,tax_month,income", f"T2,{P1},2026-08,100"])
    (b / "cut.csv.gz").unlink()
    second = ingest(spark, cfg, str(landing), str(wh), D, "run-2")
    assert second.sources["tax"].files_loaded == ["2026-10-01/nocol.csv"]
    assert ("tax", "2026-10-01/nocol.csv") in loaded_files(spark, str(wh))
    assert silver(spark, wh, "tax").count() == 2


def test_one_text_scan_for_the_run_tells_same_named_files_of_two_sources_apart(spark, cfg, tmp_path, run_id):
    """The run scans all sources' CSV copies in one pass: a file with an unclosed quote
    fails its own source only, not a file of the same batch and name in another source."""
    landing, wh = tmp_path / "l", tmp_path / "w"
    write_csv(landing / "prison" / "2026-10-01" / "x.csv",
              ["record_id,person_id,admission_date,release_date", f'X1,"{P1},2020-01-01,'])
    write_csv(landing / "deaths" / "2026-10-01" / "x.csv",
              ["report_id,person_id,death_date", f'R1,"{P2}",2026-07-20'])
    result = ingest(spark, cfg, str(landing), str(wh), D, run_id)
    assert result.failed_files == ["prison/2026-10-01/x.csv"]
    assert "not valid CSV" in result.sources["prison"].files_failed["2026-10-01/x.csv"]
    assert result.sources["deaths"].files_loaded == ["2026-10-01/x.csv"]
    assert [r.person_id for r in silver(spark, wh, "deaths").collect()] == [P2]


def test_an_unexpected_error_in_the_bronze_step_fails_that_source_alone(spark, cfg, tmp_path, run_id, monkeypatch):
    import jobs.ingest.job as job

    landing, wh = tmp_path / "l", tmp_path / "w"
    write_csv(landing / "prison" / "2026-10-01" / "p.csv",
              ["record_id,person_id,admission_date,release_date", f"X1,{P1},2020-01-01,"])
    write_csv(landing / "deaths" / "2026-10-01" / "d.csv",
              ["report_id,person_id,death_date", f"R1,{P2},2026-07-20"])
    copy = job.copy_to_bronze

    def broken(spark, f, warehouse):
        if f.source == "prison":
            raise RuntimeError("disk on fire")
        return copy(spark, f, warehouse)

    monkeypatch.setattr(job, "copy_to_bronze", broken)
    result = ingest(spark, cfg, str(landing), str(wh), D, run_id)
    assert result.failed_files == ["prison/2026-10-01/p.csv"]
    assert result.sources["prison"].files_failed["2026-10-01/p.csv"].startswith(
        "unexpected error in step bronze: RuntimeError")
    assert [heading for heading, _ in result.errors] == ["source prison, step bronze"]
    assert result.sources["deaths"].files_loaded == ["2026-10-01/d.csv"]
    monkeypatch.undo()
    again = ingest(spark, cfg, str(landing), str(wh), D, "run-2")       # retried by the next run
    assert again.sources["prison"].files_loaded == ["2026-10-01/p.csv"]
    assert silver(spark, wh, "prison").count() == 1


def test_discover_orders_batches_bytewise_and_skips_hidden(spark, cfg, tmp_path):
    landing = tmp_path / "l"
    for batch in ("2026-10-01", "20261001T0300", "_tmp", ".staging"):
        write_csv(landing / "tax" / batch / "x.csv", ["record_id"])
    d = discover(spark, str(landing), cfg.contract)
    assert [f.batch for f in d.files] == ["2026-10-01", "20261001T0300"]
    assert d.unknown_sources == []


def test_with_resolved_keys_flags_conflicts_and_picks_one_row_per_key(spark, cfg):
    """Only rows sharing a key are ranked: a conflict in one batch is quarantined while a
    later batch's row of that key still wins; exact duplicates across files keep one;
    an invalid row (null key) is never the latest."""
    spec = cfg.contract["deaths"]
    rows = [
        # key, batch, file, content, reasons
        ("R1", "b1", "b1/a", "X", []),          # alone
        ("R2", "b1", "b1/a", "X", []),          # conflict in b1 ...
        ("R2", "b1", "b1/a", "Y", []),
        ("R2", "b2", "b2/a", "Z", []),          # ... a later batch wins
        ("R3", "b1", "b1/a", "X", []),          # exact duplicate in two files: one row
        ("R3", "b1", "b1/b", "X", []),
        ("R4", "b2", "b2/a", "X", ["BAD_DATE"]),  # invalid: never the latest
        ("R4", "b1", "b1/a", "X", []),
        (None, "b1", "b1/a", "X", ["MISSING_REQUIRED"]),
    ]
    df = spark.createDataFrame(
        [(k, P1, c, d, b, f, r) for k, b, f, c, r in rows for d in [dt.date(2026, 1, 1)]],
        "report_id string, person_id string, cause_code string, death_date date, _batch string, _file string, "
        "_reasons array<string>")
    for name in spec.column_names:
        if name not in df.columns:
            df = df.withColumn(name, F.lit(None).cast("string"))
    df = df.withColumn("_raw", F.struct("report_id")).withColumn("_extra", F.lit(None).cast("map<string,string>"))
    marked = df.transform(with_shared_flag, shared_keys(df, spec, D), spec).transform(with_raw_where_needed)
    # raw values stay only where the quarantine may need them
    assert {r.report_id for r in marked.filter(F.col("_raw").isNotNull()).collect()} == {"R2", "R3", "R4", None}
    out = marked.transform(with_resolved_keys, spec).select(
        "report_id", "_batch", "_file", "cause_code", "_reasons", "_latest")
    expected = spark.createDataFrame([
        ("R1", "b1", "b1/a", "X", [], True),
        ("R2", "b1", "b1/a", "X", ["KEY_CONFLICT"], False),
        ("R2", "b1", "b1/a", "Y", ["KEY_CONFLICT"], False),
        ("R2", "b2", "b2/a", "Z", [], True),
        ("R3", "b1", "b1/a", "X", [], False),
        ("R3", "b1", "b1/b", "X", [], True),
        ("R4", "b2", "b2/a", "X", ["BAD_DATE"], False),
        ("R4", "b1", "b1/a", "X", [], True),
        (None, "b1", "b1/a", "X", ["MISSING_REQUIRED"], False),
    ], "report_id string, _batch string, _file string, cause_code string, _reasons array<string>, _latest boolean")
    assert_df_equality(out, expected, ignore_row_order=True, ignore_nullable=True)


def test_table_statistics_and_file_size(spark, cfg, tmp_path, run_id):
    """Silver keeps Delta statistics for its key and the column of its year partition; no
    Parquet file holds more than ``ingest.max_records_per_file`` rows."""
    import dataclasses
    landing, wh = tmp_path / "l", tmp_path / "w"
    write_csv(landing / "payments" / "2026-10-01" / "p.csv",
              ["payment_id,person_id,program,county_code,pay_month,amount"]
              + [f"F{i},{P1},DIBAO,532901,2026-0{1 + i % 3},10.00" for i in range(7)] + [",,,,,"])
    small = dataclasses.replace(cfg, ingest=dataclasses.replace(cfg.ingest, max_records_per_file=3))
    ingest(spark, small, str(landing), str(wh), D, run_id)

    def props(path):
        return {r.key: r.value for r in spark.sql(f"SHOW TBLPROPERTIES delta.`{path}`").collect()}

    assert props(tables.silver_path(str(wh), "payments"))["delta.dataSkippingStatsColumns"] == "payment_id,pay_month"
    files = (spark.read.format("delta").load(tables.silver_path(str(wh), "payments"))
             .groupBy(F.input_file_name()).count().collect())
    assert sum(f["count"] for f in files) == 7
    assert len(files) >= 3 and max(f["count"] for f in files) <= 3


def test_a_malformed_record_fails_its_file_and_nothing_else(spark, cfg, tmp_path, run_id):
    """A record with more or fewer fields than the header, or an unclosed quote, is no
    CSV the contract allows: the file is FAILED (retried later), none of its rows loads,
    the other files of the batch load."""
    landing, wh = tmp_path / "l", tmp_path / "w"
    b = landing / "tax" / "2026-10-01"
    write_csv(b / "ok.csv", ["record_id,person_id,tax_month,income", f"T1,{P1},2026-09,100.50"])
    write_csv(b / "extra.csv", ["record_id,person_id,tax_month,income", f"T2,{P1},2026-09,1.00",
                                f"T3,{P2},2026-09,2.00,surplus"])
    write_csv(b / "short.csv", ["record_id,person_id,tax_month,income", f"T4,{P1},2026-09"])
    write_csv(b / "open.csv", ["record_id,person_id,tax_month,income", f'T5,{P1},2026-09,"3.00',
                               f"T6,{P2},2026-09,4.00"])
    result = ingest(spark, cfg, str(landing), str(wh), D, run_id)
    r = result.sources["tax"]
    assert r.files_loaded == ["2026-10-01/ok.csv"]
    assert set(r.files_failed) == {"2026-10-01/extra.csv", "2026-10-01/short.csv", "2026-10-01/open.csv"}
    assert all("not valid CSV" in reason for reason in r.files_failed.values())
    assert [x.record_id for x in silver(spark, wh, "tax").collect()] == ["T1"]
    assert quarantine(spark, wh).count() == 0
    log = {x.file: (x.status, x.rows_read) for x in ingest_log(spark, wh).collect()}
    assert log["2026-10-01/extra.csv"] == ("FAILED", None) and log["2026-10-01/ok.csv"] == ("LOADED", 1)
