"""Generator profiles: how `hedui generate` writes each source, one YAML file per source.

``conf/generate/<source>.yaml`` holds everything the generator knows about a source
beyond its contract (conf/sources.yaml) and its background rows (one method of
:class:`~jobs.generate.background.Background` named after it):

- ``volume``: rows at scale 1.0, which decide the number of files per batch (0: a small
  source, one file per batch);
- ``batches``: the file profile of delivery 1 (bulk, D - 10 days) and 2 (correcting, D):
  ``format`` csv | csv.gz | parquet, ``encoding`` UTF-8 | UTF-8-BOM | GB18030 (CSV only),
  ``headers`` canonical | alias | mixed, ``values`` code | alias | mixed, ``typed``
  (parquet with native date/int/decimal columns), ``shuffle`` (columns in another order);
- ``may_empty``: columns no rule reads and no key holds, which dirt may empty;
- ``loss_safe``: its rows can only make a rule fire (losing one never makes a rule fire),
  so dirt may make some of its background originals invalid;
- ``text_with_breaks``: a free-text column no rule reads that dirt gives line breaks,
  doubled quotes and commas (or null);
- ``spread``: for a big source, the background input (``people`` or ``spells``, the
  enrollment spells) spread by ``key`` over one partition per file (or null);
- ``correction``: the correcting batch's background rows (of a sample of people): an
  optional SQL filter ``where`` on the rows and SQL ``columns`` that replace columns
  (or null: the correcting batch holds planted rows only).

:func:`load_profiles` reads them (also from conf/ inside the --py-files zip) and checks
them: an unknown or missing key, a bad value or a column the contract does not know is a
:class:`~jobs.errors.ConfigError` naming the file and the key. The generator writes
exactly the sources that have a profile, in the contract's order.
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jobs.config import CONF_DIR, as_path, read_yaml
from jobs.contract import Contract, SourceSpec
from jobs.errors import ConfigError

FOLDER = "generate"
FORMATS = ("csv", "csv.gz", "parquet")
ENCODINGS = ("UTF-8", "UTF-8-BOM", "GB18030")
HEADERS = ("canonical", "alias", "mixed")
VALUES = ("code", "alias", "mixed")
SPREAD_INPUTS = ("people", "spells")
BATCHES = (1, 2)


@dataclass(frozen=True)
class FileProfile:
    """How one delivery's file(s) of a source look."""

    format: str = "csv"           # csv | csv.gz | parquet
    encoding: str = "UTF-8"       # UTF-8 | UTF-8-BOM | GB18030
    headers: str = "canonical"    # canonical | alias | mixed
    values: str = "code"          # code | alias | mixed
    typed: bool = False           # parquet with native date/int/decimal columns
    shuffle: bool = False         # columns in another order

    @property
    def ext(self) -> str:
        return self.format


@dataclass(frozen=True)
class Spread:
    """A big source's background input spread by ``key`` over one partition per file."""

    input: str                    # people | spells
    key: str


@dataclass(frozen=True)
class Correction:
    """The correcting batch: background rows of a sample of people, columns replaced."""

    where: str | None             # SQL filter on the rows (or None: all of them)
    columns: dict[str, str]       # column -> SQL expression (over the row's columns)


@dataclass(frozen=True)
class SourceProfile:
    source: str
    volume: float                 # rows at scale 1.0
    batches: dict[int, FileProfile]
    may_empty: tuple[str, ...] = ()
    loss_safe: bool = False
    text_with_breaks: str | None = None
    spread: Spread | None = None
    correction: Correction | None = None


KEYS = ("volume", "batches", "may_empty", "loss_safe", "text_with_breaks", "spread", "correction")
FILE_KEYS = ("format", "encoding", "headers", "values", "typed", "shuffle")


def load_profiles(contract: Contract, conf_dir: Path | zipfile.Path | None = None) -> dict[str, SourceProfile]:
    """Every ``conf/generate/<source>.yaml``, checked against ``contract``, in the contract's order."""
    folder = as_path(conf_dir if conf_dir is not None else CONF_DIR) / FOLDER
    if not folder.is_dir():
        raise ConfigError(f"generator profiles folder not found: {folder}")
    files = {}
    for path in folder.iterdir():
        if path.name.endswith((".yaml", ".yml")):
            source = path.name.rsplit(".", 1)[0]
            if source in files:
                raise ConfigError(f"{path}: a second profile of {source}")
            files[source] = path
    for source, path in sorted(files.items()):
        if source not in contract:
            raise ConfigError(f"{path}: no source {source!r} in the contract (conf/sources.yaml)")
    return {s: load_profile(files[s], contract) for s in contract.names if s in files}


def load_profile(path: Path | zipfile.Path, contract: Contract) -> SourceProfile:
    """One profile file; its name (without .yaml) is the source."""
    source = path.name.rsplit(".", 1)[0]
    raw = read_yaml(path, "generator profile")
    try:
        return _profile(source, raw, contract[source])
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


# ---------------------------------------------------------------------------------
# Checks (messages name the key; load_profile prefixes the file)
# ---------------------------------------------------------------------------------
def _keys(raw: Any, keys: tuple[str, ...], where: str, optional: tuple[str, ...] = ()) -> dict:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where or 'top level'}: expected a mapping, got {type(raw).__name__}")
    prefix = f"{where}." if where else ""
    for key in raw:
        if key not in keys:
            raise ConfigError(f"{prefix}{key}: unknown key (expected one of {', '.join(map(str, keys))})")
    for key in keys:
        if key not in raw and key not in optional:
            raise ConfigError(f"{prefix}{key}: required key is missing")
    return raw


def _choice(value: Any, choices: tuple, key: str) -> Any:
    if value not in choices:
        raise ConfigError(f"{key}: expected one of {', '.join(str(c) for c in choices)}, got {value!r}")
    return value


def _bool(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{key}: expected true or false, got {value!r}")
    return value


def _text(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{key}: expected text, got {value!r}")
    return value


def _column(value: Any, columns: list[str], key: str) -> str:
    if value not in columns:
        raise ConfigError(f"{key}: {value!r} is not a column of the source (conf/sources.yaml)")
    return value


def _emptiable(value: Any, spec: SourceSpec, key: str) -> str:
    _column(value, spec.column_names, key)
    if spec.columns[value].required or value in spec.key:
        raise ConfigError(f"{key}: {value!r} is required or part of the key: an empty one loses the row")
    return value


def _profile(source: str, raw: dict, spec: SourceSpec) -> SourceProfile:
    columns = spec.column_names
    raw = _keys(raw, KEYS, "")
    volume = raw["volume"]
    if isinstance(volume, bool) or not isinstance(volume, (int, float)) or volume < 0:
        raise ConfigError(f"volume: expected a number of rows at scale 1.0 (0 or more), got {volume!r}")
    batches = _keys(raw["batches"], BATCHES, "batches")
    may_empty = raw["may_empty"]
    if not isinstance(may_empty, list):
        raise ConfigError(f"may_empty: expected a list of columns, got {type(may_empty).__name__}")
    text = raw["text_with_breaks"]
    return SourceProfile(
        source=source,
        volume=float(volume),
        batches={b: _file(batches[b], f"batches.{b}") for b in BATCHES},
        may_empty=tuple(_emptiable(c, spec, f"may_empty[{i}]") for i, c in enumerate(may_empty)),
        loss_safe=_bool(raw["loss_safe"], "loss_safe"),
        text_with_breaks=None if text is None else _column(text, columns, "text_with_breaks"),
        spread=None if raw["spread"] is None else _spread(raw["spread"]),
        correction=None if raw["correction"] is None else _correction(raw["correction"], columns))


def _file(raw: Any, where: str) -> FileProfile:
    raw = _keys(raw, FILE_KEYS, where, optional=FILE_KEYS[1:])
    fmt = _choice(raw["format"], FORMATS, f"{where}.format")
    if fmt == "parquet" and "encoding" in raw:
        raise ConfigError(f"{where}.encoding: a parquet file has no text encoding")
    typed = _bool(raw.get("typed", False), f"{where}.typed")
    if typed and fmt != "parquet":
        raise ConfigError(f"{where}.typed: only a parquet file has native types")
    return FileProfile(format=fmt,
                       encoding=_choice(raw.get("encoding", "UTF-8"), ENCODINGS, f"{where}.encoding"),
                       headers=_choice(raw.get("headers", "canonical"), HEADERS, f"{where}.headers"),
                       values=_choice(raw.get("values", "code"), VALUES, f"{where}.values"),
                       typed=typed, shuffle=_bool(raw.get("shuffle", False), f"{where}.shuffle"))


def _spread(raw: Any) -> Spread:
    raw = _keys(raw, ("input", "key"), "spread")
    return Spread(input=_choice(raw["input"], SPREAD_INPUTS, "spread.input"), key=_text(raw["key"], "spread.key"))


def _correction(raw: Any, columns: list[str]) -> Correction:
    raw = _keys(raw, ("where", "columns"), "correction")
    where = raw["where"]
    exprs = raw["columns"]
    if not isinstance(exprs, dict) or not exprs:
        raise ConfigError("correction.columns: expected a mapping of columns to SQL expressions")
    for c, sql in exprs.items():
        _column(c, columns, f"correction.columns.{c}")
        _text(sql, f"correction.columns.{c}")
    return Correction(where=None if where is None else _text(where, "correction.where"),
                      columns={str(c): str(sql) for c, sql in exprs.items()})
