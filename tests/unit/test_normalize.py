"""jobs.ingest.normalize: ID numbers, dates, months, numbers, enums, strings, reasons."""
from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F
from pyspark.sql import types as T

from jobs.contract import ColumnSpec
from jobs.ingest.normalize import (
    clean_string, id_check_char, normalize_id, parse_academic_year, parse_date, parse_decimal, parse_enum,
    parse_int, parse_month, reason_for, strip, typed_column, with_typed_columns,
)
from jobs.tables import AMOUNT, SPARK_TYPES

D = dt.date(2026, 10, 15)            # the check date of the tests (conftest CHECK_DATE)
ID_VECTORS = Path(__file__).resolve().parent.parent / "data" / "id_vectors.csv"


def _vectors() -> list[dict]:
    with ID_VECTORS.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


VECTORS = _vectors()


def _check(spark, fn, cases, out_type):
    """Apply ``fn`` to the raw strings of ``cases`` [(label, raw, expected)] in one frame
    and compare with the expected values (null row included by every caller)."""
    df = spark.createDataFrame([(c[0], c[1]) for c in cases], "case string, raw string")
    actual = df.select("case", fn(F.col("raw")).alias("out"))
    expected = spark.createDataFrame(
        [(c[0], c[2]) for c in cases],
        T.StructType([T.StructField("case", T.StringType()), T.StructField("out", out_type)]))
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


# ---------------------------------------------------------------------------------
# ID numbers
# ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def id_vector_results(spark):
    """normalize_id of every id_vectors.csv row, computed in one Spark action."""
    df = spark.createDataFrame([(i, v["raw"]) for i, v in enumerate(VECTORS)], "i int, raw string")
    rows = df.select("i", normalize_id(F.col("raw"), D).alias("out")).collect()
    return {r.i: r.out for r in rows}


@pytest.fixture(scope="module")
def id_vector_results_in_steps(spark, cfg):
    """The same vectors through with_typed_columns (the staged path ingest uses), as the
    required person_id of a deaths row."""
    df = spark.createDataFrame([(str(i), v["raw"], "2026-01-01") for i, v in enumerate(VECTORS)],
                               "report_id string, person_id string, death_date string")
    rows = with_typed_columns(df, cfg.contract["deaths"], D).select("report_id", "person_id", "_reasons").collect()
    return {int(r.report_id): (r.person_id, r._reasons) for r in rows}


@pytest.mark.parametrize("i", range(len(VECTORS)),
                         ids=[f"{i}-{v['raw'].strip()}" for i, v in enumerate(VECTORS)])
def test_id_vectors_in_steps(id_vector_results_in_steps, i):
    vector = VECTORS[i]
    expected = None if vector["expected"] == "INVALID" else vector["expected"]
    person_id, reasons = id_vector_results_in_steps[i]
    assert person_id == expected, vector["origin"]
    assert (reasons == []) == (expected is not None), (reasons, vector["origin"])


@pytest.mark.parametrize("i", range(len(VECTORS)),
                         ids=[f"{i}-{v['raw'].strip()}" for i, v in enumerate(VECTORS)])
def test_id_vectors(id_vector_results, i):
    vector = VECTORS[i]
    expected = None if vector["expected"] == "INVALID" else vector["expected"]
    assert i in id_vector_results
    assert id_vector_results[i] == expected, vector["origin"]


def test_normalize_id_dirty_forms(spark):
    ok = "11010519491231002X"
    cases = [
        ("plain", "11010519491231002X", ok),
        ("lower x", "11010519491231002x", ok),
        ("full-width digits and X", "１１０１０５１９４９１２３１００２Ｘ", ok),
        ("full-width lower x", "１１０１０５１９４９１２３１００２ｘ", ok),
        ("ascii spaces, tab, newline", " 110105\t19491231 002X\n", ok),
        ("ideographic space U+3000", "\u3000110105\u300019491231002X\u3000", ok),
        ("no-break space U+00A0", "\u00a0110105194912\u00a031002X", ok),
        ("BOM and zero-width space", "\ufeff110105\u200b19491231002X", ok),
        ("en space U+2002", "110105\u200219491231002X", ok),
        ("15 -> 18", "610104620927690", "610104196209276908"),
        ("15 -> 18, check X", "532901960229001", "53290119960229001X"),
        ("15 with space and full-width digit", "532901 96022900１", "53290119960229001X"),
        ("birth date = check date", "532901202610150011", "532901202610150011"),
        ("birth date 1900-01-01", "532901190001010018", "532901190001010018"),
        ("bad check digit", "110105194912310021", None),
        ("X where a digit is due", "53290119800101002X", None),
        ("impossible date (month 13)", "532901199913010011", None),
        ("impossible date (Feb 30)", "440308199902301512", None),
        ("1900-02-29", "532901190002290015", None),
        ("15-digit 000229 -> 1900-02-29", "532901000229001", None),
        ("future date (day after check date)", "532901202610160017", None),
        ("future date 2099", "532901209912310019", None),
        ("before 1900", "532901189912310013", None),
        ("17 digits", "53290119991231001", None),
        ("19 digits", "5329011999123100100", None),
        ("16 digits", "5329011999123100", None),
        ("14 digits", "44030819990110", None),
        ("letter inside", "5329011999A2310012", None),
        ("X inside", "1101051949123100X2", None),
        ("15 with X", "61010462092769X", None),
        ("dashes", "110105-19491231-002X", None),
        ("full-width letter", "11010519491231002Ａ", None),
        ("empty", "", None),
        ("blank", " \u3000 ", None),
        ("null", None, None),
    ]
    _check(spark, lambda c: normalize_id(c, D), cases, T.StringType())


def test_normalize_id_follows_the_check_date(spark):
    df = spark.createDataFrame([("532901202610150011",)], "raw string")
    row = df.select(normalize_id(F.col("raw"), D).alias("on_d"),
                    normalize_id(F.col("raw"), D - dt.timedelta(days=1)).alias("day_before")).first()
    assert (row.on_d, row.day_before) == ("532901202610150011", None)


def _mod11_2_check(body: str) -> str:
    """The check character as GB 11643 states it: the digits times 7 9 10 5 8 4 2 1 6 3
    7 9 10 5 8 4 2, summed, modulo 11, looked up in 1 0 X 9 8 7 6 5 4 3 2."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return "10X98765432"[sum(int(d) * w for d, w in zip(body, weights)) % 11]


def test_id_check_char_matches_the_standard_for_every_digit_position(spark):
    import random
    rng = random.Random(7)
    # every digit 0-9 alone at every one of the 17 positions (each chunk and weight),
    # the extremes, and random bodies
    bodies = [f"{d * 10 ** p:017d}" for p in range(17) for d in range(10)]
    bodies += ["99999999999999999", "53290119960229001", "11010519491231002"]
    bodies += [f"{rng.randrange(10 ** 17):017d}" for _ in range(2000)]
    df = spark.createDataFrame([(b,) for b in bodies] + [(None,)], "body string")
    out = df.select("body", id_check_char(F.col("body").cast("long")).alias("check")).collect()
    got = {r.body: r.check for r in out}
    assert got.pop(None) is None
    wrong = [b for b in bodies if got[b] != _mod11_2_check(b)]
    assert not wrong, wrong[:5]


# ---------------------------------------------------------------------------------
# Dates, months, numbers
# ---------------------------------------------------------------------------------
def test_parse_date(spark):
    d = dt.date(2026, 1, 5)
    cases = [
        ("dashes", "2026-01-05", d),
        ("slashes", "2026/01/05", d),
        ("compact", "20260105", d),
        ("padded", " 2026-01-05 ", d),
        ("ideographic space", "\u300020260105\u3000", d),
        ("leap day", "2024-02-29", dt.date(2024, 2, 29)),
        ("not a leap year", "2026-02-29", None),
        ("Feb 30", "2026-02-30", None),
        ("Feb 30 compact", "20260230", None),
        ("month 13", "2026/13/01", None),
        ("one-digit month and day", "2026-1-5", None),
        ("two-digit year", "26-01-05", None),
        ("mixed separators", "2026-01/05", None),
        ("dots", "2026.01.05", None),
        ("with time", "2026-01-05 00:00:00", None),
        ("seven digits", "2026015", None),
        ("text", "yesterday", None),
        ("empty", "", None),
        ("null", None, None),
    ]
    _check(spark, parse_date, cases, T.DateType())


def test_parse_month(spark):
    cases = [
        ("dash", "2026-01", "2026-01"),
        ("compact", "202612", "2026-12"),
        ("padded", " 2026-07\u3000", "2026-07"),
        ("month 13", "2026-13", None),
        ("month 00", "202600", None),
        ("one-digit month", "2026-1", None),
        ("two-digit year", "26-01", None),
        ("slash", "2026/01", None),
        ("a date", "2026-01-05", None),
        ("text", "Jan 2026", None),
        ("empty", "", None),
        ("null", None, None),
    ]
    _check(spark, parse_month, cases, T.StringType())


def test_parse_decimal(spark):
    cases = [
        # label, raw, without max, with max=100
        ("zero", "0", Decimal("0.00"), Decimal("0.00")),
        ("whole", "12", Decimal("12.00"), Decimal("12.00")),
        ("one decimal", "12.5", Decimal("12.50"), Decimal("12.50")),
        ("two decimals", " 99.99 ", Decimal("99.99"), Decimal("99.99")),
        ("leading zeros", "007.10", Decimal("7.10"), Decimal("7.10")),
        ("at max", "100", Decimal("100.00"), Decimal("100.00")),
        ("over max", "100.01", Decimal("100.01"), None),
        ("large", "123456789012.34", Decimal("123456789012.34"), None),
        ("overflow", "1234567890123.00", None, None),
        ("negative", "-1", None, None),
        ("negative cents", "-0.01", None, None),
        ("three decimals", "1.234", None, None),
        ("thousands separator", "1,000.00", None, None),
        ("exponent", "1e3", None, None),
        ("no integer part", ".5", None, None),
        ("trailing dot", "5.", None, None),
        ("plus sign", "+5", None, None),
        ("currency", "¥5", None, None),
        ("empty", "", None, None),
        ("null", None, None, None),
    ]
    df = spark.createDataFrame([(c[0], c[1]) for c in cases], "case string, raw string")
    actual = df.select("case", parse_decimal(F.col("raw")).alias("plain"),
                       parse_decimal(F.col("raw"), max=100).alias("capped"))
    expected = spark.createDataFrame([(c[0], c[2], c[3]) for c in cases],
                                     T.StructType([T.StructField("case", T.StringType()),
                                                   T.StructField("plain", AMOUNT),
                                                   T.StructField("capped", AMOUNT)]))
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_parse_int(spark):
    cases = [
        # label, raw, unbounded, within 1..4
        ("min", "1", 1, 1),
        ("max", "4", 4, 4),
        ("padded", " 3 ", 3, 3),
        ("below min", "0", 0, None),
        ("above max", "5", 5, None),
        ("negative", "-1", -1, None),
        ("plus sign", "+2", 2, 2),
        ("decimal", "2.0", None, None),
        ("exponent", "1e1", None, None),
        ("overflow", "99999999999", None, None),
        ("text", "two", None, None),
        ("empty", "", None, None),
        ("null", None, None, None),
    ]
    df = spark.createDataFrame([(c[0], c[1]) for c in cases], "case string, raw string")
    actual = df.select("case", parse_int(F.col("raw")).alias("plain"),
                       parse_int(F.col("raw"), min=1, max=4).alias("bounded"))
    expected = spark.createDataFrame([(c[0], c[2], c[3]) for c in cases],
                                     "case string, plain int, bounded int")
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


# ---------------------------------------------------------------------------------
# Enums and strings
# ---------------------------------------------------------------------------------
def test_parse_enum(spark, cfg):
    spec = cfg.contract["disability"].columns["disability_type"]
    cases = [
        ("code", "PHYSICAL", "PHYSICAL"),
        ("lower case", "physical", "PHYSICAL"),
        ("mixed case, padded", " Physical\u3000", "PHYSICAL"),
        ("alias", "肢体残疾", "PHYSICAL"),
        ("short alias", "肢体", "PHYSICAL"),
        ("padded alias", " 智力残疾 ", "INTELLECTUAL"),
        ("other code", "multiple", "MULTIPLE"),
        ("not a code", "UNKNOWN", None),
        ("partial alias", "肢体残", None),
        ("code of another column", "VALID", None),
        ("empty", "", None),
        ("null", None, None),
    ]
    _check(spark, lambda c: parse_enum(c, spec), cases, T.StringType())


def test_parse_enum_without_aliases(spark):
    spec = ColumnSpec(name="flag", type="enum", values=("YES", "NO"))
    cases = [("code", "yes", "YES"), ("other", "no ", "NO"), ("bad", "maybe", None),
             ("null", None, None)]
    _check(spark, lambda c: parse_enum(c, spec), cases, T.StringType())


def test_clean_string(spark):
    cases = [
        ("plain", "abc", "abc"),
        ("padded", "  abc\t", "abc"),
        ("ideographic spaces", "\u3000张三\u3000", "张三"),
        ("no-break spaces and BOM", "\ufeff\u00a0x y\u00a0", "x y"),
        ("inner space kept", "a  b", "a  b"),
        ("empty", "", None),
        ("blank", " \u3000\u00a0", None),
        ("null", None, None),
    ]
    _check(spark, clean_string, cases, T.StringType())


def test_strip_one_end_plain_the_other_not(spark):
    """``strip`` skips values that begin and end with a plain character; a value with
    white space at either end only, or a non-plain character that is no white space
    (emoji, Latin-1, U+3000 neighbours), still goes through the full trim."""
    cases = [
        ("space after CJK", "张三\u3000", "张三"),
        ("space before CJK", "\u3000张三", "张三"),
        ("BOM before ASCII", "\ufeffA1", "A1"),
        ("tab after ASCII", "A1\t", "A1"),
        ("NEL after ASCII", "A1\u0085", "A1"),
        ("emoji ends", "😀 x 😀", "😀 x 😀"),
        ("Latin-1 ends", "é x é", "é x é"),
        ("full-width ends", "\uff21 x \uff21", "\uff21 x \uff21"),
        ("CJK punctuation ends", "\u3001x\u3002", "\u3001x\u3002"),
        ("single plain char", "a", "a"),
        ("single space", " ", ""),
        ("empty", "", ""),
        ("null", None, None),
    ]
    _check(spark, strip, cases, T.StringType())


def test_plain_ranges_hold_no_white_space():
    """The fast path of ``strip`` is only right while no white-space character lies in
    the ranges it treats as plain."""
    from jobs.ingest.normalize import _PLAIN_RANGES, WHITE_SPACE
    assert [w for w in WHITE_SPACE for lo, hi in _PLAIN_RANGES if lo <= w <= hi] == []
    assert {" ", "\u3000", "\ufeff"} <= set(WHITE_SPACE)


def test_parse_academic_year(spark):
    cases = [
        ("valid", "2026-2027", "2026-2027"),
        ("padded", " 2025-2026\u3000", "2025-2026"),
        ("gap of two", "2026-2028", None),
        ("reversed", "2027-2026", None),
        ("same year", "2026-2026", None),
        ("slash", "2026/2027", None),
        ("short second year", "2026-27", None),
        ("two-digit years", "26-27", None),
        ("one year", "2026", None),
        ("empty", "", None),
        ("null", None, None),
    ]
    _check(spark, parse_academic_year, cases, T.StringType())


# ---------------------------------------------------------------------------------
# Dispatch and reasons
# ---------------------------------------------------------------------------------
def test_typed_column_types(spark, cfg):
    df = spark.createDataFrame([], "raw string")
    every = [spec for source in cfg.contract.sources.values() for spec in source.columns.values()]
    specs = list({(s.type, s.pattern, s.required): s for s in every}.values())
    assert {s.type for s in specs} == set(SPARK_TYPES)
    assert any(s.pattern == "YYYY-YYYY" for s in specs)
    out = df.select(*[typed_column(s, F.col("raw"), D).alias(f"c{i}") for i, s in enumerate(specs)])
    assert [f.dataType for f in out.schema.fields] == [SPARK_TYPES[s.type] for s in specs]


def test_typed_column_rejects_unknown_pattern():
    spec = ColumnSpec(name="code", type="string", pattern="AAA-999")
    with pytest.raises(ValueError, match="code"):
        typed_column(spec, F.col("code"), D)


def test_reason_for(spark):
    required_id = ColumnSpec(name="p", type="id", required=True)
    optional_id = ColumnSpec(name="f", type="id")
    optional_date = ColumnSpec(name="d", type="date")
    required_text = ColumnSpec(name="t", type="string", required=True)
    specs = [required_id, optional_id, optional_date, required_text]
    rows = [
        ("valid", "11010519491231002X", "11010519491231002X", "2026-01-05", "x"),
        ("invalid", "110105194912310021", "bad", "2026-02-30", " "),
        ("null", None, None, None, None),
    ]
    df = spark.createDataFrame(rows, "case string, p string, f string, d string, t string")
    actual = df.select("case", *[reason_for(s, strip(F.col(s.name)), typed_column(s, F.col(s.name), D))
                                 .alias(s.name) for s in specs])
    expected = spark.createDataFrame([
        ("valid", None, None, None, None),
        ("invalid", "INVALID_ID", None, "BAD_DATE", "MISSING_REQUIRED"),
        ("null", "MISSING_REQUIRED", None, None, "MISSING_REQUIRED"),
    ], "case string, p string, f string, d string, t string")
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


# ---------------------------------------------------------------------------------
# with_typed_columns
# ---------------------------------------------------------------------------------
HH_COLUMNS = ["person_id", "name", "gender", "birth_date", "county_code", "household_id",
              "relation_to_head", "father_id", "status", "_batch", "_file"]


def test_with_typed_columns_household(spark, cfg):
    source = cfg.contract["household"]
    rows = [
        ("11010519491231002x", " 张三 ", "男", "1949/12/31", "532901", "H1", "户主",
         "６１０１０４６２０９２７６９０", "正常", "b1", "valid"),
        ("610104620927690", "李四", "f", "19620927", "532901", "H1", "spouse",
         "father-unknown", "normal", "b1", "bad optional father_id"),
        ("110105194912310021", None, None, None, "532901", "H2", None, None, "NORMAL", "b1",
         "invalid required id"),
        ("\u3000", None, None, None, "532901", "H2", None, None, "NORMAL", "b1",
         "blank required id"),
        (None, "王五", "X", "2026-02-30", " ", "H3", "cousin", "110105194912310021", "alive",
         "b1", "several reasons"),
        (None, None, None, None, None, None, None, None, None, "b1", "null row"),
    ]
    df = spark.createDataFrame(rows, ", ".join(f"{c} string" for c in HH_COLUMNS))
    out = with_typed_columns(df, source, D)

    # contract columns typed in place, absent ones added, others kept, then _raw, _reasons
    missing = [c for c in source.column_names if c not in HH_COLUMNS]
    assert out.columns == HH_COLUMNS + missing + ["_raw", "_reasons"]
    types = {f.name: f.dataType for f in out.schema.fields}
    assert all(types[c.name] == SPARK_TYPES[c.type] for c in source.columns.values())
    assert types["_reasons"] == T.ArrayType(T.StringType(), True)
    assert [f.name for f in types["_raw"].fields] == source.column_names
    assert all(f.dataType == T.StringType() for f in types["_raw"].fields)

    actual = out.select("_file", "person_id", "name", "gender", "birth_date", "county_code",
                        "relation_to_head", "father_id", "status", "mother_id", "_batch",
                        "_reasons", F.col("_raw.person_id").alias("raw_person_id"),
                        F.col("_raw.father_id").alias("raw_father_id"))
    expected = spark.createDataFrame([
        ("valid", "11010519491231002X", "张三", "M", dt.date(1949, 12, 31), "532901", "HEAD",
         "610104196209276908", "NORMAL", None, "b1", [], "11010519491231002x",
         "６１０１０４６２０９２７６９０"),
        ("bad optional father_id", "610104196209276908", "李四", "F", dt.date(1962, 9, 27),
         "532901", "SPOUSE", None, "NORMAL", None, "b1", [], "610104620927690", "father-unknown"),
        ("invalid required id", None, None, None, None, "532901", None, None, "NORMAL", None,
         "b1", ["INVALID_ID"], "110105194912310021", None),
        ("blank required id", None, None, None, None, "532901", None, None, "NORMAL", None,
         "b1", ["MISSING_REQUIRED"], "\u3000", None),
        ("several reasons", None, "王五", None, None, None, None, None, None, None, "b1",
         ["BAD_DATE", "BAD_ENUM", "MISSING_REQUIRED"], None, "110105194912310021"),
        ("null row", None, None, None, None, None, None, None, None, None, "b1",
         ["MISSING_REQUIRED"], None, None),
    ], "_file string, person_id string, name string, gender string, birth_date date, "
       "county_code string, relation_to_head string, father_id string, status string, "
       "mother_id string, _batch string, _reasons array<string>, raw_person_id string, "
       "raw_father_id string")
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_with_typed_columns_disability(spark, cfg):
    source = cfg.contract["disability"]
    cols = ["cert_no", "person_id", "name", "disability_type", "level", "issue_date", "status",
            "_file"]
    rows = [
        ("C1", "532901960229001", "赵六", "肢体", "2", "2020/05/06", "", "valid, 15-digit id"),
        ("C2", "11010519491231002X", None, "VISUAL", "5", "2020-05-06", "有效", "level above max"),
        ("C3", "11010519491231002X", None, "VISUAL", "0", "2020-05-06", "valid", "level below min"),
        ("C4", "11010519491231002X", None, "visual", "2.5", "2020-05-06", None, "level not whole"),
        ("C5", "11010519491231002X", None, "unknown", "x", "20200230", "REVOKED",
         "three bad values"),
        (" ", "5329011999123100", None, "SPEECH", "", "2020-05-06", None, "id and blanks"),
        ("C7", "11010519491231002X", None, "SPEECH", "1", "2020-05-06", "maybe",
         "bad optional enum"),
        (None, None, None, None, None, None, None, "null row"),
    ]
    df = spark.createDataFrame(rows, ", ".join(f"{c} string" for c in cols))
    actual = with_typed_columns(df, source, D).select(
        "_file", "cert_no", "person_id", "disability_type", "level", "issue_date", "status",
        "_reasons")
    expected = spark.createDataFrame([
        ("valid, 15-digit id", "C1", "53290119960229001X", "PHYSICAL", 2, dt.date(2020, 5, 6),
         None, []),
        ("level above max", "C2", "11010519491231002X", "VISUAL", None, dt.date(2020, 5, 6),
         "VALID", ["BAD_NUMBER"]),
        ("level below min", "C3", "11010519491231002X", "VISUAL", None, dt.date(2020, 5, 6),
         "VALID", ["BAD_NUMBER"]),
        ("level not whole", "C4", "11010519491231002X", "VISUAL", None, dt.date(2020, 5, 6),
         None, ["BAD_NUMBER"]),
        ("three bad values", "C5", "11010519491231002X", None, None, None, "REVOKED",
         ["BAD_DATE", "BAD_ENUM", "BAD_NUMBER"]),
        ("id and blanks", None, None, "SPEECH", None, dt.date(2020, 5, 6), None,
         ["INVALID_ID", "MISSING_REQUIRED"]),
        ("bad optional enum", "C7", "11010519491231002X", "SPEECH", 1, dt.date(2020, 5, 6),
         None, ["BAD_ENUM"]),
        ("null row", None, None, None, None, None, None, ["MISSING_REQUIRED"]),
    ], "_file string, cert_no string, person_id string, disability_type string, level int, "
       "issue_date date, status string, _reasons array<string>")
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_with_typed_columns_month_decimal_and_academic_year(spark, cfg):
    edu = cfg.contract["education"]
    edu_df = spark.createDataFrame([
        ("R1", "11010519491231002X", "SENIOR", "2026-2027", "12000.5", "valid"),
        ("R2", "11010519491231002X", "高中", "2026-2028", "1,000.00", "bad year and tuition"),
        ("R3", "11010519491231002X", "高中", "  ", "-5", "blank year, negative tuition"),
        (None, None, None, None, None, "null row"),
    ], "record_id string, person_id string, stage string, academic_year string, "
       "tuition string, _file string")
    pay = cfg.contract["payments"]
    pay_df = spark.createDataFrame([
        ("P1", "11010519491231002X", "低保", "532901", "202609", "500.00", "valid"),
        ("P2", "11010519491231002X", "dibao", "532901", "2026-13", "500.001", "bad month, amount"),
        ("P3", "11010519491231002X", "DIBAO", "532901", "", "", "blank required month, amount"),
    ], "payment_id string, person_id string, program string, county_code string, "
       "pay_month string, amount string, _file string")
    actual = (with_typed_columns(edu_df, edu, D)
              .select("_file", F.col("academic_year").alias("period"), F.lit(None).cast(AMOUNT)
                      .alias("amount"), "tuition", "_reasons")
              .unionByName(with_typed_columns(pay_df, pay, D)
                           .select("_file", F.col("pay_month").alias("period"), "amount",
                                   F.lit(None).cast(AMOUNT).alias("tuition"), "_reasons")))
    expected = spark.createDataFrame([
        ("valid", "2026-2027", None, Decimal("12000.50"), []),
        ("bad year and tuition", None, None, None, ["BAD_DATE", "BAD_NUMBER"]),
        ("blank year, negative tuition", None, None, None, ["BAD_NUMBER", "MISSING_REQUIRED"]),
        ("null row", None, None, None, ["MISSING_REQUIRED"]),
        ("valid", "2026-09", Decimal("500.00"), None, []),
        ("bad month, amount", None, None, None, ["BAD_MONTH", "BAD_NUMBER"]),
        ("blank required month, amount", None, None, None, ["MISSING_REQUIRED"]),
    ], T.StructType([T.StructField("_file", T.StringType()), T.StructField("period", T.StringType()),
                     T.StructField("amount", AMOUNT), T.StructField("tuition", AMOUNT),
                     T.StructField("_reasons", T.ArrayType(T.StringType()))]))
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)
