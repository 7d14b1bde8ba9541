"""Section 1's forms: what real deliveries bring besides rows, written into every landing zone.

After the sources' files are written (:class:`~jobs.generate.writer.Files`), this pass
gives a few of them, chosen from the seed, the forms of contract section 1 that Spark's
CSV writer never produces, and adds the files a batch folder also holds. Every choice is a
function of the seed and of the files written (their order and size), so the same seed
gives the same bytes; the records (and so the truth) stay what they were:

- **header-only files** (a department with nothing to report): ``<source>_<date>_无数据*``
  as UTF-8 with BOM (CRLF), GB18030 with Chinese headers and no final line break,
  gzipped UTF-8 (blank lines after the header) and a parquet file with no rows;
- **a GB18030 file re-dressed** (one with a free-text column, ``text_with_breaks``, alone
  in its batch): CRLF line ends, a blank line after the header, between records and at
  the end, headers padded with white space (U+3000, U+00A0) and canonical names in upper
  or mixed case, some empty fields written ``""``, and one free-text value (of a row whose
  key occurs once) holding doubled quotes, a comma and CRLF, LF and CR line breaks; its
  Hadoop ``.crc`` file is left beside it (local file system; elsewhere an orphan one);
- **a UTF-8 file re-dressed** (canonical headers): padded, upper/mixed-case headers,
  ``""`` fields, an extra column (``备注``, kept in bronze only) and no final line break;
- **a third file re-dressed** (gzipped if one is small enough): blank lines between
  records and at the end, ``""`` fields;
- **upper/mixed-case extensions**: one ``.csv`` file renamed ``.CSV``, one ``.csv.gz``
  renamed ``.Csv.GZ``;
- **files to pass over**: ``_SUCCESS`` (0 bytes) in two batch folders, the ``.crc`` above,
  and one ``readme.txt`` that the run reports as an ignored file;
- optionally (``GenerateSettings.zero_byte_file``, off by default: a 0-byte file is
  FAILED by the contract) a 0-byte ``.csv``.

Only files up to ``MAX_REDRESS_BYTES`` are read and rewritten (on the driver), so the
pass costs seconds at any scale; renames and new files cost nothing.
"""
from __future__ import annotations

import csv
import gzip
import io
import itertools
import logging
import random
from dataclasses import dataclass

from pyspark.sql import types as T

from jobs import fs
from jobs.contract import Contract, SourceSpec
from jobs.generate.profiles import FileProfile, SourceProfile

log = logging.getLogger(__name__)

MAX_REDRESS_BYTES = 16 * 1024 * 1024   # as listed (compressed, for .csv.gz)
NIL = "无数据"                          # header-only files: <source>_<date>_无数据.<ext>
EXTRA_COLUMN = "备注"                   # a column the contract does not know (bronze only)
README = "readme.txt"
# (before, after) each header name is padded with, in turn
PADS = (("\u3000", ""), ("", "\u00a0"), (" ", " "), ("\u00a0", "\u3000"), ("", " "), (" \u3000", ""))


@dataclass(frozen=True)
class Written:
    """One data file the writer produced."""

    source: str
    batch: str
    name: str
    profile: FileProfile
    parts: int                 # files of the same source and batch (1: alone in its batch)

    @property
    def rel(self) -> str:
        return f"{self.source}/{self.batch}/{self.name}"


def write_forms(files, written: list[Written], contract: Contract, profiles: dict[str, SourceProfile],
                seed: int, batches: list[str], zero_byte_file: bool = False) -> dict[str, list[str]]:
    """Give the landing zone section 1's forms (module docstring); returns what was done,
    form -> paths relative to the landing zone (for the log and the tests)."""
    rng = random.Random(f"{seed}:landing-forms")
    spark = files.spark
    done: dict[str, list[str]] = {}

    def note(form: str, rel: str) -> None:
        done.setdefault(form, []).append(rel)

    sources = [s for s in profiles if any(w.source == s for w in written)]
    # header-only files, one of each form, in four sources
    picked = rng.sample(sources, min(4, len(sources)))
    for i, form in enumerate(("nil_bom", "nil_gb18030", "nil_gz", "nil_parquet") if picked else ()):
        source = picked[i % len(picked)]
        batch = rng.choice(batches)
        rel = _header_only(files, contract[source], source, batch, form, rng)
        note(form, rel)

    # re-dressed files (read and rewritten on the driver: small ones only)
    def size(w: Written) -> int:
        return int(files.fs.getFileStatus(files.path(w.rel)).getLen())

    small = [w for w in written if w.profile.format in ("csv", "csv.gz") and size(w) <= MAX_REDRESS_BYTES]
    used: set[str] = set()
    gb = [w for w in small if w.profile.encoding == "GB18030" and w.parts == 1
          and profiles[w.source].text_with_breaks]
    rng.shuffle(gb)
    for i, w in enumerate(gb):     # the first one that has a free-text value to dress (else the first)
        dress = dict(crlf=True, blank_lines=True, blank_after_header=True, pad_headers=True, quote_empty=True,
                     keep_crc=True)
        try:
            crc = _redress(files, w, contract[w.source], text_column=profiles[w.source].text_with_breaks,
                           **dress)
        except NoTextValue:
            if i < len(gb) - 1:
                continue
            w = gb[0]
            crc = _redress(files, w, contract[w.source], **dress)
        else:
            note("quotes_and_breaks", w.rel)
        used.add(w.rel)
        for form in ("gb18030_redressed", "crlf", "blank_lines", "padded_headers", "quoted_empty"):
            note(form, w.rel)
        if crc:
            note("crc", crc)
        break
    canon = [w for w in small if w.rel not in used and w.profile.encoding != "GB18030"
             and w.profile.headers in ("canonical", "mixed")]
    if canon:
        w = rng.choice(canon)
        used.add(w.rel)
        _redress(files, w, contract[w.source], pad_headers=True, quote_empty=True, extra_column=True,
                 no_final_eol=True)
        for form in ("padded_headers", "quoted_empty", "extra_column", "no_final_eol"):
            note(form, w.rel)
    rest = [w for w in small if w.rel not in used]
    third = [w for w in rest if w.profile.format == "csv.gz"] or rest
    if third:
        w = rng.choice(third)
        used.add(w.rel)
        _redress(files, w, contract[w.source], blank_lines=True, quote_empty=True)
        for form in ("blank_lines", "quoted_empty"):
            note(form, w.rel)

    # extensions in upper or mixed case (renames: any size)
    for ending, new in ((".csv.gz", ".Csv.GZ"), (".csv", ".CSV")):
        fmt = ending[1:]
        pick = [w for w in written if w.profile.format == fmt and w.rel not in used] or \
               [w for w in written if w.profile.format == fmt and not _keeps_crc(done, w.rel)]
        if pick:
            w = rng.choice(pick)
            used.add(w.rel)
            rel = f"{w.source}/{w.batch}/{w.name[:-len(ending)]}{new}"
            files.fs.rename(files.path(w.rel), files.path(rel))
            note("upper_case_extension", rel)

    # files a batch folder holds besides data
    folders = sorted({f"{w.source}/{w.batch}" for w in written})
    for folder in rng.sample(folders, min(2, len(folders))):
        fs.write_bytes(spark, str(files.path(f"{folder}/_SUCCESS")), b"")
        note("_SUCCESS", f"{folder}/_SUCCESS")
    if "crc" not in done and written:     # not a checksummed (local) file system: an orphan one
        w = rng.choice(written)
        rel = f"{w.source}/{w.batch}/.part-00000-{rng.getrandbits(32):08x}.csv.crc"
        fs.write_bytes(spark, str(files.path(rel)), b"crc\x00\x00\x00\x02\x00" + rng.randbytes(8))
        note("crc", rel)
    if folders:
        folder = rng.choice(folders)
        text = (f"{folder.split('/')[0]} 数据报送说明\r\n本批次文件由部门数据接口导出，UTF-8 或 GB18030 编码，"
                f"逗号分隔。\r\n如有疑问请联系数据中心。\r\n")
        fs.write_bytes(spark, str(files.path(f"{folder}/{README}")), text.encode("utf-8"))
        note("ignored_file", f"{folder}/{README}")
    if zero_byte_file and written:
        w = rng.choice(written)
        rel = f"{w.source}/{w.batch}/{w.source}_{w.batch.replace('-', '')}_empty.csv"
        fs.write_bytes(spark, str(files.path(rel)), b"")
        note("zero_byte_file", rel)
    for form, rels in sorted(done.items()):
        log.info("landing form %s: %s", form, ", ".join(rels))
    return done


def _keeps_crc(done: dict, rel: str) -> bool:
    return any(c.endswith(f"/.{rel.rsplit('/', 1)[-1]}.crc") for c in done.get("crc", []))


# ---------------------------------------------------------------------------------
# Header-only files
# ---------------------------------------------------------------------------------
def _header_only(files, spec: SourceSpec, source: str, batch: str, form: str, rng: random.Random) -> str:
    stem = f"{source}/{batch}/{source}_{batch.replace('-', '')}_{NIL}"
    canonical = list(spec.columns)
    if form == "nil_parquet":
        rel = f"{stem}.parquet"
        schema = T.StructType([T.StructField(c, T.StringType(), True) for c in canonical])
        _write_empty_parquet(files, schema, rel)
        return rel
    if form == "nil_bom":
        rel, data = f"{stem}.csv", ("\ufeff" + ",".join(canonical) + "\r\n").encode("utf-8")
    elif form == "nil_gb18030":
        names = [spec.columns[c].aliases[0] if spec.columns[c].aliases else c for c in canonical]
        rng.shuffle(names)
        rel, data = f"{stem}_乡镇.csv", ",".join(names).encode("gb18030")     # no final line break
    else:
        rel, data = f"{stem}.csv.gz", gzip.compress((",".join(canonical) + "\n\n\n").encode("utf-8"), mtime=0)
    fs.write_bytes(files.spark, str(files.path(rel)), data)
    return rel


def _write_empty_parquet(files, schema: T.StructType, rel: str) -> None:
    tmp = f"_tmp_generate/forms/{rel}"
    files.spark.createDataFrame([], schema).coalesce(1).write.mode("overwrite").parquet(str(files.path(tmp)))
    parts = sorted(str(st.getPath().getName()) for st in files.fs.listStatus(files.path(tmp))
                   if str(st.getPath().getName()).startswith("part-"))
    if not parts:
        raise RuntimeError("Spark wrote no part file for an empty DataFrame")
    files.fs.rename(files.Path(files.path(tmp), parts[0]), files.path(rel))
    files._drop_crc(files.path(rel))
    files.delete(tmp)


# ---------------------------------------------------------------------------------
# Re-dressing a CSV file: same records, other syntax
# ---------------------------------------------------------------------------------
def _redress(files, w: Written, spec: SourceSpec, *, crlf: bool = False, blank_lines: bool = False,
             blank_after_header: bool = False, pad_headers: bool = False, quote_empty: bool = False,
             extra_column: bool = False, no_final_eol: bool = False, text_column: str | None = None,
             keep_crc: bool = False) -> str | None:
    """Rewrites the file; returns the relative path of its ``.crc`` if one was kept."""
    path = str(files.path(w.rel))
    raw = fs.read_head(files.spark, path, 1 << 40)       # decompressed when .gz
    encoding = "gb18030" if w.profile.encoding == "GB18030" else "utf-8"
    text = raw.decode(encoding)
    bom = text.startswith("\ufeff")
    text = redress_text(text[1:] if bom else text, spec, crlf=crlf, blank_lines=blank_lines,
                        blank_after_header=blank_after_header, pad_headers=pad_headers,
                        quote_empty=quote_empty, extra_column=extra_column, no_final_eol=no_final_eol,
                        text_column=text_column)
    data = (("\ufeff" if bom else "") + text).encode(encoding)
    if w.profile.format == "csv.gz":
        data = gzip.compress(data, mtime=0)
    if keep_crc:      # through the (checksummed, on a local path) file system: Hadoop writes a valid .crc
        stream = files.fs.create(files.path(w.rel), True)
        try:
            stream.write(bytearray(data))
        finally:
            stream.close()
        crc = f"{w.source}/{w.batch}/.{w.name}.crc"
        return crc if files.fs.exists(files.path(crc)) else None
    fs.write_bytes(files.spark, path, data)
    return None


def redress_text(text: str, spec: SourceSpec, *, crlf: bool = False, blank_lines: bool = False,
                 blank_after_header: bool = False, pad_headers: bool = False, quote_empty: bool = False,
                 extra_column: bool = False, no_final_eol: bool = False, text_column: str | None = None) -> str:
    """The same records (RFC 4180 text without BOM) in another dress: every value a reader of
    section 1 gets is unchanged, except one free-text value when ``text_column`` is given
    (:class:`NoTextValue` when there is none to dress)."""
    rows = [r for r in csv.reader(io.StringIO(text, newline="")) if r]
    header, records = rows[0], rows[1:]
    lookup = spec.header_map()
    canon = [lookup.get(h.strip().lower()) for h in header]
    if text_column and not (text_column in canon and _quotes_and_breaks(records, canon, spec, canon.index(text_column))):
        raise NoTextValue(text_column)
    if pad_headers:
        header = [_pad(h, i, spec) for i, h in enumerate(header)]
    if extra_column:
        header = [*header, EXTRA_COLUMN]
        records = [[*r, "已核对" if i % 3 == 2 else ""] for i, r in enumerate(records)]
    eol = "\r\n" if crlf else "\n"
    empties = itertools.count()       # every other empty field (the first one included) as ""
    lines = [_record(header, None)] + [_record(r, empties if quote_empty else None) for r in records]
    step = max(2, len(records) // 3)
    out = []
    for i, line in enumerate(lines):
        out.append(line + eol)
        if blank_lines and 0 < i < len(lines) - 1 and i % step == 0:
            out.append(eol)
        if blank_after_header and i == 0:
            out.append(eol)
    if blank_lines:
        out.append(eol * 2)
    body = "".join(out)
    if no_final_eol and not blank_lines:
        body = body[:-len(eol)]
    return body


def _pad(name: str, i: int, spec: SourceSpec) -> str:
    name = name.strip()
    if name.lower() in spec.columns:       # a canonical name: PERSON_ID, Person_id
        name = name.upper() if i % 2 == 0 else name[:1].upper() + name[1:].lower()
    before, after = PADS[i % len(PADS)]
    return f"{before}{name}{after}"


def _record(fields: list[str], empties) -> str:
    out = []
    for v in fields:
        if v == "":
            out.append('""' if empties is not None and next(empties) % 2 == 0 else "")
        elif any(ch in v for ch in ',"\r\n'):
            out.append('"' + v.replace('"', '""') + '"')
        else:
            out.append(v)
    return ",".join(out)


class NoTextValue(Exception):
    """No value of the free-text column can be dressed (none, or none in a row of a unique key)."""


def _quotes_and_breaks(records: list[list[str]], canon: list[str | None], spec: SourceSpec, col: int) -> bool:
    """One free-text value (of a row whose key occurs once in the file, so that no
    duplicate becomes a key conflict) holding doubled quotes, a comma and CRLF, LF and CR."""
    keys = [i for i, c in enumerate(canon) if c in spec.key]
    if len(keys) != len(spec.key):
        return False

    def key(r):
        return tuple("".join(ch for ch in r[i] if not ch.isspace()).upper() for i in keys)

    seen: dict[tuple, int] = {}
    for r in records:
        seen[key(r)] = seen.get(key(r), 0) + 1
    for r in records:
        if len(r) == len(canon) and r[col].strip() and seen[key(r)] == 1:
            v = r[col].replace("\r\n", " ").replace("\r", " ").replace("\n", " ").replace('"', "")
            r[col] = f'"{v}", 本部\r\n东区\n二楼\r三号'
            return True
    return False
