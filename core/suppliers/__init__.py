"""Suppliers (docs/suppliers.md): the master per company, their compliance from GSTR-2A
(rule 37A, hold payment), the worklist of what only they can fix, statements, follow-up cases
resolved by a later fetch, and sending statements by mail."""
from __future__ import annotations

from core.suppliers.cases import (
    DEFAULT_REMINDER_DAYS,
    OPEN_STATES,
    REMINDER_SETTING,
    STATES,
    CaseError,
    case_items,
    cases_of,
    follow_up_lines,
    move_case,
    note_case,
    open_case,
    reminder_days,
    reminders_due,
    review_cases,
    save_reminder_days,
)
from core.suppliers.compliance import (
    cancelled_suppliers,
    compliance,
    hold_payment_list,
    rule_37a_dates,
    rule_37a_flags,
)
from core.suppliers.master import (
    COLUMNS,
    SupplierFileError,
    company_of,
    display_name,
    export_suppliers,
    fill_names,
    import_suppliers,
    names_of,
    read_supplier_file,
    save_supplier,
    supplier_of,
    suppliers_of,
    template_file,
)
from core.suppliers.sending import SendResult, send_reminders, send_statement, send_statements
from core.suppliers.statement import statement_excel, statement_frame, statement_html
from core.suppliers.worklist import KINDS, by_supplier, worklist

__all__ = ["COLUMNS", "DEFAULT_REMINDER_DAYS", "KINDS", "OPEN_STATES", "REMINDER_SETTING",
           "STATES", "CaseError", "SendResult", "SupplierFileError", "by_supplier",
           "cancelled_suppliers", "case_items", "cases_of", "company_of", "compliance",
           "display_name", "export_suppliers", "fill_names", "follow_up_lines",
           "hold_payment_list",
           "import_suppliers", "move_case", "names_of", "note_case", "open_case",
           "read_supplier_file", "reminder_days", "reminders_due", "review_cases",
           "rule_37a_dates", "rule_37a_flags", "save_reminder_days", "save_supplier", "send_reminders", "send_statement",
           "send_statements", "statement_excel", "statement_frame", "statement_html",
           "supplier_of", "suppliers_of", "template_file", "worklist"]
