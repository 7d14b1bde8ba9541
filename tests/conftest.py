"""Shared fixtures: one SparkSession (Delta, small shuffles, no UI) for the whole run."""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging

import pytest

from jobs.config import load_config

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
