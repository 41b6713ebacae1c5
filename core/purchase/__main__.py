"""`python -m core.purchase`: purchase-register files (core/purchase/cli.py)."""
from core.purchase.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
