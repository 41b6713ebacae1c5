"""The app's pages, for the navigation in app/main.py and for the login form.

Before anyone logs in the login form registers every page with the navigation hidden
(`hide_page_list`): a fresh server's first session would otherwise show Streamlit's own list
of the files in app/pages/ (lower-case file names) beside the login form, and a deep link
keeps its page through the login. Each page still checks the login itself.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from core import auth
from core.auth import User

PAGES = Path(__file__).with_name("pages")   # also right when a page file runs on its own


def pages_for(user: User | None) -> list:
    """The pages `user` may open (None: every page, for the hidden list before login)."""
    pages = [
        st.Page(PAGES / "dashboard.py", title="Dashboard", icon=":material/dashboard:",
                default=True),
        st.Page(PAGES / "ims_invoices.py", title="IMS Invoices", icon=":material/receipt_long:"),
        st.Page(PAGES / "approvals.py", title="Approvals", icon=":material/approval:"),
        st.Page(PAGES / "reconciliation.py", title="Reconciliation",
                icon=":material/compare_arrows:"),
        st.Page(PAGES / "purchase_register.py", title="Purchase Register",
                icon=":material/upload_file:"),
        st.Page(PAGES / "itc_summary.py", title="ITC Summary", icon=":material/account_balance:"),
        st.Page(PAGES / "suppliers.py", title="Suppliers", icon=":material/handshake:"),
    ]
    if user is None or auth.can(user, "settings"):
        pages.append(st.Page(PAGES / "settings.py", title="Settings", icon=":material/settings:"))
    if user is None or auth.can(user, "users"):
        pages.append(st.Page(PAGES / "users.py", title="Users", icon=":material/group:"))
    return pages


def hide_page_list() -> None:
    """Before login: every page known to the navigation, none listed."""
    st.navigation(pages_for(None), position="hidden")
