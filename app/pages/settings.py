"""Settings: IMS auto-fetch and sync source, businesses, reconciliation rules, GSP connection,
backups, e-mail (the mail server, a test mail, the daily digest, the mail log)."""
from __future__ import annotations

import datetime as dt

import streamlit as st

from app import auth_ui, backup_ui, mail_ui, ui
from app.deadlines_ui import show_calendar_settings
from app.gsp_connect import show_gsp_sessions
from app.sync_now import sync_now_block
from core.business import SettingsError
from core.business import registry as biz
from core.portal import gsp, try_login
from core.schedule import business_job_status, catch_up_notes

# Also when Streamlit runs this file on its own (without app/main.py): login and admin only.
auth_ui.require_role(auth_ui.require_login(), "settings")
st.title("Settings")
ui.show_flash()
actor = ui.current_actor()
gstins = ui.visible_gstins()
businesses = ui.cached(biz.list_businesses, gstins)


def schedule_preview() -> None:
    """Next fetch and the time by which the sync will be done, per business (a catch-up fetch
    due now is said as such)."""
    catch_up = catch_up_notes(gstins)
    rows = [{"Business": ui.label_business(r["gstin"]),
             "Auto-generate": "on" if r["enabled"] else "off",
             "Next fetch": ("now: a catch-up fetch (today's fetch time has passed)"
                            if r["gstin"] in catch_up else
                            ui.when(r["next_fetch"]) or "not scheduled"),
             "Sync done by": ui.when(r["sync_due_by"]) or "not scheduled",
             "Sync from": biz.SYNC_SOURCES.get(r["sync_source"], r["sync_source"])}
            for r in business_job_status(gstins=gstins)]
    st.table(rows, hide_index=True)
    for note in catch_up.values():
        st.caption(f":material/schedule: {note}")


def saved_with_catch_up(message: str, enabled: list[str]) -> str:
    """The save's message, plus why a fetch runs now for a business enabled after its time."""
    notes = catch_up_notes(enabled)
    return " ".join([message, *notes.values()])


st.subheader("IMS settings")
if businesses.is_empty():
    st.info("No business yet. Add one below; then choose it here to fetch its IMS records daily.")
else:
    rows = businesses.to_dicts()
    enabled = [r["gstin"] for r in rows if r["enabled"]]
    first = next((r for r in rows if r["enabled"]), rows[0])
    with st.form("ims_settings"):
        chosen = st.multiselect("Business to Auto-generate IMS", options=[r["gstin"] for r in rows],
                                default=enabled, format_func=ui.label_business)
        fetch_time = st.time_input("Daily fetch time", step=dt.timedelta(minutes=15),
                                   value=dt.time.fromisoformat(first["fetch_time"]))
        source = st.selectbox("Sync Action From", options=list(biz.SYNC_SOURCES),
                              index=list(biz.SYNC_SOURCES).index(first["sync_source"]),
                              format_func=biz.SYNC_SOURCES.get)
        if st.form_submit_button("Submit", type="primary"):
            try:
                biz.save_ims_settings(chosen, fetch_time, source, actor, gstins)
                ui.after_write()
                ui.flash("success", saved_with_catch_up(
                    "IMS settings saved. The worker uses them from its next minute.",
                    list(chosen)))
                st.rerun()
            except SettingsError as err:
                st.error(str(err))
    st.caption("IMS records are fetched once a day at this time; the recommendations are synced "
               "within 2 hours of the fetch.")
    sync_now_block(enabled, {r["gstin"]: r["sync_source"] for r in rows}, actor)
    schedule_preview()

st.subheader("Add or edit a business")
with st.form("business"):
    existing = ["(new business)"] + businesses["gstin"].to_list()
    pick = st.selectbox("Business", existing,
                        format_func=lambda g: g if g.startswith("(") else ui.label_business(g))
    current = next((r for r in businesses.to_dicts() if r["gstin"] == pick), None)
    gstin = st.text_input("GSTIN", value=current["gstin"] if current else "", max_chars=15,
                          placeholder="27AAPFU0939F1ZV")
    name = st.text_input("Name", value=current["name"] if current else "")
    enabled = st.checkbox("Auto-generate IMS for this business",
                          value=current["enabled"] if current else True)
    if st.form_submit_button("Save business"):
        try:
            saved = biz.save_business(gstin, name, actor, enabled=enabled)
            ui.after_write()
            was_on = bool(current and current["enabled"])
            ui.flash("success", saved_with_catch_up(
                f"Saved business {biz.describe_gstin(saved)}.",
                [saved] if enabled and not was_on else []))
            st.rerun()
        except SettingsError as err:
            st.error(str(err))

show_calendar_settings(gstins, actor)   # filing frequency, date overrides

st.subheader("Reconciliation rules")
rules = biz.reco_settings()
with st.form("reco_rules"):
    tolerance = st.number_input("Tolerance per amount field (₹)", min_value=0.0, max_value=1000.0,
                                value=rules.tolerance, step=0.5, format="%.2f")
    window = st.number_input("Date window (days)", min_value=0, max_value=366,
                             value=rules.date_window)
    policy = st.selectbox("Policy", list(biz.POLICIES), format_func=biz.POLICIES.get,
                          index=list(biz.POLICIES).index(rules.policy))
    if st.form_submit_button("Save rules"):
        try:
            biz.save_reco_settings(tolerance, int(window), policy, actor)
            ui.after_write()
            ui.flash("success", "Reconciliation rules saved; the next sync uses them.")
            st.rerun()
        except SettingsError as err:
            st.error(str(err))

st.subheader("GSP connection")
config = gsp.GspConfig.load()
url = st.text_input("GSP / GSTN API URL", value=gsp.saved_url() or config.url, key="gsp_url")
st.caption(f"{gsp.url_in_effect()} The URL is taken from `GSTN_API_URL` in the environment, "
           f"else from `[gsp] url` in `{gsp.SECRETS_PATH}`, else from here, else the bundled "
           f"sandbox ({gsp.DEFAULT_URL}). Credentials come from {config.credentials_source}; "
           "they are never stored or shown here.")
left, right = st.columns(2)
if left.button("Save URL"):
    try:
        biz.save_gsp_url(url, actor)
        ui.flash("success", f"GSP URL saved. {gsp.url_in_effect()}")
        st.rerun()
    except SettingsError as err:
        st.error(str(err))
if right.button("Test connection"):
    with st.spinner(f"Logging in to {url} ..."):
        ok, message = try_login(url)
    (st.success if ok else st.error)(message)

show_gsp_sessions(gstins, actor)
backup_ui.backup_settings_section(actor)
mail_ui.mail_settings_section(actor)
