"""The benchmark's CPU split of the Spark JVM: /proc stat lines and the event log's task
metrics (scripts/benchmark.py)."""
import importlib.util
import os
import subprocess
import sys
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


def test_event_log_passes_over_a_last_line_cut_short(benchmark, tmp_path):
    """A JVM that ends without stopping Spark (the floor experiment) may leave its log's
    last line unfinished."""
    (tmp_path / "local-3.inprogress").write_text('{"Event": "A"}\n{"Event": "B"}\n{"Event": "SparkListenerTa',
                                                 encoding="utf-8")
    assert [e["Event"] for e in benchmark.event_log(str(tmp_path), "local-3")] == ["A", "B"]


def test_guarded_keeps_the_figures_when_a_measurement_fails(benchmark, capsys):
    assert benchmark.guarded(lambda a, b=0: {"seconds": a + b}, 1, b=2) == {"seconds": 3}

    def fails():
        raise ValueError("Expecting value: line 1")
    assert benchmark.guarded(fails) == {"error": "ValueError: Expecting value: line 1"}
    assert "Traceback" in capsys.readouterr().err


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


# ---------------------------------------------------------------------------------
# Spark's counts from the event log, the largest task binary from stderr
# ---------------------------------------------------------------------------------
def job_start(job_id: int, at: int, group: str | None = None, description: str | None = None) -> dict:
    properties = {"spark.job.interruptOnCancel": "true"}
    if group:
        properties["spark.jobGroup.id"] = group
    if description:
        properties["spark.job.description"] = description
    return {"Event": "SparkListenerJobStart", "Job ID": job_id, "Submission Time": at, "Stage IDs": [job_id],
            "Properties": properties}


def stage_submitted(stage: int, at: int, properties: dict, attempt: int = 0) -> dict:
    return {"Event": "SparkListenerStageSubmitted", "Properties": properties,
            "Stage Info": {"Stage ID": stage, "Stage Attempt ID": attempt, "Submission Time": at}}


def stage_completed(stage: int, at: int, attempt: int = 0) -> dict:
    return {"Event": "SparkListenerStageCompleted",
            "Stage Info": {"Stage ID": stage, "Stage Attempt ID": attempt, "Submission Time": at,
                           "Completion Time": at + 5}}


def task_done(stage: int, run_ms: int, attempt: int = 0, cpu_ms: int = 0) -> dict:
    """A task's end: its run time, and its CPU time split (as Spark does) into running and
    deserialising the task (nanoseconds)."""
    return {"Event": "SparkListenerTaskEnd", "Stage ID": stage, "Stage Attempt ID": attempt,
            "Task Metrics": {"Executor Run Time": run_ms, "Executor CPU Time": cpu_ms * 750_000,
                             "Executor Deserialize CPU Time": cpu_ms * 250_000}}


INGEST = {"spark.jobGroup.id": "hedui ingest payments", "spark.job.description": "hedui ingest payments: silver"}
CHECKS = {"spark.job.description": "hedui checks"}


@pytest.mark.parametrize("properties, phase", [
    (INGEST, "ingest"),
    ({"spark.jobGroup.id": "hedui ingest deaths"}, "ingest"),
    ({"spark.job.description": "hedui ingest"}, "ingest"),             # the ingest's own commits
    (CHECKS, "checks"),
    ({"spark.job.description": "hedui feedback"}, "feedback"),
    # Delta's own jobs: its prefix, once per nesting, and its step appended
    ({"spark.job.description": "Delta: Delta: hedui ingest: Filtering files for query: Compute snapshot for version: 1"},
     "ingest"),
    ({"spark.job.description": "Delta: hedui checks: Filtering files for query"}, "checks"),
    ({"spark.job.description": "hedui checks - MERGE operation - scanning files for matches"}, "checks"),
    ({"spark.job.description": "MERGE operation - scanning files for matches"}, "other"),   # meta/runs at the end
    ({"spark.job.description": "Delta: Compute snapshot for version: 3"}, "other"),
    ({}, "other"),
    ({"spark.job.description": "hedui summary"}, "other"),
    ({"spark.job.description": "hedui ingestion"}, "other"),
    ({"spark.jobGroup.id": "caller", "spark.job.description": "the caller's jobs"}, "other"),
])
def test_hedui_phase(benchmark, properties, phase):
    assert benchmark.hedui_phase(properties, 0) == phase


def test_spark_work_counts_jobs_completed_stages_and_task_seconds_by_phase(benchmark):
    events = [
        job_start(0, 100, description="hedui ingest"),
        stage_submitted(0, 100, {"spark.job.description": "hedui ingest"}), task_done(0, 1500, cpu_ms=600),
        stage_completed(0, 100),
        job_start(1, 110, *INGEST.values()),
        stage_submitted(1, 110, INGEST), task_done(1, 250), task_done(1, 250), stage_completed(1, 110),
        job_start(2, 200, description="hedui checks"),
        # stage 1's output is reused: skipped, never submitted or completed; stage 2 fails once
        stage_submitted(2, 200, CHECKS), task_done(2, 1000, cpu_ms=900), stage_completed(2, 200),
        stage_submitted(2, 210, CHECKS, attempt=1), task_done(2, 2000, attempt=1), stage_completed(2, 210, attempt=1),
        job_start(3, 300), stage_submitted(3, 300, {}), task_done(3, 49), stage_completed(3, 300),
        {"Event": "SparkListenerTaskEnd", "Stage ID": 3, "Stage Attempt ID": 0},   # a task without metrics
    ]
    figures = benchmark.spark_work(events, {"run": (None, None, benchmark.hedui_phase)})["run"]
    assert figures == {"jobs": 4, "stages": 5, "task_seconds": 5.0, "task_cpu_seconds": 1.5, "by_phase": {
        "ingest": {"jobs": 2, "stages": 2, "task_seconds": 2.0, "task_cpu_seconds": 0.6},
        "checks": {"jobs": 1, "stages": 2, "task_seconds": 3.0, "task_cpu_seconds": 0.9},
        "other": {"jobs": 1, "stages": 1, "task_seconds": 0.0, "task_cpu_seconds": 0.0}}}


def test_spark_work_splits_by_submission_time_into_windows(benchmark):
    events = [job_start(0, 100), stage_submitted(0, 100, {}), task_done(0, 700, cpu_ms=500),
              job_start(1, 200), stage_submitted(1, 200, {}), task_done(1, 300, cpu_ms=200),
              stage_completed(0, 100),                       # completes after the next window began
              stage_completed(1, 200),
              job_start(2, 400), stage_submitted(2, 400, {}), task_done(2, 9000), stage_completed(2, 400)]
    figures = benchmark.spark_work(events, {"generate": (50, 150, None), "run": (150, 300, None)})
    assert figures == {"generate": {"jobs": 1, "stages": 1, "task_seconds": 0.7, "task_cpu_seconds": 0.5},
                       "run": {"jobs": 1, "stages": 1, "task_seconds": 0.3, "task_cpu_seconds": 0.2}}


def test_phases_by_time_splits_a_program_without_job_groups(benchmark):
    phase = benchmark.phases_by_time([("ingest", 100), ("checks", 200), ("other", 301)])
    assert [phase({}, at) for at in (99, 100, 199, 200, 300, 301)] == \
        ["other", "ingest", "ingest", "checks", "checks", "other"]
    events = [job_start(0, 150), stage_submitted(0, 150, {}), task_done(0, 400), stage_completed(0, 150),
              job_start(1, 250), job_start(2, 260)]
    figures = benchmark.spark_work(events, {"all": (None, None, phase)})["all"]
    assert figures["by_phase"] == {"ingest": {"jobs": 1, "stages": 1, "task_seconds": 0.4, "task_cpu_seconds": 0.0},
                                   "checks": {"jobs": 2, "stages": 0, "task_seconds": 0.0, "task_cpu_seconds": 0.0}}


def test_binaries_by_phase_take_the_phase_of_the_stage_submitted_last_before_the_warning(benchmark):
    submissions = [(300, "checks"), (100, "ingest"), (200, "ingest"), (400, "other")]
    binaries = [(50, 1.5), (100, 2.0), (250, 6.2), (300, 1010 / 1024), (350, 3.9), (999, 1.1)]
    assert benchmark.binaries_by_phase(submissions, binaries) == {
        "ingest": {"largest_mib": 6.2, "stages_over_1000_kib": 2, "stages_over_1_mib": 2},
        "checks": {"largest_mib": 3.9, "stages_over_1000_kib": 2, "stages_over_1_mib": 1},
        "other": {"largest_mib": 1.5, "stages_over_1000_kib": 2, "stages_over_1_mib": 2}}   # before any stage, after all


def test_spark_work_puts_the_task_binaries_of_a_window_in_phases(benchmark):
    events = [job_start(0, 100, *INGEST.values()), stage_submitted(0, 100, INGEST), stage_completed(0, 100),
              job_start(1, 200, description="hedui checks"), stage_submitted(1, 200, CHECKS), stage_completed(1, 200),
              job_start(2, 900), stage_submitted(2, 900, {}), stage_completed(2, 900)]       # outside the window
    figures = benchmark.spark_work(events, {"run": (0, 500, benchmark.hedui_phase)},
                                   {"run": [(101, 2.5), (205, 6.2), (210, 1.0)]})["run"]
    assert figures["task_binary_by_phase"] == {
        "ingest": {"largest_mib": 2.5, "stages_over_1000_kib": 1, "stages_over_1_mib": 1},
        "checks": {"largest_mib": 6.2, "stages_over_1000_kib": 2, "stages_over_1_mib": 1}}
    assert "task_binary_by_phase" not in benchmark.spark_work(events, {"run": (0, 500, benchmark.hedui_phase)})["run"]


def test_run_captured_reads_the_task_binaries_of_a_process(benchmark):
    code, stdout, stderr, binaries = benchmark.run_captured(
        ["sh", "-c", "echo out; echo 'WARN DAGScheduler: Broadcasting large task binary with size 2.5 MiB' >&2; "
                     "echo other >&2; exit 3"], dict(os.environ))
    assert (code, stdout) == (3, "out\n")
    assert stderr == "WARN DAGScheduler: Broadcasting large task binary with size 2.5 MiB\nother\n"
    assert [size for _, size in binaries] == [2.5]
    assert abs(binaries[0][0] - benchmark.now_ms()) < 60_000


def test_app_ids_and_event_logs_read_every_application_of_a_folder(benchmark, tmp_path):
    assert benchmark.app_ids(str(tmp_path / "missing")) == []
    assert benchmark.app_ids(str(tmp_path)) == []           # no event log: no SparkContext started
    rolled = tmp_path / "eventlog_v2_local-1"
    rolled.mkdir()
    (rolled / "events_1_local-1").write_text('{"Event": "A"}\n', encoding="utf-8")
    (tmp_path / "local-2.inprogress").write_text('{"Event": "B"}\n', encoding="utf-8")
    assert benchmark.app_ids(str(tmp_path)) == ["local-1", "local-2"]
    assert [e["Event"] for e in benchmark.event_logs(str(tmp_path))] == ["A", "B"]


def test_event_log_args_switch_the_event_log_on_for_a_pyspark_process(benchmark):
    args = benchmark.event_log_args("/tmp/ev")
    assert args.endswith(" pyspark-shell")
    assert "--conf spark.eventLog.enabled=true" in args and "--conf spark.eventLog.dir=/tmp/ev" in args
    assert "--conf spark.eventLog.compress=false" in args


DRIVER_STDERR = """\
26/12/07 21:05:21 WARN NativeCodeLoader: Unable to load native-hadoop library for your platform
26/12/07 21:05:34 WARN DAGScheduler: Broadcasting large task binary with size 1092.4 KiB
26/12/07 21:05:35 INFO something: Broadcasting large task binary with size  (no size)
26/12/07 21:05:36 WARN DAGScheduler: Broadcasting large task binary with size 2.9 MiB
{"ts":"2026-12-07T21:05:37Z","level":"WARN","msg":"Broadcasting large task binary with size 1000.5 KiB"}
"""


def test_task_binary_sizes_read_the_dag_schedulers_warnings(benchmark):
    assert benchmark.task_binary_sizes(DRIVER_STDERR) == pytest.approx([1092.4 / 1024, 2.9, 1000.5 / 1024])
    assert benchmark.task_binary_sizes("Broadcasting large task binary with size 3.0 GiB") == [3072.0]
    assert benchmark.task_binary_sizes("WARN Utils: Your hostname resolves to a loopback address\n") == []


def test_task_binary_figures(benchmark):
    assert benchmark.task_binary_figures([1000.5 / 1024, 2.9, 1092.4 / 1024]) == {
        "largest_mib": 2.9, "stages_over_1000_kib": 3, "stages_over_1_mib": 2}
    assert benchmark.task_binary_figures([1010 / 1024]) == {
        "largest_mib": 0.99, "stages_over_1000_kib": 1, "stages_over_1_mib": 0}
    none = benchmark.task_binary_figures([])
    assert none["largest_mib"] is None and none["stages_over_1000_kib"] == 0 and none["stages_over_1_mib"] == 0
    assert none["note"] == "none over Spark's 1000 KiB warning threshold"


def test_stderr_tap_passes_everything_through_and_keeps_the_sizes(benchmark, tmp_path):
    """fd 2 of a child process through the tap: what reaches the real stderr is every line
    but the tap's own marks; the sizes are counted between marks."""
    script = tmp_path / "tap.py"
    script.write_text(f"""
import importlib.util, os, subprocess, sys
spec = importlib.util.spec_from_file_location("b", {str(SCRIPT)!r})
b = importlib.util.module_from_spec(spec); spec.loader.exec_module(b)
tap = b.StderrTap().start()
first = tap.mark()
# a child process inherits fd 2, as the Spark JVM does
subprocess.run(["sh", "-c", "echo 'WARN DAGScheduler: Broadcasting large task binary with size 1.5 MiB' >&2"])
print("python's own line", file=sys.stderr)
second = tap.mark()
os.write(2, b"WARN DAGScheduler: Broadcasting large task binary with size 1024.5 KiB\\n")
third = tap.mark()
tap.stop()
print(first, second, third, tap.sizes, len(tap.read_at))
""", encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"0 1 2 [1.5, {1024.5 / 1024}] 2"
    assert proc.stderr.splitlines() == ["WARN DAGScheduler: Broadcasting large task binary with size 1.5 MiB",
                                        "python's own line",
                                        "WARN DAGScheduler: Broadcasting large task binary with size 1024.5 KiB"]


def test_spark_log_levels_leave_the_dag_schedulers_warning_on():
    """hedui's session logs at WARN and quiets named loggers only: not the DAG scheduler,
    whose "Broadcasting large task binary" warning the benchmark reads."""
    from jobs.spark import workarounds

    quieted = {*workarounds.QUIET_LOGGERS, *(name for name, _ in workarounds.SILENT_LOGGERS)}
    dag = "org.apache.spark.scheduler.DAGScheduler"
    assert not any(dag == name or dag.startswith(name + ".") for name in quieted)
    assert "org.apache.spark.scheduler" not in quieted and "org.apache.spark" not in quieted


def outputs(**parts) -> dict:
    return {"scale": 0.001, **parts}


def test_verdicts_put_hedui_as_a_multiple_of_the_floor_experiment(benchmark):
    out = outputs(
        run={"seconds": 90.0, "stages": {"ingest": 40.0}, "spark": {"jobs": 300},
             "task_binary": {"largest_mib": 1.2, "stages_over_1000_kib": 5, "stages_over_1_mib": 2}},
        increment={"seconds": 50.0, "task_binary": {"largest_mib": None, "stages_over_1000_kib": 0,
                                                    "stages_over_1_mib": 0, "note": "none"}},
        floor_experiment={"seconds": {"total": 40.0}, "spark": {"jobs": 200},
                          "task_binary": {"largest_mib": None, "stages_over_1000_kib": 0, "stages_over_1_mib": 0}},
        nothing_new={"seconds": 0.8, "jvm_started": False, "spark": {"jobs": 0}})
    lines = benchmark.verdicts(out)
    assert "whole `hedui run` at scale 0.001: 90.0 s (target 60 s): NOT met" in lines
    assert any(line.startswith("whole `hedui run` 90 s = 2.25 x the floor experiment's (40 s") and
               line.endswith("target within 1.5 x): NOT met") for line in lines), lines
    assert "Spark jobs of the whole run: 300 = 1.50 x the floor experiment's (200; target within 1.5 x): met" in lines
    binary = next(line for line in lines if line.startswith("task binaries"))
    assert "largest 1.20 MiB, 5 stage(s) over Spark's 1000 KiB warning threshold, 2 over 1 MiB" in binary
    assert binary.endswith("(target none over 1 MiB): NOT met")
    nothing = next(line for line in lines if line.startswith("`hedui run` again"))
    assert nothing.endswith("0.8 s, no JVM, 0 Spark jobs (target 5 s, no JVM): met")


def test_verdicts_a_nothing_new_run_that_started_a_jvm_misses_its_target(benchmark):
    lines = benchmark.verdicts(outputs(nothing_new={"seconds": 3.0, "jvm_started": True, "spark": {"jobs": 4}},
                                       run={"seconds": 50.0, "task_binary": benchmark.task_binary_figures([])}))
    assert any(line.endswith("3.0 s, a JVM started, 4 Spark jobs (target 5 s, no JVM): NOT met") for line in lines)
    assert "whole `hedui run` at scale 0.001: 50.0 s (target 60 s): met" in lines
    binary = next(line for line in lines if line.startswith("task binaries"))
    assert "none over Spark's 1000 KiB warning threshold" in binary and binary.endswith(": met")


def test_verdicts_judge_the_floor_multiples_at_the_demo_scale_only(benchmark):
    lines = benchmark.verdicts({"scale": 0.1, "run": {"seconds": 300.0, "spark": {"jobs": 100}},
                                "floor_experiment": {"seconds": {"total": 100.0}, "spark": {"jobs": 100}}})
    multiples = [line for line in lines if "floor experiment" in line]
    assert len(multiples) == 2
    assert all(line.endswith("target within 1.5 x at the demo scale)") for line in multiples), multiples
