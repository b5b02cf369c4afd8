#!/usr/bin/env bash
# The project's main job: the demo file server on the embedded local/memory default.
#
#   bash scripts/demo.sh [--host 127.0.0.1] [--port 8000]
#
# Creates .venv (core package only: fsspec + PyYAML) if needed, then runs
# `python -m genro_storage.demo`, which seeds a local directory and a memory mount,
# serves both over HTTP and prints the URL. Ctrl-C stops it.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
if ! .venv/bin/python -c "import genro_storage, fsspec, yaml" 2>/dev/null; then
  .venv/bin/pip install -q -e . -c scripts/constraints.txt
fi
exec .venv/bin/python -m genro_storage.demo "$@"
