"""Reconciliation of portal records (IMS or GSTR-2A) with the purchase register.

The public entry of the engine (docs/reconciliation.md):
- `reconcile(portal, books)` matches, classifies, explains and recommends on Polars frames
  (core/reco_engine.py, with the keys, passes and nearest candidates in core/reco_*.py);
- `project_2a_onto_ims(ims, results_2a)` carries a GSTR-2A result onto IMS records, the sync
  source `2a_vs_pr` (core/reco_project.py);
- `python -m core.reco --purchase PR.csv --portal PORTAL.json --out OUT.csv ...` reconciles two
  files (core/reco_cli.py; docs/interfaces.md).
The engine modules never import this one: it sits above them.
"""
from __future__ import annotations

from core.reco_cli import main
from core.reco_engine import OUTPUT_COLUMNS, PASSES, reconcile
from core.reco_project import project_2a_onto_ims

__all__ = ["OUTPUT_COLUMNS", "PASSES", "main", "project_2a_onto_ims", "reconcile"]

if __name__ == "__main__":
    raise SystemExit(main())
