"""Reconciliation: run IMS vs PR or GSTR-2A vs PR for chosen periods, see the results in
charts and a drill-down grid, download them with the recommended actions."""
from __future__ import annotations

from functools import partial

import plotly.express as px
import polars as pl
import streamlit as st

from app import ui
from core import export, sync
from core import reco_view as rv
from core.downloads import download_name
from core.ims_view import page_count
from core.timefmt import shown_time

KINDS = {"ims_vs_pr": "IMS vs Purchase Register", "2a_vs_pr": "GSTR-2A vs Purchase Register"}
PAGE_SIZE = 50
# One colour per match status on every chart (good green, doubtful amber, bad red).
STATUS_COLORS = {"exact": "#1a7f37", "partial": "#7cc47f", "probable": "#f2c14e",
                 "mismatch": "#e8833a", "missing_in_pr": "#d1242f", "missing_in_portal": "#8250df",
                 "not_in_2a": "#bf3989", "duplicate": "#6e7781", "not synced": "#bbbbbb"}

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
                             key="reco_periods")
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
            f"{r['periods'] or 'all periods'} · {shown_time(r['started_at'])} · "
            f"{r['rows']:,} rows")


run_ids = runs["run_id"].to_list()     # the run just started here, else the newest
just_run = st.session_state.get("reco_run")
run_id = st.selectbox("Run", run_ids, index=run_ids.index(just_run) if just_run in run_ids else 0,
                      format_func=partial(run_label, runs))

summary = ui.cached(rv.status_summary, run_id, gstins)
left, right = st.columns(2)
left.plotly_chart(px.pie(summary, names="match_status", values="records", hole=0.45,
                         title="Status by count", color="match_status",
                         color_discrete_map=STATUS_COLORS), key="by_count")
right.plotly_chart(px.bar(summary, x="match_status", y="tax_value",
                          title="Status by value (tax ₹)", labels={"tax_value": "tax ₹"},
                          color="match_status", color_discrete_map=STATUS_COLORS)
                   .update_layout(showlegend=False), key="by_value")
left, right = st.columns(2)
top = ui.cached(rv.top_suppliers_at_risk, run_id, gstins)
left.plotly_chart(px.bar(top, x="value_at_risk", y="supplier_gstin", orientation="h",
                         labels={"value_at_risk": "tax ₹ at risk",
                                 "supplier_gstin": "supplier GSTIN"},
                         title="Top suppliers by value at risk (tax ₹, not exact/partial)")
                  .update_yaxes(autorange="reversed"), key="top_suppliers")
reasons = ui.cached(rv.reasons_breakdown, run_id, gstins)
right.plotly_chart(px.bar(reasons, x="reason", y="records", title="Reasons"), key="reasons")
trend = ui.cached(rv.trend_by_period, run_id, gstins).with_columns(   # '092025' -> 'Sep 2025'
    pl.concat_str(pl.lit("01"), pl.col("period")).str.to_date("%d%m%Y", strict=False)
    .dt.strftime("%b %Y").fill_null(pl.col("period")).alias("period"))
st.plotly_chart(px.bar(trend, x="period", y="records", color="match_status",
                       title="Trend by period", color_discrete_map=STATUS_COLORS)
                .update_xaxes(type="category", title="return period"),
                key="trend")

st.subheader("Drill down")
statuses = st.multiselect("Status", summary["match_status"].to_list(), key="drill_status")
page_key = f"drill_page_{run_id}_{'_'.join(statuses)}"
page_no = st.session_state.get(page_key, 1) or 1
rows, total = ui.cached(rv.results_page, run_id, gstins, statuses, page_no, PAGE_SIZE)
st.dataframe(rows, hide_index=True, column_config={
    "itc_red_req": "ITC to be reduced (proposed)",
    "supplier_remark": "Proposed remark",
    "user_supplier_remark": st.column_config.TextColumn(
        "Remark to supplier", help="What the team wrote to the supplier (sent with the action)"),
    "internal_note": st.column_config.TextColumn("Internal note", help="Never sent")})
st.pagination(page_count(total, PAGE_SIZE), key=page_key)
st.caption(f"{total:,} rows")



def export_bytes(run_id: int, gstins: list[str], excel: bool) -> bytes:
    """The run's results with the recommended actions, as a download (Excel or CSV)."""
    frame = rv.results_export(run_id, gstins)
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
