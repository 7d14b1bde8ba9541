"""Comparing two warehouses' tables row for row (the kill -9 and cluster tests)."""
from __future__ import annotations

from jobs import tables


def _plain(value):
    """A value that sorts and compares the same however Spark ordered it: a map's items sorted."""
    if isinstance(value, dict):
        return tuple(sorted((k, _plain(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):     # arrays, and structs (a Row is a tuple)
        return tuple(_plain(v) for v in value)
    return value


def rows(spark, path: str, drop: tuple[str, ...] | set[str] = ()) -> list[tuple]:
    """Every row of the Delta table at `path`, columns by name, `drop` left out, sorted."""
    df = tables.read_delta(spark, path)
    df = df.select(*sorted(c for c in df.columns if c not in drop))
    return sorted((tuple(_plain(v) for v in r) for r in df.collect()), key=repr)


def table_folders(warehouse) -> list[str]:
    """Every Delta table of a warehouse, as a path relative to it."""
    return sorted(str(p.parent.relative_to(warehouse)) for p in warehouse.rglob("_delta_log"))
