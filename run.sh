#!/usr/bin/env bash
# Set up, build the demo (sandbox data, businesses, purchase register, first fetch and
# sync, demo admin with a random password), then run sandbox + worker + app until Ctrl-C.
# The app listens on 127.0.0.1 only; `./run.sh --host 0.0.0.0` opens it to the network.
# The demo lives on one day shared by app, worker and sandbox (docs/demo.md).
set -euo pipefail
cd "$(dirname "$0")"
for arg in "$@"; do
  if [ "$arg" = "-h" ] || [ "$arg" = "--help" ]; then
    if [ -x .venv/bin/python ]; then   # help without setting anything up
      exec .venv/bin/python -m scripts.run_demo --help
    fi
    cat <<'USAGE'
usage: ./run.sh [--port 8501] [--host 127.0.0.1] [--sandbox-port 8765] [--scale 3000]
                [--seed 7] [--fresh] [--start-date YYYY-MM-DD] [--data-dir data]

Sets up .venv (first run only), builds the demo and runs the bundled GSTN sandbox, the worker
and the app (http://localhost:8501) on one business day until Ctrl-C. See README.md and
docs/demo.md; nothing is installed for --help.
USAGE
    exit 0
  fi
done
bash scripts/setup.sh
exec .venv/bin/python -m scripts.run_demo "$@"
