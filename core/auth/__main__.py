"""`python -m core.auth`: the users' commands (core/auth/cli.py)."""
from core.auth.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
