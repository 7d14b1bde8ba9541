"""Entry point for spark-submit: the `hedui` command line, unchanged.

    spark-submit --master <url> --py-files dist/hedui.zip --jars <delta jars> \\
        jobs/entry.py run --env cluster --landing <uri> --warehouse <uri> --as-of <D>

scripts/submit.sh builds the zip (scripts/package.sh) and writes this command. The
arguments after the script are those of `hedui` (contract section 6) and the exit status
is the command's (spark-submit passes it on in client deploy mode). The session is
stopped before exiting, so the application ends on the cluster as soon as the command does.
"""
from __future__ import annotations

import os
import sys


def _drop_script_folder() -> None:
    """spark-submit runs this file as a script, which puts its folder -- the ``jobs``
    package itself -- first on ``sys.path``; its modules (``config``, ``tables``, ...) must
    only be importable as ``jobs.*`` (from the --py-files zip), never as top-level names."""
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]


def _stop_spark() -> None:
    from pyspark.sql import SparkSession

    spark = SparkSession.getActiveSession()
    if spark is not None:
        spark.stop()


def main(argv: list[str] | None = None) -> None:
    """Run one `hedui` command; always raises SystemExit with its exit status."""
    from jobs.cli import main as cli

    try:
        cli.main(args=argv, prog_name="hedui")
    finally:
        _stop_spark()


if __name__ == "__main__":
    _drop_script_folder()
    main()
