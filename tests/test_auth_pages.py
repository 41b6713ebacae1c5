"""Per-GSTIN access and roles in the running app frame (app/main.py through AppTest): a user
granted one GSTIN sees only its records, charts and numbers on every page; non-admins get no
Settings or Users page; nobody gets a page before logging in (once a user exists)."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core import auth
from tests.conftest import ROOT
from tests.demo_store import BUSINESSES, seed_demo

PW = "correct horse battery"
G1, G2 = BUSINESSES[0][0], BUSINESSES[1][0]
DOCS = {G1: f"INV-{G1[:2]}-", G2: f"INV-{G2[:2]}-"}   # the demo store's document numbers


@pytest.fixture
def people(db_file):
    seed_demo(n_per_business=30)
    return {"admin": auth.create_user("boss@example.com", PW, "admin"),
            "analyst": auth.create_user("ana@example.com", PW, "analyst", [G1]),
            "auditor": auth.create_user("audrey@example.com", PW, "auditor", [G2])}


def open_as(user, page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=60)
    at.session_state["auth_user_id"] = user.user_id
    at.run()
    if page:
        at.switch_page(f"pages/{page}.py")
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def everything_shown(at: AppTest) -> str:
    """The text of every dataframe, chart spec, metric and text element of the page."""
    parts = [d.value.to_csv() for d in at.dataframe]
    parts += [str(c.proto) for c in at.get("plotly_chart")]
    parts += [str(m.value) + str(m.label) for m in at.metric]
    parts += [str(e.value) for kind in ("markdown", "caption", "info", "warning", "success", "table")
              for e in getattr(at, kind)]
    parts += [str(o) for s in (*at.selectbox, *at.multiselect) for o in s.options]
    return "\n".join(parts)


@pytest.mark.parametrize("page", ["dashboard", "ims_invoices", "reconciliation"])
def test_a_user_sees_only_granted_gstins_on_every_page(people, page):
    for who, mine, other in (("analyst", G1, G2), ("auditor", G2, G1)):
        shown = everything_shown(open_as(people[who], page))
        assert other not in shown and DOCS[other] not in shown, (who, page)
    admin_shown = everything_shown(open_as(people["admin"], page))
    assert G1 in admin_shown and G2 in admin_shown


def test_ims_grid_lists_only_the_granted_records(people):
    shown = everything_shown(open_as(people["analyst"], "ims_invoices"))
    assert DOCS[G1] in shown and DOCS[G2] not in shown


@pytest.mark.parametrize("who, allowed", [("admin", True), ("analyst", False), ("auditor", False)])
def test_settings_and_users_pages_only_for_admins(people, who, allowed):
    at = open_as(people[who])
    for page in ("settings", "users"):
        if allowed:
            at.switch_page(f"pages/{page}.py")
            at.run()
            assert not at.exception and not at.error, page
        else:
            with pytest.raises(ValueError, match="Could not find a navigation page"):
                at.switch_page(f"pages/{page}.py")


def test_no_page_before_login_once_a_user_exists(people):
    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=60).run()
    assert at.text_input(key="login_email") and not at.dataframe
    assert G1 not in everything_shown(at) and G2 not in everything_shown(at)


def test_a_user_with_no_grant_is_told_to_ask_an_admin(people):
    auth.grant_gstins("ana@example.com", [], people["admin"])
    for page in ("dashboard", "ims_invoices"):
        at = open_as(people["analyst"], page)
        assert any("Ask an admin" in i.value for i in at.info)
        assert G1 not in everything_shown(at) and G2 not in everything_shown(at)
