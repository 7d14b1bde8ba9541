"""Small display helpers for the exploration notebooks (no pandas needed).

:func:`records` collects a few rows with every ID-like number masked (also inside other
text, e.g. a disability certificate number or evidence JSON); :func:`show` renders them
as an HTML table in Jupyter. Use these instead of ``df.show()``, which prints ID numbers
in clear.
"""
from __future__ import annotations

from typing import Any

from pyspark.sql import DataFrame

from jobs.report import html as H
from jobs.masking import mask_ids_in_text


def _mask(value: Any) -> Any:
    if isinstance(value, str):
        return mask_ids_in_text(value)
    if isinstance(value, (list, tuple)):
        return [_mask(v) for v in value]
    if isinstance(value, dict):
        return {k: _mask(v) for k, v in value.items()}
    return value


def records(df: DataFrame, limit: int = 20, mask: bool = True) -> list[dict]:
    """Up to ``limit`` rows as dicts; strings with ID-like numbers masked unless ``mask=False``."""
    rows = [r.asDict(recursive=True) for r in df.limit(limit).collect()]
    return [{k: _mask(v) for k, v in row.items()} for row in rows] if mask else rows


def html_table(rows: list[dict], columns: list[str] | None = None) -> str:
    if not rows:
        return "<p><i>(no rows)</i></p>"
    columns = columns or list(rows[0])
    return H.table(columns, [[_cell(r.get(c)) for c in columns] for r in rows])


def _cell(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        return str(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # as stored: no thousands separator (years, codes)
    return value


def show(df: DataFrame, limit: int = 20, mask: bool = True) -> None:
    """Displays ``records(df, limit, mask)`` as an HTML table in Jupyter (like ``df.show()``,
    it works anywhere in a cell, inside loops and branches)."""
    from IPython.display import HTML, display

    display(HTML(html_table(records(df, limit, mask), df.columns)))
