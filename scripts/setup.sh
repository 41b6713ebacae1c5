#!/usr/bin/env bash
# Create .venv, install requirements.txt and the project (again only when either changed).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.requirements.sha256
want=$(cat requirements.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "== installing requirements.txt"
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt
  # the project itself, editable: `core`, `sandbox` and `scripts` import from anywhere
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -e .
  echo "$want" > "$stamp"
fi
