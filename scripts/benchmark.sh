#!/usr/bin/env bash
# Prints speed and memory figures, in one sitting: generation; the whole run and its stages
# (ingest, feedback, checks); the same run again with nothing new (a new JVM, as the daily
# cron starts it); a new batch of 1 % of the rows on the loaded warehouse; Spark's read floor
# (the same files read once with hedui's reader and written to plain Parquet), the floor
# experiment (scripts/spark_floor.py, SNAP=1 SHUF=2: hedui's shape of work checking nothing,
# in a process of its own) and DuckDB; hedui as a multiple of each (wall time and Spark
# jobs); the targets met or not; the JVM's memory and CPU; how many times the checks scan
# the payments. Beside each wall time that runs Spark: its Spark jobs, stages and
# task-seconds (from the event log; for hedui's runs by phase: ingest, feedback, checks,
# other) and its largest task binary (from the driver's stderr), which do not drift with
# the machine's speed as wall time does; for the nothing-new run, whether a JVM started.
#   bash scripts/benchmark.sh                 # scale 0.1 (~21M rows)
#   SCALE=1.0 bash scripts/benchmark.sh       # all of Dali (~211M rows)
#   RUNS=3 bash scripts/benchmark.sh          # the run twice more over the same landing zone,
#                                             # each in a new JVM; then min / median / max
#   CORES=1 bash scripts/benchmark.sh         # on the first n cores only (taskset): how the
#                                             # run scales with cores (docs/BENCHMARKS.md)
set -euo pipefail
cd "$(dirname "$0")/.."
PIN=()
if [[ -n ${CORES:-} ]]; then
  available=$(nproc --all)
  if ! [[ $CORES =~ ^[0-9]+$ ]] || ((10#$CORES < 1 || 10#$CORES > available)); then
    echo "benchmark.sh: CORES must be a whole number from 1 to $available (this machine's cores), not '$CORES'" >&2
    exit 2
  fi
  command -v taskset >/dev/null || { echo "benchmark.sh: CORES needs taskset (util-linux)" >&2; exit 2; }
  PIN=(taskset -c "0-$((10#$CORES - 1))")
fi
bash scripts/setup.sh >&2
# DuckDB, the yardstick (benchmark only: setup.py's "bench" extra)
.venv/bin/python -c "import duckdb" 2>/dev/null || .venv/bin/pip install -q "duckdb>=1.1" >&2
SCALE=${SCALE:-0.1}
WORK=${WORK:-/tmp/hedui-bench}
RUNS=${RUNS:-1}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
for ((i = 1; i <= RUNS; i++)); do
  extra=()
  if ((i > 1)); then extra=(--skip-generate); echo "--- run $i of $RUNS" >&2; fi
  /usr/bin/time -v "${PIN[@]}" .venv/bin/python scripts/benchmark.py --scale "$SCALE" --work "$WORK" "$@" "${extra[@]}" \
    2> >(grep -E "Elapsed \(wall" >&2) | tee "$OUT/run-$i.json"
done
du -sh "$WORK/landing" "$WORK/warehouse" 2>/dev/null || true
if ((RUNS > 1)); then
  .venv/bin/python scripts/benchmark.py --summarize "$OUT"/run-*.json
fi
