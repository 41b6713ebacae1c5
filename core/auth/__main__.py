"""`python -m core.auth`: the users' commands (core/auth/cli.py)."""
from core.auth.cli import main

raise SystemExit(main())
