"""IMS Reco Sync: the app frame. Pages live in app/pages/, logic in core/."""
from __future__ import annotations

import streamlit as st

from app import auth_ui, page_list, ui
from app.incidents import error_boundary
from core.store import db_path

st.set_page_config(page_title="IMS Reco Sync", page_icon=":material/receipt_long:", layout="wide")
ui.show_running_still()        # no running man redrawn five times a second while a page waits
# The login form, or the app: the logged-out run ends normally, never with st.stop(), so that
# Streamlit drops the Dashboard's timed refresh (app/auth_ui.py `logged_in_or_login`).
user = auth_ui.logged_in_or_login()   # errors on the way are shown in words, never a traceback
if user is not None:
    page = st.navigation(page_list.pages_for(user))
    auth_ui.account_box(user)
    if user.role == "admin":           # where the store lives: for admins only
        with st.sidebar:
            st.caption(f"Store: `{db_path()}`")
    with error_boundary():
        page.run()
