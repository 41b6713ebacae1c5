"""The app server: `streamlit run app/serve.py` (what ./run.sh starts).

The app itself is app/main.py; this wraps it in an `st.App` so that the server also answers
the session-cookie route (app/session_cookie.py) and shows an uncaught error as a plain
message with an incident id (app/incidents.py `show_incident`). `streamlit run app/main.py` still
works, but then a login lasts only as long as the browser tab's connection.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from app.incidents import show_incident
from app.session_cookie import ROUTES

app = st.App(Path(__file__).with_name("main.py"), routes=ROUTES, on_script_error=show_incident)
