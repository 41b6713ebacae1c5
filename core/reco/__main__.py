"""`python -m core.reco`: reconcile two files (core/reco/cli.py)."""
from core.reco.cli import main

raise SystemExit(main())
