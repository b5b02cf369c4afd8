#!/usr/bin/env bash
# The project's test command:
#
#   bash scripts/test.sh [pytest args...]       # e.g. tests/test_services.py -x
#   bash scripts/test.sh --fast [pytest args...] # the inner loop: no servers, < 60 s
#
# --fast: no install, no servers, no coverage, no docs build; tests marked `services`
# (real storage servers), `server` (start gunicorn/uvicorn/nginx/a CLI server) or `slow`
# (50 MiB+ streams) are deselected, and any other test that asks for the servers skips.
#
# 1. scripts/install.sh (skip with GENRO_SKIP_INSTALL=1 for a fast dev loop)
# 2. starts the real storage servers into /tmp/genro-storage-svc-$GENRO_SVC_PORT_BASE
#    (after stopping leftovers recorded there), and stops them on any exit
# 3. .venv/bin/python -m slipcover --json --out $RUN_DIR.coverage.json -m pytest
#    -n $GENRO_TEST_WORKERS --dist loadgroup "$@" (coverage: pyproject's [tool.slipcover]),
#    with GENRO_SERVICES_ENV pointing at the servers' services.env; then
#    scripts/coverage_report.py prints the coverage and holds its floor.
#    GENRO_TEST_WORKERS: pytest-xdist worker processes sharing the tests and the servers
#    (each its own slice of GENRO_TEST_PORTS); default 4 for the full run (it suits a
#    2-core machine: most tests wait on servers), 2 for --fast. `-n N` in "$@" wins
#    (`-n 0`: one process, e.g. for --pdb).
# 4. mkdocs build --strict, when mkdocs.yml exists. It runs in the background while the
#    servers start (step 2) and is waited for after pytest; a failed build fails the run.
#    Beside it, in a fresh clone, one collection writes the test modules' bytecode before
#    pytest starts.
# Disk: a full run needs about 4 GiB free under /tmp (checked first); pytest's temporary
# files go to $RUN_DIR.tmp (--basetemp, emptied when the next run starts). After a green
# run both it and the servers' data are removed; after a red one they stay, to look at.
# Exit status: pytest's ("no tests collected", 5, is a failure too), else the
# docs build's. Knobs: GENRO_SKIP_INSTALL, GENRO_SVC_PORT_BASE (default 19100),
# GENRO_SVC_ONLY and the other GENRO_SVC_* of scripts/services-start.sh.
# Runs without a terminal (CI=true); needs root unless GENRO_SVC_ONLY leaves
# out sftp and smb and the install is skipped.
set -uo pipefail

FAST=0
ARGS=()
for arg in "$@"; do
  if [ "$arg" = "--fast" ]; then FAST=1; else ARGS+=("$arg"); fi
done
set -- "${ARGS[@]}"

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
BASE=${GENRO_SVC_PORT_BASE:-19100}
export GENRO_SVC_PORT_BASE=$BASE
RUN_DIR=/tmp/genro-storage-svc-$BASE
TMP_DIR=$RUN_DIR.tmp
PY=$ROOT/.venv/bin/python

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
say() { echo "test.sh: $*"; }
TIMES=()
T_ALL=$(now)
# Bytecode may be written: pytest then keeps the assertion-rewritten test modules in
# __pycache__ (git ignores it), and a test's subprocesses the compiled modules they
# import. Under an inherited PYTHONDONTWRITEBYTECODE every worker of every run rewrote
# every test module again (about 3.5 s of CPU each).
unset PYTHONDONTWRITEBYTECODE

# ---------------------------------------------------------------- fast tier
if [ "$FAST" = 1 ]; then
  T=$(now)
  export GENRO_FAST=1 NO_MKDOCS_2_WARNING=1
  unset GENRO_SERVICES_ENV
  "$PY" -m pytest -n "${GENRO_TEST_WORKERS:-2}" --dist loadgroup \
    -m "not services and not server and not slow" "$@"
  rc=$?
  say "fast tier: pytest $(since "$T")s"
  exit $rc
fi

# ---------------------------------------------------------------- disk
# A full disk fails a run late and obscurely (sqlite errors from coverage, mkdocs' OSError):
# say so up front. The peak is about 2.5 GiB (50 MiB+ streams, the servers' data).
NEED_MIB=4096
free_mib=$(df -Pm /tmp | awk 'NR == 2 { print $4 }')
if [ "${free_mib:-0}" -lt "$NEED_MIB" ]; then
  say "FAILED: $free_mib MiB free under /tmp; a full run needs $NEED_MIB MiB"
  say "  (leftovers of earlier runs: /tmp/genro-storage-svc-*, /tmp/pytest-of-$(id -un))"
  exit 1
fi

# ---------------------------------------------------------------- install
T=$(now)
if [ "${GENRO_SKIP_INSTALL:-0}" = 1 ]; then
  say "install skipped (GENRO_SKIP_INSTALL=1)"
else
  bash scripts/install.sh || {
    say "FAILED: scripts/install.sh"
    exit 1
  }
fi
TIMES+=("install $(since "$T")s")
[ -x "$PY" ] || {
  say "FAILED: $PY missing; run bash scripts/install.sh"
  exit 1
}

# ---------------------------------------------------------------- services
# One run per port base at a time: a second run would stop the first's servers.
mkdir -p "$RUN_DIR"
exec 9> "$RUN_DIR.lock"
if ! flock -n 9; then
  say "FAILED: another test run uses port base $BASE ($RUN_DIR.lock); set GENRO_SVC_PORT_BASE"
  exit 1
fi

STOPPED=0
SUMMARY=""
stop_services() {
  [ "$STOPPED" = 1 ] && return
  STOPPED=1
  local t pid
  for pid in ${WARM_PID:-} ${DOCS_PID:-}; do kill "$pid" 2> /dev/null; done  # an early exit
  t=$(now)
  bash scripts/services-stop.sh "$RUN_DIR" > "$RUN_DIR.stop.log" 2>&1 \
    || { say "services-stop failed:"; cat "$RUN_DIR.stop.log"; }
  # what a green run leaves is only disk used: pytest's temporary files, the servers' data
  [ "${rc:-1}" != 0 ] || rm -rf "$TMP_DIR" "$RUN_DIR/data"
  TIMES+=("stop $(since "$t")s")
  say "phases: ${TIMES[*]}; total $(since "$T_ALL")s"
  # pytest's own summary again, as the very last line: CI reads the closing line
  [ -z "$SUMMARY" ] || echo "$SUMMARY"
}
trap stop_services EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- beside the servers' start
# Two jobs that need no server run in the background while the servers start, on the core
# that waits for their ports; each is waited for before pytest.
# * The docs build (mkdocs --strict, about 2 s), when mkdocs.yml exists; reported at the end.
# * A fresh clone has no pytest bytecode for the test modules (tests/__pycache__), and the
#   workers, starting together, would each rewrite and compile every test module: about
#   4 s of CPU apiece. Two collections (half the test folders each, one per core) first
#   write it once.
DOCS_PID=""
DOCS_LOG=$RUN_DIR.docs.log
if [ -f mkdocs.yml ]; then
  (
    T=$(now)
    site=$(mktemp -d /tmp/genro-storage-site.XXXXXX)
    "$ROOT/.venv/bin/mkdocs" build --strict -q -d "$site" > "$DOCS_LOG" 2>&1
    status=$?
    rm -rf "$site"
    echo "$(since "$T")" > "$DOCS_LOG.time"
    exit $status
  ) 9>&- &
  DOCS_PID=$!
fi
WARM_PID=""
if ! compgen -G "tests/__pycache__/*-pytest-*.pyc" > /dev/null; then
  # two halves at once, one per core (the collection is single-threaded)
  half=(tests/integrations tests/console tests/serving tests/http_core tests/conformance)
  "$PY" -m pytest --collect-only -q -p no:cacheprovider "${half[@]}" > /dev/null 2>&1 9>&- &
  WARM_PID=$!
  "$PY" -m pytest --collect-only -q -p no:cacheprovider "${half[@]/#/--ignore=}" \
    > /dev/null 2>&1 9>&- &
  WARM_PID="$WARM_PID $!"
fi

T=$(now)
bash scripts/services-stop.sh "$RUN_DIR" > /dev/null 2>&1 9>&- # leftovers of a killed run
# 9>&-: the servers must not inherit (and keep) the run lock
if ! bash scripts/services-start.sh "$RUN_DIR" 9>&-; then
  say "FAILED: services did not start (logs in $RUN_DIR/logs)"
  exit 1
fi
TIMES+=("services-start $(since "$T")s")

if [ -n "$WARM_PID" ]; then
  T=$(now)
  wait $WARM_PID  # its outcome does not matter: pytest collects again, and reports
  WARM_PID=""
  TIMES+=("bytecode $(since "$T")s after the servers")
fi

# ---------------------------------------------------------------- pytest
export GENRO_SERVICES_ENV=$RUN_DIR/services.env
export GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT=false
export NO_MKDOCS_2_WARNING=1
T=$(now)
color=()
[ -t 1 ] && color=(--color=yes)
# tee ignores INT, so pytest's own report of a Ctrl-C still gets through
# Coverage: slipcover (pyproject's [tool.slipcover]: the package, lines and branches)
# instruments the package's bytecode, where coverage.py's tracer on Python 3.11 is called
# for every line of every module, Django's and the drivers' too: it was 133 of the
# workers' 394 core-seconds in a whole run. scripts/coverage_report.py prints the table
# and holds the floor ([tool.genro-storage.coverage]) for the whole suite only: a run
# that selects tests (paths, node ids, -k, -m, --lf, --deselect) reports without it.
COV_JSON=$RUN_DIR.coverage.json
rm -f "$COV_JSON"
floor=()
for arg in "$@"; do
  case $arg in
    tests* | */tests/* | *.py | *::* | -k* | -m* | --lf | --last-failed | --deselect* | --ignore*)
      floor=(--no-floor)
      break
      ;;
  esac
done
# Most of the suite waits on servers and subprocesses: 4 workers keep 2 cores busy.
# --dist loadgroup: the groups and order of tests/_xdist.py (tests/conftest.py installs it).
xdist=(-n "${GENRO_TEST_WORKERS:-4}" --dist loadgroup)
# -W: slipcover cannot take pytest's rewritten test modules (not measured anyway) and says so
"$PY" -W "ignore:Unable to activate pytest branch coverage" -m slipcover \
  --json --out "$COV_JSON" -m pytest "${color[@]}" "${xdist[@]}" \
  --basetemp "$TMP_DIR" "$@" 2>&1 | (trap '' INT && exec tee "$RUN_DIR.pytest.log")
rc=${PIPESTATUS[0]}
SUMMARY=$(sed 's/\x1b\[[0-9;]*m//g' "$RUN_DIR.pytest.log" | grep -E '(passed|failed|errors?|skipped|deselected|no tests ran)\b.* in [0-9.]+s' | tail -n 1)
case $rc in
  0) ;;
  5) say "FAILED: pytest collected no tests (exit 5)" ;;
  *) say "FAILED: pytest exit $rc" ;;
esac
if [ "$rc" = 0 ] || [ "$rc" = 1 ]; then  # tests ran: what they covered
  "$PY" scripts/coverage_report.py "$COV_JSON" "${floor[@]}" || { [ "$rc" != 0 ] || rc=1; }
fi
TIMES+=("pytest $(since "$T")s")

# ---------------------------------------------------------------- docs
if [ -n "$DOCS_PID" ]; then
  docs_pid=$DOCS_PID
  DOCS_PID=""
  if wait "$docs_pid"; then
    TIMES+=("docs $(cat "$DOCS_LOG.time")s (beside the servers' start)")
  else
    cat "$DOCS_LOG"
    TIMES+=("docs FAILED")
    say "FAILED: mkdocs build --strict (above; log in $DOCS_LOG)"
    [ "$rc" != 0 ] || rc=1
  fi
fi
exit $rc
