"""`python -m core <command> ...`: the one command line (core/cli.py)."""
from core.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
