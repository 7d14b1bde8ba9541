"""YAML files and values into typed dataclass fields and function parameters, with the
key in every error (:class:`~jobs.errors.ConfigError`): the configuration's one reader
and validator."""
from __future__ import annotations

import dataclasses
import zipfile
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

import yaml

from jobs.errors import ConfigError


def read_yaml(path: Path | zipfile.Path | str, what: str = "configuration") -> dict:
    path = as_path(path)
    if not path.is_file():
        raise ConfigError(f"{what} file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def as_path(path: Path | zipfile.Path | str) -> Path | zipfile.Path:
    """A str or path-like as a Path; a :class:`zipfile.Path` (conf/ inside a zip) as is."""
    return path if isinstance(path, zipfile.Path) else Path(path)


def expect(kind: type, value: Any, key: str):
    if not isinstance(value, kind):
        raise ConfigError(f"{key}: expected a {kind.__name__}, got {type(value).__name__}")
    return value


def coerce(tp: Any, value: Any, key: str) -> Any:
    origin = get_origin(tp)
    args = get_args(tp)
    if origin is not None and type(None) in args:  # Optional[X]
        if value is None:
            return None
        inner = [a for a in args if a is not type(None)]
        return coerce(inner[0], value, key)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{key}: expected true or false, got {value!r}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{key}: expected a whole number, got {value!r}")
    if tp is Decimal:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise ConfigError(f"{key}: expected a number, got {value!r}") from None
        if not number.is_finite() or number < 0:
            raise ConfigError(f"{key}: expected a non-negative number, got {value!r}")
        return number
    if tp is str:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
        raise ConfigError(f"{key}: expected text, got {value!r}")
    if origin is dict:
        return dict(expect(dict, value, key))
    if origin is tuple:  # tuple[X, ...] (a list of X) or tuple[X, Y] (a list of exactly two)
        items = expect(list, value, key)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(coerce(args[0], item, f"{key}[{i}]") for i, item in enumerate(items))
        if len(items) != len(args):
            raise ConfigError(f"{key}: expected a list of {len(args)}, got {len(items)}")
        return tuple(coerce(a, item, f"{key}[{i}]") for i, (a, item) in enumerate(zip(args, items)))
    return value


def build(cls: type, data: Any, key: str):
    data = expect(dict, data if data is not None else {}, key)
    hints = get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    for name in data:
        if name not in names:
            raise ConfigError(f"{key}.{name}: unknown key (expected one of {', '.join(sorted(names))})")
    values = {}
    for f in dataclasses.fields(cls):
        if f.name in data:
            values[f.name] = coerce(hints[f.name], data[f.name], f"{key}.{f.name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(f"{key}.{f.name}: required key is missing")
    return cls(**values)


def call_parameters(fn, first: int, data: Any, key: str) -> dict[str, Any]:
    """The YAML mapping ``data`` as the keyword arguments of ``fn`` after its first
    ``first`` positional parameters: exactly its parameter names (a missing or unknown one
    is an error naming it), each coerced to its annotation."""
    import inspect

    data = expect(dict, data if data is not None else {}, key)
    hints = get_type_hints(fn)
    names = list(inspect.signature(fn).parameters)[first:]
    expected = ", ".join(names) or "none"
    for name in data:
        if name not in names:
            raise ConfigError(f"{key}.{name}: unknown parameter of {fn.__name__} (expected: {expected})")
    missing = [n for n in names if n not in data]
    if missing:
        raise ConfigError(f"{key}.{missing[0]}: missing parameter of {fn.__name__} (expected: {expected})")
    return {n: coerce(hints.get(n, Any), data[n], f"{key}.{n}") for n in names}
