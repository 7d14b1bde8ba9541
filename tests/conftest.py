"""Shared fixtures: one SparkSession (Delta, small shuffles, no UI) for the whole run, and
one generated landing zone with the warehouse of its first run; the first run over each
case of the conformance corpus.

The landing zone is generated once per test session (small scale, fixed seed and check
date, tests/e2e/params.py) and the first `hedui run` over it is done once, when a test
first asks for them; the end-to-end tests, the kill -9 test and the cluster test (which
compares its own run with this one) share them. Tests that change the warehouse or the
landing zone work on their own copies.
"""
from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import logging
import shutil
import sys
from pathlib import Path

import pytest

from jobs.config import load_config
from jobs.generate import generate
from jobs.pipeline import run
from tests.e2e.params import E2E_DATE, E2E_RUN, E2E_SCALE, E2E_SEED

CHECK_DATE = dt.date(2026, 10, 15)   # RULES.md worked examples use this D
RUN_ID = "test-run-0001"

logging.getLogger("py4j").setLevel(logging.WARNING)


@pytest.fixture(scope="session")
def cfg():
    """The local configuration, as `hedui --env local` loads it."""
    return load_config("local")


@pytest.fixture(scope="session")
def spark(cfg):
    from jobs.spark.session import build_session

    conf = {**cfg.spark.conf,
            "spark.sql.shuffle.partitions": "2",
            "spark.default.parallelism": "2",
            "spark.driver.memory": "4g",
            "spark.sql.adaptive.enabled": "false",
            "spark.databricks.delta.snapshotPartitions": "1"}
    session = build_session(dataclasses.replace(cfg.spark, conf=conf), "hedui-tests")
    yield session
    session.stop()


@pytest.fixture
def check_date():
    return CHECK_DATE


@pytest.fixture
def run_id():
    return RUN_ID


@pytest.fixture(scope="session")
def landing(spark, cfg, tmp_path_factory):
    out = tmp_path_factory.mktemp("e2e") / "landing"
    counts = generate(spark, cfg, str(out), E2E_SCALE, E2E_SEED, E2E_DATE)
    assert counts
    return out


@pytest.fixture(scope="session")
def truth(landing):
    with open(landing / "_truth" / "expected.csv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="session")
def first_run(spark, cfg, landing, tmp_path_factory):
    """The warehouse after the first run over the generated landing zone."""
    warehouse = tmp_path_factory.mktemp("e2e") / "warehouse"
    result = run(spark, cfg, str(landing), str(warehouse), E2E_DATE, E2E_RUN)
    return warehouse, result


CONFORMANCE = Path(__file__).resolve().parent / "data" / "conformance"


@dataclasses.dataclass(frozen=True)
class ConformanceRun:
    root: Path            # the case as delivered (tests/data/conformance/<case>)
    check_date: dt.date
    landing: Path         # the copy the run read
    warehouse: Path
    result: object        # jobs.pipeline.RunResult


@pytest.fixture(scope="session")
def conformance_run(spark, cfg, tmp_path_factory):
    """``conformance_run("c1")``: the first `hedui run` over a case of the conformance
    corpus (a copy of its landing zone, a fresh warehouse, the case's CHECK_DATE), done
    once per session: the conformance tests check it against the expected files, the
    cluster test compares its own run of the same case with it."""
    done: dict[str, ConformanceRun] = {}

    def first(case: str) -> ConformanceRun:
        if case not in done:
            root = CONFORMANCE / case
            check_date = dt.date.fromisoformat((root / "CHECK_DATE").read_text().strip())
            base = tmp_path_factory.mktemp(f"conf-{case}")
            landing, warehouse = base / "landing", base / "warehouse"
            shutil.copytree(root / "landing", landing)     # the corpus stays as delivered
            result = run(spark, cfg, str(landing), str(warehouse), check_date, f"conformance-{case}")
            done[case] = ConformanceRun(root, check_date, landing, warehouse, result)
        return done[case]
    return first


_EXIT_STATUS: list[int] = []


def pytest_sessionfinish(session, exitstatus):
    _EXIT_STATUS.append(int(exitstatus))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    """delta-rs may abort the interpreter as it exits (jobs/spark/workarounds.py,
    exit_skipping_native_teardown): once pytest has reported everything, a session that
    used it ends with pytest's own exit status."""
    if "deltalake" in sys.modules and _EXIT_STATUS:
        from jobs.spark.workarounds import exit_skipping_native_teardown
        exit_skipping_native_teardown(_EXIT_STATUS[-1])
