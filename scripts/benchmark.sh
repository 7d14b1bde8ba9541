#!/usr/bin/env bash
# Prints speed and memory figures: generation, ingest (landing -> silver), the checks
# alone and the whole run, and how many times the payment data is scanned by the checks.
#   bash scripts/benchmark.sh                 # scale 0.1 (~21M rows)
#   SCALE=1.0 bash scripts/benchmark.sh       # all of Dali (~211M rows)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >&2
SCALE=${SCALE:-0.1}
WORK=${WORK:-/tmp/hedui-bench}
/usr/bin/time -v .venv/bin/python scripts/benchmark.py --scale "$SCALE" --work "$WORK" "$@" \
  2> >(grep -E "Elapsed \(wall" >&2)
du -sh "$WORK/landing" "$WORK/warehouse" 2>/dev/null || true
