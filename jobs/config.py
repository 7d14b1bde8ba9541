"""Typed configuration: conf/base.yaml + conf/<env>.yaml + an optional --conf file.

Every section becomes a frozen dataclass, validated on load. A bad value raises
:class:`ConfigError` naming the key (``rules.rules.HIGH_INCOME.params.income_threshold:
expected a number, got 'abc'``); the CLI turns it into exit status 2 before anything is written.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import os
import posixpath
import zipfile
import zipimport
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jobs.contract import Contract, load_contract
from jobs.errors import ConfigError
from jobs.typed import as_path, build, expect, read_yaml  # noqa: F401  (read_yaml, as_path: re-exported)

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def find_conf_dir() -> Path | zipfile.Path:
    """The conf/ folder next to the ``jobs`` package.

    ``HEDUI_CONF_DIR`` overrides it. When ``jobs`` is imported from a zip (spark-submit
    ``--py-files``, built by scripts/package.sh with conf/ beside jobs/ inside), it is the
    folder inside the zip, as a :class:`zipfile.Path` (same ``/``, ``is_file`` and
    ``read_text`` as a :class:`~pathlib.Path`).
    """
    if os.environ.get("HEDUI_CONF_DIR"):
        return Path(os.environ["HEDUI_CONF_DIR"])
    loader = globals().get("__loader__")
    if isinstance(loader, zipimport.zipimporter):
        # prefix is the package's folder inside the archive, e.g. "jobs/"
        inside = posixpath.dirname(loader.prefix.rstrip("/"))
        return zipfile.Path(loader.archive, at=posixpath.join(inside, "conf") + "/")
    return PROJECT_ROOT / "conf"


if TYPE_CHECKING:
    from jobs.rules.registry import RulesConfig

CONF_DIR = find_conf_dir()
ENVIRONMENTS = ("local", "cluster")


# ---------------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Paths:
    landing: str = "data/landing"
    warehouse: str = "data/warehouse"


@dataclass(frozen=True)
class SparkSettings:
    master: str | None = None
    delta_jars: str | None = None
    delta_packages: str | None = None
    conf: dict[str, str] = field(default_factory=dict)
    workarounds: dict[str, bool] = field(default_factory=dict)   # jobs/spark/workarounds.py, by name


@dataclass(frozen=True)
class IngestSettings:
    sniff_bytes: int = 65536
    max_records_per_file: int = 1_000_000
    parallel_sources: int = 4

    def __post_init__(self) -> None:
        for name in ("sniff_bytes", "max_records_per_file", "parallel_sources"):
            if getattr(self, name) < 1:
                raise ConfigError(f"ingest.{name}: must be at least 1, got {getattr(self, name)}")


@dataclass(frozen=True)
class RunSettings:
    stale_source_days: int = 45
    warning_id_secret: str = "hedui-demo-secret-change-me"
    lock_heartbeat_seconds: int = 30
    lock_stale_seconds: int = 600

    def __post_init__(self) -> None:
        if not 0 < self.lock_heartbeat_seconds < self.lock_stale_seconds:
            raise ConfigError("run.lock_heartbeat_seconds: must be above 0 and below run.lock_stale_seconds")

    @property
    def lock(self):
        from jobs.lock import LockSettings
        return LockSettings(heartbeat_seconds=self.lock_heartbeat_seconds, stale_seconds=self.lock_stale_seconds)


@dataclass(frozen=True)
class ExportSettings:
    mask_ids: bool = True


ROLES = ("reviewer", "supervisor", "admin")


@dataclass(frozen=True)
class ServeSettings:
    """`hedui serve` (jobs/web): the review page's sessions, lockout and paging."""

    host: str = "127.0.0.1"
    port: int = 8000
    session_secret: str | None = None      # None: generated once, kept in <warehouse>/_hedui/serve_secret
    session_hours: int = 8
    cookie_secure: bool = False
    max_failed_logins: int = 5
    lock_minutes: int = 15
    page_size: int = 50
    unmask_roles: tuple[str, ...] = ("supervisor", "admin")
    threads: int = 4
    min_password_length: int = 10
    history_versions: int = 60

    def __post_init__(self) -> None:
        for name in ("session_hours", "max_failed_logins", "lock_minutes", "page_size", "threads",
                     "min_password_length", "history_versions"):
            if getattr(self, name) < 1:
                raise ConfigError(f"serve.{name}: must be at least 1, got {getattr(self, name)}")
        if not 0 < self.port < 65536:
            raise ConfigError(f"serve.port: must be between 1 and 65535, got {self.port}")
        for role in self.unmask_roles:
            if role not in ROLES:
                raise ConfigError(f"serve.unmask_roles: unknown role {role!r} (expected some of {', '.join(ROLES)})")
        if self.session_secret is not None and len(self.session_secret) < 32:
            raise ConfigError("serve.session_secret: must be at least 32 characters (or null: generated)")


@dataclass(frozen=True)
class Geo:
    """Dali's 12 counties and 112 townships (code -> name)."""

    counties: dict[str, str]
    townships: dict[str, str]
    township_county: dict[str, str]


@dataclass(frozen=True)
class Config:
    env: str
    app_name: str
    paths: Paths
    spark: SparkSettings
    ingest: IngestSettings
    run: RunSettings
    export: ExportSettings
    contract: Contract
    rules: "RulesConfig"
    geo: Geo
    serve: ServeSettings = field(default_factory=ServeSettings)

    def with_paths(self, landing: str | None = None, warehouse: str | None = None) -> "Config":
        paths = dataclasses.replace(
            self.paths,
            landing=landing if landing is not None else self.paths.landing,
            warehouse=warehouse if warehouse is not None else self.paths.warehouse,
        )
        return dataclasses.replace(self, paths=paths)


# ---------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------
def deep_merge(base: dict, over: dict) -> dict:
    """Merge ``over`` into a copy of ``base``: mappings key by key, anything else replaced."""
    out = dict(base)
    for key, value in (over or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def load_config(env: str = "local", conf_file: str | Path | None = None,
                conf_dir: Path | zipfile.Path | None = None) -> Config:
    """Load base + environment overlay + optional extra file into a validated Config."""
    conf_dir = as_path(conf_dir) if conf_dir else CONF_DIR
    if env not in ENVIRONMENTS:
        raise ConfigError(f"--env: unknown environment {env!r} (expected one of {', '.join(ENVIRONMENTS)})")
    raw = read_yaml(conf_dir / "base.yaml")
    raw = deep_merge(raw, read_yaml(conf_dir / f"{env}.yaml"))
    if conf_file:
        raw = deep_merge(raw, read_yaml(conf_file, "--conf"))
    return build_config(raw, env, conf_dir)


def build_config(raw: dict, env: str, conf_dir: Path | zipfile.Path) -> Config:
    known = {"app_name", "paths", "spark", "ingest", "run", "export", "sources_file",
             "rules_file", "rules", "serve"}
    for key in raw:
        if key not in known:
            raise ConfigError(f"{key}: unknown configuration key (expected one of {', '.join(sorted(known))})")
    sources_path = conf_dir / str(raw.get("sources_file", "sources.yaml"))
    rules_path = conf_dir / str(raw.get("rules_file", "rules.yaml"))
    rules_raw = read_yaml(rules_path, "rules")
    if "rules" in raw:  # an overlay may switch rules or change thresholds
        rules_raw = deep_merge(rules_raw, expect(dict, raw["rules"], "rules"))
    from jobs.rules import load_rules  # validates every rule's entry against its function
    spark = build(SparkSettings, raw.get("spark", {}), "spark")
    spark = dataclasses.replace(spark, conf={str(k): _spark_value(v) for k, v in spark.conf.items()})
    return Config(
        env=env,
        app_name=str(raw.get("app_name", "hedui")),
        paths=build(Paths, raw.get("paths", {}), "paths"),
        spark=spark,
        ingest=build(IngestSettings, raw.get("ingest", {}), "ingest"),
        run=build(RunSettings, raw.get("run", {}), "run"),
        export=build(ExportSettings, raw.get("export", {}), "export"),
        contract=load_contract(sources_path),
        rules=load_rules(rules_raw),
        geo=load_geo(conf_dir / "geo"),
        serve=build(ServeSettings, raw.get("serve", {}), "serve"),
    )


def load_geo(geo_dir: Path | zipfile.Path) -> Geo:
    def rows(name: str) -> list[dict]:
        path = geo_dir / name
        if not path.is_file():
            raise ConfigError(f"geography file not found: {path}")
        return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))

    counties = {r["county_code"]: r["county_name"] for r in rows("dali_counties.csv")}
    towns = rows("dali_townships.csv")
    return Geo(counties=counties,
               townships={r["township_code"]: r["township_name"] for r in towns},
               township_county={r["township_code"]: r["county_code"] for r in towns})


def resolve_project_path(path: str | None) -> str | None:
    """A relative local path in configuration is relative to the project root."""
    if path is None or "://" in path or os.path.isabs(path):
        return path
    return str(PROJECT_ROOT / path)


def _spark_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
