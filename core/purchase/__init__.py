"""Purchase-register import: read, validate, import as a batch, roll back.

The public entry (docs/interfaces.md):
    read_purchase_documents(path)            -> Validation (no database; used by core.reco)
    validate_purchase_file(source, ...)      -> Validation checked against the store
    import_purchase_file(source, ...)        -> ImportResult (one transaction, or nothing)
    list_batches(), rollback_batch(id, actor), problems_csv_bytes(validation)
    problem_table(v), rejected_csv_bytes(v), valid_figures(v), valid_only_words(v),
    import_off_reason(v)                     -> the page's words (core/purchase/problems.py)
    save_template(...), list_templates(), suggest_mapping(headers)

The work is done in core/purchase/importing.py (with core/purchase/read.py, _validate.py,
_documents.py, _problems.py, _batches.py and _templates.py); the CLI `python -m core.purchase
validate|import|batches|rollback|templates|suggest ...` is core/purchase/cli.py. None of
those import this module: it sits above them.
"""
from __future__ import annotations

from core.purchase.batch_figures import rollback_figures
from core.purchase.batches import (
           ImportRefused,
           configured_gstins,
           list_batches,
           previous_import,
           rollback_batch,
)
from core.purchase.cli import main
from core.purchase.importing import (
           ImportResult,
           Validation,
           import_purchase_file,
           problems_csv_bytes,
           read_purchase_documents,
           validate_purchase_file,
)
from core.purchase.problems import (
           already_imported_words,
           duplicate_table,
           import_off_reason,
           problem_table,
           rejected_csv_bytes,
           valid_figures,
           valid_only_words,
)
from core.purchase.read import LINE, MAX_UPLOAD_BYTES, FileProblem, load_source, read_table
from core.purchase.templates import (
           CN_SIGNS,
           FIELDS,
           REQUIRED,
           Template,
           delete_template,
           list_templates,
           save_template,
           suggest_mapping,
)
from core.purchase.validate import CONTROL_CHARS, date_expr

__all__ = [
           "CN_SIGNS",
           "CONTROL_CHARS",
           "FIELDS",
           "LINE",
           "MAX_UPLOAD_BYTES",
           "REQUIRED",
           "FileProblem",
           "ImportRefused",
           "ImportResult",
           "Template",
           "Validation",
           "already_imported_words",
           "configured_gstins",
           "date_expr",
           "delete_template",
           "duplicate_table",
           "import_off_reason",
           "import_purchase_file",
           "list_batches",
           "list_templates",
           "load_source",
           "main",
           "previous_import",
           "problem_table",
           "problems_csv_bytes",
           "read_purchase_documents",
           "read_table",
           "rejected_csv_bytes",
           "rollback_batch",
           "rollback_figures",
           "save_template",
           "suggest_mapping",
           "valid_figures",
           "valid_only_words",
           "validate_purchase_file",
]
