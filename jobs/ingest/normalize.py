"""Column functions that turn the contract's raw strings into typed values.

Everything here is built from Spark's own functions (no Python UDFs) and is safe under
ANSI mode: a value that does not parse becomes null, never an error. The contract's
types (conf/sources.yaml):

- ``id``: resident ID number, normalised to 18 characters (15-digit numbers upgraded),
  birth date within [1900-01-01, check date], ISO 7064 MOD 11-2 check character;
- ``date``: YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD -> date;
- ``month``: YYYY-MM or YYYYMM -> 'YYYY-MM';
- ``decimal``: non-negative, at most 2 decimals, no thousands separator -> decimal(14,2);
- ``int``: whole number within min/max -> int;
- ``enum``: a code (any case) or a Chinese value alias -> the code;
- ``string``: trimmed, empty -> null; ``pattern: YYYY-YYYY`` is an academic year.

:func:`with_typed_columns` types a whole source and lists each row's reason codes.
"""
from __future__ import annotations

import datetime as dt
import logging

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from jobs.contract import ColumnSpec, SourceSpec
from jobs.tables import AMOUNT, SPARK_TYPES

log = logging.getLogger(__name__)

# White space in any form: ASCII (\s), every Unicode space separator (\p{Z}: U+00A0,
# U+1680, U+2000-U+200A, U+2028/9, U+202F, U+205F, U+3000), NEL, zero-width space and
# the byte-order mark (U+FEFF), which survives in the first field of some exports.
_WS = r"[\s\p{Z}\u0085\u180E\u200B-\u200D\u2060\uFEFF]"
_FULL_WIDTH = "０１２３４５６７８９Ｘｘ"
_HALF_WIDTH = "0123456789XX"

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"      # remainder 0..10 -> check character
MIN_BIRTH_DATE = dt.date(1900, 1, 1)
ACADEMIC_YEAR = "YYYY-YYYY"

BAD_CODES = {
    "id": "INVALID_ID",
    "date": "BAD_DATE",
    "month": "BAD_MONTH",
    "decimal": "BAD_NUMBER",
    "int": "BAD_NUMBER",
    "enum": "BAD_ENUM",
}
RAW_COLUMN = "_raw"
REASONS_COLUMN = "_reasons"


# ---------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------
def strip(col: Column) -> Column:
    """The value without white space (any kind, see ``_WS``) at either end."""
    return F.regexp_replace(col, rf"^{_WS}+|{_WS}+$", "")


def is_blank(col: Column) -> Column:
    """True where the value is null, empty or white space only (never null)."""
    return F.coalesce(strip(col) == F.lit(""), F.lit(True))


def _bounded(value: Column, min=None, max=None) -> Column:
    cond = value.isNotNull()
    if min is not None:
        cond = cond & (value >= F.lit(min))
    if max is not None:
        cond = cond & (value <= F.lit(max))
    return F.when(cond, value)


# ---------------------------------------------------------------------------------
# Identity numbers (contract README section 2)
# ---------------------------------------------------------------------------------
def clean_id(col: Column) -> Column:
    """Step 1: full-width digits and X to ASCII, all white space removed, upper case."""
    return F.upper(F.regexp_replace(F.translate(col, _FULL_WIDTH, _HALF_WIDTH), _WS, ""))


def id_check_char(body17: Column) -> Column:
    """The ISO 7064 MOD 11-2 check character of 17 ASCII digits (null if ``body17`` is)."""
    total = sum((F.substring(body17, i + 1, 1).try_cast("int") * F.lit(w)
                 for i, w in enumerate(ID_WEIGHTS)), F.lit(0))
    return F.substring(F.lit(ID_CHECK_CHARS), F.pmod(total, F.lit(11)) + F.lit(1), 1)


def normalize_id(col: Column, check_date: dt.date) -> Column:
    """The normalised 18-character ID number, or null when the value is not a valid one.

    18 characters ``[0-9]{17}[0-9X]`` keep their check character (it must match); 15
    digits get '19' after the area code and a computed check character. Either way the
    birth date (characters 7-14) must be a real date from 1900-01-01 to ``check_date``.
    """
    s = clean_id(col)
    is18 = s.rlike(r"^[0-9]{17}[0-9X]$")
    is15 = s.rlike(r"^[0-9]{15}$")
    body = (F.when(is18, F.substring(s, 1, 17))
            .when(is15, F.concat(F.substring(s, 1, 6), F.lit("19"), F.substring(s, 7, 9))))
    given = F.when(is18, F.substring(s, 18, 1))
    computed = id_check_char(body)
    birth = F.try_to_date(F.substring(body, 7, 8), "yyyyMMdd")
    birth_ok = birth.between(F.lit(MIN_BIRTH_DATE), F.lit(check_date))
    check_ok = F.when(is18, given == computed).otherwise(F.lit(True))
    return F.when(body.isNotNull() & birth_ok & check_ok, F.concat(body, computed))


# ---------------------------------------------------------------------------------
# Dates, months, numbers
# ---------------------------------------------------------------------------------
def parse_date(col: Column) -> Column:
    """YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD (two-digit month and day, one separator kind)
    that is a real date -> date; anything else -> null."""
    s = strip(col)
    m = r"^([0-9]{4})([-/]?)([0-9]{2})\2([0-9]{2})$"
    digits = F.concat(F.regexp_extract(s, m, 1), F.regexp_extract(s, m, 3),
                      F.regexp_extract(s, m, 4))
    return F.when(s.rlike(m), F.try_to_date(digits, "yyyyMMdd"))


def parse_month(col: Column) -> Column:
    """YYYY-MM or YYYYMM with month 01-12 -> 'YYYY-MM'; anything else -> null."""
    s = strip(col)
    m = r"^([0-9]{4})-?(0[1-9]|1[0-2])$"
    return F.when(s.rlike(m), F.concat(F.regexp_extract(s, m, 1), F.lit("-"),
                                       F.regexp_extract(s, m, 2)))


def parse_decimal(col: Column, max=None, min=None) -> Column:
    """A non-negative amount with at most 2 decimals and no thousands separator, within
    ``min``/``max`` where given -> decimal(14,2); anything else (also overflow) -> null."""
    s = strip(col)
    value = F.when(s.rlike(r"^[0-9]+(\.[0-9]{1,2})?$"), s.try_cast(AMOUNT))
    return _bounded(value, min, max)


def parse_int(col: Column, min=None, max=None) -> Column:
    """A whole number (optional sign, digits only) within ``min``/``max`` -> int; anything
    else (decimals, overflow) -> null."""
    s = strip(col)
    value = F.when(s.rlike(r"^[+-]?[0-9]+$"), s.try_cast(T.IntegerType()))
    return _bounded(value, min, max)


# ---------------------------------------------------------------------------------
# Enums and strings
# ---------------------------------------------------------------------------------
def parse_enum(col: Column, spec: ColumnSpec) -> Column:
    """A code (trimmed, any case) or a Chinese value alias (trimmed, exact) -> the code."""
    s = strip(col)
    codes = F.create_map(*[F.lit(x) for c in spec.values for x in (c.upper(), c)])
    by_code = F.try_element_at(codes, F.upper(s))
    if not spec.value_aliases:
        return by_code
    aliases = F.create_map(*[F.lit(x) for a, c in spec.value_aliases.items()
                             for x in (a.strip(), c)])
    return F.coalesce(by_code, F.try_element_at(aliases, s))


def clean_string(col: Column) -> Column:
    """Free text without white space (full-width and no-break spaces too) at the ends;
    empty -> null."""
    s = strip(col)
    return F.when(s != F.lit(""), s)


def parse_academic_year(col: Column) -> Column:
    """'YYYY-YYYY' where the second year is the first + 1 (2026-2027) -> that string."""
    s = strip(col)
    m = r"^([0-9]{4})-([0-9]{4})$"
    first = F.regexp_extract(s, m, 1).try_cast("int")
    second = F.regexp_extract(s, m, 2).try_cast("int")
    return F.when(s.rlike(m) & (second == first + F.lit(1)), s)


# ---------------------------------------------------------------------------------
# Dispatch by contract type
# ---------------------------------------------------------------------------------
def typed_column(spec: ColumnSpec, raw: Column, check_date: dt.date) -> Column:
    """The typed value of a raw string column, of type SPARK_TYPES[spec.type]."""
    if spec.type == "id":
        out = normalize_id(raw, check_date)
    elif spec.type == "date":
        out = parse_date(raw)
    elif spec.type == "month":
        out = parse_month(raw)
    elif spec.type == "decimal":
        out = parse_decimal(raw, max=spec.max, min=spec.min)
    elif spec.type == "int":
        out = parse_int(raw, min=spec.min, max=spec.max)
    elif spec.type == "enum":
        out = parse_enum(raw, spec)
    elif spec.type == "string":
        if spec.pattern is None:
            out = clean_string(raw)
        elif spec.pattern == ACADEMIC_YEAR:
            out = parse_academic_year(raw)
        else:
            raise ValueError(f"column {spec.name}: unknown string pattern {spec.pattern!r}")
    else:
        raise ValueError(f"column {spec.name}: unknown type {spec.type!r}")
    return out.cast(SPARK_TYPES[spec.type])


def bad_code(spec: ColumnSpec) -> str | None:
    """The reason code of a non-blank value that does not parse (None: no reason)."""
    if spec.type == "id":
        return "INVALID_ID" if spec.required else None   # optional: nulled, row kept
    if spec.type == "string":
        return "BAD_DATE" if spec.pattern == ACADEMIC_YEAR else None
    return BAD_CODES[spec.type]


def reason_for(spec: ColumnSpec, raw: Column, typed: Column) -> Column:
    """The reason code of one value: the type's code when a non-blank value did not
    parse, MISSING_REQUIRED when a required value is blank; null otherwise."""
    blank = is_blank(raw)
    out = F.lit(None).cast(T.StringType())
    code = bad_code(spec)
    if code is not None:
        out = F.when(~blank & typed.isNull(), F.lit(code)).otherwise(out)
    if spec.required:
        out = F.when(blank, F.lit("MISSING_REQUIRED")).otherwise(out)
    return out


def with_typed_columns(df: DataFrame, source: SourceSpec, check_date: dt.date) -> DataFrame:
    """Type every contract column of ``source`` in place and add ``_raw`` and ``_reasons``.

    - each contract column becomes its typed value (a missing one is taken as null and
      added); other columns (``_batch``, ``_file``...) are kept untouched;
    - ``_raw``: struct of the contract columns' original values as strings;
    - ``_reasons``: array<string> of the row's reason codes, distinct and sorted (empty
      when the row is valid).
    """
    missing = [name for name in source.column_names if name not in set(df.columns)]
    if missing:
        df = df.withColumns({name: F.lit(None).cast(T.StringType()) for name in missing})
    raw_fields = [F.col(f"`{name}`").cast(T.StringType()).alias(name)
                  for name in source.column_names]
    with_raw = df.withColumn(RAW_COLUMN, F.struct(*raw_fields))
    raw_of = {name: F.col(RAW_COLUMN).getField(name) for name in source.column_names}
    typed = with_raw.withColumns({spec.name: typed_column(spec, raw_of[spec.name], check_date)
                                  for spec in source.columns.values()})
    reasons = F.array(*[reason_for(spec, raw_of[spec.name], F.col(f"`{spec.name}`"))
                        for spec in source.columns.values()])
    reasons = F.array_sort(F.array_distinct(F.filter(reasons, lambda r: r.isNotNull())))
    return typed.withColumn(REASONS_COLUMN, reasons)
