"""Sending a supplier its statement (docs/suppliers.md): one supplier or every supplier with
open items, the statement in the mail's body and attached as Excel, through core.mail (logged,
retried there); the supplier's case becomes "sent". Only suppliers of businesses the user may
see."""
from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from core.business import list_businesses
from core.mail import send_mail
from core.suppliers.cases import case_items, check_allowed, move_case, open_case, reminders_due
from core.suppliers.master import company_of, names_of, split_emails, supplier_of
from core.suppliers.statement import statement_excel, statement_html, statement_subject
from core.suppliers.worklist import worklist

REMINDER = "supplier reminder"
MOVED = ("sent", "retrying", "refused")   # refused and retrying: core.mail tries again


@dataclass
class SendResult:
    stin: str
    state: str       # sent | refused | retrying | failed | no address
    message: str


def _business_name(gstin: str) -> str:
    names = list_businesses([gstin])["name"].to_list()
    return names[0] if names else gstin


def send_statement(gstin: str, stin: str, actor: str, items: pl.DataFrame | None = None,
                   purpose: str = "supplier statement",
                   allowed: list[str] | None = None) -> SendResult:
    """Mail `stin` its statement for `gstin`; its case (opened if none) becomes sent when the
    mail went out or waits for a retry. `allowed`: the businesses the user may see (None:
    all, the worker)."""
    check_allowed(gstin, allowed)
    items = worklist(gstin).filter(pl.col("stin") == stin) if items is None else items
    master = supplier_of(company_of(gstin), stin) or {}
    to = split_emails(master.get("emails"))
    if not to:
        return SendResult(stin, "no address", f"{stin} has no contact e-mail in the supplier "
                                              "master: add one on the Suppliers page")
    if items.is_empty():
        return SendResult(stin, "nothing to send", f"{stin} has nothing to fix")
    name = names_of([gstin], [stin]).get(stin) or stin
    business = _business_name(gstin)
    subject = statement_subject(business, name)
    if purpose == REMINDER:
        subject = f"Reminder: {subject}"
    outcome = send_mail(to=to, subject=subject,
                        html=statement_html(items, business, gstin, f"{name} ({stin})"),
                        attachments=[(f"statement_{stin}.xlsx", statement_excel(items))],
                        sent_by=actor, purpose=purpose, business_id=gstin)
    if outcome.state in MOVED:
        case_id = open_case(gstin, stin, items, actor)
        move_case(case_id, "sent", actor, f"statement mailed to {', '.join(to)}")
    return SendResult(stin, outcome.state, outcome.message)


def send_reminders(gstin: str, actor: str = "worker",
                   allowed: list[str] | None = None) -> list[SendResult]:
    """Sent cases of `gstin` with no reply for the reminder setting's days: their records not
    yet fixed are mailed again as a reminder (the case's reminder time moves on, so the next
    one waits as long again)."""
    check_allowed(gstin, allowed)
    results = []
    for case in reminders_due([gstin]).iter_rows(named=True):
        open_items = worklist(gstin).filter(pl.col("stin") == case["stin"])
        keys = set(case_items(case["case_id"]).filter(pl.col("fixed_at").is_null())["item_key"])
        mine = open_items.filter(pl.col("item_key").is_in(list(keys)))
        if mine.is_empty():
            continue
        results.append(send_statement(gstin, case["stin"], actor, mine,
                                      purpose=REMINDER))
    return results


def send_statements(gstin: str, actor: str,
                    allowed: list[str] | None = None) -> list[SendResult]:
    """Every supplier of `gstin` with open items gets its statement (bulk)."""
    check_allowed(gstin, allowed)
    items = worklist(gstin)
    return [send_statement(gstin, stin, actor, items.filter(pl.col("stin") == stin))
            for stin in items["stin"].unique(maintain_order=True).to_list()]
