"""Masking of ID numbers for reports and notebooks: first 6 + ``********`` + last 4.

A value too short to keep 10 characters in clear is masked entirely; null stays null.
:func:`mask_ids_in_text` masks ID-like numbers inside free text (evidence JSON, the raw
values of quarantined rows), including dirty forms with full-width digits or spaces.
"""
from __future__ import annotations

import re

from pyspark.sql import Column
from pyspark.sql import functions as F

MASK = "********"
KEEP_HEAD = 6
KEEP_TAIL = 4


def mask_id(value: str | None) -> str | None:
    """``532901199001011234`` -> ``532901********1234``."""
    if value is None:
        return None
    value = str(value)
    if len(value) < KEEP_HEAD + KEEP_TAIL:
        return MASK
    return value[:KEEP_HEAD] + MASK + value[-KEEP_TAIL:]


def masked_id(col: Column | str) -> Column:
    """Column function: the masked form of an ID column (same rule as :func:`mask_id`)."""
    c = F.col(col) if isinstance(col, str) else col
    return (F.when(c.isNull(), F.lit(None).cast("string"))
            .when(F.length(c) < KEEP_HEAD + KEEP_TAIL, F.lit(MASK))
            .otherwise(F.concat(F.substring(c, 1, KEEP_HEAD), F.lit(MASK),
                                F.substring(c, -KEEP_TAIL, KEEP_TAIL))))


_DIGIT = "[0-9\uff10-\uff19]"
_SPACE = "[\\s\u3000\u00a0]*"
# 15 or more digits (the last may be X), possibly full-width or with spaces between them:
# a dirty ID with extra digits is masked as well.
_ID_LIKE = re.compile(
    f"(?<![0-9\uff10-\uff19]){_DIGIT}(?:{_SPACE}{_DIGIT}){{13,}}"
    f"{_SPACE}[0-9\uff10-\uff19XxＸｘ](?![0-9\uff10-\uff19])")


def mask_ids_in_text(text: str | None) -> str | None:
    """Every ID-like number in ``text`` replaced by its masked form (spaces removed)."""
    if text is None:
        return None
    return _ID_LIKE.sub(lambda m: mask_id(re.sub(r"[\s\u3000\u00a0]", "", m.group(0))), text)


_QUOTED = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"")
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_.:\-]*")          # identifiers, codes, options
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]+")
_PATH_ENDINGS = (".csv", ".gz", ".parquet", ".py", ".log", ".yaml", ".json", ".txt", ".xlsx")


def _is_path(text: str) -> bool:
    return "/" in text or text.lower().endswith(_PATH_ENDINGS)


def mask_personal_text(text: str | None) -> str | None:
    """Free text (a traceback, an error message) with no ID number and no name left in it:
    ID-like numbers masked (first 6 and last 4 kept), quoted text other than plain
    identifiers and paths replaced by ``…``, and runs of Chinese characters outside paths
    (a name) too. Paths, code, types and line numbers stay."""
    if text is None:
        return None
    text = mask_ids_in_text(text)

    def quoted(m: re.Match) -> str:
        inner = m.group(0)[1:-1]
        if inner == "" or _is_path(inner) or (_PLAIN.fullmatch(inner) and not re.search(r"\d{6}", inner)):
            return m.group(0)
        return m.group(0)[0] + "…" + m.group(0)[-1]

    text = _QUOTED.sub(quoted, text)
    return re.sub(r"\S+", lambda m: m.group(0) if _is_path(m.group(0)) else _CJK.sub("…", m.group(0)), text)
