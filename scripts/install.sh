#!/usr/bin/env bash
# Install everything the test suite needs, on Debian 12 + Python 3.11, as root.
#
#   bash scripts/install.sh
#
# Idempotent: each phase checks what is already there and skips its work, so a
# re-run with everything present takes a few seconds. Phases:
#   apt    Debian packages: the storage servers (sshd, smbd, nginx), fixture
#          tools (git, bsdtar), rclone, wrk, chromium + chromedriver, and node +
#          npm only when npm is missing. System services are NOT started.
#   venv   .venv in the repo root: uv pip install -e ".[all,dev]" with the pins in
#          scripts/constraints.txt (moto, WsgiDAV, fake-gcs-server and the
#          fsspec clients come from there). uv (pinned there too, installed into
#          the venv by pip) resolves the same pins as pip, several times faster;
#          GENRO_INSTALLER=pip uses pip alone.
#   django42  Django 4.2 LTS under .cache/django42 (--target), for the test of
#          the legacy DEFAULT_FILE_STORAGE setting (gone from Django 5.1).
#   npm    Azurite, playwright-core and axe-core under .cache/node (npm --prefix),
#          in the background while the venv and django42 phases run (both wait
#          mostly on downloads).
#   user   the test user svcuser / svcpass (SFTP password auth, the SMB share).
#
# Environment knobs:
#   GENRO_PYTHON         interpreter for the virtualenv     (default python3)
#   GENRO_VENV           virtualenv directory               (default REPO/.venv)
#   GENRO_NODE_DIR       npm prefix for azurite etc.        (default REPO/.cache/node)
#   GENRO_FORCE_INSTALL  1 = redo every phase, ignoring the markers
#   GENRO_INSTALLER      uv (default) or pip, for the venv and django42 phases
# Output is quiet; each phase prints one line with its time. When a step fails,
# its command and the tail of its log (kept under .cache/install-logs) are printed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${GENRO_PYTHON:-python3}
VENV=${GENRO_VENV:-$ROOT/.venv}
NODE_DIR=${GENRO_NODE_DIR:-$ROOT/.cache/node}
FORCE=${GENRO_FORCE_INSTALL:-0}
INSTALLER=${GENRO_INSTALLER:-uv}
LOGS=$ROOT/.cache/install-logs

AZURITE_VERSION=3.35.0
PLAYWRIGHT_VERSION=1.65.1
AXE_VERSION=4.14.1
S3RVER_VERSION=3.7.1  # bench/ only: a Node S3 server, faster than moto
TEST_USER=svcuser
TEST_PASS=svcpass
APT_PACKAGES=(
  openssh-server openssh-client samba smbclient nginx-light
  libarchive13 libarchive-tools git curl procps iproute2
  rclone wrk chromium chromium-driver time
)

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
say() { echo "install: $*"; }
die() { echo "install: ERROR: $*" >&2; exit 1; }

# run NAME CMD...: run quietly with output in $LOGS/NAME.log; on failure print
# the command and the end of its log, and stop.
run() {
  local name=$1; shift
  local log="$LOGS/$name.log" rc=0
  "$@" > "$log" 2>&1 || rc=$?
  if [ "$rc" != 0 ]; then
    {
      echo "install: FAILED ($name, exit $rc): $*"
      echo "install: last lines of $log:"
      tail -n 40 "$log" | sed 's/^/    /'
    } >&2
    exit 1
  fi
}

[ "$(id -u)" = 0 ] || die "run as root (apt-get, the test user)"
case $INSTALLER in uv | pip) ;; *) die "GENRO_INSTALLER=$INSTALLER: uv or pip" ;; esac
mkdir -p "$LOGS"
T_ALL=$(now)

# ---------------------------------------------------------------- apt
T=$(now)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
command -v npm > /dev/null || missing+=(nodejs npm)
"$PYTHON" -c 'import ensurepip, venv' > /dev/null 2>&1 || missing+=(python3-venv)
if [ "${#missing[@]}" -gt 0 ] || [ "$FORCE" = 1 ]; then
  # Installing openssh-server, samba and nginx must not start their system
  # services (they would listen on 0.0.0.0:22/445/80). Container images ship a
  # policy-rc.d that forbids it; add a temporary one when there is none.
  TMP_POLICY=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    TMP_POLICY=1
  fi
  trap '[ -z "$TMP_POLICY" ] || rm -f /usr/sbin/policy-rc.d' EXIT
  export DEBIAN_FRONTEND=noninteractive
  run apt-update apt-get update -q
  run apt-install apt-get install -y -q --no-install-recommends "${APT_PACKAGES[@]}" \
    $(printf '%s\n' "${missing[@]}" | grep -xE 'nodejs|npm|python3-venv' || true)
  say "apt    $(since "$T")s (installed: ${missing[*]:-forced})"
else
  say "apt    $(since "$T")s (all ${#APT_PACKAGES[@]} packages present)"
fi
command -v npm > /dev/null || die "npm still missing after apt (needed for Azurite)"

# ---------------------------------------------------------------- npm
# Started first, in the background (the bench's s3rver beside it): they wait on
# the npm registry while the venv phase waits on PyPI. --prefer-offline: what npm's
# cache holds is used without asking the registry again (the versions are pinned; an
# empty cache downloads as before): 27 s -> 11 s with a warm cache. Their lines are printed
# (and a failure stops the install) after the django42 phase.
npm_phase() {
  local T
  T=$(now)
  pkg_version() {  # version of an npm package under NODE_DIR, empty if absent
    local f="$NODE_DIR/node_modules/$1/package.json"
    [ -f "$f" ] && node -p "require('$f').version" 2> /dev/null || true
  }
  if [ "$FORCE" != 1 ] && [ "$(pkg_version azurite)" = "$AZURITE_VERSION" ] \
    && [ "$(pkg_version playwright-core)" = "$PLAYWRIGHT_VERSION" ] \
    && [ "$(pkg_version axe-core)" = "$AXE_VERSION" ] \
    && [ -x "$NODE_DIR/node_modules/.bin/azurite-blob" ]; then
    say "npm    $(since "$T")s (azurite $AZURITE_VERSION, playwright-core $PLAYWRIGHT_VERSION, axe-core $AXE_VERSION present)"
  else
    mkdir -p "$NODE_DIR"
    run npm npm install --prefix "$NODE_DIR" --prefer-offline --no-audit --no-fund --loglevel=error \
      "azurite@$AZURITE_VERSION" "playwright-core@$PLAYWRIGHT_VERSION" \
      "axe-core@$AXE_VERSION"
    say "npm    $(since "$T")s (installed under $NODE_DIR)"
  fi
  local node_major
  node_major=$(node -p 'process.versions.node.split(".")[0]' 2> /dev/null || echo 0)
  if [ "$node_major" -lt 20 ]; then
    say "WARNING: node $(node --version 2> /dev/null) is older than 20: Azurite runs, but" \
      "playwright-core $PLAYWRIGHT_VERSION wants node >= 20"
  fi
}
# s3rver for bench/bench_transfers.py --server s3rver, in a prefix of its own
npm_bench_phase() {
  local T BENCH_NODE="$ROOT/.cache/bench-node"
  T=$(now)
  if [ "$FORCE" != 1 ] && [ -x "$BENCH_NODE/node_modules/.bin/s3rver" ]; then
    say "npm    s3rver present under $BENCH_NODE"
  else
    mkdir -p "$BENCH_NODE"
    run npm-bench npm install --prefix "$BENCH_NODE" --prefer-offline --no-audit --no-fund --loglevel=error \
      "s3rver@$S3RVER_VERSION"
    say "npm    $(since "$T")s (s3rver $S3RVER_VERSION installed under $BENCH_NODE)"
  fi
}
NPM_OUT=$LOGS/npm-phase.out
NPM_BENCH_OUT=$LOGS/npm-bench-phase.out
npm_phase > "$NPM_OUT" 2>&1 &
NPM_PID=$!
npm_bench_phase > "$NPM_BENCH_OUT" 2>&1 &
NPM_BENCH_PID=$!

# ---------------------------------------------------------------- venv
# The marker holds a hash of what decides the install: pyproject, the pins and
# the interpreter. Same hash = nothing to do.
T=$(now)
PYVER=$("$PYTHON" -c 'import sys; print(sys.version)') || die "$PYTHON does not run"
STAMP="$VENV/.genro-install-stamp"
want_stamp=$(cat "$ROOT/pyproject.toml" "$ROOT/scripts/constraints.txt" <(echo "$PYVER") \
  | sha256sum | cut -d' ' -f1)
# pip_install ARGS...: into the venv, with uv (same resolution of the same pins,
# downloads and unpacks in parallel) or pip (GENRO_INSTALLER=pip, which compiles
# every module to bytecode itself).
pip_install() {
  if [ "$INSTALLER" = uv ]; then
    "$VENV/bin/uv" pip install --python "$VENV/bin/python" --quiet "$@"
  else
    "$VENV/bin/python" -m pip install -q "$@"
  fi
}
if [ "$FORCE" != 1 ] && [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] \
  && [ "$(cat "$STAMP")" = "$want_stamp" ]; then
  say "venv   $(since "$T")s (up to date: $VENV)"
else
  [ -x "$VENV/bin/python" ] || run venv "$PYTHON" -m venv "$VENV"
  rm -f "$STAMP"
  if [ "$INSTALLER" = uv ]; then
    # uv itself, at its pin, by the venv's own pip; it then brings pip up to date too
    (cd "$ROOT" && run uv "$VENV/bin/python" -m pip install -q uv -c scripts/constraints.txt)
    (cd "$ROOT" && run pip-install pip_install --upgrade pip -e ".[all,dev]" \
      -c scripts/constraints.txt)
  else
    run pip-upgrade "$VENV/bin/python" -m pip install -q --upgrade pip
    (cd "$ROOT" && run pip-install pip_install -e ".[all,dev]" -c scripts/constraints.txt)
  fi
  echo "$want_stamp" > "$STAMP"
  say "venv   $(since "$T")s (installed into $VENV with $INSTALLER)"
fi

# ---------------------------------------------------------------- django 4.2
# Only Django itself: its dependencies (asgiref, sqlparse) come from the venv.
T=$(now)
DJANGO42="$ROOT/.cache/django42"
if [ "$FORCE" != 1 ] && [ -f "$DJANGO42/django/__init__.py" ]; then
  say "django42 $(since "$T")s (present: $DJANGO42)"
else
  rm -rf "$DJANGO42"
  [ -x "$VENV/bin/uv" ] || INSTALLER=pip  # a venv made by GENRO_INSTALLER=pip
  run django42 pip_install --no-deps --target "$DJANGO42" "Django>=4.2,<4.3"
  # Bytecode: the venv is not compiled up front (the suite imports about a third of its
  # 185 MB of sources; scripts/test.sh lets Python write what is imported, once: 6 s of
  # CPU over the run instead of 18 s, 11 s of wall, here). Django 4.2's copy is: the
  # suite's two Django 4.2 runs start together and would each compile it.
  [ "$INSTALLER" = pip ] || run compile-django42 "$VENV/bin/python" -m compileall -q -j 0 "$DJANGO42"
  say "django42 $(since "$T")s (installed under $DJANGO42)"
fi

# ---------------------------------------------------------------- npm (end)
T=$(now)
npm_rc=0
wait "$NPM_PID" || npm_rc=$?
wait "$NPM_BENCH_PID" || npm_rc=$?
cat "$NPM_OUT" "$NPM_BENCH_OUT"
[ "$npm_rc" = 0 ] || die "the npm phase failed (above)"
say "npm    (in the background; waited $(since "$T")s for it after django42)"

# ---------------------------------------------------------------- test user
# svcuser: no home, no shell; sshd checks its password in /etc/shadow (UsePAM no)
# and owns the SFTP and SMB folders. chpasswd every time: cheap, and it repairs
# a changed password.
T=$(now)
if ! id "$TEST_USER" > /dev/null 2>&1; then
  run useradd useradd -M -d /tmp -s /usr/sbin/nologin -c "genro-storage test services" "$TEST_USER"
fi
echo "$TEST_USER:$TEST_PASS" | run chpasswd chpasswd
say "user   $(since "$T")s ($TEST_USER)"

say "done in $(since "$T_ALL")s"
