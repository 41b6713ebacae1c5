"""`python -m core <command> ...`: the one command line (core/cli.py)."""
from core.cli import main

raise SystemExit(main())
