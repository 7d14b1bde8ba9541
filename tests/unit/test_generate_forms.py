"""jobs/generate/forms.py on hand-made files: a re-dressed file keeps its records; the pass
writes each form, the same bytes from the same seed, and a 0-byte file only on request.
(tests/unit/test_generate.py finds every form in a generated landing zone.)"""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
import os

import pytest

from jobs.generate.forms import EXTRA_COLUMN, NoTextValue, Written, redress_text, write_forms
from jobs.generate.profiles import FileProfile, load_profiles
from jobs.generate.writer import Files

TEXT = ('record_id,person_id,business_name,reg_date\n'
        'R1,110101199003071234,"大理""苍山"",公司",2020-01-01\n'
        'R2,,"洱海\n客栈",\n'
        'R3,110101199003071234,,2020-01-03\n')


def records(text: str) -> list[list[str]]:
    return [r for r in csv.reader(io.StringIO(text, newline="")) if r]


class Spec:
    """The little a re-dress needs of a source."""

    def __init__(self, columns, key):
        self.columns = {c: None for c in columns}
        self.key = key

    def header_map(self):
        return {c: c for c in self.columns}


SPEC = Spec(["record_id", "person_id", "business_name", "reg_date"], ["record_id"])


def test_a_redressed_file_keeps_its_records():
    for kw in ({"crlf": True, "blank_lines": True, "blank_after_header": True},
               {"no_final_eol": True, "quote_empty": True}, {"pad_headers": True, "quote_empty": True}):
        out = redress_text(TEXT, SPEC, **kw)
        got = records(out)
        assert [h.strip().lower() for h in got[0]] == records(TEXT)[0]
        assert got[1:] == records(TEXT)[1:], kw
    assert redress_text(TEXT, SPEC, crlf=True).count("\r\n") == 4
    assert "\n\n" in redress_text(TEXT, SPEC, blank_lines=True)
    assert not redress_text(TEXT, SPEC, no_final_eol=True).endswith("\n")
    assert ',"",' in redress_text(TEXT, SPEC, quote_empty=True) or ',""\n' in redress_text(TEXT, SPEC, quote_empty=True)
    header = records(redress_text(TEXT, SPEC, pad_headers=True))[0]
    assert header != [h.strip() for h in header]
    assert any(h.strip() == h.strip().upper() != h.strip().lower() for h in header)
    extra = records(redress_text(TEXT, SPEC, extra_column=True))
    assert extra[0][-1] == EXTRA_COLUMN and [r[:-1] for r in extra[1:]] == records(TEXT)[1:]


def test_the_free_text_value_gets_quotes_and_breaks_in_a_row_of_a_unique_key():
    text = TEXT.replace("R3,", "R1,", 1)     # R1 twice: its rows are left alone
    out = records(redress_text(text, SPEC, text_column="business_name"))
    changed = [r for r, o in zip(out[1:], records(text)[1:]) if r != o]
    assert len(changed) == 1 and changed[0][0] == "R2"
    v = changed[0][2]
    assert '"' in v and "," in v and "\r\n" in v and "\n" in v.replace("\r\n", "") and "\r" in v.replace("\r\n", "")
    with pytest.raises(NoTextValue):     # no value to dress: the pass tries another file
        redress_text(text.replace("R2,", "R1,"), SPEC, text_column="business_name")


def _landing(spark, cfg, out):
    files = Files(spark, str(out))
    gb = FileProfile(format="csv", encoding="GB18030")
    written = []
    for source, prof in (("business", gb), ("deaths", FileProfile(format="csv.gz")),
                         ("prison", FileProfile(format="csv", headers="canonical"))):
        spec = cfg.contract[source]
        folder = out / source / "2026-10-15"
        folder.mkdir(parents=True)
        header = ",".join(spec.columns)
        row = ",".join("" for _ in spec.columns)
        name = f"{source}_20261015.{prof.format}"
        body = (header + "\n" + row + "\n" + row + "\n").encode("gb18030" if prof is gb else "utf-8")
        (folder / name).write_bytes(gzip.compress(body, mtime=0) if prof.format == "csv.gz" else body)
        written.append(Written(source, "2026-10-15", name, prof, 1))
    return files, written


def test_the_pass_writes_each_form_and_a_zero_byte_file_only_on_request(spark, cfg, tmp_path):
    profiles = load_profiles(cfg.contract)
    digests = []
    for zero in (False, True, False):
        out = tmp_path / f"l{len(digests)}"
        files, written = _landing(spark, cfg, out)
        done = write_forms(files, written, cfg.contract, profiles, 5, ["2026-10-05", "2026-10-15"],
                           zero_byte_file=zero)
        for form in ("nil_bom", "nil_gb18030", "nil_gz", "nil_parquet", "padded_headers", "quoted_empty",
                     "blank_lines", "no_final_eol", "crlf", "upper_case_extension", "_SUCCESS", "crc",
                     "ignored_file"):
            assert done.get(form), (form, done)
        assert bool(done.get("zero_byte_file")) == zero
        if zero:
            assert os.path.getsize(out / done["zero_byte_file"][0]) == 0
        digests.append({str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
                        for p in sorted(out.rglob("*")) if p.is_file()})
    assert digests[0] == digests[2]
