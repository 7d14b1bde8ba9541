"""The `hedui` command line (contract section 6).

    hedui generate --out <landing> --scale <s> --seed <n> --as-of <D>
    hedui run      --landing <landing> --warehouse <warehouse> [--as-of <D>]
    hedui export   --warehouse <warehouse> --out <dir> [--as-of <D>] [--unmasked]
    hedui report   --warehouse <warehouse> --out <dir>
    hedui serve    --warehouse <warehouse> --landing <landing> [--host H] [--port P]
    hedui user     add|list|disable --warehouse <warehouse> ...

Every command takes --env local|cluster and --conf <file>. Exit status: 0 success;
1 the run finished but some files FAILED; 2 bad usage or configuration (nothing
written); 3 the run failed (Delta's atomic commits leave every table as it was before
the failing step). The same commands run under spark-submit (jobs/entry.py).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import sys

import click

from jobs import fs, lock, preflight
from jobs.config import ENVIRONMENTS, Config, load_config
from jobs.errors import ConfigError, SparkSetupError, StepFailed, UsageError, safe_message

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
        click.get_current_context().meta["hedui.verbose"] = verbose
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
    from jobs.spark.session import get_spark
    try:
        return get_spark(cfg)
    except UsageError:
        raise
    except Exception as exc:  # e.g. under spark-submit, a master that refuses the application
        raise SparkSetupError(f"Spark did not start (nothing written): {safe_message(exc)}; "
                              "check --master and the Spark log above") from None


class Command:
    """One command's life: its path checks, the warehouse lock and Spark, in that order.

    Paths on the local file system are checked, and a local warehouse locked, before
    Spark starts; other URIs once Spark is up (still before anything is written). A
    :class:`~jobs.errors.UsageError` anywhere is exit status 2 with one line; any other
    error exit status 3."""

    def __init__(self, cfg: Config, name: str, run_id: str, checks: list[tuple], warehouse: str | None = None):
        self.cfg, self.name, self.run_id, self.checks, self.warehouse = cfg, name, run_id, checks, warehouse
        self.stack = contextlib.ExitStack()
        self.session = None
        self.locked = False

    def __enter__(self) -> "Command":
        self.stack.__enter__()
        try:
            preflight.check_paths(self.checks)
            self._lock(fs.files_for(self.warehouse) if self.warehouse else None)
        except BaseException:
            self.stack.close()
            raise
        return self

    def _lock(self, files) -> None:
        if self.warehouse and not self.locked and files is not None:
            self.stack.enter_context(lock.held(self.warehouse, self.name, self.run_id, files, self.cfg.run.lock))
            self.locked = True

    def spark(self):
        if self.session is None:
            self.session = _spark(self.cfg)
            preflight.check_paths(self.checks, self.session)
            self._lock(fs.files_for(self.warehouse, self.session) if self.warehouse else None)
        return self.session

    def __exit__(self, *exc) -> None:
        self.stack.__exit__(*exc)


def _usage(exc: UsageError) -> None:
    click.echo(f"hedui: {exc}", err=True)
    sys.exit(EXIT_USAGE)


def _fail(what: str, exc: Exception, warehouse: str | None = None, run_id: str | None = None) -> None:
    """Exit status 3 with one line naming the step (and source and file) and the log that
    holds the masked traceback; ``-v`` prints that traceback too."""
    from jobs.diagnostics import format_exception, write_log
    traceback = format_exception(exc)
    if isinstance(exc, StepFailed):
        line = str(exc)
    else:
        line = safe_message(exc, 500)
        if warehouse and run_id:
            path = write_log(fs.files_for(warehouse), warehouse, run_id, [(f"{what}: {line}", traceback)])
            if path:
                line += f" (traceback, ID numbers and names masked: {path})"
    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.meta.get("hedui.verbose"):
        click.echo(traceback, err=True)
    click.echo(f"hedui: {what} failed: {line}", err=True)
    sys.exit(EXIT_FAILED)


@contextlib.contextmanager
def exit_status(what: str, warehouse: str | None = None, run_id: str | None = None):
    """UsageError -> exit 2, any other error -> exit 3 (SystemExit passes); a failure's
    masked traceback goes to ``<warehouse>/_hedui/logs/<run_id>.log`` when they are known."""
    try:
        yield
    except UsageError as exc:
        _usage(exc)
    except (SystemExit, KeyboardInterrupt):
        raise
    except Exception as exc:
        _fail(what, exc, warehouse, run_id)


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
    as_of = as_of or dt.date.today()
    with exit_status("generate"), Command(cfg, "generate", "", [("new-or-folder", out, "--out")]) as cmd:
        counts = run_generate(cmd.spark(), cfg, out, scale, seed, as_of)
        total = sum(v for k, v in counts.items() if isinstance(v, int) and k not in ("truth", "near_miss"))
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
    """Ingest new files, apply feedback, run every rule and update the warnings table.

    One command at a time per warehouse: a second one is refused (exit status 2) while
    this one runs."""
    from jobs import runstate
    from jobs.runstate import refuse_earlier_than_marker
    from jobs.pipeline import run as run_pipeline
    from jobs.runlog import new_run_id
    cfg = cfg.with_paths(landing, warehouse)
    landing, warehouse = cfg.paths.landing, cfg.paths.warehouse
    as_of = as_of or dt.date.today()
    run_id = run_id or new_run_id()
    checks = [("folder", landing, "--landing"), ("new-or-folder", warehouse, "--warehouse")]
    with exit_status("run", warehouse, run_id):
        preflight.check_paths(checks)
        refuse_earlier_than_marker(fs.files_for(warehouse), warehouse, as_of)   # before Spark starts
        with Command(cfg, "run", run_id, checks, warehouse) as cmd:
            quick = runstate.run_without_spark_isolated(cfg, landing, warehouse, as_of, run_id)
            if quick is not None:          # decided without starting Spark
                click.echo(quick)
                sys.exit(EXIT_OK)
            result = run_pipeline(cmd.spark(), cfg, landing, warehouse, as_of, run_id)
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
    from jobs.runlog import new_run_id
    cfg = cfg.with_paths(warehouse=warehouse)
    warehouse = cfg.paths.warehouse
    checks = [("warehouse", warehouse, "--warehouse"), ("new-or-folder", out, "--out")]
    with exit_status("export"), Command(cfg, "export", new_run_id(), checks, warehouse) as cmd:
        result = export_counties(cmd.spark(), cfg, warehouse, out, as_of=as_of, unmasked=unmasked,
                                 run_id=cmd.run_id)
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
    from jobs.runlog import new_run_id
    cfg = cfg.with_paths(warehouse=warehouse)
    warehouse = cfg.paths.warehouse
    checks = [("warehouse", warehouse, "--warehouse"), ("new-or-folder", out, "--out")]
    with exit_status("report"), Command(cfg, "report", new_run_id(), checks, warehouse) as cmd:
        path = build_report(cmd.spark(), cfg, warehouse, out)
    click.echo(f"report written to {path}")


# ---------------------------------------------------------------------------------
# The review page (jobs/web): delta-rs, no Spark, never the warehouse lock
# ---------------------------------------------------------------------------------
def _without_native_teardown(fn):
    """These commands use delta-rs, which may abort the interpreter as it exits: they
    leave through :func:`~jobs.spark.workarounds.exit_skipping_native_teardown` with
    their exit status."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from jobs.spark.workarounds import exit_skipping_native_teardown
        code = EXIT_OK
        try:
            fn(*args, **kwargs)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (EXIT_OK if exc.code is None else EXIT_USAGE)
        except KeyboardInterrupt:
            code = 130
        exit_skipping_native_teardown(code)
    return wrapper


def _local_warehouse(cfg: Config, warehouse: str | None, option: str = "--warehouse") -> str:
    warehouse = cfg.with_paths(warehouse=warehouse).paths.warehouse
    if not fs.is_local(warehouse):
        raise UsageError(f"{option} {warehouse}: the review page and its accounts need a local warehouse")
    warehouse = fs.local_path(warehouse)
    preflight.check_paths([("warehouse", warehouse, option)])
    return warehouse


@main.command()
@click.option("--warehouse", default=None, help="Delta warehouse (default: paths.warehouse of the config).")
@click.option("--landing", default=None,
              help="Landing zone: outcomes are written to <landing>/feedback/<batch>/ for the next run "
                   "(default: paths.landing of the config).")
@click.option("--host", default=None, help="Address to listen on (default: serve.host, 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port (default: serve.port, 8000).")
@common_options
@_without_native_teardown
def serve(cfg: Config, warehouse: str | None, landing: str | None, host: str | None, port: int | None):
    """Start the review page: work list, evidence, outcomes (Chinese, phone-friendly).

    Reads the warehouse with delta-rs (no Spark) and never takes the warehouse lock, so a
    running `hedui run` does not block it. Accounts: `hedui user add`."""
    with exit_status("serve"):
        warehouse = _local_warehouse(cfg, warehouse)
        landing = cfg.with_paths(landing=landing).paths.landing
        if not fs.is_local(landing):
            raise UsageError(f"--landing {landing}: the review page writes outcomes to a local landing zone")
        landing = fs.local_path(landing)
        preflight.check_paths([("folder", landing, "--landing")])
        import waitress

        from jobs.web.accounts import UserStore
        from jobs.web.app import create_app
        app = create_app(cfg, warehouse, landing)
        if not UserStore(warehouse).all():
            click.echo("hedui: no accounts yet: add one with `hedui user add --warehouse "
                       f"{warehouse} --name <name> --role admin --scope prefecture`", err=True)
        host, port = host or cfg.serve.host, port or cfg.serve.port
        click.echo(f"hedui serve: http://{host}:{port}/ (warehouse {warehouse}, landing {landing}); Ctrl-C stops")
        try:
            waitress.serve(app, host=host, port=port, threads=cfg.serve.threads, ident="hedui",
                           _quiet=True)
        except OSError as exc:
            raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


@main.group()
def user():
    """Accounts of the review page (<warehouse>/meta/users): add, list, disable.

    Roles: reviewer (records outcomes), supervisor (also withdraws waiting outcomes and
    shows full ID numbers), admin (also reads the audit). Scope: `prefecture`, a county
    code or a township code."""


def _cli_actor() -> str:
    import getpass
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:
        return "cli"


@user.command("add")
@click.option("--warehouse", default=None, help="Delta warehouse (default: paths.warehouse of the config).")
@click.option("--name", "username", required=True, help="Login name (letters, digits, . _ -).")
@click.option("--role", type=click.Choice(["reviewer", "supervisor", "admin"]), default="reviewer",
              show_default=True)
@click.option("--scope", required=True,
              help="`prefecture`, a county code (e.g. 532901) or a township code (e.g. 532901003).")
@click.option("--display-name", default=None, help="Name shown on the page (default: the login name).")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin "
                                                     "(default: asked twice, not echoed).")
@click.option("--replace", is_flag=True, help="Replace an existing account (new password, role, scope).")
@common_options
@_without_native_teardown
def user_add(cfg: Config, warehouse: str | None, username: str, role: str, scope: str,
             display_name: str | None, password_stdin: bool, replace: bool):
    """Add an account (or replace one with --replace)."""
    from jobs.web import accounts
    from jobs.web.audit import AuditLog
    with exit_status("user add"):
        warehouse = _local_warehouse(cfg, warehouse)
        accounts.check_username(username)
        scope = accounts.parse_scope(scope, cfg.geo)
        store = accounts.UserStore(warehouse)
        current = store.get(username)
        if current is not None and not current.disabled and not replace:
            raise UsageError(f"user {username} exists: --replace to change it, or `hedui user disable`")
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
        new = accounts.new_user(username, role, scope,
                                accounts.hash_password(password, cfg.serve.min_password_length),
                                display_name, _cli_actor())
        store.save(new)
        AuditLog(warehouse).record("USER_ADD", _cli_actor(), None, None,
                                   {"user": username, "role": role, "scope": scope, "replaced": current is not None})
        click.echo(f"user {username} ({role}, {accounts.scope_label(scope, cfg.geo)}) saved in {store.path}")


@user.command("list")
@click.option("--warehouse", default=None, help="Delta warehouse (default: paths.warehouse of the config).")
@common_options
@_without_native_teardown
def user_list(cfg: Config, warehouse: str | None):
    """List the accounts: name, role, scope, state."""
    import datetime as _dt

    from jobs.web import accounts
    from jobs.web.audit import AuditLog
    with exit_status("user list"):
        warehouse = _local_warehouse(cfg, warehouse)
        users = accounts.UserStore(warehouse).all()
        guard = accounts.LoginGuard(cfg.serve.max_failed_logins, _dt.timedelta(minutes=cfg.serve.lock_minutes))
        guard.replay(AuditLog(warehouse).login_events())
        if not users:
            click.echo("no accounts")
        for name in sorted(users):
            u = users[name]
            locked = guard.locked_until(name)
            state = "disabled" if u.disabled else (f"locked until {locked:%Y-%m-%d %H:%M} UTC" if locked else "active")
            click.echo(f"{name:<20} {u.role:<10} {u.scope:<10} {accounts.scope_label(u.scope, cfg.geo):<16} "
                       f"{state:<10} {u.display_name}")


@user.command("disable")
@click.option("--warehouse", default=None, help="Delta warehouse (default: paths.warehouse of the config).")
@click.option("--name", "username", required=True, help="Login name.")
@common_options
@_without_native_teardown
def user_disable(cfg: Config, warehouse: str | None, username: str):
    """Disable an account: it can no longer log in, and its open sessions end."""
    import dataclasses as _dc

    from jobs.web import accounts
    from jobs.web.audit import AuditLog
    with exit_status("user disable"):
        warehouse = _local_warehouse(cfg, warehouse)
        store = accounts.UserStore(warehouse)
        current = store.get(username)
        if current is None:
            raise UsageError(f"no user {username}")
        if current.disabled:
            click.echo(f"user {username} is already disabled")
            return
        store.save(_dc.replace(current, disabled=True, changed_at=accounts.utcnow(), changed_by=_cli_actor()))
        AuditLog(warehouse).record("USER_DISABLE", _cli_actor(), None, None, {"user": username})
        click.echo(f"user {username} disabled")


if __name__ == "__main__":
    main()
