"""IMS Reco Sync: the app frame. Pages live in app/pages/, logic in core/."""
from __future__ import annotations

import streamlit as st

from app import auth_ui
from app.incidents import error_boundary
from core import auth
from core.db import db_path

st.set_page_config(page_title="IMS Reco Sync", page_icon=":material/receipt_long:", layout="wide")
user = None
with error_boundary():  # every error below shows a plain message, never a traceback
    user = auth_ui.require_login()  # the login form (and a stop) until someone logs in
if user is None:
    st.stop()  # the boundary said why (e.g. the store is busy)

PAGES = [
    st.Page("pages/dashboard.py", title="Dashboard", icon=":material/dashboard:", default=True),
    st.Page("pages/ims_invoices.py", title="IMS Invoices", icon=":material/receipt_long:"),
    st.Page("pages/reconciliation.py", title="Reconciliation", icon=":material/compare_arrows:"),
    st.Page("pages/purchase_register.py", title="Purchase Register",
            icon=":material/upload_file:"),
    st.Page("pages/itc_summary.py", title="ITC Summary", icon=":material/account_balance:"),
]
if auth.can(user, "settings"):
    PAGES.append(st.Page("pages/settings.py", title="Settings", icon=":material/settings:"))
if auth.can(user, "users"):
    PAGES.append(st.Page("pages/users.py", title="Users", icon=":material/group:"))

page = st.navigation(PAGES)
auth_ui.account_box(user)
with st.sidebar:
    st.caption(f"Store: `{db_path()}`")
with error_boundary():
    page.run()
