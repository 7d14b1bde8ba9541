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
- ``string``: trimmed, inner line breaks as LF, empty -> null; ``pattern: YYYY-YYYY`` is an
  academic year.

:func:`with_typed_columns` types a whole source and lists each row's reason codes.
"""
from __future__ import annotations

import datetime as dt
import logging
from functools import reduce

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from jobs.contract import ColumnSpec, SourceSpec
from jobs.tables import AMOUNT, SPARK_TYPES

log = logging.getLogger(__name__)

# White space in any form: ASCII (\s: space, \t, \n, \x0B, \f, \r), every Unicode space
# separator (\p{Z}: U+0020, U+00A0, U+1680, U+2000-U+200A, U+2028/9, U+202F, U+205F, U+3000),
# NEL, U+180E, zero-width spaces and the byte-order mark (U+FEFF), which survives in the
# first field of some exports. Listed character by character: ``btrim`` and
# ``translate`` take such a list and are many times faster than a regular expression.
WHITE_SPACE = ("\t\n\x0b\x0c\r \u0085\u00a0\u1680\u180e" + "".join(chr(c) for c in range(0x2000, 0x200E))
               + "\u2028\u2029\u202f\u205f\u2060\u3000\ufeff")
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
    """The value without white space (any kind, see ``WHITE_SPACE``) at either end.

    ``btrim`` with a list of characters looks each end character up in the list; most
    values begin and end with a character that cannot be white space, and skip it (the
    test compares characters by code point: UTF-8 bytes sort that way); see
    docs/BENCHMARKS.md, "What the ingest does to be fast"."""
    return F.when(is_plain_char(F.substring(col, 1, 1)) & is_plain_char(F.substring(col, -1, 1)), col
                  ).otherwise(F.btrim(col, F.lit(WHITE_SPACE)))


# Characters no ``WHITE_SPACE`` is among: printable ASCII, and U+3001..U+FEFE (CJK
# punctuation and ideographs, full-width forms: Chinese names begin and end there).
_PLAIN_RANGES = (("!", "~"), ("\u3001", "\ufefe"))


def is_plain_char(ch: Column) -> Column:
    """``ch`` (one character) is surely not white space."""
    return reduce(lambda a, b: a | b, [(ch >= F.lit(lo)) & (ch <= F.lit(hi)) for lo, hi in _PLAIN_RANGES])


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
_PLAIN_ID = r"^[0-9]{17}[0-9X]$"     # an 18-character ID number as it should be written


def is_plain_id(col: Column) -> Column:
    """The value is already an 18-character ID number as it should be written (most
    are): ``[0-9]{17}[0-9X]``, nothing to clean."""
    return col.rlike(_PLAIN_ID)


def clean_id(col: Column, is_plain: Column | None = None) -> Column:
    """Step 1: full-width digits and X to ASCII, all white space removed, upper case
    (``translate`` drops the characters it has no replacement for). A plain value
    (:func:`is_plain_id`, or ``is_plain`` when given) is kept as it is: ``translate``
    looks every character up in a map, a regular expression is cheaper."""
    plain = is_plain_id(col) if is_plain is None else is_plain
    return F.when(plain, col).otherwise(F.upper(F.translate(col, _FULL_WIDTH + WHITE_SPACE, _HALF_WIDTH)))


def id_body(cleaned: Column, is_plain: Column | None = None) -> Column:
    """Step 2: the 17-digit body of a cleaned ID: its first 17 characters when it is
    ``[0-9]{17}[0-9X]``; a 15-digit number with '19' after the area code; else null.
    ``is_plain``: the raw value was plain already (:func:`is_plain_id`), which spares
    matching the cleaned one again."""
    length = F.length(cleaned)
    body = (F.when((length == 18) & is_plain_id(cleaned), F.substring(cleaned, 1, 17))
            .when((length == 15) & cleaned.rlike(r"^[0-9]{15}$"),
                  F.concat(F.substring(cleaned, 1, 6), F.lit("19"), F.substring(cleaned, 7, 9))))
    return body if is_plain is None else F.when(is_plain, F.substring(cleaned, 1, 17)).otherwise(body)


def id_number(body: Column) -> Column:
    """Step 3: the body as a number (17 digits fit a long)."""
    return body.try_cast("long")


def id_check_char(number: Column) -> Column:
    """Step 4: the ISO 7064 MOD 11-2 check character of the 17-digit body given as a
    number (null if it is null). Whole-number arithmetic, no string per digit."""
    total = sum(((_div(number, 10 ** (16 - i)) % 10) * w for i, w in enumerate(ID_WEIGHTS)), F.lit(0))
    return F.substring(F.lit(ID_CHECK_CHARS), (F.pmod(total, F.lit(11)) + F.lit(1)).cast("int"), 1)


def id_birth_number(number: Column) -> Column:
    """Step 4 too: the birth date (digits 7-14 of the body) as the number yyyymmdd."""
    return _div(number, 1000) % 100000000


def id_from_parts(cleaned: Column, body: Column, birth_number: Column, check: Column,
                  check_date: dt.date) -> Column:
    """Step 5: ``body + check`` when the birth date is a real date from 1900-01-01 to
    ``check_date`` and an 18-character number's own check character matches; else null."""
    birth = date_from_number(birth_number)
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
    number = id_number(body)
    return id_from_parts(cleaned, body, id_birth_number(number), id_check_char(number), check_date)


# ---------------------------------------------------------------------------------
# Dates, months, numbers (each ``*_of`` takes the value already stripped)
# ---------------------------------------------------------------------------------
_DATE = r"^[0-9]{4}([-/]?)[0-9]{2}\1[0-9]{2}$"
_MONTH = r"^[0-9]{4}-?(0[1-9]|1[0-2])$"
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _div(n: Column, by: int) -> Column:
    """Whole-number division (SQL ``div``)."""
    return F.call_function("div", n, F.lit(by))


def date_from_number(n: Column) -> Column:
    """A date written as the number yyyymmdd -> that date; null when it is no real date
    (arithmetic and ``make_date`` on checked parts: much faster than parsing text)."""
    y, m, d = _div(n, 10000), _div(n, 100) % 100, n % 100
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    days = (F.try_element_at(F.array(*[F.lit(x) for x in _DAYS_IN_MONTH]), m.cast("int"))
            + F.when((m == 2) & leap, 1).otherwise(0))
    real = y.between(1, 9999) & m.between(1, 12) & (d >= 1) & (d <= days)
    return F.when(real, F.make_date(y.cast("int"), m.cast("int"), d.cast("int")))


def date_digits(s: Column) -> Column:
    """YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD (one separator kind) -> the number yyyymmdd.
    ``replace`` works on the bytes; ``translate`` would decode and look up every character."""
    without_separators = F.replace(F.replace(s, F.lit("-"), F.lit("")), F.lit("/"), F.lit(""))
    return F.when(s.rlike(_DATE), without_separators.try_cast("long"))


def date_of(s: Column) -> Column:
    return date_from_number(date_digits(s))


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


def string_of(s: Column) -> Column:
    return F.when(s != F.lit(""), with_lf_line_breaks(s))


def with_lf_line_breaks(s: Column) -> Column:
    """Line breaks inside a text value (a quoted CSV field may hold CRLF, LF or a lone CR)
    as LF, whatever the exporting system wrote: the same school name reads the same from
    every file (the CSV reader keeps them as the file wrote them:
    ``workarounds.csv_line_separator``). ``instr`` first: most values hold no CR, and skip
    the regular expression."""
    return F.when(F.instr(s, "\r") > 0, F.regexp_replace(s, "\r\n?", "\n")).otherwise(s)


def clean_string(col: Column) -> Column:
    """Free text without white space (full-width and no-break spaces too) at the ends,
    its inner line breaks as LF (:func:`with_lf_line_breaks`); empty -> null."""
    return string_of(strip(col))


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
            out = string_of(s)
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


def reason_list(codes: Column) -> Column:
    """An array of reason codes (nulls among them) -> distinct, sorted, no nulls. Built
    from functions Spark compiles (a lambda here would be interpreted row by row)."""
    return F.sort_array(F.array_except(codes, F.array(F.lit(None).cast(T.StringType()))))


# the step columns of with_typed_columns: plain ID, cleaned, ID body, number, check
# character, birth date, typed value, reason
_HELPER_PREFIXES = ("_p_", "_s_", "_b_", "_n_", "_k_", "_d_", "_t_", "_r_")


def with_typed_columns(df: DataFrame, source: SourceSpec, check_date: dt.date) -> DataFrame:
    """Type every contract column of ``source`` in place and add ``_raw`` and ``_reasons``.

    - each contract column becomes its typed value (a missing one is taken as null and
      added); other columns (``_batch``, ``_file``...) are kept untouched;
    - ``_raw``: struct of the contract columns' original values as strings;
    - ``_reasons``: array<string> of the row's reason codes, distinct and sorted (empty
      when the row is valid).

    Steps, each a projection of its own (see the ID section): whether each ID is plain
    already (one regular expression per ID, its answer shared by the next two steps);
    the cleaned value of every column; the body of every ID and the digits of every
    date; the ID's body as a number; its check character; the typed values; each
    column's reason; the row's reasons (the list is built only for a row that has one);
    the typed values in place of the raw ones.
    """
    missing = [name for name in source.column_names if name not in set(df.columns)]
    if missing:
        df = df.withColumns({name: F.lit(None).cast(T.StringType()) for name in missing})
    specs = list(source.columns.values())
    ids = [spec.name for spec in specs if spec.type == "id"]
    dates = [spec.name for spec in specs if spec.type == "date"]

    def helper(prefix: str, name: str) -> Column:
        return F.col(f"`{prefix}{name}`")

    def typed_value(spec: ColumnSpec) -> Column:
        name = spec.name
        if spec.type == "id":
            return id_from_parts(helper("_s_", name), helper("_b_", name), helper("_d_", name),
                                 helper("_k_", name), check_date).cast(SPARK_TYPES["id"])
        if spec.type == "date":
            return date_from_number(helper("_n_", name))
        return typed_of_clean(spec, helper("_s_", name))

    def raw(name: str) -> Column:
        return F.col(f"`{name}`").cast(T.StringType())

    def cleaned(spec: ColumnSpec) -> Column:
        return clean_id(raw(spec.name), helper("_p_", spec.name)) if spec.type == "id" else strip(raw(spec.name))

    codes = [helper("_r_", spec.name) for spec in specs]
    steps = [
        {f"_p_{n}": is_plain_id(raw(n)) for n in ids},
        {f"_s_{spec.name}": cleaned(spec) for spec in specs},
        {**{f"_b_{n}": id_body(helper("_s_", n), helper("_p_", n)) for n in ids},
         **{f"_n_{n}": date_digits(helper("_s_", n)) for n in dates}},
        {f"_n_{n}": id_number(helper("_b_", n)) for n in ids},
        {**{f"_k_{n}": id_check_char(helper("_n_", n)) for n in ids},
         **{f"_d_{n}": id_birth_number(helper("_n_", n)) for n in ids}},
        {f"_t_{spec.name}": typed_value(spec) for spec in specs},
        {f"_r_{spec.name}": reason_for(spec, helper("_s_", spec.name), helper("_t_", spec.name)) for spec in specs},
        {REASONS_COLUMN: F.when(F.coalesce(*codes).isNull(), F.array().cast(T.ArrayType(T.StringType())))
                          .otherwise(reason_list(F.array(*codes)))},
        {RAW_COLUMN: F.struct(*[raw(spec.name).alias(spec.name) for spec in specs])},
        {spec.name: helper("_t_", spec.name) for spec in specs},
    ]
    for step in steps:
        df = df.withColumns(step)
    kept = [c for c in df.columns if not c.startswith(_HELPER_PREFIXES) and c not in (RAW_COLUMN, REASONS_COLUMN)]
    return df.select(*[F.col(f"`{c}`") for c in kept], RAW_COLUMN, REASONS_COLUMN)
