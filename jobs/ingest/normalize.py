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
#
# Each step reads the previous step's column once: `with_typed_columns` gives every
# step a column of its own, so Spark evaluates the regular expressions once per value
# (one expression tree referring to the cleaned value twenty times would evaluate it
# twenty times: subexpressions inside CASE branches are not shared).
# ---------------------------------------------------------------------------------
def clean_id(col: Column) -> Column:
    """Step 1: full-width digits and X to ASCII, all white space removed, upper case."""
    return F.upper(F.regexp_replace(F.translate(col, _FULL_WIDTH, _HALF_WIDTH), _WS, ""))


def id_body(cleaned: Column) -> Column:
    """Step 2: the 17-digit body of a cleaned ID: its first 17 characters when it is
    ``[0-9]{17}[0-9X]``; a 15-digit number with '19' after the area code; else null."""
    is18 = cleaned.rlike(r"^[0-9]{17}[0-9X]$")
    is15 = cleaned.rlike(r"^[0-9]{15}$")
    return (F.when(is18, F.substring(cleaned, 1, 17))
            .when(is15, F.concat(F.substring(cleaned, 1, 6), F.lit("19"), F.substring(cleaned, 7, 9))))


def id_check_char(body17: Column) -> Column:
    """Step 3: the ISO 7064 MOD 11-2 check character of 17 ASCII digits (null if
    ``body17`` is)."""
    total = sum((F.substring(body17, i + 1, 1).try_cast("int") * F.lit(w)
                 for i, w in enumerate(ID_WEIGHTS)), F.lit(0))
    return F.substring(F.lit(ID_CHECK_CHARS), F.pmod(total, F.lit(11)) + F.lit(1), 1)


def id_from_parts(cleaned: Column, body: Column, check: Column, check_date: dt.date) -> Column:
    """Step 4: ``body + check`` when the birth date (characters 7-14) is a real date from
    1900-01-01 to ``check_date`` and an 18-character number's own check character
    matches; else null."""
    birth = F.try_to_date(F.substring(body, 7, 8), "yyyyMMdd")
    birth_ok = birth.between(F.lit(MIN_BIRTH_DATE), F.lit(check_date))
    check_ok = F.when(F.length(cleaned) == 18, F.substring(cleaned, 18, 1) == check).otherwise(F.lit(True))
    return F.when(body.isNotNull() & birth_ok & check_ok, F.concat(body, check))


def normalize_id(col: Column, check_date: dt.date) -> Column:
    """The normalised 18-character ID number, or null when the value is not a valid one.

    18 characters ``[0-9]{17}[0-9X]`` keep their check character (it must match); 15
    digits get '19' after the area code and a computed check character. Either way the
    birth date (characters 7-14) must be a real date from 1900-01-01 to ``check_date``.
    (One expression: fine for a few values; whole tables go through the steps in
    :func:`with_typed_columns`.)
    """
    cleaned = clean_id(col)
    body = id_body(cleaned)
    return id_from_parts(cleaned, body, id_check_char(body), check_date)


# ---------------------------------------------------------------------------------
# Dates, months, numbers (each ``*_of`` takes the value already stripped)
# ---------------------------------------------------------------------------------
_DATE = r"^[0-9]{4}([-/]?)[0-9]{2}\1[0-9]{2}$"
_MONTH = r"^[0-9]{4}-?(0[1-9]|1[0-2])$"


def date_of(s: Column) -> Column:
    return F.when(s.rlike(_DATE), F.try_to_date(F.translate(s, "-/", ""), "yyyyMMdd"))


def parse_date(col: Column) -> Column:
    """YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD (two-digit month and day, one separator kind)
    that is a real date -> date; anything else -> null."""
    return date_of(strip(col))


def month_of(s: Column) -> Column:
    return F.when(s.rlike(_MONTH), F.concat(F.substring(s, 1, 4), F.lit("-"), F.substring(s, -2, 2)))


def parse_month(col: Column) -> Column:
    """YYYY-MM or YYYYMM with month 01-12 -> 'YYYY-MM'; anything else -> null."""
    return month_of(strip(col))


def decimal_of(s: Column, max=None, min=None) -> Column:
    return _bounded(F.when(s.rlike(r"^[0-9]+(\.[0-9]{1,2})?$"), s.try_cast(AMOUNT)), min, max)


def parse_decimal(col: Column, max=None, min=None) -> Column:
    """A non-negative amount with at most 2 decimals and no thousands separator, within
    ``min``/``max`` where given -> decimal(14,2); anything else (also overflow) -> null."""
    return decimal_of(strip(col), max=max, min=min)


def int_of(s: Column, min=None, max=None) -> Column:
    return _bounded(F.when(s.rlike(r"^[+-]?[0-9]+$"), s.try_cast(T.IntegerType())), min, max)


def parse_int(col: Column, min=None, max=None) -> Column:
    """A whole number (optional sign, digits only) within ``min``/``max`` -> int; anything
    else (decimals, overflow) -> null."""
    return int_of(strip(col), min=min, max=max)


# ---------------------------------------------------------------------------------
# Enums and strings
# ---------------------------------------------------------------------------------
def enum_of(s: Column, spec: ColumnSpec) -> Column:
    codes = F.create_map(*[F.lit(x) for c in spec.values for x in (c.upper(), c)])
    by_code = F.try_element_at(codes, F.upper(s))
    if not spec.value_aliases:
        return by_code
    aliases = F.create_map(*[F.lit(x) for a, c in spec.value_aliases.items()
                             for x in (a.strip(), c)])
    return F.coalesce(by_code, F.try_element_at(aliases, s))


def parse_enum(col: Column, spec: ColumnSpec) -> Column:
    """A code (trimmed, any case) or a Chinese value alias (trimmed, exact) -> the code."""
    return enum_of(strip(col), spec)


def clean_string(col: Column) -> Column:
    """Free text without white space (full-width and no-break spaces too) at the ends;
    empty -> null."""
    s = strip(col)
    return F.when(s != F.lit(""), s)


def academic_year_of(s: Column) -> Column:
    m = r"^([0-9]{4})-([0-9]{4})$"
    first = F.substring(s, 1, 4).try_cast("int")
    second = F.substring(s, 6, 4).try_cast("int")
    return F.when(s.rlike(m) & (second == first + F.lit(1)), s)


def parse_academic_year(col: Column) -> Column:
    """'YYYY-YYYY' where the second year is the first + 1 (2026-2027) -> that string."""
    return academic_year_of(strip(col))


# ---------------------------------------------------------------------------------
# Dispatch by contract type
# ---------------------------------------------------------------------------------
def typed_column(spec: ColumnSpec, raw: Column, check_date: dt.date) -> Column:
    """The typed value of a raw string column, of type SPARK_TYPES[spec.type] (one
    expression; :func:`with_typed_columns` does the same in steps)."""
    if spec.type == "id":
        return normalize_id(raw, check_date).cast(SPARK_TYPES["id"])
    return typed_of_clean(spec, strip(raw))


def typed_of_clean(spec: ColumnSpec, s: Column) -> Column:
    """The typed value from the stripped value ``s`` (any type but ``id``)."""
    if spec.type == "date":
        out = date_of(s)
    elif spec.type == "month":
        out = month_of(s)
    elif spec.type == "decimal":
        out = decimal_of(s, max=spec.max, min=spec.min)
    elif spec.type == "int":
        out = int_of(s, min=spec.min, max=spec.max)
    elif spec.type == "enum":
        out = enum_of(s, spec)
    elif spec.type == "string":
        if spec.pattern is None:
            out = F.when(s != F.lit(""), s)
        elif spec.pattern == ACADEMIC_YEAR:
            out = academic_year_of(s)
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


def reason_for(spec: ColumnSpec, cleaned: Column, typed: Column) -> Column:
    """The reason code of one value from its cleaned form (stripped; for an ID, step 1)
    and its typed value: the type's code when a non-blank value did not parse,
    MISSING_REQUIRED when a required value is blank; null otherwise."""
    blank = F.coalesce(cleaned == F.lit(""), F.lit(True))
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

    Steps, each a projection of its own (see the ID section): the cleaned value of
    every column; the body of every ID; its check character; the typed values and the
    reasons.
    """
    missing = [name for name in source.column_names if name not in set(df.columns)]
    if missing:
        df = df.withColumns({name: F.lit(None).cast(T.StringType()) for name in missing})
    raw_fields = [F.col(f"`{name}`").cast(T.StringType()).alias(name)
                  for name in source.column_names]
    specs = list(source.columns.values())
    ids = [spec.name for spec in specs if spec.type == "id"]
    raw = {spec.name: F.col(RAW_COLUMN).getField(spec.name) for spec in specs}
    clean = {spec.name: F.col(f"`_s_{spec.name}`") for spec in specs}
    body = {name: F.col(f"`_b_{name}`") for name in ids}
    check = {name: F.col(f"`_k_{name}`") for name in ids}
    typed = {spec.name: (id_from_parts(clean[spec.name], body[spec.name], check[spec.name], check_date)
                         .cast(SPARK_TYPES["id"]) if spec.type == "id"
                         else typed_of_clean(spec, clean[spec.name]))
             for spec in specs}
    reasons = F.array(*[reason_for(spec, clean[spec.name], F.col(f"`{spec.name}`")) for spec in specs])
    helpers = [f"_s_{spec.name}" for spec in specs] + [f"_b_{n}" for n in ids] + [f"_k_{n}" for n in ids]
    return (df.withColumn(RAW_COLUMN, F.struct(*raw_fields))
            .withColumns({f"_s_{spec.name}": clean_id(raw[spec.name]) if spec.type == "id" else strip(raw[spec.name])
                          for spec in specs})
            .withColumns({f"_b_{n}": id_body(clean[n]) for n in ids})
            .withColumns({f"_k_{n}": id_check_char(body[n]) for n in ids})
            .withColumns(typed)
            .withColumn(REASONS_COLUMN, F.array_sort(F.array_distinct(F.filter(reasons, lambda r: r.isNotNull()))))
            .drop(*helpers))
