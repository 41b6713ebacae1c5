"""The Settings page's "GSP sessions" block: connect a GSTIN with an OTP, see each session's
state in words (core/portal/sessions.py). The OTP field is emptied as soon as it is used; no
token or OTP is ever shown."""
from __future__ import annotations

import streamlit as st

from app import ui
from core.business import SettingsError
from core.clock import utc_now
from core.portal import GstnError
from core.portal import sessions as gsp_sessions
from core.portal import status as gsp_status

OTP_KEY = "gsp_otp"
SAID_KEY = "gsp_said"      # what the last click did, shown inside the block


def _say(kind: str, text: str) -> None:
    st.session_state[SAID_KEY] = (kind, text)


def _request(gstin: str, actor: str) -> None:
    period = st.session_state.get("gsp_period") or "30 days"
    try:
        _say("success", gsp_sessions.request_otp(
            gstin, st.session_state.get(f"gsp_user_{gstin}", ""),
            utc_now() + gsp_sessions.ACCESS_PERIODS[period], actor))
    except (SettingsError, GstnError) as err:
        _say("error", str(err))


def _connect(gstin: str, actor: str) -> None:
    otp = st.session_state.get(OTP_KEY, "")
    st.session_state[OTP_KEY] = ""          # never kept past this click
    try:
        _say("success", gsp_sessions.connect_with_otp(gstin, otp, actor))
    except (SettingsError, GstnError) as err:
        _say("error", str(err))


def _cancel(gstin: str, actor: str) -> None:
    st.session_state[OTP_KEY] = ""
    try:
        _say("success", gsp_sessions.cancel_otp(gstin, actor))
    except SettingsError as err:
        _say("error", str(err))


def show_gsp_sessions(gstins: list[str], actor: str) -> None:
    """The block: the sessions table, then request an OTP and connect with it."""
    st.subheader("GSP sessions")
    st.caption("API access works per GSTIN: the taxpayer enables it on the GST portal for a "
               "period (6 hours to 30 days); the GSP then sends an OTP for the GSTIN's portal "
               "username, and the token it buys is refreshed by the worker until the period "
               "ends. Tokens are kept encrypted; OTPs are never kept.")
    rows = gsp_status.session_rows(gstins)
    if not rows:
        st.info("Add a business first; then connect it here.")
        return
    st.table([{"Business": ui.label_business(r["gstin"]),
               "Portal username": r["username"] or "not given yet",
               "GSP session": r["sentence"], "Details": r["words"]} for r in rows],
             hide_index=True)
    pick = st.selectbox("Business to connect", [r["gstin"] for r in rows],
                        format_func=ui.label_business, key="gsp_pick")
    row = next(r for r in rows if r["gstin"] == pick)
    (st.success if row["state"] == "connected" else st.info)(row["words"])
    left, right = st.columns(2)
    left.text_input("GST portal username", value=row["username"], key=f"gsp_user_{pick}")
    right.selectbox("API access enabled on the portal for", list(gsp_sessions.ACCESS_PERIODS),
                    index=len(gsp_sessions.ACCESS_PERIODS) - 1, key="gsp_period",
                    help="The period chosen on the GST portal, counted from now.")
    st.button("Request OTP", key="gsp_request", on_click=_request, args=(pick, actor))
    st.text_input("OTP received", type="password", key=OTP_KEY, max_chars=10,
                  help="The code sent to the mobile number and e-mail registered for the GSTIN.")
    left, right = st.columns(2)
    left.button("Connect", key="gsp_connect", type="primary", on_click=_connect,
                args=(pick, actor))
    if row["otp_pending"]:
        right.button("Cancel the OTP request", key="gsp_cancel", on_click=_cancel,
                     args=(pick, actor),
                     help="Takes back the OTP asked for: a business never connected goes back "
                          "to the shared login; a connected one keeps its session.")
    if SAID_KEY in st.session_state:
        kind, text = st.session_state.pop(SAID_KEY)
        getattr(st, kind)(text)
