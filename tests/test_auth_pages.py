"""Per-GSTIN access and roles in the running app frame (app/main.py through AppTest): a user
granted one GSTIN sees only its records, charts and numbers on every page; non-admins get no
Settings or Users page; nobody gets a page before logging in (once a user exists)."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core import auth
from tests.fixtures import (
    BUSINESSES,
    ROOT,
    SAMPLES,
    charts_of_every_tab,
    opened_actions_editor,
    opened_sections,
    seed_demo,
)

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


def everything_shown(at: AppTest, page: str = "") -> str:
    """The text of every dataframe, chart spec, metric and text element of the page, its lazy
    sections opened and (of `page`) every chart tab's charts."""
    opened_sections(at)
    charts = charts_of_every_tab(at, page)
    parts = [d.value.to_csv() for d in at.dataframe]
    parts += [str(c.proto) for c in charts]
    parts += [str(m.value) + str(m.label) for m in at.metric]
    parts += [str(e.value) for kind in ("markdown", "caption", "info", "warning", "success", "table")
              for e in getattr(at, kind)]
    parts += [str(o) for s in (*at.selectbox, *at.multiselect) for o in s.options]
    return "\n".join(parts)


@pytest.mark.parametrize("page", ["dashboard", "ims_invoices", "reconciliation"])
def test_a_user_sees_only_granted_gstins_on_every_page(people, page):
    for who, mine, other in (("analyst", G1, G2), ("auditor", G2, G1)):
        shown = everything_shown(open_as(people[who], page), page)
        assert other not in shown and DOCS[other] not in shown, (who, page)
    admin_shown = everything_shown(open_as(people["admin"], page), page)
    assert G1 in admin_shown and G2 in admin_shown


def test_ims_grid_lists_only_the_granted_records(people):
    shown = everything_shown(open_as(people["analyst"], "ims_invoices"), "ims_invoices")
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



def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def count(sql: str, params: list | None = None) -> int:
    from core.store.database import connect
    with connect() as con:
        return con.execute(sql, params or []).fetchall()[0][0]


def demote(people, who: str = "analyst") -> None:
    """An admin makes the user an auditor while their page is open (the page rendered
    enabled buttons); the next click must write nothing. (Streamlit 1.67 discards a click on
    a widget the rerun renders disabled, so the page's own re-check is not reached here;
    test_permitted_refuses_with_a_message covers it.)"""
    from app.auth_ui import forget_cached_sessions
    auth.set_role(people[who].email, "auditor", people["admin"])
    forget_cached_sessions()


def edit_first_row(at: AppTest) -> None:
    grid = opened_actions_editor(at)
    at.session_state[grid.key] = {"edited_rows": {0: {"user_action": "Accept"}},
                                  "added_rows": [], "deleted_rows": []}


def test_auditor_sees_ims_write_buttons_disabled(people):
    at = open_as(people["auditor"], "ims_invoices")
    opened_actions_editor(at)
    for label in ["Save changes", "Apply to selected rows", "Update to GST", "Check upload status"]:
        assert button(at, label).disabled, label
    assert at.selectbox(key="bulk_action").disabled    # the bulk action
    assert any("may view and download here but not change actions" in c.value for c in at.caption)
    at = open_as(people["analyst"], "ims_invoices")
    opened_actions_editor(at)
    assert not button(at, "Save changes").disabled and not button(at, "Apply to selected rows").disabled
    assert not any("may view and download" in c.value for c in at.caption)


def test_analyst_saves_but_is_refused_once_made_auditor(people):
    at = open_as(people["analyst"], "ims_invoices")
    edit_first_row(at)
    button(at, "Save changes").click()
    at.run()
    assert not at.error, [e.value for e in at.error]
    assert count("SELECT count(*) FROM ims_records WHERE user_action = 'A' AND user_action_by = ?",
                 ["ana@example.com"]) == 1
    at = open_as(people["analyst"], "ims_invoices")
    edit_first_row(at)
    at.selectbox(key="bulk_action").set_value("R")
    demote(people)
    next(b for b in at.button if b.label.startswith("Apply to all")).click()
    at.run()
    assert button(at, "Save changes").disabled
    assert count("SELECT count(*) FROM ims_records WHERE user_action IS NOT NULL") == 1
    assert count("SELECT count(*) FROM action_log") == 1


def test_core_refuses_an_auditor_even_without_the_page(people):
    from core.ims import actions
    from core.ims.view import ImsFilter
    rid = count("SELECT min(record_id) FROM ims_records WHERE rtin = ?", [G2])
    with pytest.raises(auth.PermissionDenied, match="auditor"):
        actions.save_user_actions([G2], {rid: {"action": "A"}}, people["auditor"])
    with pytest.raises(auth.PermissionDenied):
        actions.bulk_action([G2], ImsFilter(), None, "A", people["auditor"])
    assert count("SELECT count(*) FROM ims_records WHERE user_action IS NOT NULL") == 0
    assert actions.bulk_action([G1], ImsFilter(), "no_action", "A", people["analyst"]).saved > 0


def test_reconciliation_run_needs_the_reconcile_permission(people):
    assert button(open_as(people["auditor"], "reconciliation"), "Run now").disabled
    at = open_as(people["analyst"], "reconciliation")
    assert not button(at, "Run now").disabled
    before = count("SELECT count(*) FROM reco_runs")
    demote(people)
    button(at, "Run now").click()
    at.run()
    assert button(at, "Run now").disabled
    assert count("SELECT count(*) FROM reco_runs") == before


def test_purchase_import_and_rollback_need_the_import_permission(people):
    from core.business.registry import save_business
    save_business("27AAACW1234K1ZD", "Sample Co", "test")
    auth.grant_gstins("audrey@example.com", [G2, "27AAACW1234K1ZD"], people["admin"])
    auth.grant_gstins("ana@example.com", [G1, "27AAACW1234K1ZD"], people["admin"])
    data = (SAMPLES / "purchase_register_sample.csv").read_bytes()

    def with_file(who):
        at = open_as(people[who], "purchase_register")
        at.file_uploader[0].set_value(("purchase_register_sample.csv", data, "text/csv"))
        return at.run()

    at = open_as(people["auditor"], "purchase_register")
    assert not at.file_uploader          # no upload at all: nothing of a file is parsed
    assert any("needs the import permission" in i.value for i in at.info)
    at = with_file("analyst")
    button(at, "Import").click()
    at.run()
    assert not at.error, [e.value for e in at.error]
    assert count("SELECT count(*) FROM purchase_batches WHERE imported_by = ?", ["ana@example.com"]) == 1
    assert button(open_as(people["auditor"], "purchase_register"), "Roll back").disabled
    batches = count("SELECT count(*) FROM purchase_batches")
    at = with_file("analyst")
    demote(people)
    button(at, "Roll back").click()
    at.run()
    assert button(at, "Roll back").disabled and not at.file_uploader
    assert count("SELECT count(*) FROM purchase_batches") == batches
    assert count("SELECT count(*) FROM purchase_batches WHERE rolled_back_at IS NOT NULL") == 0


def _permitted_script():
    from app import ui
    from app.auth_ui import require_login
    require_login()
    ui.permitted("import", "import purchase registers")


@pytest.mark.parametrize("who, refused", [("auditor", True), ("analyst", False)])
def test_permitted_refuses_with_a_message(people, who, refused):
    at = AppTest.from_function(_permitted_script, default_timeout=30)
    at.session_state["auth_user_id"] = people[who].user_id
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert errors == ([("Not saved: your role (auditor) may not import purchase registers. Ask an admin "
                       "for the analyst role.")] if refused else [])


def test_an_import_may_not_touch_a_company_the_user_may_not_see(people):
    from core.business.registry import save_business
    save_business("27AAACW1234K1ZD", "Sample Co", "test")      # configured, not granted to ana
    at = open_as(people["analyst"], "purchase_register")
    assert at.selectbox(key="pr_company").options == ["Acme Fabrics Pvt Ltd · 27AAPFU0939F1ZV"]
    data = (SAMPLES / "purchase_register_sample.csv").read_bytes()
    at.file_uploader[0].set_value(("purchase_register_sample.csv", data, "text/csv"))
    at.run()
    assert any("documents of 27AAACW1234K1ZD, which you may not see" in e.value for e in at.error)
    assert button(at, "Import").disabled


def test_batches_listed_and_rolled_back_only_within_the_users_businesses(people):
    # The demo batch holds documents of both businesses: only the admin may see or roll it back.
    admin = open_as(people["admin"], "purchase_register")
    assert list(admin.table[0].value["Companies"]) == [f"{G1}, {G2}"]
    assert admin.selectbox(key="rollback_batch_1").options == ["1 · demo.csv"]
    for who in ("analyst", "auditor"):
        at = open_as(people[who], "purchase_register")
        assert not at.table and not [b for b in at.button if b.label == "Roll back"], who
        assert any("No purchase register of your businesses" in i.value for i in at.info)


@pytest.mark.parametrize("page", ["dashboard", "ims_invoices", "reconciliation", "purchase_register",
                                  "settings", "users"])
def test_a_page_run_on_its_own_still_asks_for_a_login(people, page):
    """A fresh server's first session opened at a page URL runs app/pages/<page>.py without
    app/main.py (Streamlit's old pages-folder mode): it must still ask for a login."""
    at = AppTest.from_file(str(ROOT / "app" / "pages" / f"{page}.py"), default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.text_input(key="login_email")
    assert not at.dataframe and not at.table
    assert not [b for b in at.button if b.label != "Log in"]
    assert G1 not in everything_shown(at) and G2 not in everything_shown(at)


def test_settings_run_on_its_own_refuses_a_non_admin(people):
    at = AppTest.from_file(str(ROOT / "app" / "pages" / "settings.py"), default_timeout=60)
    at.session_state["auth_user_id"] = people["analyst"].user_id
    at.run()
    assert any("needs the 'settings' permission" in e.value for e in at.error)
    assert not [b for b in at.button if b.label in ("Save business", "Save rules", "Save URL")]
