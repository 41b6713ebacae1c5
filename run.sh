#!/usr/bin/env bash
# Set up, build the demo (sandbox data, businesses, purchase register, first fetch and
# sync, demo admin with a random password), then run sandbox + worker + app until Ctrl-C.
# The app listens on 127.0.0.1 only; `./run.sh --host 0.0.0.0` opens it to the network.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
exec .venv/bin/python -m scripts.run_demo "$@"
