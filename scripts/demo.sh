#!/usr/bin/env bash
# The project's main job: the web console on the embedded local/memory default.
#
#   bash scripts/demo.sh [--host 127.0.0.1] [--port 8000] [--config FILE] [--token T]
#
# Creates .venv if needed and installs the package with the `console` extra only
# (fsspec, PyYAML, uvicorn, anyio, python-multipart), then runs `genro-storage console`, which seeds a local
# folder, a memory mount and a read-only view, and prints the URL. With
# $GENRO_STORAGE_CONFIG (or --config) it shows those mounts instead. Ctrl-C stops it.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
if ! .venv/bin/python -c "import genro_storage, fsspec, yaml, uvicorn, anyio, python_multipart" 2>/dev/null; then
  .venv/bin/pip install -q -e ".[console]" -c scripts/constraints.txt
fi
exec .venv/bin/python -m genro_storage.console "$@"
