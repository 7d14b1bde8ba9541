"""A real Spark standalone cluster on 127.0.0.1, started from the pip-installed Spark.

``standalone_cluster`` (module scope) starts one master and two workers (1 core, 1500m
each) with ``spark-class``, waits until both workers are ALIVE in the master's JSON status,
and stops them at the end by their process ids, children (executors, Python workers)
included. Work, log and scratch folders live under the test's temporary folder.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 180          # seconds; the machine may be busy
WORKERS = 2
WORKER_CORES = 1
WORKER_MEMORY = "1500m"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spark_home() -> str:
    import pyspark

    return os.path.dirname(pyspark.__file__)


def _children() -> dict[int, list[int]]:
    """parent pid -> child pids, from /proc."""
    out: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read().decode("ascii", "replace")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        out.setdefault(ppid, []).append(int(entry))
    return out


def descendants(pid: int) -> list[int]:
    tree, todo, found = _children(), [pid], []
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().split(b")")[-1].split()[0] != b"Z"
    except OSError:
        return False


def stop_process_tree(proc: subprocess.Popen, grace: float = 20.0) -> None:
    """SIGTERM the process and every descendant, by pid; SIGKILL what is left after ``grace``."""
    pids = [proc.pid, *descendants(proc.pid)]
    for pid in reversed(pids):          # children first: executors before their worker
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        proc.poll()
        time.sleep(0.2)
    for pid in pids + descendants(proc.pid):
        if _alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


@dataclass
class StandaloneCluster:
    master_url: str
    web_url: str
    env: dict[str, str]
    base: Path
    procs: list[subprocess.Popen] = field(default_factory=list)

    def status(self) -> dict:
        with urllib.request.urlopen(f"{self.web_url}/json/", timeout=5) as resp:
            return json.load(resp)

    def alive_workers(self) -> int:
        try:
            return sum(1 for w in self.status().get("workers", []) if w.get("state") == "ALIVE")
        except (OSError, ValueError):   # not up yet, or still serving its HTML page
            return 0

    def logs(self) -> str:
        """The daemons' logs (for a failure message)."""
        parts = []
        for path in sorted((self.base / "logs").glob("*")):
            text = path.read_text(errors="replace")
            parts.append(f"--- {path.name}\n{text[-3000:]}")
        return "\n".join(parts)

    def stop(self) -> None:
        for proc in reversed(self.procs):   # workers, then the master
            stop_process_tree(proc)
        self.procs.clear()


def _start(cluster: StandaloneCluster, name: str, args: list[str]) -> subprocess.Popen:
    log = open(cluster.base / "logs" / f"{name}.out", "wb")
    cmd = [os.path.join(cluster.env["SPARK_HOME"], "bin", "spark-class"), *args]
    proc = subprocess.Popen(cmd, env=cluster.env, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, cwd=cluster.base, start_new_session=True)
    log.close()
    cluster.procs.append(proc)
    return proc


def _wait(what: str, ready, cluster: StandaloneCluster) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if ready():
            return
        dead = [p for p in cluster.procs if p.poll() is not None]
        if dead:
            raise RuntimeError(f"a Spark daemon exited ({dead[0].args[1]}) before {what}:\n{cluster.logs()}")
        time.sleep(0.5)
    raise RuntimeError(f"timed out waiting for {what}:\n{cluster.logs()}")


def start_cluster(base: Path) -> StandaloneCluster:
    for sub in ("logs", "conf", "local"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    port, web = free_port(), free_port()
    env = {
        **os.environ,
        "SPARK_HOME": spark_home(),
        "SPARK_CONF_DIR": str(base / "conf"),      # empty: no spark-defaults from elsewhere
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOG_DIR": str(base / "logs"),
        "SPARK_LOCAL_DIRS": str(base / "local"),
        "SPARK_DAEMON_MEMORY": "384m",
        "PYSPARK_PYTHON": sys.executable,
    }
    for key in ("PYSPARK_DRIVER_PYTHON", "SPARK_MASTER_HOST", "SPARK_MASTER_PORT", "SPARK_WORKER_DIR"):
        env.pop(key, None)
    cluster = StandaloneCluster(master_url=f"spark://127.0.0.1:{port}", web_url=f"http://127.0.0.1:{web}",
                                env=env, base=base)
    try:
        _start(cluster, "master", ["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                                   "--port", str(port), "--webui-port", str(web)])
        _wait("the master's web UI", lambda: _answers(cluster), cluster)
        for i in range(WORKERS):
            work = base / f"worker{i}"
            work.mkdir(exist_ok=True)
            _start(cluster, f"worker{i}", [
                "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                "--cores", str(WORKER_CORES), "--memory", WORKER_MEMORY,
                "--webui-port", str(free_port()), "--work-dir", str(work), cluster.master_url])
        _wait(f"{WORKERS} ALIVE workers", lambda: cluster.alive_workers() >= WORKERS, cluster)
    except BaseException:
        cluster.stop()
        raise
    return cluster


def _answers(cluster: StandaloneCluster) -> bool:
    """The master's web UI answers ``/json/`` with JSON. While it starts, it may refuse the
    connection or answer with its HTML page (seen once in CI): not ready yet."""
    try:
        cluster.status()
        return True
    except (OSError, ValueError):
        return False


@pytest.fixture(scope="module")
def standalone_cluster(tmp_path_factory):
    cluster = start_cluster(tmp_path_factory.mktemp("spark-standalone"))
    try:
        yield cluster
    finally:
        cluster.stop()
