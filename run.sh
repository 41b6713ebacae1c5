#!/usr/bin/env bash
# Set up, build the demo (sandbox data, businesses, purchase register, first fetch and
# sync, demo admin), then run sandbox + worker + app until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
exec .venv/bin/python -m scripts.run_demo "$@"
