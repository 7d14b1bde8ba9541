"""Contract section 1, clause by clause, on files made by hand byte by byte.

- a file with a header and no records (UTF-8 with and without BOM, GB18030, gzipped, no
  final line break; a parquet file with no rows) is LOADED with 0 rows read;
- a 0-byte file (plain or ``.csv.gz``) is FAILED with a reason that says so;
- headers are trimmed of every white space (U+3000 and U+00A0 too), canonical names in
  any case; ``""`` is null like an empty field; a blank line is not a record;
- quoted fields in GB18030 (CRLF line ends, doubled quotes, commas, CR / LF / CRLF inside)
  read as in UTF-8, gzipped or not;
- in a batch folder, ``_``- and ``.``-files are passed over, extensions match in any case,
  and any other file is reported as ignored (not FAILED, not in the ingest log).
"""
from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest
from pyspark.sql import types as T

from jobs import tables
from jobs.ingest.job import ingest

from tests.unit.test_ingest import D, P1, P2, P2_OLD, P3

BATCH = "2026-09-01"
HEADER = b"record_id,person_id,school,stage,academic_year,tuition"
GB_HEADER = "学年,学段,学校名称,身份证号,学籍号,学费"       # Chinese aliases, another order

# name -> bytes; each file's records (record id -> (school, tuition)) are in RECORDS
FILES: dict[str, bytes] = {
    # a header and no records
    "empty_lf.csv": HEADER + b"\n",
    "empty_bom_crlf.csv": b"\xef\xbb\xbf" + HEADER + b"\r\n",
    "empty_no_line_end.csv": HEADER,
    "empty_gb.csv": (GB_HEADER + "\r\n").encode("gb18030"),
    "empty_gz.csv.gz": gzip.compress(HEADER + b"\n"),
    "empty_gb_blank_lines.csv": (GB_HEADER + "\r\n\r\n\r\n").encode("gb18030"),
    # headers padded with U+3000, U+00A0, tabs and spaces; canonical names in any case;
    # `""` and an empty field are null; blank lines between records and at the end
    "padded.csv": ("\u3000RECORD_ID\u00a0,\tPerson_Id , \u00a0学校名称\u3000,Stage,ACADEMIC_year,学费 \n"
                   f"P1,{P1},\"\",JUNIOR,2026-2027,\n"
                   "\n"
                   f"P2,{P2},,JUNIOR,2026-2027,\"\"\n"
                   "\n\n").encode("utf-8"),
    # CRLF, a blank line right after the header and at the end; last record without line end
    "blank_crlf.csv": (b"\xef\xbb\xbf" + HEADER + b"\r\n\r\n"
                       + f"B1,{P3},x,JUNIOR,2026-2027,1.50\r\n\r\n".encode()
                       + f"B2,{P1},y,JUNIOR,2026-2027,2".encode()),
    # GB18030 with CRLF line ends, shuffled Chinese headers, doubled quotes, commas and
    # CR / LF / CRLF inside quoted fields, a 15-digit ID
    "gb_quotes.csv": (GB_HEADER + "\r\n"
                      + f'2026-2027,初中,"已核实，""按规定""处理",{P1},G1,10\r\n'
                      + f'2026-2027,高中,"大理""一中""\r\n(高中部), 东校区",{P2_OLD},G2,\r\n'
                      + f'2026-2027,JUNIOR,"洱源\r二中\n分校",{P3},G3,3.00\r\n').encode("gb18030"),
    "gb_quotes.csv.gz": gzip.compress((GB_HEADER + "\r\n"
                                       + f'2026-2027,初中,"祥云""县""一中, 北",{P2},Z1,\r\n'
                                       + f'2026-2027,初中,"宾川\r\n二中",{P3},Z2,').encode("gb18030")),
    # extensions in any case
    "UPPER.CSV": HEADER + b"\n" + f"U1,{P1},u,SENIOR,2026-2027,\n".encode(),
    "Mixed.Csv.GZ": gzip.compress(HEADER + b"\n" + f"U2,{P2},m,SENIOR,2026-2027,\n".encode()),
    # 0 bytes: no header
    "zero.csv": b"",
    "zero.csv.gz": b"",
    # passed over without a word
    "_SUCCESS": b"",
    ".UPPER.CSV.crc": b"\x00\x01",
    "._editor_tmp.csv": b"garbage",
    # reported as ignored
    "readme.txt": "说明：本批次为学籍数据。\n".encode("utf-8"),
    "学籍.xlsx": b"PK\x03\x04 not really a workbook",
}
RECORDS = {
    "padded.csv": {"P1": (None, None), "P2": (None, None)},
    "blank_crlf.csv": {"B1": ("x", "1.50"), "B2": ("y", "2.00")},
    "gb_quotes.csv": {"G1": ('已核实，"按规定"处理', "10.00"),
                      "G2": ('大理"一中"\n(高中部), 东校区', None),
                      "G3": ("洱源\n二中\n分校", "3.00")},
    "gb_quotes.csv.gz": {"Z1": ('祥云"县"一中, 北', None), "Z2": ("宾川\n二中", None)},
    "UPPER.CSV": {"U1": ("u", None)},
    "Mixed.Csv.GZ": {"U2": ("m", None)},
}
EMPTY = ["empty_lf.csv", "empty_bom_crlf.csv", "empty_no_line_end.csv", "empty_gb.csv", "empty_gz.csv.gz",
         "empty_gb_blank_lines.csv", "empty.parquet"]
ZERO_BYTES = ["zero.csv", "zero.csv.gz"]
IGNORED = ["readme.txt", "学籍.xlsx"]

# the township's feedback of the issue that found the bug: GB18030, CRLF, Chinese headers
# in another order, a remark with doubled quotes, an outcome in another case
FEEDBACK = ("核查结论,预警编号,核查说明,反馈编号,核查日期,核查人\r\n"
            'Confirmed,W1,"已核实，""按规定""处理",F1,2026-10-02,李四\r\n'
            "dismissed,W2,,F2,2026-10-02,李四\r\n"
            "属实,W3,\"多行\r\n说明\",F3,,\r\n").encode("gb18030")


# GB18030 whose first 64 KB (the bytes that decide the encoding) are plain ASCII: English
# headers, codes and empty names, the first Chinese name far down the file
LATE_CHINESE = ("report_id,person_id,name,death_date\r\n"
                + "".join(f"D{i:05d},{P1},,2026-08-01\r\n" for i in range(2000))
                + f"D99999,{P2},段誉,2026-08-02\r\n").encode("gb18030")


@pytest.fixture(scope="module")
def loaded(spark, cfg, tmp_path_factory):
    base = tmp_path_factory.mktemp("clauses")
    landing, wh = base / "landing", base / "wh"
    folder = landing / "education" / BATCH
    folder.mkdir(parents=True)
    for name, data in FILES.items():
        (folder / name).write_bytes(data)
    schema = T.StructType([T.StructField(c, T.StringType()) for c in HEADER.decode().split(",")])
    spark.createDataFrame([], schema).coalesce(1).write.parquet(str(base / "p"))
    shutil.copy(next((base / "p").glob("part-*.parquet")), folder / "empty.parquet")
    (landing / "deaths" / BATCH).mkdir(parents=True)
    (landing / "deaths" / BATCH / "late_chinese.csv").write_bytes(LATE_CHINESE)
    (landing / "feedback" / "20261001T0300").mkdir(parents=True)
    (landing / "feedback" / "20261001T0300" / "线下核查结果.csv").write_bytes(FEEDBACK)
    result = ingest(spark, cfg, str(landing), str(wh), D, "clauses-run")
    log = {r.file.split("/", 1)[1]: r for r in
           tables.read_delta(spark, tables.table_path(str(wh), *tables.INGEST_LOG)).collect()
           if r.source == "education"}
    return wh, result, log


def test_a_header_and_no_records_is_loaded_with_zero_rows(loaded):
    _, _, log = loaded
    for name in EMPTY:
        r = log[name]
        assert (r.status, r.rows_read, r.rows_loaded, r.rows_quarantined) == ("LOADED", 0, 0, 0), name


def test_a_zero_byte_file_is_failed_and_says_so(loaded):
    _, result, log = loaded
    for name in ZERO_BYTES:
        assert log[name].status == "FAILED", name
        assert "empty file" in log[name].error, name
        assert f"education/{BATCH}/{name}" in result.failed_files


def test_every_record_reads_right_and_is_counted_once(spark, loaded):
    wh, _, log = loaded
    rows = {r.record_id: (r.school, None if r.tuition is None else f"{r.tuition:.2f}")
            for r in tables.read_delta(spark, tables.silver_path(str(wh), "education")).collect()}
    want = {k: v for records in RECORDS.values() for k, v in records.items()}
    assert rows == want
    for name, records in RECORDS.items():
        r = log[name]
        assert (r.status, r.rows_read, r.rows_loaded) == ("LOADED", len(records), len(records)), name
    ids = {r.record_id: r.person_id
           for r in tables.read_delta(spark, tables.silver_path(str(wh), "education")).collect()}
    assert ids["G2"] == P2                       # the 15-digit ID, normalised


def test_other_files_are_reported_as_ignored_not_failed(loaded):
    _, result, log = loaded
    assert sorted(result.ignored_files) == sorted(f"education/{BATCH}/{n}" for n in IGNORED)
    expected_in_log = set(EMPTY) | set(ZERO_BYTES) | set(RECORDS)
    assert set(log) == expected_in_log        # no _/. file, no ignored file, nothing else
    assert sorted(result.failed_files) == sorted(f"education/{BATCH}/{n}" for n in ZERO_BYTES)


def test_gb18030_feedback_with_doubled_quotes_loads(spark, loaded):
    wh, result, _ = loaded
    assert result.sources["feedback"].files_failed == {}
    rows = {r.feedback_id: (r.warning_id, r.outcome, r.note)
            for r in tables.read_delta(spark, tables.silver_path(str(wh), "feedback")).collect()}
    assert rows == {"F1": ("W1", "CONFIRMED", '已核实，"按规定"处理'),
                    "F2": ("W2", "DISMISSED", None),
                    "F3": ("W3", "CONFIRMED", "多行\n说明")}


def test_gb18030_is_known_by_the_whole_file_not_its_first_bytes(spark, cfg, loaded):
    assert len(LATE_CHINESE.split("段誉".encode("gb18030"))[0]) > cfg.ingest.sniff_bytes
    wh, result, _ = loaded
    assert result.sources["deaths"].files_failed == {}
    assert result.sources["deaths"].rows_read == 2001
    names = {r.report_id: r.name for r in tables.read_delta(spark, tables.silver_path(str(wh), "deaths"))
             .filter("name IS NOT NULL").collect()}
    assert names == {"D99999": "段誉"}
