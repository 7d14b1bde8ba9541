"""CSV files as RFC 4180 (contract section 1) writes them, made by hand byte by byte.

A quoted field may hold commas, doubled quotes and line breaks (CR, LF or CRLF); lines
end in LF or CRLF; the last line may have no line end; UTF-8 (BOM optional) or GB18030,
gzip or not. Every record is one row (``rows_read`` counts records, not lines), and a
text value's inner line breaks read as LF whatever the file wrote.
"""
from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from jobs import tables
from jobs.ingest.job import ingest
from jobs.errors import UnreadableFile
from jobs.ingest.landing import LandingFile, detect_encoding, header_line_end, parse_header, read_landing_file

from tests.unit.test_ingest import D, P1, P2, P2_OLD, P3

BATCH = "2026-09-01"


def put(landing: Path, name: str, data: bytes, source: str = "education") -> None:
    path = landing / source / BATCH / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


# (file name, bytes, {record_id: school as it must read}); each file has 2 or 3 records
FILES = [
    # lines end in LF; an LF inside a quoted field
    ("lf.csv",
     b'record_id,person_id,school,stage,academic_year\n'
     b'E1,' + P1.encode() + b',"\xe7\xac\xac\xe4\xb8\x80\xe4\xb8\xad\xe5\xad\xa6\n(\xe5\x88\x9d\xe4\xb8\xad\xe9\x83\xa8)",JUNIOR,2026-2027\n'
     b'E2,' + P2.encode() + b',plain,SENIOR,2026-2027\n',
     {"E1": "第一中学\n(初中部)", "E2": "plain"}),
    # lines end in CRLF, with a BOM; a CRLF inside a quoted field, and a comma
    ("crlf.csv",
     b'\xef\xbb\xbfrecord_id,person_id,school,stage,academic_year\r\n'
     b'E3,' + P1.encode() + b',"North\r\nCampus, B",JUNIOR,2026-2027\r\n'
     b'E4,' + P3.encode() + b',"x",SENIOR,2026-2027\r\n',
     {"E3": "North\nCampus, B", "E4": "x"}),
    # lines end in LF, a CRLF inside (what a Windows tool pasted into a Unix export)
    ("lf_with_crlf.csv",
     b'record_id,person_id,school,stage,academic_year\n'
     b'E5,' + P2.encode() + b',"A\r\nB",JUNIOR,2026-2027\n',
     {"E5": "A\nB"}),
    # lines end in CRLF, a lone CR and an LF inside; the last line has no line end
    ("crlf_lone_cr.csv",
     b'record_id,person_id,school,stage,academic_year\r\n'
     b'E6,' + P3.encode() + b',"C\rD",JUNIOR,2026-2027\r\n'
     b'E7,' + P1.encode() + b',"E\nF",JUNIOR,2026-2027',
     {"E6": "C\nD", "E7": "E\nF"}),
    # doubled quotes, a quoted empty string (null), a backslash that escapes nothing
    ("quotes.csv",
     b'record_id,person_id,school,stage,academic_year\n'
     b'E8,' + P2.encode() + b',"say ""hi"", then go",JUNIOR,2026-2027\n'
     b'E9,' + P3.encode() + b',"",JUNIOR,2026-2027\n'
     b'E10,' + P1.encode() + b',"back\\slash\\",JUNIOR,2026-2027\n',
     {"E8": 'say "hi", then go', "E9": None, "E10": "back\\slash\\"}),
    # GB18030, Chinese headers in another order, a quoted header holding a comma (an
    # extra column), a 15-digit ID, gzip, a line break inside a Chinese name
    ("gb.csv.gz",
     gzip.compress(('学段,学籍号,"备注,说明",身份证号,学校名称,学年\r\n'
                    f'SENIOR,E11,"无",{P2_OLD},"大理一中\r\n(高中部)",2026-2027\r\n'
                    f'高中,E12,,{P1},"洱源\n二中",2026-2027\r\n').encode("gb18030")),
     {"E11": "大理一中\n(高中部)", "E12": "洱源\n二中"}),
    # found by test_csv_differential.py (Spark detected the line end itself; the reader now
    # names it, workarounds.csv_line_separator):
    # a quoted header name holding a CRLF, lines ending in LF: read as one header record,
    # the records were lost (LOADED with 0 rows)
    ("header_crlf_in_lf.csv",
     b'record_id,person_id,school,stage,academic_year,"remark\r\n(free text)"\n'
     b'E13,' + P2.encode() + b',"a\r\nb",JUNIOR,2026-2027,x\n'
     b'E14,' + P3.encode() + b',c,JUNIOR,2026-2027,\n',
     {"E13": "a\nb", "E14": "c"}),
    # a quoted header name holding an LF, lines ending in CRLF, blank lines: every record's
    # last value got a CR and the blank lines became malformed records (FAILED)
    ("header_lf_in_crlf.csv",
     b'"record_id",person_id,school,stage,academic_year,"remark\n(free text)"\r\n\r\n'
     b'E15,' + P1.encode() + b',d,JUNIOR,2026-2027,y\r\n\r\n'
     b'E16,' + P2.encode() + b',"e\nf",JUNIOR,2026-2027,\r\n',
     {"E15": "d", "E16": "e\nf"}),
    # a CR then a CRLF inside a quoted value (GB18030, lines ending in CRLF): two line
    # breaks, read as one
    ("cr_crlf.csv",
     ("学籍号,身份证号,学校名称,学段,学年\r\n"
      f'E17,{P3},"第一\r\r\n第二",初中,2026-2027\r\n').encode("gb18030"),
     {"E17": "第一\n\n第二"}),
]
IDS = {"E1": P1, "E2": P2, "E3": P1, "E4": P3, "E5": P2, "E6": P3, "E7": P1, "E8": P2, "E9": P3,
       "E10": P1, "E11": P2, "E12": P1, "E13": P2, "E14": P3, "E15": P1, "E16": P2, "E17": P3}


@pytest.fixture(scope="module")
def loaded(spark, cfg, tmp_path_factory):
    base = tmp_path_factory.mktemp("rfc4180")
    landing, wh = base / "landing", base / "wh"
    for name, data, _ in FILES:
        put(landing, name, data)
    result = ingest(spark, cfg, str(landing), str(wh), D, "rfc-run")
    return wh, result


def test_every_record_is_one_row_with_its_line_breaks(spark, loaded):
    wh, result = loaded
    assert result.sources["education"].files_failed == {}
    rows = tables.read_delta(spark, tables.silver_path(str(wh), "education")).collect()
    got = {r.record_id: r.school for r in rows}
    want = {k: v for _, _, expected in FILES for k, v in expected.items()}
    assert got == want
    assert {r.record_id: r.person_id for r in rows} == IDS
    assert {r.record_id: r.stage for r in rows if r.record_id in ("E11", "E12")} == {"E11": "SENIOR", "E12": "SENIOR"}
    assert tables.read_delta(spark, tables.table_path(str(wh), *tables.QUARANTINE)).count() == 0


def test_rows_read_counts_records_not_lines(spark, loaded):
    wh, _ = loaded
    log = {r.file.split("/")[-1]: (r.rows_read, r.rows_loaded, r.rows_quarantined, r.status)
           for r in tables.read_delta(spark, tables.table_path(str(wh), *tables.INGEST_LOG)).collect()}
    assert log == {name: (len(expected), len(expected), 0, "LOADED") for name, _, expected in FILES}


def test_extra_quoted_column_is_kept_in_bronze(spark, cfg, loaded):
    """Bronze keeps the file as it arrived, the extra column with it: read again from
    bronze, the rows carry it."""
    wh, _ = loaded
    name = "gb.csv.gz"
    copy = wh / "bronze" / "education" / BATCH / name
    assert copy.read_bytes() == dict((n, d) for n, d, _ in FILES)[name]
    rows = read_landing_file(spark, LandingFile("education", BATCH, name, str(copy), copy.stat().st_size),
                             cfg.contract["education"], cfg.ingest).collect()
    assert {r.record_id: r._extra for r in rows} == {"E11": {"备注,说明": "无"}, "E12": {"备注,说明": None}}


def test_a_quoted_header_holds_a_line_break_and_a_comma():
    head = '"record_id",person_id,"school\nname","a,b"\r\nE1,x,y,z\r\n'.encode("utf-8")
    assert parse_header(head, "UTF-8") == ["record_id", "person_id", "school\nname", "a,b"]
    # a header cut by the sniff window is an error, not a wrong header
    with pytest.raises(UnreadableFile, match="header"):
        parse_header(b'record_id,"school', "UTF-8", whole_file=False)


@pytest.mark.parametrize("head, line_end", [
    (b"a,b\nx,y\r\n", "\n"),
    (b"\xef\xbb\xbfa,b\r\nx,y\n", "\r\n"),
    (b'"a\r\nb","c\nd""e"\n', "\n"),                 # breaks inside quoted names passed over
    ('"备注\n说明",学年\r\n'.encode("gb18030"), "\r\n"),
    (b"a,b\rx,y", "\r"),
    (b"a,b", None),                                     # no complete header line
    (b'"a\r\n', None),
])
def test_the_line_end_is_the_header_records(head, line_end):
    assert header_line_end(head, detect_encoding(head)) == line_end


@pytest.mark.parametrize("data, name", [
    ("身份证号,姓名\n".encode("utf-16"), "UTF-16"),
    ("身份证号,姓名\n".encode("utf-16-le"), "UTF-16"),
    ("身份证号,姓名\n".encode("utf-32"), "UTF-32"),
])
def test_utf16_and_utf32_are_named(data, name):
    with pytest.raises(UnreadableFile, match=name):
        detect_encoding(data)
