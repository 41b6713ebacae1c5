"""`python -m core.purchase`: purchase-register files (core/purchase/cli.py)."""
from core.purchase.cli import main

raise SystemExit(main())
