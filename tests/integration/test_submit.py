"""scripts/package.sh and scripts/submit.sh without a cluster (quick: no Spark starts).

- the zip holds jobs/ and conf/, and `jobs` imported from it reads its configuration from
  inside it (nothing from the checkout);
- submit.sh refuses, with one line on stderr and exit status 2, a master that does not
  answer, a master URL it cannot read, a missing Delta jar folder; --dry-run shows the
  spark-submit command it would run.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SUBMIT = ROOT / "scripts" / "submit.sh"


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pkg") / "hedui.zip"
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "package.sh"), "--out", str(out)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return out


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]    # nothing listens once the socket is closed


def run_submit(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SUBMIT), *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def test_package_holds_jobs_and_conf(package):
    names = set(zipfile.ZipFile(package).namelist())
    assert {"jobs/cli.py", "jobs/entry.py", "jobs/config.py", "conf/base.yaml", "conf/cluster.yaml",
            "conf/sources.yaml", "conf/rules.yaml", "conf/geo/dali_counties.csv"} <= names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    # reproducible: same sources, same bytes
    again = package.with_name("again.zip")
    subprocess.run(["bash", str(ROOT / "scripts" / "package.sh"), "--out", str(again)], check=True,
                   capture_output=True, timeout=60)
    assert again.read_bytes() == package.read_bytes()


def test_config_is_read_from_inside_the_zip(package, tmp_path):
    code = (
        "import jobs, jobs.config as c\n"
        "cfg = c.load_config('cluster')\n"
        "print(jobs.__file__)\n"
        "print(type(c.CONF_DIR).__name__, c.CONF_DIR)\n"
        "print(cfg.spark.master, cfg.spark.delta_jars, len(cfg.contract.names), len(cfg.rules.rules), len(cfg.geo.counties))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "HEDUI_CONF_DIR"}
    env["PYTHONPATH"] = str(package)
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    origin, conf_dir, summary = proc.stdout.splitlines()
    assert origin.startswith(str(package) + os.sep)
    assert conf_dir.startswith("Path ") and str(package) in conf_dir     # zipfile.Path
    master, jars, n_sources, n_rules, n_counties = summary.split()
    assert (master, jars) == ("None", "None")            # nothing local in cluster mode
    assert int(n_sources) > 5 and int(n_rules) > 5 and int(n_counties) == 12


def test_config_error_inside_the_zip_names_the_file(package, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(package)}
    env.pop("HEDUI_CONF_DIR", None)
    code = "import jobs.config as c\ntry:\n    c.load_config('cluster', 'missing.yaml')\nexcept c.ConfigError as e:\n    print(e)\n"
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "--conf file not found: missing.yaml", proc.stderr


def test_unreachable_master_is_one_line_and_exit_2():
    port = closed_port()
    proc = run_submit("--master", f"spark://127.0.0.1:{port}", "--connect-timeout", "3",
                      "run", "--landing", "/nowhere", "--warehouse", "/nowhere")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot reach the Spark master" in lines[0] and str(port) in lines[0], proc.stderr


def test_master_that_answers_http_is_refused(tmp_path):
    # a web port (the master's UI, a proxy) is not the master's RPC port
    import http.server
    import threading

    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        proc = run_submit("--master", f"spark://127.0.0.1:{server.server_port}", "run")
    finally:
        server.shutdown()
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "answers HTTP" in proc.stderr, proc.stderr


@pytest.mark.parametrize("args, message", [
    (["--master", "spark://127.0.0.1:7077", "--jars-dir", "/no/such/folder", "run"], "no Delta jar folder"),
    (["--master", "mesos://x:5050", "run"], "--master: expected"),
    (["run"], "no --master given"),
    (["--master", "spark://127.0.0.1:7077", "--deploy-mode", "cluster", "run"], "client mode only"),
    (["--master", "spark://127.0.0.1:7077", "frobnicate"], "unknown command"),
    (["--master", "spark://127.0.0.1:7077", "--timeout", "soon", "run"], "--timeout"),
])
def test_bad_usage_is_one_line_and_exit_2(args, message):
    proc = run_submit(*args, env={"HEDUI_MASTER": ""})
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr


def test_folder_without_delta_jar_is_refused(tmp_path):
    (tmp_path / "other.jar").write_bytes(b"")
    proc = run_submit("--master", "spark://127.0.0.1:7077", "--jars-dir", str(tmp_path), "run")
    assert proc.returncode == 2 and "no delta-spark jar" in proc.stderr, proc.stderr


def test_dry_run_shows_the_spark_submit_command(tmp_path):
    jars = tmp_path / "jars"
    jars.mkdir()
    for name in ("delta-spark_4.2_2.13-4.4.0.jar", "delta-storage-4.4.0.jar"):
        (jars / name).write_bytes(b"")
    zip_path = tmp_path / "hedui.zip"
    proc = run_submit("--master", "spark://10.0.0.5:7077", "--jars-dir", str(jars), "--zip", str(zip_path),
                      "--spark-conf", "spark.executor.memoryOverhead=2g", "--executor-memory", "6g",
                      "--dry-run", "run", "--landing", "hdfs:///l", "--warehouse", "hdfs:///w")
    assert proc.returncode == 0, proc.stderr
    cmd = proc.stdout
    assert zip_path.is_file()
    assert "--master spark://10.0.0.5:7077" in cmd and "--deploy-mode client" in cmd
    assert f"--jars {jars}/delta-spark_4.2_2.13-4.4.0.jar\\,{jars}/delta-storage-4.4.0.jar" in cmd
    assert f"--py-files {zip_path}" in cmd
    assert "--conf spark.executor.memoryOverhead=2g" in cmd and "--executor-memory 6g" in cmd
    assert cmd.rstrip().endswith("jobs/entry.py run --env cluster --landing hdfs:///l --warehouse hdfs:///w")

    proc = run_submit("--master", "yarn", "--packages", "--delta-version", "4.4.0", "--zip", str(zip_path),
                      "--no-build", "--dry-run", "export", "--env", "local", "--out", "/tmp/x",
                      env={"HADOOP_CONF_DIR": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    assert "--packages io.delta:delta-spark_4.2_2.13:4.4.0" in proc.stdout and "--jars" not in proc.stdout
    assert proc.stdout.rstrip().endswith("export --env local --out /tmp/x")   # --env given: kept
