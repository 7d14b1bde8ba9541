"""The exploration notebooks: stored clean, and every one runs on the demo warehouse.

Each notebook is executed with nbclient, with HEDUI_WAREHOUSE pointing at the demo
warehouse. The notebooks share one kernel (``kernel``: its Spark, started through
jobs.spark.session.get_spark by the first, is reused by the others, as in a Jupyter
session), each starting from an empty namespace (``%reset -f``): a name a notebook
uses without defining it fails as it would in a fresh kernel, and two JVMs fewer start.
A cell that raises fails the test; so does a missing glyph in a chart or an ID number
in clear in any output.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest

from warehouse_fixture import shared_demo_warehouse

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
EXPECTED = {"01_run_overview.ipynb", "02_warning_drilldown.ipynb", "03_data_quality.ipynb"}
CHARTS = {"01_run_overview.ipynb": 6, "03_data_quality.ipynb": 2}   # at least, on the demo warehouse
UNMASKED_ID = re.compile(r"(?<![0-9])[0-9]{17}[0-9X](?![0-9])")


def test_the_notebooks_exist():
    assert EXPECTED <= {p.name for p in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: cell {cell.id} has outputs"
        assert "../" not in cell.source, f"{path.name}: a cell reaches outside the project"
    first = nb.cells[0]
    assert first.cell_type == "code"
    assert re.search(r"^WAREHOUSE = os\.environ\.get\('HEDUI_WAREHOUSE', '[^']+'\)", first.source, re.M)


@pytest.fixture(scope="module")
def demo(spark, cfg, tmp_path_factory):
    return shared_demo_warehouse(spark, cfg, tmp_path_factory)


def _output_text(nb) -> str:
    """All text a reader would see: stream output, text/plain, text/html, errors."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                parts.append(out.text)
            elif out.output_type in ("display_data", "execute_result"):
                for mime in ("text/plain", "text/html"):
                    if mime in out.data:
                        parts.append(out.data[mime])
            elif out.output_type == "error":
                parts.append("\n".join(out.traceback))
    return "\n".join(parts)


def _images(nb) -> int:
    return sum(1 for cell in nb.cells for out in cell.get("outputs", [])
               if out.output_type in ("display_data", "execute_result") and "image/png" in out.get("data", {}))


@pytest.fixture(scope="module")
def kernel(demo):
    """One python3 kernel for the notebooks of this module, started by the first that runs
    (in notebooks/, with HEDUI_WAREHOUSE set) and shut down at the end."""
    from jupyter_client.manager import AsyncKernelManager
    from nbclient.util import run_sync

    km = AsyncKernelManager(kernel_name="python3")
    # The kernel imports the project from this checkout, as the test process does.
    env = {**os.environ, "HEDUI_WAREHOUSE": demo.path,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    yield km, env
    if km.has_kernel:
        run_sync(km.shutdown_kernel)(now=True)


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_on_the_demo_warehouse(path, demo, kernel):
    from nbclient import NotebookClient

    km, env = kernel
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell("%reset -f"))   # nothing left from the notebook before
    client = NotebookClient(nb, km=km, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    client.execute(env=env)  # raises CellExecutionError naming the cell that failed
    text = _output_text(nb)
    assert "missing from font" not in text and "Glyph" not in text
    for pid in demo.person_ids:
        assert pid not in text, f"{path.name} shows an ID number in clear"
    assert UNMASKED_ID.search(text) is None
    assert "********" in text
    assert _images(nb) >= CHARTS.get(path.name, 0)
