"""E-mail on Settings: the mail server, a test mail, the daily digest's time, the mail log and
its download (a user's own digest choice is in the sidebar: app/auth_ui.py). The logic is in
core/mail and core/digest."""
from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st

from app import ui
from core.business import SettingsError
from core.digest import OFF, digest_settings, save_digest_settings
from core.export import to_csv_bytes
from core.mail import (
    PASSWORD_ENV,
    SECURITIES,
    MailSettingsError,
    SmtpSettings,
    mail_log_table,
    read_smtp_settings,
    save_smtp_settings,
    send_test_mail,
    smtp_password,
)
from core.store import connect, transaction

DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


def _server_form(actor: str) -> None:
    with connect(read_only=True) as con:
        s = read_smtp_settings(con)
    with st.form("smtp_settings"):
        left, right = st.columns([3, 1])
        host = left.text_input("Mail server (host)", value=s.host,
                               placeholder="smtp.example.com")
        port = right.number_input("Port", min_value=1, max_value=65535, value=s.port)
        security = st.radio("Security", list(SECURITIES), format_func=SECURITIES.get,
                            index=list(SECURITIES).index(s.security), horizontal=True)
        user = st.text_input("User (empty: no login)", value=s.user)
        sender = st.text_input("From address", value=s.from_address,
                               placeholder="gst-team@example.com")
        if st.form_submit_button("Save mail server"):
            try:
                with connect() as con, transaction(con):
                    save_smtp_settings(con, SmtpSettings(host, int(port), security, user,
                                                         sender), actor)
                ui.after_write()
                ui.flash("success", "Mail server saved; every mail uses it from now.")
                st.rerun()
            except MailSettingsError as err:
                st.error(str(err))
    password, where = smtp_password()
    st.caption(f"Password: {'taken from ' + where if password else 'none set'}. It is read "
               f"from `{PASSWORD_ENV}` in the environment, else `smtp_password` in "
               "`.streamlit/secrets.toml`; never kept in the store or shown here. Usual ports: "
               "587 for STARTTLS, 465 for SSL/TLS.")


def _test_mail(actor: str) -> None:
    user = ui.current_user()
    to = st.text_input("Send a test mail to", value=getattr(user, "email", "") or "",
                       key="test_mail_to")
    if st.button("Send a test mail", icon=":material/outgoing_mail:"):
        with st.spinner("Talking to the mail server ..."):
            outcome = send_test_mail(None, to=to, sent_by=actor)
        (st.success if outcome.state == "sent" else st.error)(
            f"The server's answer: {outcome.message}")


def _digest_form(actor: str) -> None:
    s = digest_settings()
    st.markdown("**Daily digest**")
    with st.form("digest_settings"):
        on = st.checkbox("Send each user a daily digest", value=s.on)
        at = st.time_input("Digest time", step=dt.timedelta(minutes=15),
                           value=dt.time.fromisoformat(s.time if s.on else "08:00"))
        days = st.number_input("Deadlines within (days)", 1, 60, s.days_ahead)
        if st.form_submit_button("Save digest settings"):
            try:
                save_digest_settings(at.strftime("%H:%M") if on else OFF, int(days), actor)
                ui.flash("success", "Digest settings saved. The worker uses them from its "
                                    "next minute.")
                st.rerun()
            except SettingsError as err:
                st.error(str(err))
    st.caption("The digest lists, per business a user may see: deadlines, the value silence "
               "will accept, GSTR-2B that needs regeneration, failed jobs and GSP sessions "
               "that need an OTP. Users turn it off under their account in the sidebar.")


def _mail_log() -> None:
    rows = mail_log_table(limit=500)
    st.markdown("**Mail log** (newest first)")
    if not rows:
        st.caption("No mail sent yet.")
        return
    st.dataframe(rows, hide_index=True, column_config={
        "Server's answer": st.column_config.TextColumn(width="large",
                                                       help="Hover a cell to read all of it")})
    st.download_button("Download the mail log (CSV)", to_csv_bytes(pl.DataFrame(rows)),
                       file_name="mail-log.csv", mime="text/csv")


def mail_settings_section(actor: str) -> None:
    """Settings: the mail server, a test mail, the digest, the mail log."""
    st.subheader("E-mail")
    _server_form(actor)
    _test_mail(actor)
    _digest_form(actor)
    _mail_log()

