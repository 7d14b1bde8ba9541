#!/usr/bin/env bash
# The test suite (unit, end-to-end, cluster and notebook tests; slow ones included).
#   bash scripts/test.sh            # everything, as CI runs it
#   bash scripts/test.sh -m "not slow"   # quick unit tests only
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || bash scripts/setup.sh
exec .venv/bin/python -m pytest "$@"
