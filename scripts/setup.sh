#!/usr/bin/env bash
# Sets up a fresh machine for hedui: a Python 3.11 virtual environment with the pinned
# dependencies (.venv/), the Delta Lake jars fetched with Maven (.jars/), and the
# optional system packages for the HTML report (CJK font, headless Chromium).
# Idempotent: rerunning only fills in what is missing.
#
#   bash scripts/setup.sh            # everything
#   HEDUI_SKIP_APT=1 bash scripts/setup.sh   # no apt-get (fonts/chromium)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PYTHON:-python3.11}

log() { printf '[setup] %s\n' "$*"; }

# 1. Python environment ------------------------------------------------------------
if [ ! -x .venv/bin/python ]; then
  log "creating .venv with $PY"
  "$PY" -m venv .venv
fi
# -P: do not put the current folder on sys.path, so `jobs` must come from the install
PINNED_DELTA=$(sed -nE 's/.*"delta-spark==([0-9][0-9.]*)".*/\1/p' setup.py)
installed_delta() { (cd / && "$ROOT/.venv/bin/python" -P -c "from importlib.metadata import version; print(version('delta-spark'))" 2>/dev/null); }
if ! (cd / && "$ROOT/.venv/bin/python" -P -c "import jobs, pyspark, delta, chispa, matplotlib, deltalake, nbclient, ipykernel, hypothesis, flask, waitress, argon2, pyarrow, playwright") 2>/dev/null \
    || [ "$(installed_delta)" != "$PINNED_DELTA" ]; then
  log "installing Python dependencies"
  # compat mode: a .pth with the project root, so new modules need no reinstall
  .venv/bin/pip install -q -e ".[dev]" --config-settings editable_mode=compat
  .venv/bin/python -m ipykernel install --sys-prefix --name python3 >/dev/null
fi

# 2. Delta jars ----------------------------------------------------------------------
# delta-spark (pip) is only the Python wrapper; the JVM side comes from Maven Central, at
# exactly the wrapper's version (setup.py pins it): two halves at two versions are refused.
# We copy delta-spark_4.2_2.13 and its runtime dependencies, minus every artifact that
# pip's pyspark already ships in pyspark/jars (Spark, Scala, Hadoop, Jackson, Parquet...),
# so that no second copy of a Spark dependency lands on the class path.
DELTA_VERSION=$(installed_delta)
if [ -z "$DELTA_VERSION" ] || [ "$DELTA_VERSION" != "$PINNED_DELTA" ]; then
  echo "setup: delta-spark $PINNED_DELTA is pinned in setup.py but pip installed '${DELTA_VERSION:-nothing}'" >&2
  exit 1
fi
if ! ls ".jars/delta-spark_4.2_2.13-$DELTA_VERSION.jar" >/dev/null 2>&1; then
  rm -rf .jars .jars.tmp
  log "fetching io.delta:delta-spark_4.2_2.13:$DELTA_VERSION with Maven (the version of the pip wrapper)"
  if ! mvn -q -B -f scripts/delta-jars.pom.xml dependency:copy-dependencies \
      -Ddelta.version="$DELTA_VERSION" -DincludeScope=runtime -DoutputDirectory="$ROOT/.jars.tmp" >/tmp/hedui-mvn.log 2>&1; then
    echo "setup: Maven cannot fetch io.delta:delta-spark_4.2_2.13:$DELTA_VERSION (see /tmp/hedui-mvn.log)." >&2
    echo "setup: the Delta jar and the delta-spark wrapper must be the same version: pin delta-spark in" >&2
    echo "setup: setup.py to a version Maven Central serves for Spark 4.2 (4.4.0 as of 2026-12)." >&2
    rm -rf .jars.tmp
    exit 1
  fi
  SPARK_JARS=$(.venv/bin/python -c "import pyspark, os; print(os.path.join(os.path.dirname(pyspark.__file__), 'jars'))")
  mkdir -p .jars
  for j in .jars.tmp/*.jar; do
    b=$(basename "$j" .jar); a=$(echo "$b" | sed -E 's/-[0-9][0-9.]*([-_.].*)?$//')
    if ls "$SPARK_JARS/$a"-[0-9]*.jar >/dev/null 2>&1; then continue; fi
    cp "$j" .jars/
  done
  rm -rf .jars.tmp
  log "Delta $DELTA_VERSION jars in .jars/: $(ls .jars | tr '\n' ' ')"
fi

# 3. System packages for the report (CJK font, headless Chromium) ----------------------
if [ -z "${HEDUI_SKIP_APT:-}" ] && command -v apt-get >/dev/null 2>&1; then
  need=
  # grep reads all of fc-list's output: with pipefail, `grep -q` stopping at the first match
  # would end fc-list with SIGPIPE and count as "not found" (and reinstall every time)
  fc-list 2>/dev/null | grep -i "Noto Sans CJK" >/dev/null || need="$need fonts-noto-cjk"
  command -v chromium >/dev/null 2>&1 || need="$need chromium"
  if [ -n "$need" ]; then
    log "installing system packages:$need"
    SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq >/dev/null && \
      $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null \
      || log "  could not install$need (report tests will be skipped)"
  fi
fi
log "ready: source .venv/bin/activate"
