#!/usr/bin/env bash
# The default demo: set up, generate a small synthetic Dali, run every check and print
# the warnings summary, then write the per-county exports and the HTML report.
#   bash scripts/demo.sh                 # scale 0.001 (~3,300 residents), check date today
#   SCALE=0.01 AS_OF=2026-10-15 bash scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >&2
SCALE=${SCALE:-0.001}
SEED=${SEED:-42}
AS_OF=${AS_OF:-$(date +%F)}
OUT=${OUT:-data/demo}
rm -rf "$OUT"
HEDUI=.venv/bin/hedui
$HEDUI generate --out "$OUT/landing" --scale "$SCALE" --seed "$SEED" --as-of "$AS_OF"
set +e
$HEDUI run --landing "$OUT/landing" --warehouse "$OUT/warehouse" --as-of "$AS_OF"
status=$?
set -e
[ $status -le 1 ] || exit $status
$HEDUI export --warehouse "$OUT/warehouse" --out "$OUT/exports"
$HEDUI report --warehouse "$OUT/warehouse" --out "$OUT/report" || echo "(report skipped)" >&2
echo "landing zone: $OUT/landing   warehouse: $OUT/warehouse"
echo "exports: $OUT/exports   report: $OUT/report/index.html"
# the review page: a demo account (a supervisor of the whole prefecture) and how to log in
DEMO_PASSWORD=${DEMO_PASSWORD:-demo-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')}
printf '%s\n' "$DEMO_PASSWORD" | $HEDUI user add --warehouse "$OUT/warehouse" --name demo --role supervisor \
  --scope prefecture --display-name 演示主管 --password-stdin --replace >/dev/null
echo "review page: $HEDUI serve --warehouse $OUT/warehouse --landing $OUT/landing"
echo "  then open http://127.0.0.1:8000/ and log in as user 'demo', password '$DEMO_PASSWORD'"
echo "  (more accounts: $HEDUI user add --warehouse $OUT/warehouse --name <name> --role reviewer --scope <county or township code>)"
exit $status
