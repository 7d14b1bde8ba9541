"""The benchmark's CPU split of the Spark JVM: /proc stat lines and the event log's task
metrics (scripts/benchmark.py)."""
import importlib.util
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "benchmark.py"


@pytest.fixture(scope="module")
def benchmark():
    spec = importlib.util.spec_from_file_location("hedui_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stat(name: str, utime: int, stime: int, tid: int = 7) -> str:
    """A /proc/<pid>/task/<tid>/stat line: utime and stime are fields 14 and 15."""
    return f"{tid} ({name}) S 1 1 1 0 -1 4194368 10 0 0 0 {utime} {stime} 0 0 20 0 40 0 12345\n"


def test_stat_cpu_ticks_reads_names_with_spaces_and_parentheses(benchmark):
    assert benchmark.stat_cpu_ticks(stat("a (b) c", 30, 12)) == ("a (b) c", 42)


@pytest.mark.parametrize("name, kind", [
    ("C1 CompilerThre", "jit"), ("C2 CompilerThre", "jit"), ("Executor task l", "other"),
    ("ParGC Thread#1", "gc"), ("GC Thread#0", "gc"), ("G1 Conc#0", "gc"),
    ("main", "other"), ("", "other"), ("Executor heartb", "other"),
])
def test_thread_kind(benchmark, name, kind):
    assert benchmark.thread_kind(name) == kind


def test_cpu_by_kind_counts_jit_and_gc_threads_and_the_whole_process(benchmark):
    threads = [stat("C2 CompilerThre", 5000, 100), stat("C1 CompilerThre", 900, 0),
               stat("Executor task l", 12000, 500), stat("ParGC Thread#0", 300, 50),
               stat("java", 200, 100)]
    # the process's total also holds the time of threads that have ended
    process = stat("java", 31050, 1500, tid=1)
    assert benchmark.cpu_by_kind(process, threads, 100) == {"total": 325.5, "jit": 60.0, "gc": 3.5}


def test_with_tasks_leaves_the_rest_as_other(benchmark):
    cpu = {"total": 325.5, "jit": 60.0, "gc": 3.5}
    assert benchmark.with_tasks(cpu, 239.0) == {"total": 325.5, "jit": 60.0, "gc": 3.5,
                                                "tasks": 239.0, "other": 23.0}


def task_end(cpu_ns, deserialize_ns) -> dict:
    return {"Event": "SparkListenerTaskEnd",
            "Task Metrics": {"Executor CPU Time": cpu_ns, "Executor Deserialize CPU Time": deserialize_ns,
                             "Executor Run Time": 999}}


def test_task_cpu_seconds_sums_the_task_end_events(benchmark):
    events = [{"Event": "SparkListenerJobStart"}, task_end(1_500_000_000, 250_000_000),
              task_end(2_000_000_000, 0), {"Event": "SparkListenerTaskEnd"},  # a task without metrics
              {"Event": "SparkListenerTaskStart", "Task Metrics": {"Executor CPU Time": 9_000_000_000}}]
    assert benchmark.task_cpu_seconds(events) == 3.8


def test_event_log_reads_a_rolled_log(benchmark, tmp_path):
    folder = tmp_path / "eventlog_v2_local-1"
    folder.mkdir()
    (folder / "events_1_local-1").write_text('{"Event": "A"}\n{"Event": "B"}\n', encoding="utf-8")
    (folder / "events_2_local-1").write_text('{"Event": "C"}\n', encoding="utf-8")
    (folder / "events_10_local-1").write_text('{"Event": "D"}\n', encoding="utf-8")
    (tmp_path / "local-2").write_text('{"Event": "other app"}\n', encoding="utf-8")
    assert [e["Event"] for e in benchmark.event_log(str(tmp_path), "local-1")] == ["A", "B", "C", "D"]


def test_usable_cores_follow_the_cpu_affinity_that_cores_sets(benchmark):
    """What ``CORES=1`` (``taskset -c 0``) does to the benchmark: the process, and the JVM
    it would start, see one core, and the JSON's ``cores`` says so."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(before)})
    try:
        assert benchmark.usable_cores() == 1
    finally:
        os.sched_setaffinity(0, before)


@pytest.mark.parametrize("cores", ["0", "two", "-1", "100000"])
def test_benchmark_refuses_a_bad_cores_value_before_doing_anything(cores, tmp_path):
    """A bad ``CORES`` stops the script with status 2 and says what is allowed; nothing is
    set up, generated or run (WORK stays empty)."""
    env = {**os.environ, "CORES": cores, "WORK": str(tmp_path / "work")}
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "benchmark.sh"), "--skip-generate"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "CORES must be a whole number from 1 to" in proc.stderr and f"not '{cores}'" in proc.stderr
    assert not (tmp_path / "work").exists()
