"""The data contract (conf/sources.yaml) as typed specs.

A source is a name, a key and typed columns with Chinese header aliases; enum columns
carry their codes and Chinese value aliases. Adding a source, a column or an alias is a
change to conf/sources.yaml only.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from jobs.errors import ConfigError
from jobs.typed import as_path

TYPES = ("id", "date", "month", "decimal", "int", "enum", "string")
REASONS = ("INVALID_ID", "MISSING_REQUIRED", "BAD_DATE", "BAD_MONTH", "BAD_NUMBER",
           "BAD_ENUM", "KEY_CONFLICT", "UNKNOWN_WARNING")


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: str
    required: bool = False
    aliases: tuple[str, ...] = ()
    values: tuple[str, ...] = ()                      # enum codes
    value_aliases: dict[str, str] = field(default_factory=dict)  # Chinese value -> code
    min: float | None = None
    max: float | None = None
    pattern: str | None = None


@dataclass(frozen=True)
class SourceSpec:
    name: str
    origin: str
    key: tuple[str, ...]
    columns: dict[str, ColumnSpec]
    partition_year_of: str | None = None
    evidence: tuple[str, ...] = ()      # columns a warning's evidence shows (after the key)

    @property
    def column_names(self) -> list[str]:
        return list(self.columns)

    @property
    def id_columns(self) -> list[str]:
        return [c.name for c in self.columns.values() if c.type == "id"]

    def header_map(self) -> dict[str, str]:
        """Lower-cased canonical name or alias -> canonical column name."""
        out: dict[str, str] = {}
        for col in self.columns.values():
            out[col.name.lower()] = col.name
            for alias in col.aliases:
                out[alias.strip().lower()] = col.name
        return out


@dataclass(frozen=True)
class Contract:
    sources: dict[str, SourceSpec]

    def __getitem__(self, name: str) -> SourceSpec:
        return self.sources[name]

    def __contains__(self, name: str) -> bool:
        return name in self.sources

    @property
    def names(self) -> list[str]:
        return list(self.sources)


def load_contract(path: Path | str) -> Contract:
    path = as_path(path)  # a zipfile.Path when conf/ travels inside the --py-files zip
    if not path.is_file():
        raise ConfigError(f"sources file not found: {path}")
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    value_aliases = raw.get("value_aliases", {}) or {}
    partitions = raw.get("partition_year_of", {}) or {}
    shown = raw.get("evidence", {}) or {}
    sources: dict[str, SourceSpec] = {}
    for name, spec in (raw.get("sources") or {}).items():
        where = f"sources.{name}"
        if not isinstance(spec, dict) or "columns" not in spec or "key" not in spec:
            raise ConfigError(f"{where}: needs 'key' and 'columns'")
        columns: dict[str, ColumnSpec] = {}
        for col, cspec in spec["columns"].items():
            ctype = cspec.get("type")
            if ctype not in TYPES:
                raise ConfigError(f"{where}.columns.{col}.type: unknown type {ctype!r} (expected one of {', '.join(TYPES)})")
            aliases_for_values: dict[str, str] = {}
            if ctype == "enum":
                codes = [str(v) for v in cspec.get("values") or []]
                if not codes:
                    raise ConfigError(f"{where}.columns.{col}.values: an enum needs its codes")
                for code, zh_list in (value_aliases.get(col) or {}).items():
                    if code in codes:
                        for zh in zh_list:
                            aliases_for_values[str(zh).strip()] = code
            columns[col] = ColumnSpec(
                name=col, type=ctype, required=bool(cspec.get("required", False)),
                aliases=tuple(str(a) for a in cspec.get("aliases") or []),
                values=tuple(str(v) for v in cspec.get("values") or []),
                value_aliases=aliases_for_values,
                min=cspec.get("min"), max=cspec.get("max"), pattern=cspec.get("pattern"))
        key = tuple(spec["key"])
        for k in key:
            if k not in columns:
                raise ConfigError(f"{where}.key: {k!r} is not a column")
        part = partitions.get(name)
        if part is not None and part not in columns:
            raise ConfigError(f"partition_year_of.{name}: {part!r} is not a column")
        evidence = tuple(str(c) for c in shown.get(name) or ())
        for c in evidence:
            if c not in columns:
                raise ConfigError(f"evidence.{name}: {c!r} is not a column")
        sources[name] = SourceSpec(name=name, origin=str(spec.get("origin", "")), key=key,
                                   columns=columns, partition_year_of=part, evidence=evidence)
    if not sources:
        raise ConfigError(f"{path}: no sources")
    for section in ("partition_year_of", "evidence"):
        for name in (raw.get(section) or {}):
            if name not in sources:
                raise ConfigError(f"{section}.{name}: no such source")
    return Contract(sources=sources)
