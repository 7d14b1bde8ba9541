#!/usr/bin/env bash
# Runs a hedui command on a Spark cluster with spark-submit (client deploy mode).
#
#   scripts/submit.sh [options] <generate|run|export|report> [hedui options...]
#
#   scripts/submit.sh --master spark://10.0.0.5:7077 run \
#       --landing hdfs:///hedui/landing --warehouse hdfs:///hedui/warehouse --as-of 2026-10-15
#
# It builds dist/hedui.zip (scripts/package.sh: the jobs package with conf/ inside),
# checks the Delta jars and that the master answers, then submits jobs/entry.py with
# --py-files dist/hedui.zip and the Delta jars. The hedui options are those of `hedui`
# (contract section 6); `--env cluster` (conf/cluster.yaml) is added unless you give --env.
# The exit status is hedui's: 0 success, 1 some files FAILED, 2 bad usage or configuration
# (also: this script's own checks failed, nothing submitted), 3 the run failed.
#
# Options (before the command; `--opt value` or `--opt=value`):
#   --master URL            spark://host:port[,host2:port2] | yarn | k8s://https://host:port |
#                           local[N]   (default: $HEDUI_MASTER). Required.
#   --deploy-mode MODE      client (default) or cluster (YARN and Kubernetes only: the driver
#                           then runs on the cluster and every path it reads must be a URI)
#   --packages              take Delta from Maven Central (--packages
#                           io.delta:delta-spark_4.2_2.13:<version>), for clusters with
#                           internet access, instead of the jars in --jars-dir
#   --delta-version V       Delta version for --packages (default: that of the jar in
#                           --jars-dir, else of the installed delta-spark package)
#   --jars-dir DIR          folder of the Delta jars passed with --jars
#                           (default: $HEDUI_JARS or .jars/, filled by scripts/setup.sh)
#   --python PATH           Python of the driver (default: $PYSPARK_DRIVER_PYTHON,
#                           $PYSPARK_PYTHON or .venv/bin/python)
#   --executor-python PATH  Python of the executors, as a path on the worker nodes
#                           (default: $PYSPARK_PYTHON or --python)
#   --driver-memory M, --executor-memory M, --executor-cores N, --num-executors N,
#   --total-executor-cores N
#                           passed to spark-submit as they are
#   --spark-conf KEY=VALUE  extra Spark setting (repeatable), e.g.
#                           --spark-conf spark.executor.memoryOverhead=2g
#                           (a key that conf/cluster.yaml also sets, such as
#                           spark.sql.shuffle.partitions, keeps the YAML's value: change
#                           those with hedui's --conf <file.yaml>)
#   --submit-arg ARG        extra raw spark-submit argument (repeatable), e.g.
#                           --submit-arg=--queue --submit-arg=etl
#   --spark-submit PATH     spark-submit to use (default: $SPARK_HOME/bin/spark-submit,
#                           .venv/bin/spark-submit, or the one on PATH)
#   --zip FILE              the package zip (default: dist/hedui.zip)
#   --no-build              do not rebuild the zip, submit the existing one
#   --connect-timeout S     seconds to wait for the master to answer before submitting (default 5)
#   --timeout S             stop spark-submit after S seconds, exit 3 (default 0: no limit)
#   --dry-run               print the spark-submit command instead of running it
#   -h, --help              this text (`scripts/submit.sh run --help`: the command's options)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ME=submit.sh

die() { echo "$ME: $*" >&2; exit 2; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

MASTER=${HEDUI_MASTER:-}
DEPLOY_MODE=client
USE_PACKAGES=
DELTA_VERSION=
JARS_DIR=${HEDUI_JARS:-$ROOT/.jars}
PY_DRIVER=${PYSPARK_DRIVER_PYTHON:-${PYSPARK_PYTHON:-}}
PY_EXECUTOR=${PYSPARK_PYTHON:-}
SPARK_SUBMIT=
ZIP=$ROOT/dist/hedui.zip
BUILD=1
CONNECT_TIMEOUT=5
TIMEOUT=0
DRY_RUN=
PASS=()        # sizing options passed as they are
EXTRA_CONF=()  # --spark-conf
EXTRA_ARGS=()  # --submit-arg
COMMAND=

while [ $# -gt 0 ]; do
  arg=$1
  if [[ $arg == --*=* ]]; then         # --opt=value -> --opt value
    shift; set -- "${arg%%=*}" "${arg#*=}" "$@"; arg=$1
  fi
  case "$arg" in
    generate|run|export|report) COMMAND=$arg; shift; break ;;
    -h|--help) usage; exit 0 ;;
    --packages) USE_PACKAGES=1; shift; continue ;;
    --no-build) BUILD=; shift; continue ;;
    --dry-run) DRY_RUN=1; shift; continue ;;
    --master|--deploy-mode|--delta-version|--jars-dir|--python|--executor-python|--spark-conf|\
    --submit-arg|--spark-submit|--zip|--connect-timeout|--timeout|--driver-memory|\
    --executor-memory|--executor-cores|--num-executors|--total-executor-cores)
      [ $# -ge 2 ] || die "$arg needs a value (see --help)" ;;
    -*) die "unknown option $arg (see --help)" ;;
    *) die "unknown command '$arg': expected generate, run, export or report (see --help)" ;;
  esac
  value=$2; shift 2
  case "$arg" in
    --master) MASTER=$value ;;
    --deploy-mode) DEPLOY_MODE=$value ;;
    --delta-version) DELTA_VERSION=$value ;;
    --jars-dir) JARS_DIR=$value ;;
    --python) PY_DRIVER=$value ;;
    --executor-python) PY_EXECUTOR=$value ;;
    --spark-conf) [[ $value == ?*=* ]] || die "--spark-conf expects KEY=VALUE, got '$value'"
                  EXTRA_CONF+=(--conf "$value") ;;
    --submit-arg) EXTRA_ARGS+=("$value") ;;
    --spark-submit) SPARK_SUBMIT=$value ;;
    --zip) ZIP=$value ;;
    --connect-timeout) CONNECT_TIMEOUT=$value ;;
    --timeout) TIMEOUT=$value ;;
    *) PASS+=("$arg" "$value") ;;
  esac
done
HEDUI_ARGS=("$@")

# --- checks: nothing is submitted unless all pass -----------------------------------
[ -n "$COMMAND" ] || die "no command: expected generate, run, export or report (see --help)"
is_uint "$CONNECT_TIMEOUT" && [ "$CONNECT_TIMEOUT" -gt 0 ] || die "--connect-timeout: expected whole seconds > 0, got '$CONNECT_TIMEOUT'"
is_uint "$TIMEOUT" || die "--timeout: expected whole seconds, got '$TIMEOUT'"

if [ -z "$PY_DRIVER" ] && [ -x "$ROOT/.venv/bin/python" ]; then PY_DRIVER=$ROOT/.venv/bin/python; fi
[ -n "$PY_EXECUTOR" ] || PY_EXECUTOR=$PY_DRIVER
case "$ZIP" in /*) ;; *) ZIP=$PWD/$ZIP ;; esac

for a in "${HEDUI_ARGS[@]}"; do   # `submit.sh run --help`: the command's own help, no Spark
  if [ "$a" = --help ] || [ "$a" = -h ]; then
    cd "$ROOT" && exec "${PY_DRIVER:-python3}" -m jobs.cli "$COMMAND" --help
  fi
done

[ -n "$MASTER" ] || die "no --master given (nor HEDUI_MASTER): e.g. --master spark://host:7077, yarn or k8s://https://host:6443"
case "$DEPLOY_MODE" in client|cluster) ;; *) die "--deploy-mode: expected client or cluster, got '$DEPLOY_MODE'" ;; esac

# probe(host, port, kind): 0 = something listens (within CONNECT_TIMEOUT seconds), 1 = nothing
# does, 3 = it answers HTTP. A Spark master's RPC port never answers a request line (it drops
# the connection), a web port (its UI, 8080, or a proxy) does: that is the wrong port.
probe() {
  timeout "$CONNECT_TIMEOUT" bash -c '
    exec 3<>"/dev/tcp/$1/$2" || exit 1
    [ "$3" = spark ] || exit 0
    printf "GET / HTTP/1.0\r\n\r\n" >&3
    reply=; IFS= read -r -t 2 -n 5 reply <&3
    [ "$reply" != HTTP/ ] || exit 3' _ "$1" "$2" "$3" 2>/dev/null
}
probe_hosts() {  # probe_hosts <what> <kind> <default port> host[:port][,host[:port]...]: one must be up
  local what=$1 kind=$2 default_port=$3 list=$4 hp host port rc tried=() web=()
  IFS=, read -r -a hps <<<"$list"
  for hp in "${hps[@]}"; do
    hp=${hp%%/*}
    if [[ $hp == \[*\]:* ]]; then host=${hp%%]:*}; host=${host#[}; port=${hp##*]:}
    elif [[ $hp == *:* ]]; then host=${hp%:*}; port=${hp##*:}
    else host=$hp; port=$default_port; fi
    [ -n "$host" ] && is_uint "$port" || die "--master $MASTER: cannot read host:port from '$hp'"
    rc=0; probe "$host" "$port" "$kind" || rc=$?
    [ $rc -ne 0 ] || return 0
    if [ $rc -eq 3 ]; then web+=("$host:$port"); else tried+=("$host:$port"); fi
  done
  [ ${#web[@]} -eq 0 ] || die "${web[*]} answers HTTP, it is not a $what's RPC port (--master $MASTER; a master listens on 7077 by default, 8080 is its web UI)"
  die "cannot reach the $what at ${tried[*]} (--master $MASTER): nothing answered within ${CONNECT_TIMEOUT}s"
}

PROBE=()   # what to probe before submitting: <what> <kind> <default port> <host[:port],...>
case "$MASTER" in
  spark://*)
    [ "$DEPLOY_MODE" = client ] || die "--deploy-mode cluster: Spark standalone runs Python applications in client mode only"
    PROBE=("Spark master" spark 7077 "${MASTER#spark://}") ;;
  k8s://*)
    api=${MASTER#k8s://}; default_port=443
    case "$api" in http://*) default_port=80 ;; esac
    api=${api#https://}; api=${api#http://}
    PROBE=("Kubernetes API server" tcp "$default_port" "$api") ;;
  yarn)
    [ -n "${HADOOP_CONF_DIR:-}${YARN_CONF_DIR:-}" ] \
      || die "--master yarn needs HADOOP_CONF_DIR or YARN_CONF_DIR (the folder with yarn-site.xml)" ;;
  local|local\[*\])
    [ "$DEPLOY_MODE" = client ] || die "--deploy-mode cluster: not with a local master" ;;
  *) die "--master: expected spark://host:port, yarn, k8s://https://host:port or local[N], got '$MASTER'" ;;
esac

if [ -z "$SPARK_SUBMIT" ]; then
  if [ -z "${SPARK_HOME:-}" ] && [ -n "$PY_DRIVER" ]; then   # pip-installed pyspark: its own Spark
    SPARK_HOME=$("$PY_DRIVER" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))' 2>/dev/null || true)
    [ -z "$SPARK_HOME" ] || export SPARK_HOME
  fi
  if [ -n "${SPARK_HOME:-}" ] && [ -x "$SPARK_HOME/bin/spark-submit" ]; then SPARK_SUBMIT=$SPARK_HOME/bin/spark-submit
  else SPARK_SUBMIT=$(command -v spark-submit || true); fi
fi
[ -n "$SPARK_SUBMIT" ] && [ -x "$SPARK_SUBMIT" ] || die "spark-submit not found: set SPARK_HOME, pass --spark-submit, or run scripts/setup.sh"

DELTA=()
if [ -n "$USE_PACKAGES" ]; then
  if [ -z "$DELTA_VERSION" ]; then
    jar=$(ls "$JARS_DIR"/delta-spark_4.2_2.13-*.jar 2>/dev/null | head -n1 || true)
    if [ -n "$jar" ]; then DELTA_VERSION=$(basename "$jar" .jar); DELTA_VERSION=${DELTA_VERSION#delta-spark_4.2_2.13-}
    elif [ -n "$PY_DRIVER" ]; then
      DELTA_VERSION=$("$PY_DRIVER" -c 'import importlib.metadata as m; print(m.version("delta-spark"))' 2>/dev/null || true)
    fi
  fi
  [[ $DELTA_VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] || die "--packages: no Delta version found; pass --delta-version (e.g. 4.4.0)"
  DELTA=(--packages "io.delta:delta-spark_4.2_2.13:$DELTA_VERSION")
else
  [ -d "$JARS_DIR" ] || die "no Delta jar folder $JARS_DIR: run scripts/setup.sh, pass --jars-dir, or use --packages"
  JARS_DIR=$(cd "$JARS_DIR" && pwd)
  jars=$(ls "$JARS_DIR"/*.jar 2>/dev/null | sort | paste -sd, - || true)
  case ",$jars" in
    *,"$JARS_DIR"/delta-spark_*) ;;
    *) die "no delta-spark jar in $JARS_DIR: run scripts/setup.sh, pass --jars-dir, or use --packages" ;;
  esac
  DELTA=(--jars "$jars")
fi

[ -n "$DRY_RUN" ] || [ ${#PROBE[@]} -eq 0 ] || probe_hosts "${PROBE[@]}"

if [ -n "$BUILD" ]; then
  bash "$ROOT/scripts/package.sh" --out "$ZIP" >/dev/null || die "could not build $ZIP (scripts/package.sh)"
fi
[ -f "$ZIP" ] || die "no package zip $ZIP (drop --no-build to build it)"

has_env=
for a in "${HEDUI_ARGS[@]}"; do case "$a" in --env|--env=*) has_env=1 ;; esac; done
[ -n "$has_env" ] || HEDUI_ARGS=(--env cluster "${HEDUI_ARGS[@]}")

PYTHON_CONF=()
[ -z "$PY_DRIVER" ] || PYTHON_CONF+=(--conf "spark.pyspark.driver.python=$PY_DRIVER")
[ -z "$PY_EXECUTOR" ] || PYTHON_CONF+=(--conf "spark.pyspark.python=$PY_EXECUTOR")

CMD=("$SPARK_SUBMIT"
  --master "$MASTER" --deploy-mode "$DEPLOY_MODE" --name "hedui-$COMMAND"
  "${DELTA[@]}"
  --py-files "$ZIP"
  --conf spark.log.level=WARN
  --conf spark.ui.showConsoleProgress=false
  "${PYTHON_CONF[@]}"
  "${PASS[@]}" "${EXTRA_CONF[@]}" "${EXTRA_ARGS[@]}"
  "$ROOT/jobs/entry.py" "$COMMAND" "${HEDUI_ARGS[@]}")

if [ -n "$DRY_RUN" ]; then
  printf '%q ' "${CMD[@]}"; echo
  exit 0
fi

set +e
if [ "$TIMEOUT" -gt 0 ]; then
  timeout --signal=TERM --kill-after=30 "$TIMEOUT" "${CMD[@]}"
else
  "${CMD[@]}"
fi
status=$?
set -e
if [ "$TIMEOUT" -gt 0 ] && { [ $status -eq 124 ] || [ $status -eq 137 ]; }; then
  echo "$ME: spark-submit did not finish within ${TIMEOUT}s and was stopped" >&2
  exit 3
fi
exit $status
