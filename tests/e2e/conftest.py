"""One generated landing zone and one warehouse, shared by every end-to-end test.

The landing zone is generated once per test session (small scale, fixed seed and check
date) and the first `hedui run` over it is done once; tests that change the warehouse
or the landing zone work on their own copies.
"""
from __future__ import annotations

import csv

import pytest

from jobs.generate import generate
from jobs.pipeline import run

from tests.e2e.params import E2E_DATE, E2E_RUN, E2E_SCALE, E2E_SEED


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
