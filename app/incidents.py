"""Where an unexpected error of a page ends up: never a traceback in the browser.

`error_boundary()` runs a page body; an error shows `show_incident`'s plain message with a short
incident id, and the log (the app's stderr, data/app.log under ./run.sh) gets the details
under that id. "Database busy" (the store held by another process for longer than the busy
timeout) is said in words. app/main.py puts the boundary around the login gate and every page
body, the login gate guards itself (a page may run on its own), and app/serve.py hands Streamlit
`show_incident` for anything raised elsewhere. `client.showErrorDetails = "none"` in
.streamlit/config.toml is the last net. docs/security.md tells the whole design.
"""
from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import Iterator

import streamlit as st

from core.store import DatabaseBusy

log = logging.getLogger("ims.app")
if not log.handlers:
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log.addHandler(_handler)
    log.setLevel(logging.INFO)
BUSY_HINT = "The worker may be writing a fetch or a sync right now; nothing was lost."


def show_incident(exc: BaseException) -> bool:
    """Tell the person in words what stopped the page, and log the details under a short
    incident id. Returns True (Streamlit then shows nothing more)."""
    if isinstance(exc, DatabaseBusy):
        log.warning("database busy: %s", exc)
        st.warning(f"{exc} {BUSY_HINT}", icon=":material/hourglass_top:")
        return True
    incident = secrets.token_hex(4)
    log.error("incident %s: %s: %s", incident, type(exc).__name__, exc, exc_info=exc)
    st.error(f"Something went wrong and this page stopped (incident {incident}). What you "
             "saved before is kept. Try again; if it happens again, give the incident id to "
             "whoever runs the app: the details are in its log.", icon=":material/error:")
    return True


@contextlib.contextmanager
def error_boundary() -> Iterator[None]:
    """Run a page body; an error shows `show_incident`'s plain message instead of a traceback.
    Streamlit's own stop and rerun pass through (they are not Exceptions)."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 -- the boundary: nothing reaches the browser raw
        show_incident(exc)
