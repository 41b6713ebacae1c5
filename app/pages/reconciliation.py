"""Reconciliation: run IMS vs PR or GSTR-2A vs PR for chosen periods, see the results in
charts and a drill-down grid, download them with the recommended actions."""
from __future__ import annotations

from functools import partial

import plotly.express as px
import polars as pl
import streamlit as st

from app import ui
from core import export, labels, sync
from core import reco_view as rv
from core.downloads import download_name
from core.figures import count_words, scaled
from core.ims_view import page_count
from core.timefmt import shown_time

KINDS = labels.RECO_KINDS
PAGE_SIZE = 50
STATUS_AXIS = {"categoryorder": "array", "categoryarray": list(labels.STATUS_ORDER)}
STATUS_CHART = {"color_discrete_map": labels.STATUS_COLOURS,
                "category_orders": {"Status": list(labels.STATUS_ORDER)}}

st.title("Reconciliation")
ui.show_flash()
gstins = ui.require_businesses()
actor = ui.current_actor()

runs = ui.cached(rv.list_runs, gstins)          # newest first
latest = runs["rtin"][0] if not runs.is_empty() and runs["rtin"][0] in gstins else gstins[0]

with st.container(border=True):   # not a form: the business drives the periods and runs shown
    c1, c2, c3 = st.columns([3, 2, 3])
    gstin = c1.selectbox("Business", gstins, index=gstins.index(latest),
                         format_func=ui.label_business, key="reco_business",
                         help="Starts at the business reconciled last")
    kind = c2.radio("Kind", list(KINDS), format_func=KINDS.get, key="reco_kind")
    periods = c3.multiselect("Periods (empty = all)", ui.cached(rv.reco_periods, [gstin], kind),
                             key="reco_periods", format_func=labels.period_words)
    run_now = st.button("Run now", type="primary", disabled=not ui.can("reconcile"))
    ui.read_only_note("reconcile", "run a reconciliation")
if run_now and ui.permitted("reconcile", "run a reconciliation"):
    title = f"Reconciling {KINDS[kind]} for {ui.label_business(gstin)} ..."
    with st.status(title, expanded=True) as status:
        st.write("Reading the portal side and the purchase register, matching in five passes ...")
        try:
            run_id = sync.run_reconciliation(gstin, kind, list(periods) or None, actor)
            status.update(label=f"Run {run_id} done.", state="complete")
            st.session_state["reco_run"] = run_id
        except Exception as exc:  # noqa: BLE001 - any failure is shown as the run's outcome
            status.update(label=f"Reconciliation failed: {exc}", state="error")
    ui.after_write()

runs = ui.cached(rv.list_runs, [gstin])         # the chosen business's runs, newest first
if runs.is_empty():
    st.info(f"No reconciliation has run for {ui.label_business(gstin)} yet. Press **Run now**, "
            "or wait for the daily sync after the fetch. Import the purchase register first "
            "(Purchase Register page).")
    st.stop()


def run_label(runs: pl.DataFrame, run: int) -> str:
    r = runs.row(runs["run_id"].to_list().index(run), named=True)
    return (f"Run {r['run_id']} · {KINDS.get(r['kind'], r['kind'])} · "
            f"{labels.periods_words(r['periods']) or 'all periods'} · "
            f"{shown_time(r['started_at'])} · {count_words(r['rows'])} rows")


run_ids = runs["run_id"].to_list()     # the run just started here, else the newest
just_run = st.session_state.get("reco_run")
run_id = st.selectbox("Run", run_ids, index=run_ids.index(just_run) if just_run in run_ids else 0,
                      format_func=partial(run_label, runs))

summary = ui.cached(rv.status_summary, run_id, gstins)
by_status = summary.with_columns(
    pl.col("match_status").map_elements(labels.status_words, return_dtype=pl.Utf8).alias("Status"))
by_value, unit = scaled(by_status, "tax_value")
left, right = st.columns(2)
left.plotly_chart(px.pie(by_status, names="Status", values="records", hole=0.45,
                         title="Status by count", color="Status", **STATUS_CHART)
                  .update_traces(sort=False), key="by_count")
right.plotly_chart(px.bar(by_value, x="Status", y="tax_value",
                          title=f"Status by value (tax, {unit})",
                          labels={"tax_value": f"tax ({unit})"}, color="Status", **STATUS_CHART)
                   .update_layout(showlegend=False).update_xaxes(**STATUS_AXIS), key="by_value")
left, right = st.columns(2)
top, unit = scaled(ui.cached(rv.top_suppliers_at_risk, run_id, gstins), "value_at_risk")
left.plotly_chart(px.bar(top, x="value_at_risk", y="supplier_gstin", orientation="h",
                         labels={"value_at_risk": f"tax at risk ({unit})",
                                 "supplier_gstin": "supplier GSTIN"},
                         title=f"Top suppliers by value at risk (tax, {unit}; not matched)")
                  .update_yaxes(autorange="reversed"), key="top_suppliers")
reasons = ui.cached(rv.reasons_breakdown, run_id, gstins).with_columns(
    pl.col("reason").map_elements(labels.reason_words, return_dtype=pl.Utf8))
right.plotly_chart(px.bar(reasons, x="reason", y="records", title="Reasons",
                          labels={"reason": "reason"}), key="reasons")
trend = ui.cached(rv.trend_by_period, run_id, gstins).with_columns(   # '092025' -> 'Sep 2025'
    pl.col("period").map_elements(labels.period_words, return_dtype=pl.Utf8),
    pl.col("match_status").map_elements(labels.status_words, return_dtype=pl.Utf8)
    .alias("Status"))
st.plotly_chart(px.bar(trend, x="period", y="records", color="Status",
                       title="Trend by period", **STATUS_CHART)
                .update_xaxes(type="category", title="return period"),
                key="trend")

st.subheader("Drill down")
DRILL_HEADINGS = {
    "match_status": st.column_config.TextColumn("Status", help="  \n".join(
        f"**{w}**: {h}" for c, (w, h) in labels.STATUSES.items() if c != "(not synced)")),
    "recommended_action": "Recommended", "reasons": "Reasons",
    "company_gstin": "Business GSTIN", "supplier_gstin": "Supplier GSTIN",
    "doc_type": "Document type", "rtnprd": "Return period",
    "portal_doc_no": "Portal document", "portal_doc_date": "Portal date",
    "pr_doc_no": "Books document", "pr_doc_date": "Books date", "pr_line": "Books line",
    **{c: st.column_config.TextColumn(f"{w} ₹", alignment="right") for c, w in (
        ("portal_txval", "Portal taxable"), ("pr_txval", "Books taxable"),
        ("portal_tax", "Portal tax"), ("pr_tax", "Books tax"),
        ("diff_txval", "Taxable difference"), ("diff_tax", "Tax difference"),
        ("decl_igst", "Reduce IGST"), ("decl_cgst", "Reduce CGST"), ("decl_sgst", "Reduce SGST"),
        ("decl_cess", "Reduce cess"))},
    "nearest_doc_no": "Nearest candidate", "nearest_reason": "Why it did not match"}
in_order = sorted(summary["match_status"].to_list(),
                  key=lambda c: list(labels.STATUSES).index(c) if c in labels.STATUSES else 99)
statuses = st.multiselect("Status", in_order, key="drill_status",
                          format_func=labels.status_words)
page_key = f"drill_page_{run_id}_{'_'.join(statuses)}"
page_no = st.session_state.get(page_key, 1) or 1
rows, total = ui.cached(rv.results_page, run_id, gstins, statuses, page_no, PAGE_SIZE)
st.dataframe(rv.shown_results(rows), hide_index=True, placeholder="", column_config={
    **DRILL_HEADINGS,
    "itc_red_req": "ITC to be reduced (proposed)",
    "supplier_remark": "Proposed remark",
    "user_supplier_remark": st.column_config.TextColumn(
        "Remark to supplier", help="What the team wrote to the supplier (sent with the action)"),
    "internal_note": st.column_config.TextColumn("Internal note", help="Never sent")})
st.pagination(page_count(total, PAGE_SIZE), key=page_key)
st.caption(f"{count_words(total)} rows")



def export_bytes(run_id: int, gstins: list[str], excel: bool) -> bytes:
    """The run's results with the recommended actions, as a download (Excel or CSV)."""
    frame = rv.export_with_words(rv.results_export(run_id, gstins))
    return export.to_excel_bytes(frame, "Reconciliation") if excel else export.to_csv_bytes(frame)


run = runs.row(run_ids.index(run_id), named=True)
d1, d2, _ = st.columns([1, 1, 3])
for column, excel in ((d1, False), (d2, True)):   # built on the click; the page never reruns
    ext = "xlsx" if excel else "csv"
    column.download_button(
        f"Download {'Excel' if excel else 'CSV'}", partial(export_bytes, run_id, gstins, excel),
        file_name=download_name(f"reco-{run['kind'].replace('_', '-')}", [gstin],
                                (run["periods"] or "").split(","), f"run{run_id}", ext),
        mime=export.XLSX_MIME if excel else "text/csv", icon=":material/download:",
        key=f"reco_download_{ext}", on_click="ignore")
