"""Small helpers every page shares: who is acting, which businesses they may see, cached
queries keyed on a cheap data version, money formatting and the empty states.

`current_user()` and `visible_gstins()` are the only places pages learn who the user is and
what they may see (app/auth_ui.py holds the login gate behind them).

An unexpected error of a page ends in app/incidents.py's `error_boundary()`: a plain message
with an incident id, never a traceback.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import streamlit as st

from app import auth_ui
from core import figures, labels
from core.business import list_businesses
from core.store import DatabaseBusy, db_path, store_version
from core.timefmt import shown_time

ACTION_LABELS = labels.ACTIONS


# While a script runs, Streamlit's running man changes picture every 200 ms (a timer in its
# frontend: five React renders, style and layout passes and repaints a second) for as long as
# the page waits for the server, and the wait is longest when the server is busiest: eight
# people on one busy server paid that for every second they waited (issue 29,
# docs/reliability.md "Sixth round"). Every page shows a still cue instead: the words
# "Working ..." beside Streamlit's Stop button, drawn once per run.
STILL_RUNNING_CUE = """<style>
[data-testid="stStatusWidgetRunningManIcon"] {display: none !important;}
[data-testid="stStatusWidgetRunningIcon"] {width: auto !important; height: auto !important;}
[data-testid="stStatusWidgetRunningIcon"]::before {content: "Working ..."; font-size: 0.875rem;
  white-space: nowrap; opacity: 0.6;}
</style>"""


def show_running_still() -> None:
    """Every page's start: the running cue is still words, not an animation (STILL_RUNNING_CUE).
    The style takes no space on the page."""
    st.html(STILL_RUNNING_CUE)


def current_user():
    """The logged-in core.auth.User (the built-in admin in set-up mode; None when logged out).
    Pass it to core functions that check the role themselves (core.ims.actions)."""
    return auth_ui.current_user()


def current_actor() -> str:
    """The user acting in this session: their email ('local' in set-up mode)."""
    user = auth_ui.current_user()
    return user.email if user else "anonymous"


_VERSION_TTL_S = 1.0
_version_memo: dict[str, tuple[float, tuple]] = {}


def data_version() -> tuple:
    """Changes whenever data the pages show is written (core/store/version.py): an action, a
    finished run, a batch, a business, a fetch's records, a setting; not when a job merely
    starts or ends (the job-health panel reads job state itself, uncached).

    Read at most once a second per store (one script run asks many times); our own
    writes forget it at once (`after_write`)."""
    memo = _version_memo.get(db_path())
    if memo and time.monotonic() - memo[0] < _VERSION_TTL_S:
        return memo[1]
    version = store_version()
    _version_memo[db_path()] = (time.monotonic(), version)
    return version


@st.cache_data(show_spinner=False, max_entries=512)
def _cached_call(module: str, name: str, version: tuple, args: tuple, kwargs: tuple) -> Any:
    fn = getattr(sys.modules[module], name)  # the caller's module: imported already
    return fn(*args, **dict(kwargs))


def cached(fn: Callable, *args, **kwargs) -> Any:
    """Call a core query function, cached until the store's data version changes. Sessions
    that miss the same entry at once wait for one computation (Streamlit's per-key lock;
    tests/test_data_version.py), holding no store connection while they wait."""
    return _cached_call(fn.__module__, fn.__name__, data_version(), args,
                        tuple(sorted(kwargs.items())))


@st.cache_resource(show_spinner=False, max_entries=48)
def _shared_build(where: str, version: tuple, args: tuple, _build: Callable) -> Any:
    return _build(*args)


def built_once(build: Callable, *args) -> Any:
    """`build(*args)` (a page's charts, from cached queries) made once per data version and
    shared by every session: eight people on the same business's page cost one build, not
    eight (issue 29), and a rerun costs none. The result is shared, so it must never be
    changed after (finish the figures inside `build`; app/charts.py `drawn` does not change
    them)."""
    where = f"{build.__code__.co_filename}:{build.__qualname__}"
    return _shared_build(where, data_version(), args, build)


def after_write() -> None:
    """Our own writes: forget cached query results."""
    _version_memo.clear()
    _cached_call.clear()
    _shared_build.clear()


def visible_gstins() -> list[str]:
    """The businesses the current user may see: their granted GSTINs (admins: all)."""
    return auth_ui.visible_gstins(auth_ui.current_user())


def can(permission: str) -> bool:
    """May the current user do `permission` (act, upload, import, reconcile, settings, users;
    core.auth.PERMISSIONS)? For `disabled=` on buttons and a check before each write."""
    return auth_ui.allowed(auth_ui.current_user(), permission)


def permitted(permission: str, what: str) -> bool:
    """The check right before a write: True when allowed, else an error naming the role."""
    if can(permission):
        return True
    user = current_user()
    role = user.role if user else "nobody logged in"
    st.error(f"Not saved: your role ({role}) may not {what}. Ask an admin for the analyst role.")
    return False


def read_only_note(permission: str, what: str) -> None:
    """A caption beside controls the user's role may not use."""
    if not can(permission):
        user = current_user()
        st.caption(f":material/lock: Your role ({user.role if user else 'none'}) may view and "
                   f"download here but not {what}.")


def label_business(gstin: str) -> str:
    """'Name · GSTIN' for a GSTIN the page shows. Looked up by the GSTIN alone (not through the
    session), so it also works where Streamlit calls a format_func outside the script run."""
    try:
        names = cached(list_businesses, [gstin])["name"].to_list()
    except DatabaseBusy:
        names = []
    if names and names[0]:
        _known_names[gstin] = names[0]
    name = _known_names.get(gstin)
    return f"{name} · {gstin}" if name else gstin


# The last name each GSTIN was shown with: a store busy for a moment must not change a
# selectbox's labels (Streamlit would take it for another widget and drop the choice).
_known_names: dict[str, str] = {}


def chip_business(gstin: str) -> str:
    """'27AAACW1234K1ZD · Name' for a chip of a multiselect: a chip cuts its end, so the
    GSTIN (which tells apart businesses of one name) comes first."""
    label = label_business(gstin)
    return f"{gstin} · {label.rsplit(' · ', 1)[0]}" if label != gstin else gstin


def rupees(value) -> str:
    """Indian digit grouping: ₹12,34,567.89 (core/figures.py)."""
    return figures.rupees(value)


def require_businesses() -> list[str]:
    """The visible GSTINs; when there are none, tell the user what to do and stop the page.

    Logs in first: Streamlit may run a page file on its own (a fresh server's first session
    opened at a page URL runs app/pages/ in its old multipage mode, without app/main.py)."""
    auth_ui.require_login()
    gstins = visible_gstins()
    if not gstins:
        if not auth_ui.allowed(auth_ui.current_user(), "settings"):
            st.info("No business is granted to you yet. Ask an admin to grant you your "
                    "company's GSTIN on the Users page.")
            st.stop()
        st.info("No business yet. Add your company's GSTIN under **Settings → Add or edit a "
                "business**, then choose it under \"Business to Auto-generate IMS\".")
        st.page_link("pages/settings.py", label="Open Settings", icon=":material/settings:")
        st.stop()
    return gstins


def no_data_yet(what: str) -> None:
    st.info(f"No {what} yet. The worker fetches IMS records daily at each business's fetch "
            "time, or fetch them now: **Fetch from the portal now** on the Dashboard.")


def show_flash() -> None:
    """Show (once) the message a command left before the page reran."""
    for kind, text in st.session_state.pop("flash", []):
        getattr(st, kind)(text)


def flash(kind: str, text: str) -> None:
    st.session_state.setdefault("flash", []).append((kind, text))


def when(moment) -> str:
    """A time for people, in the business time zone and labelled: '12 Nov 2025, 11:30 IST'
    (empty when unknown; a naive time is the store's UTC)."""
    return shown_time(moment)
