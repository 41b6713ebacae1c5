"""`python -m core.reco`: reconcile two files (core/reco/cli.py)."""
from core.reco.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
