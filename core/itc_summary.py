"""`python -m core.itc_summary`: GSTR-3B Table 4 from files, an alias of
`python -m core itc-summary` (core/month_close/cli.py)."""
from core.month_close.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
