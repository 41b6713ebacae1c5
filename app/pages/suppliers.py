"""Suppliers: what only the suppliers can fix (the worklist, biggest ITC first, with its
deadline), a statement per supplier (Excel and the e-mail), follow-up cases, the suppliers'
own compliance (rule 37A, registration cancelled, the hold-payment list) and the supplier
master (docs/suppliers.md)."""
from __future__ import annotations

import polars as pl
import streamlit as st

from app import ui, url_state
from core import clock, suppliers
from core.export import XLSX_MIME, to_csv_bytes, to_excel_bytes
from core.figures import amounts_as_text, indian
from core.periods import period_words
from core.timefmt import shown_time, shown_times

st.title("Suppliers")
gstins = ui.require_businesses()
st.caption("What only your suppliers can fix, with the input tax credit at stake and the "
           "deadline that matters; statements to send them, follow-up cases that close by "
           "themselves when a later fetch shows the fix, and their own filing compliance.")

linked = url_state.asked("business", gstins)
gstin = st.selectbox("Business", gstins, format_func=ui.label_business, key="sup_business",
                     index=gstins.index(linked[0]) if linked else 0)
st.query_params.from_dict({"business": gstin})
actor = ui.current_actor()
today = clock.today()
items = ui.cached(suppliers.worklist, gstin)
stins = sorted(set(items["stin"].to_list()))
names = ui.cached(suppliers.names_of, [gstin], stins) if stins else {}


MONTHS = {f"{m:02d}": period_words(f"{m:02d}2000")[:3] for m in range(1, 13)}


def period_text(column: str) -> pl.Expr:
    return (pl.col(column).str.slice(0, 2).replace_strict(MONTHS, default="") + " "
            + pl.col(column).str.slice(2)).fill_null("")


def day_words(column: str) -> pl.Expr:
    return pl.col(column).dt.strftime("%-d %b %Y").fill_null("")


def labelled(frame: pl.DataFrame, column: str = "stin") -> pl.DataFrame:
    """A `Supplier` column 'name · GSTIN' beside `column` (a join, not a loop)."""
    known = pl.DataFrame({column: list(names), "_name": list(names.values())},
                         schema={column: pl.Utf8, "_name": pl.Utf8})
    return frame.join(known, on=column, how="left").with_columns(
        Supplier=pl.col("_name").fill_null("name not in books, 2B or the master") + " · "
        + pl.col(column)).drop("_name")


def supplier_label(stin: str) -> str:
    return f"{names.get(stin) or 'name not in books, 2B or the master'} · {stin}"


def words_of(frame: pl.DataFrame) -> pl.DataFrame:
    """The worklist rows as a person reads them."""
    return amounts_as_text(frame, "itc").select(
        pl.col("kind").replace_strict(suppliers.KINDS, default="").alias("What"),
        period_text("ret_period").alias("Return period"),
        pl.col("doc_no").alias("Document"),
        day_words("doc_date").alias("Dated"), pl.col("itc").alias("ITC at stake (₹)"),
        pl.col("to_fix").alias("What to fix"),
        pl.col("deadline_words").alias("Deadline"))


work, cases_tab, compliance_tab, master_tab = st.tabs(
    ["Worklist", "Follow-up cases", "Compliance", "Supplier master"])

with work:
    if items.is_empty():
        st.info("Nothing for suppliers to fix: every IMS record is filed and agrees with the "
                "books, and every books document is on the portal (as of the last sync).")
    else:
        summary = suppliers.by_supplier(items)
        m1, m2, m3 = st.columns(3)
        m1.metric("Suppliers with something to fix", indian(summary.height, 0))
        m2.metric("Documents to fix", indian(items.height, 0))
        m3.metric("ITC at stake", ui.rupees(items["itc"].sum()))
        st.dataframe(amounts_as_text(labelled(summary), "itc").select(
            "Supplier", pl.col("items").alias("Documents"),
            pl.col("itc").alias("ITC at stake (₹)"),
            day_words("nearest_deadline").alias("Nearest deadline"),
            pl.col("kinds").alias("What")), hide_index=True, width="stretch")
        order = summary["stin"].to_list()
        stin = st.selectbox("Supplier", order, format_func=supplier_label, key="sup_supplier")
        mine = items.filter(pl.col("stin") == stin)
        st.dataframe(words_of(mine), hide_index=True, width="stretch")
        c1, c2, c3 = st.columns(3)
        c1.download_button("Download statement (Excel)", suppliers.statement_excel(mine),
                           file_name=f"statement_{stin}.xlsx", mime=XLSX_MIME,
                           icon=":material/download:", key="sup_statement")
        if c2.button("Open a follow-up case", disabled=not ui.can("act"), key="sup_open") \
                and ui.permitted("act", "open a case"):
            case_id = suppliers.open_case(gstin, stin, mine, actor, allowed=gstins)
            ui.after_write()
            st.success(f"Follow-up case {case_id} holds these {len(mine)} documents.")
        if c3.button("Send statement by e-mail", disabled=not ui.can("act"), key="sup_send") \
                and ui.permitted("act", "mail a supplier"):
            done = suppliers.send_statement(gstin, stin, actor, mine, allowed=gstins)
            ui.after_write()
            (st.success if done.state == "sent" else st.warning)(done.message)
        with st.expander("The e-mail the supplier gets"):
            st.html(suppliers.statement_html(
                mine, ui.label_business(gstin).rsplit(" · ", 1)[0], gstin,
                f"{names.get(stin) or stin} ({stin})"))
        if st.button("Send statements to every supplier with open items",
                     disabled=not ui.can("act"), key="sup_bulk") \
                and ui.permitted("act", "mail suppliers"):
            results = suppliers.send_statements(gstin, actor, allowed=gstins)
            ui.after_write()
            sent = sum(r.state == "sent" for r in results)
            st.success(f"{sent} of {len(results)} statements sent; the rest say why below.")
            st.table(pl.DataFrame({"Supplier": [supplier_label(r.stin) for r in results],
                                   "Outcome": [r.message for r in results]}))

with cases_tab:
    cases = ui.cached(suppliers.cases_of, [gstin])
    due = suppliers.reminders_due([gstin])
    if not due.is_empty():
        st.warning(f"{len(due)} sent case(s) have had no reply for "
                   f"{suppliers.reminder_days()} days or more. The worker mails a reminder "
                   "after its next sync, or send it now.")
        if st.button("Send reminders now", disabled=not ui.can("act"), key="sup_remind") \
                and ui.permitted("act", "mail suppliers"):
            reminded = suppliers.send_reminders(gstin, actor, allowed=gstins)
            ui.after_write()
            st.table(pl.DataFrame({"Supplier": [supplier_label(r.stin) for r in reminded],
                                   "Outcome": [r.message for r in reminded]}))
    if cases.is_empty():
        st.info("No open follow-up case. Open one from the worklist.")
    else:
        st.dataframe(amounts_as_text(labelled(cases), "itc_open").select(
            ("Case " + pl.col("case_id").cast(pl.Utf8)).alias("Case"), "Supplier",
            pl.col("state").replace_strict(suppliers.STATES, default="").alias("State"),
            day_words("due_on").alias("Due"),
            (pl.col("fixed").cast(pl.Utf8) + " of " + pl.col("items").cast(pl.Utf8))
            .alias("Documents fixed"),
            pl.col("itc_open").alias("ITC still at stake (₹)")), hide_index=True, width="stretch")
        case_id = st.selectbox("Case", cases["case_id"].to_list(), key="sup_case",
                               format_func=lambda c: f"Case {c}")
        case = cases.filter(pl.col("case_id") == case_id).row(0, named=True)
        shown = suppliers.case_items(case_id)
        st.dataframe(amounts_as_text(shown_times(shown, "fixed_at"), "itc").select(
            pl.col("kind").replace_strict(suppliers.KINDS, default="").alias("What"),
            pl.col("doc_no").alias("Document"), pl.col("itc").alias("ITC (₹)"),
            pl.col("to_fix").alias("Asked"),
            pl.col("fixed_note").fill_null("not yet").alias("Fixed?"),
            pl.col("fixed_at").fill_null("").alias("Seen fixed")), hide_index=True, width="stretch")
        if case["notes"]:
            st.text(case["notes"])
        left, right = st.columns(2)
        move = left.selectbox("Move to", ["sent", "replied", "resolved", "dropped"],
                              format_func=lambda s: suppliers.STATES[s], key="sup_move")
        reason = left.text_input("Reason or note", key="sup_reason")
        if left.button("Save the state", disabled=not ui.can("act"), key="sup_state") \
                and ui.permitted("act", "change a case"):
            try:
                suppliers.move_case(case_id, move, actor, reason, allowed=gstins)
                ui.after_write()
                st.success(f"Case {case_id}: {suppliers.STATES[move].lower()}.")
            except suppliers.CaseError as exc:
                st.error(str(exc))
        note = right.text_area("Add a note", key="sup_note")
        due_on = right.date_input("Due on", value=case["due_on"] or today, key="sup_due")
        if right.button("Save note and due date", disabled=not ui.can("act"), key="sup_save") \
                and ui.permitted("act", "change a case"):
            suppliers.note_case(case_id, note, actor, due_on, allowed=gstins)
            ui.after_write()
            st.success(f"Case {case_id} saved.")
    if ui.can("settings"):
        days = st.number_input("Remind after how many days without a reply (0: no reminders)",
                               0, 90, suppliers.reminder_days(), key="sup_days")
        if st.button("Save the reminder setting", key="sup_days_save") \
                and ui.permitted("settings", "change settings"):
            suppliers.save_reminder_days(int(days), actor)
            ui.after_write()
            st.success(f"Reminders after {int(days)} days." if days else
                       "No reminders: the worker mails none until this is set again.")

with compliance_tab:
    flags = ui.cached(suppliers.rule_37a_flags, [gstin], today)
    st.subheader("GSTR-3B not filed by the supplier (rule 37A)")
    st.caption("ITC we claimed for a period whose GSTR-3B the supplier has not filed: if it is "
               "still not filed by 30 September after the year, the ITC is reversed by 30 "
               "November.")
    if flags.is_empty():
        st.info("No supplier with an unfiled GSTR-3B for a period whose ITC we claimed (as "
                "GSTR-2A shows at the last fetch).")
    else:
        names.update(ui.cached(suppliers.names_of, [gstin], sorted(set(flags["stin"]))))
        st.dataframe(amounts_as_text(labelled(flags), "itc").select(
            "Supplier", pl.col("period").alias("Return period"),
            pl.col("itc").alias("ITC at stake (₹)"),
            pl.col("state").alias("Where it stands")), hide_index=True,
            width="stretch")
    filings = ui.cached(suppliers.compliance, [gstin])
    if not filings.is_empty():
        st.subheader("Returns filed, per supplier and period (from GSTR-2A)")
        names.update(ui.cached(suppliers.names_of, [gstin], sorted(set(filings["stin"]))))
        said = {"Y": "filed", "N": "not filed"}
        st.dataframe(labelled(filings).select(
            "Supplier", period_text("ret_period").alias("Return period"),
            pl.col("gstr1_filed").replace_strict(said, default="not stated").fill_null("not stated")
            .alias("GSTR-1"),
            pl.col("gstr3b_filed").replace_strict(said, default="not stated").fill_null("not stated")
            .alias("GSTR-3B"),
            day_words("cancelled_on").alias("Registration cancelled on")),
            hide_index=True, width="stretch")
    cancelled = ui.cached(suppliers.cancelled_suppliers, [gstin])
    if not cancelled.is_empty():
        st.subheader("Registration cancelled")
        st.dataframe(cancelled.select(
            pl.col("stin").alias("Supplier GSTIN"),
            day_words("cancelled_on").alias("Cancelled on")), hide_index=True, width="stretch")
    hold_names = suppliers.names_of([gstin], sorted(set(flags["stin"].to_list()) if
                                                    not flags.is_empty() else set()))
    hold = suppliers.hold_payment_list([gstin], today, hold_names)
    st.subheader("Hold payment")
    st.caption(f"{len(hold)} reason(s) to hold a supplier's payment.")
    h1, h2 = st.columns(2)
    h1.download_button("Hold-payment list (CSV)", to_csv_bytes(hold),
                       file_name=f"hold_payment_{gstin}.csv", mime="text/csv", key="sup_hold_csv")
    h2.download_button("Hold-payment list (Excel)", to_excel_bytes(hold, "Hold payment"),
                       file_name=f"hold_payment_{gstin}.xlsx", mime=XLSX_MIME,
                       key="sup_hold_xlsx")

with master_tab:
    company = suppliers.company_of(gstin)
    master = ui.cached(suppliers.suppliers_of, company)
    st.caption("One master for the company: every GSTIN of its PAN shares it. Names missing "
               "are filled from the purchase register and the GSTR-2B.")
    if master.is_empty():
        st.info("No supplier in the master yet: fill names from the books and the 2B, or "
                "import a file.")
    else:
        st.dataframe(master.select(
            pl.col("pan").alias("PAN"), pl.col("stin").alias("GSTIN"),
            pl.col("legal_name").fill_null("").alias("Legal name"),
            pl.col("trade_name").fill_null("").alias("Trade name"),
            pl.col("emails").fill_null("").alias("E-mails"),
            pl.col("phone").fill_null("").alias("Phone"),
            pl.col("notes").fill_null("").alias("Notes")), hide_index=True,
            width="stretch")
    a, b, c = st.columns(3)
    if a.button("Fill names from the books and the 2B", disabled=not ui.can("import"),
                key="sup_fill") and ui.permitted("import", "change the supplier master"):
        filled = suppliers.fill_names(gstins, actor)
        ui.after_write()
        st.success(f"{filled} supplier names filled.")
    b.download_button("Template (CSV)", suppliers.template_file("csv"),
                      file_name="suppliers_template.csv", mime="text/csv", key="sup_tpl")
    b.download_button("Template (Excel)", suppliers.template_file("xlsx"),
                      file_name="suppliers_template.xlsx", mime=XLSX_MIME, key="sup_tpl_x")
    c.download_button("Export the master (Excel)", suppliers.export_suppliers(company, "xlsx"),
                      file_name=f"suppliers_{company}.xlsx", mime=XLSX_MIME, key="sup_export")
    c.download_button("Export the master (CSV)", suppliers.export_suppliers(company, "csv"),
                      file_name=f"suppliers_{company}.csv", mime="text/csv", key="sup_export_c")
    upload = st.file_uploader("Import suppliers (CSV or Excel, columns as the template)",
                              type=["csv", "xlsx"], key="sup_upload")
    if upload is not None and st.button("Import", disabled=not ui.can("import"),
                                        key="sup_import") \
            and ui.permitted("import", "change the supplier master"):
        try:
            count = suppliers.import_suppliers(gstin, upload.name, upload.getvalue(), actor)
            ui.after_write()
            st.success(f"{count} suppliers imported.")
        except suppliers.SupplierFileError as exc:
            st.error(f"Nothing imported: {exc}")
    with st.form("sup_one"):
        st.write("Add or change one supplier")
        one = {"supplier_gstin": st.text_input("Supplier GSTIN"),
               "legal_name": st.text_input("Legal name"),
               "trade_name": st.text_input("Trade name"),
               "emails": st.text_input("Contact e-mails (comma-separated)"),
               "phone": st.text_input("Phone"), "notes": st.text_input("Notes")}
        if st.form_submit_button("Save supplier", disabled=not ui.can("import")) \
                and ui.permitted("import", "change the supplier master"):
            try:
                suppliers.save_supplier(gstin, one, actor)
                ui.after_write()
                st.success(f"{one['supplier_gstin'].strip().upper()} saved.")
            except suppliers.SupplierFileError as exc:
                st.error(str(exc))
st.caption(f"As of {shown_time(clock.utc_now())}; the worklist is as the last sync left it.")
