"""The landing zone: discovering files and reading each one into canonical columns.

``<landing>/<source>/<batch>/<file>.csv | .csv.gz | .parquet``. Every file becomes a
DataFrame of the source's contract columns as strings (missing optional columns null),
``_extra`` (a map of the columns the contract does not know) and ``_batch``/``_file``.
A CSV file's encoding (UTF-8 with or without BOM, or GB18030) and header are read from
its first bytes through Hadoop, so the reader decides per file without being told.
"""
from __future__ import annotations

import codecs
import csv
import io
import logging
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from jobs import fs
from jobs.config import IngestSettings
from jobs.contract import Contract, SourceSpec
from jobs.errors import UnreadableFile, safe_message
from jobs.spark.workarounds import csv_line_separator

log = logging.getLogger(__name__)

FORMATS = {".csv.gz": "csv", ".csv": "csv", ".parquet": "parquet"}
PASSED_OVER = ("_", ".")     # folder and file names that are not data (contract s.1)


def data_format(name: str) -> str | None:
    """"csv" or "parquet" by a file name's extension in any case; None: not a data file."""
    lower = name.lower()
    return next((fmt for ending, fmt in FORMATS.items() if lower.endswith(ending)), None)


@dataclass(frozen=True)
class LandingFile:
    source: str
    batch: str
    name: str
    path: str
    size: int | None = None  # bytes (as listed); None: not known (a 0-byte file is FAILED)

    @property
    def file_id(self) -> str:
        """How the warehouse names the file: ``<batch>/<name>`` (unique within a source)."""
        return f"{self.batch}/{self.name}"

    @property
    def format(self) -> str | None:
        return data_format(self.name)


@dataclass(frozen=True)
class Discovery:
    files: list[LandingFile]
    unknown_sources: list[str]
    ignored_files: list[str] = ()    # "<source>/<batch>/<name>" of files that are no CSV or parquet


def discover(spark: SparkSession, landing: str, contract: Contract) -> Discovery:
    """Every CSV or parquet file under known source folders, in source, batch (byte order)
    and name order (contract s.1). Folders and files starting with ``_`` or ``.`` (the
    generator's ``_truth``, ``_SUCCESS``, Hadoop's ``.crc``, editors' temporary files) are
    passed over; unknown source folders and files of any other type (an ``.xlsx``, a
    ``readme.txt``) are reported, not loaded."""
    files: list[LandingFile] = []
    unknown: list[str] = []
    ignored: list[str] = []
    for src in fs.list_dir(spark, landing):
        if not src.is_dir or src.name.startswith(PASSED_OVER):
            continue
        if src.name not in contract:
            unknown.append(src.name)
            continue
        for batch in fs.list_dir(spark, src.path):
            if not batch.is_dir or batch.name.startswith(PASSED_OVER):
                continue
            for f in fs.list_dir(spark, batch.path):
                if f.is_dir or f.name.startswith(PASSED_OVER):
                    continue
                found = LandingFile(src.name, batch.name, f.name, f.path, f.size)
                if found.format is None:
                    ignored.append(f"{src.name}/{found.file_id}")
                else:
                    files.append(found)
    return Discovery(files=files, unknown_sources=unknown, ignored_files=ignored)


# ---------------------------------------------------------------------------------
# CSV sniffing: encoding and header
# ---------------------------------------------------------------------------------
_UTF16_32 = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
             (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"))


def detect_encoding(head: bytes) -> str:
    """'UTF-8' (BOM or not) or 'GB18030', from the first bytes of a text file.

    UTF-16 and UTF-32 (what Excel's "Unicode text" and some Windows tools write) are named
    in the error, from their byte-order mark or from their NUL bytes, so that the
    department knows to export again as UTF-8 or GB18030."""
    for bom, name in _UTF16_32:
        if head.startswith(bom):
            raise UnreadableFile(f"{name} text (byte-order mark): export it again as UTF-8 or GB18030")
    if b"\x00" in head:
        if _looks_like_utf16(head[:4096]):
            raise UnreadableFile("probably UTF-16 text without a byte-order mark (NUL bytes): "
                                 "export it again as UTF-8 or GB18030")
        raise UnreadableFile("not a text file (NUL bytes)")
    if head.startswith(codecs.BOM_UTF8):
        return "UTF-8"
    for encoding in ("utf-8", "gb18030"):
        try:  # incremental: a multi-byte character cut at the end of `head` is fine
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
            return "UTF-8" if encoding == "utf-8" else "GB18030"
        except UnicodeDecodeError:
            continue
    raise UnreadableFile("not UTF-8 or GB18030 text")


def _looks_like_utf16(sample: bytes) -> bool:
    """The bytes read as UTF-16 text holding a comma or a line break and no NUL character."""
    even = sample[:len(sample) - len(sample) % 2]
    for encoding in ("utf-16-le", "utf-16-be"):
        try:
            text = even.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text and ("," in text or "\n" in text):
            return True
    return False


def parse_header(head: bytes, encoding: str, whole_file: bool = True) -> list[str]:
    """The header record (RFC 4180: a quoted name may hold a comma or a line break) from
    the first bytes of a file (``whole_file``: they are all of it)."""
    text = codecs.getincrementaldecoder(encoding.lower())().decode(head, final=False)
    records = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    first = next(records, None)
    if not first or not any(h.strip() for h in first):
        raise UnreadableFile("empty file or empty header line")
    if next(records, None) is None and not whole_file:
        raise UnreadableFile("the header line is longer than the bytes read to find it (ingest.sniff_bytes)")
    return [h.strip() for h in first]


def header_line_end(head: bytes, encoding: str) -> str | None:
    """The line break that ends the header record (CRLF, LF or CR): the file's line end
    (contract s.1: LF or CRLF, one per file); None when the bytes hold no complete header
    line. A line break inside a quoted header name (RFC 4180 allows it) is passed over."""
    text = codecs.getincrementaldecoder(encoding.lower())().decode(head, final=False).lstrip("\ufeff")
    quoted = False
    for i, ch in enumerate(text):
        if ch == '"':
            quoted = not quoted            # a doubled quote toggles twice
        elif ch in "\r\n" and not quoted:
            return "\r\n" if text[i:i + 2] == "\r\n" else ch
    return None


def map_header(header: list[str], spec: SourceSpec) -> list[str | None]:
    """Canonical column for each header field (None = extra column); checks that no
    column appears twice and that every required column is present."""
    lookup = spec.header_map()
    mapped = [lookup.get(h.strip().lower()) for h in header]
    seen: set[str] = set()
    for col in mapped:
        if col is not None and col in seen:
            raise UnreadableFile(f"column {col} appears twice in the header")
        if col is not None:
            seen.add(col)
    missing = [c.name for c in spec.columns.values() if c.required and c.name not in seen]
    if missing:
        raise UnreadableFile(f"required column(s) missing from the header: {', '.join(missing)}")
    return mapped


# ---------------------------------------------------------------------------------
# Reading one file into canonical string columns
# ---------------------------------------------------------------------------------
def _canonical_frame(df: DataFrame, header: list[str], mapped: list[str | None],
                     spec: SourceSpec, f: LandingFile, malformed: Column | None = None) -> DataFrame:
    """Positional columns c0..cn -> contract columns (strings), _extra, _batch, _file and
    ``_malformed`` (a CSV record whose number of fields is not the header's)."""
    by_name = {col: F.col(f"c{i}") for i, col in enumerate(mapped) if col is not None}
    extras = [(header[i], F.col(f"c{i}")) for i, col in enumerate(mapped) if col is None]
    cols: list[Column] = []
    for name in spec.column_names:
        value = by_name.get(name, F.lit(None).cast("string"))
        cols.append(F.when(F.trim(value) != F.lit(""), value).cast("string").alias(name))
    extra = (F.create_map(*[x for h, c in extras for x in (F.lit(h), c)]) if extras
             else F.lit(None).cast(T.MapType(T.StringType(), T.StringType())))
    return df.select(*cols, extra.alias("_extra"),
                     F.lit(f.batch).alias("_batch"), F.lit(f.file_id).alias("_file"),
                     (malformed if malformed is not None else F.lit(False)).alias(MALFORMED))


def read_csv(spark: SparkSession, f: LandingFile, spec: SourceSpec,
             settings: IngestSettings, not_utf8: bool = False) -> DataFrame:
    """A CSV file as RFC 4180 says: a quoted field may hold commas, doubled quotes and line
    breaks. Spark's reader parses it so only in multi-line mode (one task per file: the
    generator and the departments' big deliveries come as several files), and with the
    quote as its own escape (Spark's default escape is a backslash).

    ``not_utf8``: a line of the file is not valid UTF-8 (:func:`scan_text`), so a file
    whose first bytes read as UTF-8 without a byte-order mark is GB18030."""
    if f.size == 0:
        raise UnreadableFile("empty file (0 bytes): a CSV file needs at least its header line")
    try:
        head = fs.read_head(spark, f.path, settings.sniff_bytes)
    except Exception as exc:  # Java IO errors: truncated gzip, permissions...
        raise UnreadableFile(f"cannot read the file: {safe_message(exc)}") from None
    if not head:
        raise UnreadableFile("empty file (no bytes once decompressed): a CSV file needs at least its header line")
    encoding = detect_encoding(head)
    if not_utf8 and encoding == "UTF-8" and not head.startswith(codecs.BOM_UTF8):
        encoding = "GB18030"
    header = parse_header(head, encoding, whole_file=len(head) < settings.sniff_bytes)
    mapped = map_header(header, spec)
    schema = T.StructType([T.StructField(f"c{i}", T.StringType()) for i in range(len(header))]
                          + [T.StructField(_CORRUPT, T.StringType())])
    options = {**CSV_READ_OPTIONS, "encoding": encoding,
               **csv_line_separator(header_line_end(head, encoding))}
    df = spark.read.schema(schema).options(**options).csv(f.path)
    return _canonical_frame(df, header, mapped, spec, f, F.col(_CORRUPT).isNotNull())


# RFC 4180 (contract section 1): multi-line mode, whatever the file (docs/BENCHMARKS.md,
# "Reading CSV as RFC 4180", has the measurement that chose it over a scan for line breaks).
# A record with more or fewer fields than the header (or an unclosed quote) is Spark's
# "corrupt record": PERMISSIVE mode keeps the row and names it in this column, so the
# ingest can refuse the file (a silent shift of values would be a wrong parse).
_CORRUPT = "_corrupt_record"
MALFORMED = "_malformed"
CSV_READ_OPTIONS = {
    "header": True, "multiLine": True, "quote": '"', "escape": '"',
    "mode": "PERMISSIVE", "enforceSchema": True, "nullValue": "", "emptyValue": "",
    "columnNameOfCorruptRecord": _CORRUPT,
}


def read_parquet(spark: SparkSession, f: LandingFile, spec: SourceSpec) -> DataFrame:
    try:
        df = spark.read.parquet(f.path)
        header = df.columns
    except Exception as exc:
        raise UnreadableFile(f"not a readable parquet file: {safe_message(exc)}") from None
    mapped = map_header(header, spec)
    # native types (date, int, decimal) become their canonical string form
    positional = df.select(*[_as_string(df.schema[h].dataType, F.col(f"`{h}`")).alias(f"c{i}")
                             for i, h in enumerate(header)])
    return _canonical_frame(positional, header, mapped, spec, f)


def _as_string(dtype: T.DataType, col: Column) -> Column:
    if isinstance(dtype, T.DateType):
        return F.date_format(col, "yyyy-MM-dd")
    if isinstance(dtype, T.TimestampType):
        return F.date_format(col, "yyyy-MM-dd")
    return col.cast("string")


@dataclass(frozen=True)
class TextScan:
    """What one pass over a CSV file's bytes tells before it is parsed."""

    odd_quotes: bool       # an odd number of quote characters: not valid RFC 4180
    not_utf8: bool         # a line that is not valid UTF-8


def scan_text(spark: SparkSession, files: list[LandingFile]) -> dict[tuple[str, str], TextScan]:
    """Per CSV file ((source, file id)), one pass over its lines as bytes (one Spark job
    for all files, whatever their sources):

    - an odd number of quote characters: an unclosed quoted field, which would swallow the
      rest of the file into one value, or a quote inside an unquoted field, which RFC 4180
      does not allow (the quote's byte 0x22 is never part of another character in UTF-8
      or GB18030);
    - a line that is not valid UTF-8: the file is GB18030 even when its first bytes, which
      decide the encoding (``ingest.sniff_bytes``), are plain ASCII."""
    csv = {f.path: (f.source, f.file_id) for f in files if f.format == "csv"}
    if not csv:
        return {}
    text = spark.read.text(list(csv))
    # bytes, not characters: GB18030 text read as UTF-8 is not valid UTF-8, and Spark counts
    # the characters of an invalid sequence by its lead byte, swallowing the quote after it
    quotes = F.octet_length("value") - F.octet_length(F.replace("value", F.lit('"'), F.lit("")))
    rows = (text.groupBy(F.input_file_name().alias("path"))
            .agg(F.sum(quotes).alias("quotes"), F.max((~F.is_valid_utf8("value")).cast("int")).alias("bad"))
            .collect())
    by_path = {_comparable(path): key for path, key in csv.items()}
    return {by_path[_comparable(r["path"])]: TextScan(r["quotes"] % 2 == 1, bool(r["bad"]))
            for r in rows if _comparable(r["path"]) in by_path}


def unbalanced_quotes(spark: SparkSession, files: list[LandingFile]) -> set[str]:
    """The CSV files (ids) holding an odd number of quote characters (:func:`scan_text`)."""
    return {file_id for (_, file_id), scan in scan_text(spark, files).items() if scan.odd_quotes}


def _comparable(path: str) -> str:
    """A path as Hadoop qualifies it or Spark's ``input_file_name`` reports it, in one form
    (``file:/a``, ``file:///a`` and ``/a`` are one file)."""
    if path.startswith("file:"):
        path = path[len("file:"):]
    return "/" + path.lstrip("/") if not path.split("/", 1)[0].endswith(":") else path

def read_landing_file(spark: SparkSession, f: LandingFile, spec: SourceSpec,
                      settings: IngestSettings, scan: TextScan | None = None) -> DataFrame:
    """One landing file as canonical string columns; raises UnreadableFile. ``scan``: what
    :func:`scan_text` found in a CSV file (its encoding where the first bytes are ASCII)."""
    if f.format == "csv":
        return read_csv(spark, f, spec, settings, not_utf8=scan is not None and scan.not_utf8)
    if f.format == "parquet":
        return read_parquet(spark, f, spec)
    raise UnreadableFile("unsupported file type (expected .csv, .csv.gz or .parquet)")
