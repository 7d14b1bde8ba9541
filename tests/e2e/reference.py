"""An independent, plain-Python reading of a landing zone: the test oracle for ingest.

It decodes each file itself (BOM / UTF-8 / GB18030, gzip), maps headers through the
contract's aliases, parses and normalises every value as contract sections 2-4 say,
and resolves keys (exact duplicates collapse, same-key conflicts within a batch are
quarantined, the latest batch wins). Parquet files are read with Spark (no other
parquet reader is installed), as strings. It shares no code with jobs/ingest.

Section 1's landing rules are its own too: folders and files whose names start with `_` or
`.` are passed over, extensions match in any case, any other file is ignored (and listed,
as the run must report it), a blank line is no record, a header-only file has 0 rows,
headers are trimmed of every white space (U+3000, U+00A0 too) and matched in any case.
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import gzip
import io
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

FULL = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789XX")
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"
CODES = {"id": "INVALID_ID", "date": "BAD_DATE", "month": "BAD_MONTH", "decimal": "BAD_NUMBER",
         "int": "BAD_NUMBER", "enum": "BAD_ENUM"}


def norm_id(value: str, d: dt.date) -> str | None:
    s = "".join(ch for ch in value.translate(FULL) if not ch.isspace() and ch not in "\ufeff\u200b").upper()
    if re.fullmatch(r"[0-9]{15}", s):
        body = s[:6] + "19" + s[6:]
    elif re.fullmatch(r"[0-9]{17}[0-9X]", s):
        body = s[:17]
    else:
        return None
    try:
        born = dt.datetime.strptime(body[6:14], "%Y%m%d").date()
    except ValueError:
        return None
    if not dt.date(1900, 1, 1) <= born <= d:
        return None
    check = CHECK[sum(int(c) * w for c, w in zip(body, WEIGHTS)) % 11]
    if len(s) == 18 and s[17] != check:
        return None
    return body + check


def parse(spec, raw: str | None, d: dt.date):
    """(typed value, reason or None) of one raw value."""
    s = None if raw is None else raw.strip().strip("\ufeff\u200b").strip()
    if not s:
        return None, ("MISSING_REQUIRED" if spec.required else None)
    value = None
    if spec.type == "id":
        value = norm_id(raw, d)
        if value is None:
            return None, ("INVALID_ID" if spec.required else None)
        return value, None
    if spec.type == "date":
        m = re.fullmatch(r"(\d{4})([-/]?)(\d{2})\2(\d{2})", s)
        if m:
            try:
                value = dt.date(int(m[1]), int(m[3]), int(m[4]))
            except ValueError:
                value = None
    elif spec.type == "month":
        m = re.fullmatch(r"(\d{4})-?(0[1-9]|1[0-2])", s)
        value = f"{m[1]}-{m[2]}" if m else None
    elif spec.type == "decimal":
        if re.fullmatch(r"\d+(\.\d{1,2})?", s):
            value = Decimal(s).quantize(Decimal("0.01"))
            if spec.max is not None and value > Decimal(str(spec.max)):
                value = None
    elif spec.type == "int":
        if re.fullmatch(r"[+-]?\d+", s):
            value = int(s)
            if (spec.min is not None and value < spec.min) or (spec.max is not None and value > spec.max):
                value = None
    elif spec.type == "enum":
        codes = {c.upper(): c for c in spec.values}
        value = codes.get(s.upper()) or spec.value_aliases.get(s)
    elif spec.type == "string":
        if spec.pattern:
            m = re.fullmatch(r"(\d{4})-(\d{4})", s)
            ok = bool(m) and int(m[2]) == int(m[1]) + 1
            return (s, None) if ok else (None, "BAD_DATE")
        return s.replace("\r\n", "\n").replace("\r", "\n"), None   # inner line breaks as LF
    if value is None:
        return None, CODES[spec.type]
    return value, None


def decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030")


DATA_ENDINGS = (".csv", ".csv.gz", ".parquet")


def landing_files(landing: Path, contract) -> tuple[dict[str, list[tuple[str, Path]]], list[str]]:
    """({source: [(batch, file)] in batch and name order}, ignored "<source>/<batch>/<name>")."""
    files, ignored = {}, []
    for spec in contract.sources.values():
        folder = landing / spec.name
        if not folder.is_dir():
            continue
        found = []
        for batch in sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))):
            for f in sorted((folder / batch).iterdir()):
                if f.is_dir() or f.name.startswith(("_", ".")):
                    continue
                if f.name.lower().endswith(DATA_ENDINGS):
                    found.append((batch, f))
                else:
                    ignored.append(f"{spec.name}/{batch}/{f.name}")
        files[spec.name] = found
    return files, sorted(ignored)


def read_rows(spark, path: Path) -> list[dict[str, str | None]]:
    """A landing file's rows as {header: raw string or None}."""
    if path.name.lower().endswith(".parquet"):
        df = spark.read.parquet(str(path))
        out = []
        for r in df.collect():
            row = {}
            for k, v in r.asDict().items():
                if isinstance(v, dt.date):
                    v = v.isoformat()
                row[k] = None if v is None or str(v) == "" else str(v)
            out.append(row)
        return out
    data = path.read_bytes()
    if path.name.lower().endswith(".gz"):
        data = gzip.decompress(data)
    reader = csv.reader(io.StringIO(decode(data), newline=""))
    header = [h.strip() for h in next(reader)]     # str.strip: U+3000 and U+00A0 too
    return [{h: (v if v != "" else None) for h, v in zip(header, rec)} for rec in reader if rec]


def expected_tables(spark, landing: Path, contract, d: dt.date):
    """(silver rows per source keyed by key tuple, quarantine reasons per (source, file) as
    sorted lists, rows read per (source, file))."""
    silver, quarantine, read = {}, defaultdict(list), {}
    files, _ = landing_files(landing, contract)
    for spec in contract.sources.values():
        if spec.name not in files:
            continue
        lookup = spec.header_map()
        per_batch: dict[str, list[tuple]] = defaultdict(list)
        for batch, f in files[spec.name]:
            file_id = f"{batch}/{f.name}"
            rows = read_rows(spark, f)
            read[(spec.name, file_id)] = len(rows)
            for raw in rows:
                canon = {lookup[k.strip().lower()]: v for k, v in raw.items() if k.strip().lower() in lookup}
                typed, reasons = {}, set()
                for col in spec.columns.values():
                    typed[col.name], reason = parse(col, canon.get(col.name), d)
                    if reason:
                        reasons.add(reason)
                if reasons:
                    quarantine[(spec.name, file_id)].append(sorted(reasons))
                else:
                    per_batch[batch].append((file_id, typed))
        best: dict[tuple, dict] = {}
        for batch in sorted(per_batch):
            by_key: dict[tuple, list] = defaultdict(list)
            for file_id, row in per_batch[batch]:
                by_key[tuple(row[k] for k in spec.key)].append((file_id, row))
            for key, items in by_key.items():
                contents = {tuple(sorted((k, str(v)) for k, v in r.items())) for _, r in items}
                if len(contents) > 1:
                    for file_id, _ in items:
                        quarantine[(spec.name, file_id)].append(["KEY_CONFLICT"])
                else:
                    best[key] = items[0][1]
        silver[spec.name] = best
    return silver, {k: sorted(v) for k, v in quarantine.items()}, read
