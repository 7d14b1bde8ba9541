"""The `hedui` command line (contract section 6).

    hedui generate --out <landing> --scale <s> --seed <n> --as-of <D>
    hedui run      --landing <landing> --warehouse <warehouse> [--as-of <D>]
    hedui export   --warehouse <warehouse> --out <dir> [--as-of <D>] [--unmasked]
    hedui report   --warehouse <warehouse> --out <dir>

Every command takes --env local|cluster and --conf <file>. Exit status: 0 success;
1 the run finished but some files FAILED; 2 bad usage or configuration (nothing
written); 3 the run failed (Delta's atomic commits leave every table as it was before
the failing step). The same commands run under spark-submit (jobs/entry.py).
"""
from __future__ import annotations

import datetime as dt
import functools
import logging
import sys

import click

from jobs.config import ENVIRONMENTS, Config, ConfigError, load_config

log = logging.getLogger("jobs.cli")

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, EXIT_FAILED = 0, 1, 2, 3


class DateType(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a date of the form YYYY-MM-DD", param, ctx)


DATE = DateType()


def common_options(fn):
    @click.option("--env", type=click.Choice(ENVIRONMENTS), default="local", show_default=True,
                  help="Configuration overlay: conf/local.yaml (one machine) or conf/cluster.yaml "
                       "(spark-submit on a cluster).")
    @click.option("--conf", "conf_file", type=click.Path(dir_okay=False),
                  help="Extra YAML merged on top of conf/base.yaml and the overlay "
                       "(e.g. other thresholds, a rule switched off, a warning-id secret).")
    @click.option("-v", "--verbose", is_flag=True, help="Log at DEBUG level.")
    @functools.wraps(fn)
    def wrapper(env, conf_file, verbose, **kwargs):
        logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, stream=sys.stderr,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        for noisy in ("py4j", "py4j.clientserver", "py4j.java_gateway"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
        try:
            cfg = load_config(env, conf_file)
        except ConfigError as exc:
            click.echo(f"hedui: configuration error: {exc}", err=True)
            sys.exit(EXIT_USAGE)
        return fn(cfg=cfg, **kwargs)
    return wrapper


def _spark(cfg: Config):
    from jobs.session import SparkSetupError, get_spark
    try:
        return get_spark(cfg)
    except SparkSetupError as exc:
        click.echo(f"hedui: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except Exception as exc:  # e.g. under spark-submit, a master that refuses the application
        log.debug("Spark did not start", exc_info=True)
        click.echo(f"hedui: Spark did not start (nothing written): {_error_line(exc)}; "
                   "check --master and the Spark log above", err=True)
        sys.exit(EXIT_USAGE)


def _error_line(exc: Exception) -> str:
    """``Type: first line`` of an error; for a Java error, the Java exception's own."""
    java = getattr(exc, "java_exception", None)
    text = str(java) if java is not None else str(exc)
    first = (text.strip().splitlines() or [""])[0].strip()[:500]
    return first if java is not None else f"{type(exc).__name__}: {first}"


def _fail(what: str, exc: Exception) -> None:
    log.debug("%s failed", what, exc_info=True)
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:500]
    click.echo(f"hedui: {what} failed: {type(exc).__name__}: {first}", err=True)
    sys.exit(EXIT_FAILED)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="hedui")
def main():
    """hedui (核对): verify social-assistance rolls against departmental data.

    Loads the landing zone into Delta tables (bronze -> silver), runs every rule of the
    catalogue, keeps the warnings table and its lifecycle, and writes per-county exports.
    """


@main.command()
@click.option("--out", required=True, help="Landing zone to write (any URI Spark writes).")
@click.option("--scale", type=click.FloatRange(min=0, min_open=True), default=0.001, show_default=True,
              help="1.0 = all of Dali (~3.34M residents, ~211M rows); row counts scale linearly.")
@click.option("--seed", type=int, default=42, show_default=True, help="Same seed, same files.")
@click.option("--as-of", "as_of", type=DATE, default=None,
              help="Check date the planted anomalies aim at (default: today); no batch is later.")
@common_options
def generate(cfg: Config, out: str, scale: float, seed: int, as_of: dt.date | None):
    """Write a synthetic Dali landing zone with planted anomalies and _truth/expected.csv."""
    from jobs.generate import generate as run_generate
    spark = _spark(cfg)
    as_of = as_of or dt.date.today()
    try:
        counts = run_generate(spark, cfg, out, scale, seed, as_of)
    except Exception as exc:
        _fail("generate", exc)
    total = sum(v for k, v in counts.items() if isinstance(v, int) and k != "truth")
    click.echo(f"generated {total:,} rows into {out} (scale {scale}, seed {seed}, as of {as_of})")
    for name, n in sorted(counts.items()):
        click.echo(f"  {name:<18} {n:>12,}")


@main.command()
@click.option("--landing", default=None, help="Landing zone to load (default: paths.landing of the config).")
@click.option("--warehouse", default=None, help="Delta warehouse (default: paths.warehouse of the config).")
@click.option("--as-of", "as_of", type=DATE, default=None,
              help="Check date D that drives every window (default: today). An earlier D than one "
                   "already applied is refused.")
@click.option("--run-id", default=None, hidden=True, help="Fixed run id (tests).")
@common_options
def run(cfg: Config, landing: str | None, warehouse: str | None, as_of: dt.date | None, run_id: str | None):
    """Ingest new files, apply feedback, run every rule and update the warnings table."""
    from jobs.gold.lifecycle import CheckDateError
    from jobs.pipeline import run as run_pipeline
    cfg = cfg.with_paths(landing, warehouse)
    spark = _spark(cfg)
    as_of = as_of or dt.date.today()
    try:
        result = run_pipeline(spark, cfg, cfg.paths.landing, cfg.paths.warehouse, as_of, run_id)
    except CheckDateError as exc:
        click.echo(f"hedui: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except Exception as exc:
        _fail("run", exc)
    click.echo(result.summary)
    if result.failed_files:
        click.echo("FAILED files (retried by the next run):", err=True)
        for f in result.failed_files:
            click.echo(f"  {f}", err=True)
    sys.exit(result.exit_code)


@main.command()
@click.option("--warehouse", default=None, help="Delta warehouse (default: paths.warehouse of the config).")
@click.option("--out", required=True, help="Folder for <county_code>/warnings_<D>.csv and feedback templates.")
@click.option("--as-of", "as_of", type=DATE, default=None,
              help="Check date of the export (default: the latest check date in the warnings table).")
@click.option("--unmasked", is_flag=True,
              help="Write full ID numbers (recorded in the run log); masked by default.")
@common_options
def export(cfg: Config, warehouse: str | None, out: str, as_of: dt.date | None, unmasked: bool):
    """Write one CSV of open warnings per county (Chinese headers, UTF-8 with BOM)."""
    from jobs.gold.export import export_counties
    cfg = cfg.with_paths(warehouse=warehouse)
    spark = _spark(cfg)
    try:
        result = export_counties(spark, cfg, cfg.paths.warehouse, out, as_of=as_of, unmasked=unmasked)
    except Exception as exc:
        _fail("export", exc)
    masked = "masked" if result.get("masked", True) else "UNMASKED"
    click.echo(f"exported {result.get('rows', 0)} open warnings of {result.get('check_date')} to {out}: "
               f"{len(result.get('counties', {}))} county files + unassigned "
               f"({result.get('unassigned', 0)}), ID numbers {masked}")


@main.command()
@click.option("--warehouse", default=None, help="Delta warehouse (default: paths.warehouse of the config).")
@click.option("--out", required=True, help="Folder for index.html (charts embedded, readable offline).")
@common_options
def report(cfg: Config, warehouse: str | None, out: str):
    """Write a static HTML report with charts of the latest run."""
    from jobs.report import build_report
    cfg = cfg.with_paths(warehouse=warehouse)
    spark = _spark(cfg)
    try:
        path = build_report(spark, cfg, cfg.paths.warehouse, out)
    except Exception as exc:
        _fail("report", exc)
    click.echo(f"report written to {path}")


if __name__ == "__main__":
    main()
