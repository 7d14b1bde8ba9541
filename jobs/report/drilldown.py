"""From a warning to the silver rows behind it.

A warning's ``evidence`` is a JSON array of ``{"source": .., "key": .., "values": {..}}``.
The key is the value of the source's key column (composite keys joined with ``|``, as
``jobs.rules.evidence`` writes them); an object (column -> value) or a list in the
order of the key columns is accepted too. :func:`evidence_lookups` turns each item into
a filter on ``silver/<source>``.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import reduce
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.contract import Contract, SourceSpec
from jobs.masking import masked_id
from jobs.tables import delta_exists, read_delta, silver_path

log = logging.getLogger(__name__)


class EvidenceError(ValueError):
    """The evidence of a warning cannot be read (not JSON, not a list of source rows)."""


@dataclass(frozen=True)
class EvidenceItem:
    source: str
    key: dict[str, Any]
    values: dict[str, Any]


def parse_evidence(evidence: str | None, contract: Contract | None = None) -> list[EvidenceItem]:
    """The evidence JSON as items whose key is always a column -> value mapping."""
    if evidence is None or not str(evidence).strip():
        return []
    try:
        data = json.loads(evidence)
    except json.JSONDecodeError as exc:
        raise EvidenceError(f"evidence is not JSON: {exc.msg} at position {exc.pos}") from None
    if isinstance(data, dict):  # tolerate {"rows": [...]} around the list
        data = data.get("rows", data.get("evidence", [data]))
    if not isinstance(data, list):
        raise EvidenceError("evidence is not a list of source rows")
    items = []
    for i, entry in enumerate(data):
        if not isinstance(entry, dict) or "source" not in entry:
            raise EvidenceError(f"evidence[{i}]: expected an object with a source")
        source = str(entry["source"])
        spec = contract[source] if contract is not None and source in contract else None
        items.append(EvidenceItem(source=source, key=normalise_key(entry.get("key"), spec),
                                  values=dict(entry.get("values") or {})))
    return items


def normalise_key(key: Any, spec: SourceSpec | None) -> dict[str, Any]:
    if key is None:
        return {}
    if isinstance(key, dict):
        return dict(key)
    names = list(spec.key) if spec is not None else []
    if isinstance(key, (list, tuple)):
        if len(names) != len(key):
            raise EvidenceError(f"key {list(key)!r} does not match the key columns of the source")
        return dict(zip(names, key))
    if len(names) == 1:
        return {names[0]: key}
    parts = str(key).split("|")
    if not names or len(parts) != len(names):
        raise EvidenceError("the key does not match the key columns of the source")
    return dict(zip(names, parts))


def key_condition(key: dict[str, Any]) -> Column:
    """column = value for every key column (null-safe), ANDed."""
    if not key:
        raise EvidenceError("evidence item without a key")
    return reduce(lambda a, b: a & b, [F.col(c).eqNullSafe(F.lit(v)) for c, v in key.items()])


def mask_id_columns(df: DataFrame, spec: SourceSpec | None) -> DataFrame:
    """Replaces every ID column of the source (contract type ``id``) with its masked form."""
    if spec is None:
        return df
    for name in spec.id_columns:
        if name in df.columns:
            df = df.withColumn(name, masked_id(name))
    return df


@dataclass
class EvidenceLookup:
    item: EvidenceItem
    rows: DataFrame | None   # None: there is no silver table for the source

    @property
    def source(self) -> str:
        return self.item.source


def evidence_lookups(spark: SparkSession, warehouse: str, contract: Contract,
                     evidence: str | None, mask: bool = True) -> list[EvidenceLookup]:
    """For each evidence item, the silver rows with its key (ID columns masked by default)."""
    out = []
    for item in parse_evidence(evidence, contract):
        path = silver_path(warehouse, item.source)
        if item.source not in contract or not delta_exists(spark, path):
            log.warning("no silver table for evidence source %s", item.source)
            out.append(EvidenceLookup(item, None))
            continue
        rows = read_delta(spark, path).filter(key_condition(item.key))
        out.append(EvidenceLookup(item, mask_id_columns(rows, contract[item.source]) if mask else rows))
    return out
