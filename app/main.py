"""IMS Reco Sync: the app frame. Pages live in app/pages/, logic in core/."""
from __future__ import annotations

import streamlit as st

from app import auth_ui, page_list
from app.incidents import error_boundary
from core.store import db_path

st.set_page_config(page_title="IMS Reco Sync", page_icon=":material/receipt_long:", layout="wide")
user = None
with error_boundary():  # every error below shows a plain message, never a traceback
    user = auth_ui.require_login()  # the login form (and a stop) until someone logs in
if user is None:
    st.stop()  # the boundary said why (e.g. the store is busy)

page = st.navigation(page_list.pages_for(user))
auth_ui.account_box(user)
if user.role == "admin":           # where the store lives: for admins only
    with st.sidebar:
        st.caption(f"Store: `{db_path()}`")
with error_boundary():
    page.run()
