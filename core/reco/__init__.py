"""Reconciliation of portal records (IMS or GSTR-2A) with the purchase register.

The public entry of the engine (docs/reconciliation.md):
- `reconcile(portal, books)` matches, classifies, explains and recommends on Polars frames
  (core/reco/engine.py, with the keys, passes and nearest candidates in core/reco_*.py);
- `project_2a_onto_ims(ims, results_2a)` carries a GSTR-2A result onto IMS records, the sync
  source `2a_vs_pr` (core/reco/project.py);
- `python -m core.reco --purchase PR.csv --portal PORTAL.json --out OUT.csv ...` reconciles two
  files (core/reco/cli.py; docs/interfaces.md).
The engine modules never import this one: it sits above them.
"""
from __future__ import annotations

from core.reco.answer_columns import answers_shown
from core.reco.cli import main, read_books, read_portal
from core.reco.declare import HEADS
from core.reco.engine import OUTPUT_COLUMNS, PASSES, classify, match_documents, pair_rows, reconcile
from core.reco.itc_answer import (
    ANSWER_LABELS,
    FULL,
    NO,
    PARTIAL,
    REMARK_MAX,
    answer_change_sql,
    answer_columns_sql,
    answer_problems,
    effective_answer,
    original_tax_sql,
    payload_fields,
    question_applies,
    remarks_allowed,
    upload_problems,
)
from core.reco.keys import mark_duplicates, prepare_books, prepare_portal, raw_no_expr
from core.reco.overrides import DOC_DECISION_SCHEMA, DOC_KEY, document_keys, on_documents
from core.reco.project import project_2a_onto_ims
from core.reco.vs_2b import STORED_FACTS, portal_frame_2b, reconcile_2b

__all__ = ["ANSWER_LABELS", "DOC_DECISION_SCHEMA", "DOC_KEY", "FULL", "HEADS", "NO", "OUTPUT_COLUMNS", "PARTIAL", "PASSES", "REMARK_MAX", "STORED_FACTS", "answer_change_sql", "answer_columns_sql", "answer_problems", "answers_shown", "classify", "document_keys", "effective_answer", "main", "mark_duplicates", "match_documents", "on_documents", "original_tax_sql", "pair_rows", "payload_fields", "portal_frame_2b", "prepare_books", "prepare_portal", "project_2a_onto_ims", "question_applies", "raw_no_expr", "read_books", "read_portal", "reconcile", "reconcile_2b", "remarks_allowed", "upload_problems"]
