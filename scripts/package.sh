#!/usr/bin/env bash
# Builds the zip that spark-submit ships to the driver and executors with --py-files:
#
#   dist/hedui.zip
#     jobs/...        the Python package (sources only, no __pycache__)
#     conf/...        base.yaml, local.yaml, cluster.yaml, sources.yaml, rules.yaml, geo/*.csv
#
# conf/ travels inside the zip, beside jobs/, as in the repository: jobs/config.py reads it
# from there when `jobs` is imported from a zip (HEDUI_CONF_DIR overrides it). The zip is
# reproducible: entries sorted, fixed timestamps, so the same sources give the same bytes.
#
#   bash scripts/package.sh                 # -> dist/hedui.zip
#   bash scripts/package.sh --out /tmp/x.zip
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=dist/hedui.zip

while [ $# -gt 0 ]; do
  case "$1" in
    --out) [ $# -ge 2 ] || { echo "package.sh: --out needs a file name" >&2; exit 2; }; OUT=$2; shift 2 ;;
    --out=*) OUT=${1#--out=}; shift ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "package.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

PY=${HEDUI_PYTHON:-}
if [ -z "$PY" ]; then
  if [ -x "$ROOT/.venv/bin/python" ]; then PY=$ROOT/.venv/bin/python; else PY=python3; fi
fi

"$PY" - "$ROOT" "$OUT" <<'EOF'
import os
import sys
import zipfile

root, out = sys.argv[1], sys.argv[2]
out = os.path.abspath(os.path.join(root, out)) if not os.path.isabs(out) else out
keep = {"jobs": (".py",), "conf": (".yaml", ".yml", ".csv")}
entries = []
for top, endings in keep.items():
    for folder, dirs, files in os.walk(os.path.join(root, top)):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not d.startswith("."))
        for name in sorted(files):
            if name.endswith(endings):
                full = os.path.join(folder, name)
                entries.append((os.path.relpath(full, root).replace(os.sep, "/"), full))
if not any(a == "jobs/cli.py" for a, _ in entries) or not any(a == "conf/base.yaml" for a, _ in entries):
    sys.exit(f"package.sh: {root} has no jobs/cli.py or conf/base.yaml")
os.makedirs(os.path.dirname(out), exist_ok=True)
tmp = out + ".tmp"
with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
    for arcname, full in sorted(entries):
        info = zipfile.ZipInfo(arcname, date_time=(2020, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        with open(full, "rb") as fh:
            zf.writestr(info, fh.read())
os.replace(tmp, out)
print(out)
EOF
