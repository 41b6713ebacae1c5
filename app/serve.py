"""The app server: `streamlit run app/serve.py` (what ./run.sh starts).

The app itself is app/main.py; this wraps it in an `st.App` so that the server also answers
the session-cookie route (app/session_cookie.py) and shows an uncaught error as a plain
message with an incident id (app/incidents.py `show_incident`), and lets only a logged-in
importer's session send bytes to Streamlit's upload endpoint (app/upload_guard.py). `streamlit run app/main.py` still
works, but then a login lasts only as long as the browser tab's connection.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware
from streamlit.runtime.pages_manager import PagesManager

from app.incidents import show_incident
from app.session_cookie import ROUTES
from app.upload_guard import UploadGuard

# app/pages/ sits beside main.py (the user's layout), so Streamlit would start in its legacy
# `pages/` mode: until some session has run main.py's st.navigation, a first visitor's deep
# link (/itc_summary) would run that page file on its own, with a list of file names in the
# sidebar. main.py always calls st.navigation (hidden before login, app/page_list.py), so the
# app is told so before the first session. tests/test_frame_browser.py checks a fresh server.
PagesManager.uses_pages_directory = False

# Uploads only from a logged-in importer's session (app/upload_guard.py).
app = st.App(Path(__file__).with_name("main.py"), routes=ROUTES, on_script_error=show_incident,
             middleware=[Middleware(UploadGuard)])
