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

log = logging.getLogger(__name__)

FORMATS = {".csv.gz": "csv", ".csv": "csv", ".parquet": "parquet"}


@dataclass(frozen=True)
class LandingFile:
    source: str
    batch: str
    name: str
    path: str
    size: int = 0            # bytes (as listed)

    @property
    def file_id(self) -> str:
        """How the warehouse names the file: ``<batch>/<name>`` (unique within a source)."""
        return f"{self.batch}/{self.name}"

    @property
    def format(self) -> str | None:
        lower = self.name.lower()
        for ending, fmt in FORMATS.items():
            if lower.endswith(ending):
                return fmt
        return None


class UnreadableFile(Exception):
    """A file that cannot be read at all; the message is its reason (no personal data)."""


@dataclass(frozen=True)
class Discovery:
    files: list[LandingFile]
    unknown_sources: list[str]


def discover(spark: SparkSession, landing: str, contract: Contract) -> Discovery:
    """Every file under known source folders, in source, batch (byte order) and name order.
    Folders starting with ``_`` or ``.`` are not sources; unknown ones are reported."""
    files: list[LandingFile] = []
    unknown: list[str] = []
    for src in fs.list_dir(spark, landing):
        if not src.is_dir or src.name.startswith(("_", ".")):
            continue
        if src.name not in contract:
            unknown.append(src.name)
            continue
        for batch in fs.list_dir(spark, src.path):
            if not batch.is_dir or batch.name.startswith(("_", ".")):
                continue
            for f in fs.list_dir(spark, batch.path):
                if f.is_dir or f.name.startswith(("_", ".")):
                    continue
                files.append(LandingFile(src.name, batch.name, f.name, f.path, f.size))
    return Discovery(files=files, unknown_sources=unknown)


# ---------------------------------------------------------------------------------
# CSV sniffing: encoding and header
# ---------------------------------------------------------------------------------
def detect_encoding(head: bytes) -> str:
    """'UTF-8' (BOM or not) or 'GB18030', from the first bytes of a text file."""
    if b"\x00" in head:
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


def parse_header(head: bytes, encoding: str) -> list[str]:
    text = codecs.getincrementaldecoder(encoding.lower())().decode(head, final=False)
    text = text.lstrip("\ufeff")
    first = text.split("\n", 1)[0].rstrip("\r")
    if not first.strip():
        raise UnreadableFile("empty file or empty header line")
    return [h.strip() for h in next(csv.reader(io.StringIO(first)))]


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
                     spec: SourceSpec, f: LandingFile) -> DataFrame:
    """Positional columns c0..cn -> contract columns (strings), _extra, _batch, _file."""
    by_name = {col: F.col(f"c{i}") for i, col in enumerate(mapped) if col is not None}
    extras = [(header[i], F.col(f"c{i}")) for i, col in enumerate(mapped) if col is None]
    cols: list[Column] = []
    for name in spec.column_names:
        value = by_name.get(name, F.lit(None).cast("string"))
        cols.append(F.when(F.trim(value) != F.lit(""), value).cast("string").alias(name))
    extra = (F.create_map(*[x for h, c in extras for x in (F.lit(h), c)]) if extras
             else F.lit(None).cast(T.MapType(T.StringType(), T.StringType())))
    return df.select(*cols, extra.alias("_extra"),
                     F.lit(f.batch).alias("_batch"), F.lit(f.file_id).alias("_file"))


def read_csv(spark: SparkSession, f: LandingFile, spec: SourceSpec,
             settings: IngestSettings) -> DataFrame:
    try:
        head = fs.read_head(spark, f.path, settings.sniff_bytes)
    except Exception as exc:  # Java IO errors: truncated gzip, permissions...
        raise UnreadableFile(f"cannot read the file: {_java_message(exc)}") from None
    encoding = detect_encoding(head)
    header = parse_header(head, encoding)
    mapped = map_header(header, spec)
    schema = T.StructType([T.StructField(f"c{i}", T.StringType()) for i in range(len(header))])
    df = (spark.read.schema(schema)
          .option("header", True).option("encoding", encoding)
          .option("multiLine", settings.csv_multiline)
          .option("mode", "PERMISSIVE").option("enforceSchema", True)
          .option("nullValue", "").option("emptyValue", "")
          .csv(f.path))
    return _canonical_frame(df, header, mapped, spec, f)


def read_parquet(spark: SparkSession, f: LandingFile, spec: SourceSpec) -> DataFrame:
    try:
        df = spark.read.parquet(f.path)
        header = df.columns
    except Exception as exc:
        raise UnreadableFile(f"not a readable parquet file: {_java_message(exc)}") from None
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


def read_landing_file(spark: SparkSession, f: LandingFile, spec: SourceSpec,
                      settings: IngestSettings) -> DataFrame:
    """One landing file as canonical string columns; raises UnreadableFile."""
    if f.format == "csv":
        return read_csv(spark, f, spec, settings)
    if f.format == "parquet":
        return read_parquet(spark, f, spec)
    raise UnreadableFile("unsupported file type (expected .csv, .csv.gz or .parquet)")


def _java_message(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    # py4j errors start with a long preamble; keep the Java exception line
    for line in text:
        if "Exception" in line or "Error" in line:
            return line.strip()[:300]
    return (text[0] if text else type(exc).__name__)[:300]
