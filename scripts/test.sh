#!/usr/bin/env bash
# The test suite: unit, end-to-end, cluster and notebook tests (slow ones included).
# Runs scripts/setup.sh first (idempotent: a no-op once everything is installed).
#   bash scripts/test.sh                    # everything, as CI runs it
#   bash scripts/test.sh -m "not slow"      # the quick unit tests only
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest "$@"
