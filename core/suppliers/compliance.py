"""Supplier compliance from what GSTR-2A already gives (docs/suppliers.md): GSTR-1 filed
(`cfs`) and GSTR-3B filed (`cfs3b`) per period, registration cancelled and since when
(`dtcancel`); the rule 37A flag (ITC claimed for a period whose GSTR-3B the supplier has not
filed: reversal due by 30 November if still not filed by 30 September after the year) with the
ITC at stake; the "hold payment" list a finance team downloads.

The ITC at stake of a supplier and period is the tax of its GSTR-2A invoices, debit and credit
notes of that period (sections b2b and cdn: they reached our GSTR-2B, so we claimed them),
credit notes taken off; amendments (b2ba, cdna) are left out.
"""
from __future__ import annotations

import datetime as dt

import polars as pl

from core.calendar import day_text
from core.periods import period_words
from core.store import connect, query_frame

TAX = "coalesce(d.igst, 0) + coalesce(d.cgst, 0) + coalesce(d.sgst, 0) + coalesce(d.cess, 0)"


def rule_37a_dates(period: str) -> tuple[dt.date, dt.date]:
    """(the supplier's last day to file, our reversal due) for a return period MMYYYY: 30
    September and 30 November after the financial year the period belongs to."""
    month, year = int(period[:2]), int(period[2:])
    fy_end = year + 1 if month >= 4 else year
    return dt.date(fy_end, 9, 30), dt.date(fy_end, 11, 30)


def compliance(gstins: list[str]) -> pl.DataFrame:
    """Per business, supplier and period: GSTR-1 filed, GSTR-3B filed, cancelled on, and the
    ITC of its 2A documents of the period."""
    if not gstins:
        return pl.DataFrame()
    marks = ", ".join("?" for _ in gstins)
    with connect(read_only=True) as con:
        return query_frame(con, f"""
            SELECT s.rtin, s.stin, s.ret_period, s.gstr1_filed, s.gstr3b_filed, s.cancelled_on,
                   s.seen_at,
                   (SELECT sum(CASE WHEN d.doc_type = 'CRN' THEN -({TAX}) ELSE {TAX} END)
                    FROM gstr2a_docs d WHERE d.rtin = s.rtin AND d.stin = s.stin
                      AND d.ret_period = s.ret_period AND d.section IN ('b2b', 'cdn')) AS itc
            FROM supplier_returns s WHERE s.rtin IN ({marks})
            ORDER BY s.rtin, s.stin, s.ret_period""", gstins)


def rule_37a_flags(gstins: list[str], today: dt.date) -> pl.DataFrame:
    """Supplier periods whose GSTR-3B is not filed while we claimed their ITC, with the ITC
    at stake, the two rule 37A dates and where things stand in words; biggest ITC first."""
    frame = compliance(gstins)
    if frame.is_empty():
        return frame
    rows = []
    for row in frame.filter(pl.col("gstr3b_filed") == "N").iter_rows(named=True):
        itc = float(row["itc"] or 0)
        if itc <= 0:
            continue
        file_by, reverse_by = rule_37a_dates(row["ret_period"])
        if today <= file_by:
            state = (f"at risk: if the supplier has not filed by {day_text(file_by)}, reverse "
                     f"this ITC by {day_text(reverse_by)}")
        elif today <= reverse_by:
            state = f"reversal due by {day_text(reverse_by)} (the supplier did not file in time)"
        else:
            state = f"reversal overdue since {day_text(reverse_by)}"
        rows.append({**row, "itc": itc, "file_by": file_by, "reverse_by": reverse_by,
                     "state": state, "period": period_words(row["ret_period"])})
    if not rows:
        return pl.DataFrame()
    return pl.DataFrame(rows).sort(["itc", "stin"], descending=[True, False])


def cancelled_suppliers(gstins: list[str]) -> pl.DataFrame:
    """Suppliers whose registration GSTR-2A shows cancelled, and since when."""
    frame = compliance(gstins)
    if frame.is_empty():
        return frame
    return (frame.filter(pl.col("cancelled_on").is_not_null())
            .group_by("rtin", "stin").agg(pl.col("cancelled_on").min(),
                                          pl.col("itc").sum().alias("itc"))
            .sort("stin"))


def hold_payment_list(gstins: list[str], today: dt.date, names: dict[str, str]) -> pl.DataFrame:
    """Suppliers a finance team should hold payments of: GSTR-3B not filed for a period whose
    ITC we claimed (rule 37A), or registration cancelled; one row per supplier and reason."""
    rows = []
    for r in rule_37a_flags(gstins, today).iter_rows(named=True):
        rows.append({"business_gstin": r["rtin"], "supplier_gstin": r["stin"],
                     "supplier_name": names.get(r["stin"], ""),
                     "reason": f"GSTR-3B of {r['period']} not filed (rule 37A): {r['state']}",
                     "itc_at_stake": r["itc"]})
    for r in cancelled_suppliers(gstins).iter_rows(named=True):
        rows.append({"business_gstin": r["rtin"], "supplier_gstin": r["stin"],
                     "supplier_name": names.get(r["stin"], ""),
                     "reason": f"registration cancelled on {day_text(r['cancelled_on'])}",
                     "itc_at_stake": float(r["itc"] or 0)})
    schema = {"business_gstin": pl.Utf8, "supplier_gstin": pl.Utf8, "supplier_name": pl.Utf8,
              "reason": pl.Utf8, "itc_at_stake": pl.Float64}
    if not rows:
        return pl.DataFrame(schema=schema)
    return pl.DataFrame(rows, schema=schema).sort("itc_at_stake", descending=True)
