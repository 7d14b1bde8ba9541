"""Shared pieces of the generator: deterministic randomness, dates, ID numbers, names.

Every random choice in the Spark jobs is a pure function of (seed, salt, row key):
``uniform(seed, "salt", col)`` hashes them with xxhash64, so the same seed gives the same
rows whatever the partitioning. The driver-side (planted) cases use ``random.Random``
seeded from the seed, and the same ID and name helpers in plain Python.
"""
from __future__ import annotations

import datetime as dt
from typing import Sequence

from pyspark.sql import Column
from pyspark.sql import functions as F

# ---------------------------------------------------------------------------------
# Deterministic randomness (Spark SQL text: one JVM call per column, not one per term)
# ---------------------------------------------------------------------------------
_MASK53 = (1 << 53) - 1


def U(seed: int, salt: str, *cols: str) -> str:
    """SQL: a double in [0, 1) that depends only on (seed, salt, cols)."""
    return (f"(cast((xxhash64({int(seed)}, '{salt}', {', '.join(cols)}) & {_MASK53}) as double)"
            f" / {float(1 << 53)})")


def RI(seed: int, salt: str, lo, hi, *cols: str) -> str:
    """SQL: an integer in [lo, hi] (inclusive); lo and hi may be SQL expressions."""
    return f"(cast(({lo}) + floor({U(seed, salt, *cols)} * (({hi}) - ({lo}) + 1)) as int))"


def _sql_lit(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return "'" + str(v).replace("'", "''") + "'"


def PICK(values: Sequence, weights: Sequence[float] | None, u: str, resolution: int = 1000) -> str:
    """SQL: one of ``values`` chosen by the uniform expression ``u`` with the given weights.

    A CASE over cumulative weights for a few values; a constant array indexed by ``u`` for
    many (both are cheap per row; string tables scanned with substring are not).
    """
    if weights is None:
        weights = [1.0] * len(values)
    total = float(sum(weights))
    if len(values) == 1:
        return _sql_lit(values[0])
    if len(values) <= 128:
        # pass a column (or a cheap expression) as u: it is evaluated once per branch
        acc, branches = 0.0, []
        for value, w in zip(values[:-1], weights[:-1]):
            acc += w / total
            branches.append(f"WHEN {u} < {acc!r} THEN {_sql_lit(value)}")
        return f"(CASE {' '.join(branches)} ELSE {_sql_lit(values[-1])} END)"
    table: list = []
    acc = 0.0
    for value, w in zip(values, weights):
        acc += w / total
        while len(table) < round(acc * resolution):
            table.append(value)
    while len(table) < resolution:
        table.append(values[-1])
    return f"element_at(array({', '.join(_sql_lit(v) for v in table)}), cast(floor({u} * {resolution}) as int) + 1)"


def LIT_DATE(d: dt.date) -> str:
    return f"DATE'{d.isoformat()}'"


def CASE(branches: list[tuple[str, str]], default: str) -> str:
    body = " ".join(f"WHEN {c} THEN {v}" for c, v in branches)
    return f"(CASE {body} ELSE {default} END)"


def uniform(seed: int, salt: str, *cols) -> Column:
    return F.expr(U(seed, salt, *cols))


def pick_py(values: Sequence, weights: Sequence[float] | None, u: float):
    if weights is None:
        weights = [1.0] * len(values)
    total = float(sum(weights))
    acc = 0.0
    for value, w in zip(values, weights):
        acc += w / total
        if u < acc:
            return value
    return values[-1]


# ---------------------------------------------------------------------------------
# Dates and months (Python)
# ---------------------------------------------------------------------------------
def add_months(d: dt.date, n: int) -> dt.date:
    y, m = divmod(d.month - 1 + n, 12)
    year, month = d.year + y, m + 1
    last = month_last(dt.date(year, month, 1)).day
    return dt.date(year, month, min(d.day, last))


def month_first(d: dt.date) -> dt.date:
    return d.replace(day=1)


def month_last(d: dt.date) -> dt.date:
    nxt = (d.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return nxt - dt.timedelta(days=1)


def month_str(d: dt.date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def month_index(d: dt.date) -> int:
    """Months since 2000-01 (a handy integer for month arithmetic)."""
    return (d.year - 2000) * 12 + d.month - 1


def month_from_index(i: int) -> dt.date:
    return dt.date(2000 + i // 12, i % 12 + 1, 1)


def age_at(birth: dt.date, d: dt.date) -> int:
    """Whole years from birth to d; a 29 February birthday falls on 1 March in other years."""
    years = d.year - birth.year
    bm, bd = birth.month, birth.day
    if (bm, bd) == (2, 29) and not _is_leap(d.year):
        bm, bd = 3, 1
    if (d.month, d.day) < (bm, bd):
        years -= 1
    return years


def _is_leap(y: int) -> bool:
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


def academic_year(d: dt.date) -> str:
    start = d.year if d.month >= 9 else d.year - 1
    return f"{start}-{start + 1}"


# ---------------------------------------------------------------------------------
# ID numbers (GB 11643-1999)
# ---------------------------------------------------------------------------------
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"


def check_char(body17: str) -> str:
    return CHECK_CHARS[sum(int(c) * w for c, w in zip(body17, WEIGHTS)) % 11]


def make_id(area: str, birth: dt.date, seq: int) -> str:
    body = f"{area}{birth:%Y%m%d}{seq:03d}"
    return body + check_char(body)


def to_id15(id18: str) -> str | None:
    """The pre-1999 15-digit form of an 18-digit number (only for births in 1900-1999)."""
    if not id18[6:8] == "19":
        return None
    return id18[:6] + id18[8:17]


def normalize_id(raw: str | None, check_date: dt.date) -> str | None:
    """README s.2: the normalised 18-character number, or None when invalid."""
    if raw is None:
        return None
    s = []
    for ch in raw:
        o = ord(ch)
        if 0xFF10 <= o <= 0xFF19:
            s.append(chr(o - 0xFF10 + 48))
        elif ch in "Ｘｘ":
            s.append("X")
        elif ch.isspace() or ch in "\u3000\u00a0":
            continue
        else:
            s.append(ch)
    v = "".join(s).upper()
    if len(v) == 15 and v.isdigit():
        v = v[:6] + "19" + v[6:]
        v = v + check_char(v)
    if len(v) != 18 or not v[:17].isdigit() or not (v[17].isdigit() or v[17] == "X"):
        return None
    try:
        birth = dt.date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        return None
    if birth < dt.date(1900, 1, 1) or birth > check_date:
        return None
    if check_char(v[:17]) != v[17]:
        return None
    return v


FULLWIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def ID_CHECK(body17: str) -> str:
    """SQL: the check character of a 17-digit body expression."""
    terms = " + ".join(f"cast(substring({body17}, {i + 1}, 1) as int) * {w}" for i, w in enumerate(WEIGHTS))
    return f"substring('{CHECK_CHARS}', cast(({terms}) % 11 as int) + 1, 1)"


# ---------------------------------------------------------------------------------
# Chinese names: Dali surnames (Bai surnames 杨 李 段 赵 张 董 何 字 尹 施 苏 ...)
# ---------------------------------------------------------------------------------
SURNAMES = [
    ("杨", 9.0), ("李", 8.0), ("张", 5.5), ("赵", 5.0), ("段", 4.2), ("王", 4.0), ("董", 3.0),
    ("何", 3.0), ("刘", 2.6), ("陈", 2.5), ("字", 1.8), ("苏", 1.8), ("施", 1.7), ("尹", 1.8),
    ("罗", 1.8), ("周", 1.5), ("杜", 1.4), ("黄", 1.4), ("马", 1.5), ("鲁", 1.0), ("高", 1.0),
    ("寸", 0.7), ("洪", 0.7), ("谢", 0.8), ("普", 0.6), ("茶", 0.5), ("自", 0.7), ("毕", 0.7),
    ("郭", 0.9), ("孙", 0.7), ("朱", 0.8), ("吴", 0.8), ("徐", 0.7), ("许", 0.6), ("胡", 0.8),
    ("彭", 0.5), ("熊", 0.6), ("番", 0.4), ("奚", 0.4), ("左", 0.4), ("常", 0.4), ("阿", 0.4),
    ("起", 0.4), ("钏", 0.3), ("和", 0.5), ("鲍", 0.3), ("沈", 0.4), ("姚", 0.5), ("范", 0.4),
    ("雷", 0.5), ("邓", 0.6), ("曾", 0.4), ("余", 0.6), ("唐", 0.5), ("蒋", 0.4), ("汤", 0.3),
    ("龚", 0.3), ("戴", 0.3), ("田", 0.5), ("方", 0.4), ("欧", 0.3), ("蔡", 0.4), ("严", 0.3),
    ("宋", 0.4), ("冯", 0.4), ("杞", 0.3), ("查", 0.2), ("闵", 0.2), ("姜", 0.3), ("左", 0.2),
]
GIVEN_MALE = list("伟强军平刚明华建国志勇文杰涛斌超鹏俊峰磊海兵林东成亮春荣德福贵祥云龙昌学忠仁武永兴家宏")
GIVEN_FEMALE = list("丽芳秀英华娟红梅琼艳玲燕霞萍敏静婷兰凤珍莲慧娜雪琴花春美月桂云青慧玉蓉佳丹")
ETHNICITIES = [("白族", 33.0), ("汉族", 49.0), ("彝族", 13.0), ("回族", 2.8), ("傈僳族", 1.2),
               ("苗族", 0.5), ("纳西族", 0.3), ("藏族", 0.2)]


def NAME(surname: str, male: str, u1: str, u2: str, u3: str) -> str:
    """SQL: surname + one or two given-name characters by sex (u1..u3: uniform columns)."""
    g1 = f"(CASE WHEN {male} THEN {PICK(GIVEN_MALE, None, u1)} ELSE {PICK(GIVEN_FEMALE, None, u1)} END)"
    g2 = f"(CASE WHEN {male} THEN {PICK(GIVEN_MALE, None, u2)} ELSE {PICK(GIVEN_FEMALE, None, u2)} END)"
    return f"(CASE WHEN {u3} < 0.72 THEN concat({surname}, {g1}, {g2}) ELSE concat({surname}, {g1}) END)"


def name_py(rng, male: bool, surname: str | None = None) -> str:
    if surname is None:
        surname = pick_py([s for s, _ in SURNAMES], [w for _, w in SURNAMES], rng.random())
    pool = GIVEN_MALE if male else GIVEN_FEMALE
    given = rng.choice(pool) + (rng.choice(pool) if rng.random() < 0.72 else "")
    return surname + given


def SURNAME(u: str) -> str:
    return PICK([x for x, _ in SURNAMES], [w for _, w in SURNAMES], u)
